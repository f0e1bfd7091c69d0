package snapsim.conformance;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point of runner-VERSION.jar. It references no Flink class: it reads the class path file
 * written beside the jar (runner-VERSION.classpath, Maven's dependency:build-classpath), builds one
 * class loader over [job variant classes, this jar, the Flink jars] whose parent is the platform
 * loader, and runs {@link Runner} inside it. Job variants that change a state class in place
 * (same class name, another layout: schema evolution) put their own copy of the class first.
 *
 * Before any Flink class is loaded it points log4j2 at a file and sends System.out/err there, so
 * the only thing on stdout is the one JSON object the Runner prints.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        PrintStream realOut = System.out;
        Sink sink = new Sink();
        PrintStream logStream = new PrintStream(sink, true, StandardCharsets.UTF_8);
        System.setOut(logStream);
        System.setErr(logStream);
        System.setProperty("log4j2.disable.jmx", "true");
        System.setProperty("log4j.shutdownHookEnabled", "false");
        File jar = new File(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (args.length == 1 && args[0].equals("serve")) {
            serve(jar, realOut, sink, logStream);
            return;
        }
        logTo(args, sink);
        URLClassLoader loader = loader(jar, argValue(args, "--job"), realOut);
        int code = runIn(loader, args, realOut);
        logStream.flush();
        Runtime.getRuntime().halt(code); // do not wait for Flink's non-daemon threads
    }

    /**
     * {@code serve}: one JVM for many commands. Each line of stdin is one command's arguments
     * separated by U+001F (the unit separator; no argument contains it or a newline); each answer
     * is one JSON line on stdout, as the one-shot runner prints. Every command gets its own
     * MiniCluster, work directory and log file, as before; what the commands share is the JVM
     * and its loaded, compiled classes (one class loader per job variant), which is what the
     * per-step JVM spent most of a short step on. The runner resets its counters at the start of
     * a command. A command whose MiniCluster did not close ends the server after its answer (the
     * next command meets a fresh JVM); the C side also starts a fresh one after any answer other
     * than works. End of input ends the server.
     */
    static void serve(File jar, PrintStream realOut, Sink sink, PrintStream logStream) throws Exception {
        System.setProperty("snapsim.serve", "true");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Map<String, URLClassLoader> loaders = new HashMap<>();
        String line;
        while ((line = in.readLine()) != null) {
            String[] args = line.split("\u001f", -1);
            logTo(args, sink);
            String variant = argValue(args, "--job");
            String key = variant == null ? "" : String.valueOf(variantClassDir(variant));
            URLClassLoader loader = loaders.get(key);
            if (loader == null) {
                loader = loader(jar, variant, realOut);
                loaders.put(key, loader);
            }
            runIn(loader, args, realOut);
            logStream.flush();
            Class<?> runner = Class.forName("snapsim.conformance.Runner", true, loader);
            if ((Boolean) runner.getMethod("reusable").invoke(null) == Boolean.FALSE) break;
        }
        realOut.flush();
        Runtime.getRuntime().halt(0);
    }

    /** Points log4j2 and System.out/err at the command's --log (or WORK/runner.log; neither: off). */
    static void logTo(String[] args, Sink sink) throws IOException {
        String work = argValue(args, "--work");
        String log = argValue(args, "--log");
        if (log == null && work != null) log = new File(work, "runner.log").getAbsolutePath();
        if (log != null) {
            File f = new File(log);
            if (f.getParentFile() != null) f.getParentFile().mkdirs();
            sink.to(new FileOutputStream(f, true));
            System.setProperty("snapsim.log.file", f.getAbsolutePath());
            System.setProperty("snapsim.log.level", "INFO");
        } else {
            sink.to(OutputStream.nullOutputStream());
            System.setProperty("snapsim.log.file", "/dev/null");
            System.setProperty("snapsim.log.level", "OFF");
        }
    }

    /** The class loader of one job variant: [variant classes, this jar, the Flink jars]. */
    static URLClassLoader loader(File jar, String variant, PrintStream realOut) throws IOException {
        List<URL> urls = new ArrayList<>();
        String variantDir = variant == null ? null : variantClassDir(variant);
        if (variantDir != null) urls.add(new URL("jar:" + jar.toURI().toURL() + "!/variants/" + variantDir + "/"));
        urls.add(jar.toURI().toURL());
        String name = jar.getName();
        File cpFile = new File(jar.getParentFile(), name.replaceAll("\\.jar$", "") + ".classpath");
        if (jar.isFile()) {
            if (!cpFile.isFile()) {
                realOut.println("{\"outcome\":\"crashed\",\"reason\":\"class path file missing: "
                        + cpFile.getPath().replace("\"", "'") + "\"}");
                realOut.flush();
                Runtime.getRuntime().halt(4);
            }
            for (String p : new String(Files.readAllBytes(cpFile.toPath()), StandardCharsets.UTF_8).trim().split(File.pathSeparator)) {
                if (!p.isEmpty()) urls.add(new File(p).toURI().toURL());
            }
        } else {
            // run from target/classes (development): the class path is the JVM's own
            for (String p : System.getProperty("java.class.path").split(File.pathSeparator)) {
                urls.add(new File(p).toURI().toURL());
            }
        }
        return new URLClassLoader("snapsim-runner", urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
    }

    /** Runs one command in loader; its answer goes to realOut. */
    static int runIn(ClassLoader loader, String[] args, PrintStream realOut) throws Exception {
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> runner = Class.forName("snapsim.conformance.Runner", true, loader);
        Method run = runner.getMethod("run", String[].class, PrintStream.class);
        int code = (Integer) run.invoke(null, args, realOut);
        realOut.flush();
        return code;
    }

    /** System.out/err of the JVM: the current command's log file. */
    static final class Sink extends OutputStream {
        private OutputStream to = OutputStream.nullOutputStream();

        synchronized void to(OutputStream next) throws IOException {
            OutputStream old = to;
            to = next;
            old.close();
        }

        @Override public synchronized void write(int b) throws IOException { to.write(b); }
        @Override public synchronized void write(byte[] b, int off, int len) throws IOException { to.write(b, off, len); }
        @Override public synchronized void flush() throws IOException { to.flush(); }
    }

    /** The variant whose classes shadow main classes (see pom.xml, src/variants). */
    static String variantClassDir(String job) {
        switch (job) {
            case "pojo-field-added": return "pojo-field-added";
            case "incompatible": return "field-type-changed";
            default: return null;
        }
    }

    static String argValue(String[] args, String key) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(key)) return args[i + 1];
        return null;
    }
}
