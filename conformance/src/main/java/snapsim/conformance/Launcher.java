package snapsim.conformance;

import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

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
        String work = argValue(args, "--work");
        String log = argValue(args, "--log");
        if (log == null && work != null) log = new File(work, "runner.log").getAbsolutePath();
        OutputStream sink;
        if (log != null) {
            File f = new File(log);
            if (f.getParentFile() != null) f.getParentFile().mkdirs();
            sink = new FileOutputStream(f, true);
            System.setProperty("snapsim.log.file", f.getAbsolutePath());
            System.setProperty("snapsim.log.level", "INFO");
        } else {
            sink = OutputStream.nullOutputStream();
            System.setProperty("snapsim.log.file", "/dev/null");
            System.setProperty("snapsim.log.level", "OFF");
        }
        PrintStream logStream = new PrintStream(sink, true, StandardCharsets.UTF_8);
        System.setOut(logStream);
        System.setErr(logStream);
        System.setProperty("log4j2.disable.jmx", "true");
        System.setProperty("log4j.shutdownHookEnabled", "false");

        File jar = new File(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<URL> urls = new ArrayList<>();
        String variant = argValue(args, "--job");
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
                System.exit(4);
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
        URLClassLoader loader = new URLClassLoader("snapsim-runner", urls.toArray(new URL[0]),
                ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> runner = Class.forName("snapsim.conformance.Runner", true, loader);
        Method run = runner.getMethod("run", String[].class, PrintStream.class);
        int code = (Integer) run.invoke(null, args, realOut);
        realOut.flush();
        logStream.flush();
        Runtime.getRuntime().halt(code); // do not wait for Flink's non-daemon threads
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
