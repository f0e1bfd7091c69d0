package snapsim.conformance;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real-Flink lane runner: one command per JVM, exactly one JSON object on stdout.
 * See conformance/README.md for the command line.
 */
public final class Runner {
    private Runner() {}

    static final int EXIT_WORKS = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_CORRUPTED = 3, EXIT_CRASHED = 4;

    private static final AtomicBoolean PRINTED = new AtomicBoolean();
    private static PrintStream out;
    private static Logger log;
    private static long t0;
    private static Thread watchdog;
    /** false after a command whose MiniCluster did not close: a serving JVM ends (Launcher.serve) */
    private static volatile boolean reusable = true;

    /** Thrown for malformed arguments (exit 2). */
    static final class Usage extends RuntimeException {
        Usage(String m) { super(m); }
    }

    public static int run(String[] args, PrintStream realOut) {
        t0 = System.nanoTime();
        out = realOut;
        PRINTED.set(false);
        Progress.reset();
        if (Boolean.getBoolean("snapsim.serve")) {
            // a serving JVM: this command's log file (Launcher.logTo set the properties)
            ((org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false)).reconfigure();
        }
        log = LoggerFactory.getLogger(Runner.class);
        Map<String, Object> res;
        try {
            if (args.length == 0) throw new Usage("no command; commands: take restore relocate inspect spa-read spa-write version");
            String cmd = args[0];
            Opts o = new Opts(Arrays.copyOfRange(args, 1, args.length));
            long timeoutS = o.lng("timeout-s", 120);
            startWatchdog(cmd, timeoutS);
            switch (cmd) {
                case "take": res = take(o); break;
                case "restore": res = restore(o); break;
                case "relocate": res = relocate(o); break;
                case "inspect": res = inspect(o); break;
                case "spa-read": res = spa(o, "read"); break;
                case "spa-write": res = spa(o, "write"); break;
                case "version": o.done(); res = version(); break;
                case "records": res = records(o); break;
                default: throw new Usage("unknown command " + cmd);
            }
        } catch (Usage u) {
            res = base("usage");
            res.put("reason", u.getMessage());
        } catch (Throwable t) {
            if (log != null) log.error("runner failed", t);
            res = base("crashed");
            res.put("reason", "runner error");
            putException(res, t);
        }
        int code = emit(res);
        if (watchdog != null) watchdog.interrupt();
        return code;
    }

    /** Whether a serving JVM may run another command (Launcher.serve). */
    public static boolean reusable() { return reusable; }

    static Logger log() { return log; }

    static Map<String, Object> base(String outcome) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("outcome", outcome);
        m.put("release", EnvironmentInformation.getVersion());
        m.put("line", Shim.LINE);
        m.put("java", System.getProperty("java.version"));
        return m;
    }

    static int emit(Map<String, Object> res) {
        if (!PRINTED.compareAndSet(false, true)) return EXIT_CRASHED;
        res.put("elapsed_ms", (System.nanoTime() - t0) / 1_000_000);
        out.println(Json.write(res));
        out.flush();
        switch (String.valueOf(res.get("outcome"))) {
            case "works": return EXIT_WORKS;
            case "rejected": return EXIT_REJECTED;
            case "usage": return EXIT_USAGE;
            case "corrupted": return EXIT_CORRUPTED;
            default: return EXIT_CRASHED;
        }
    }

    static void startWatchdog(String cmd, long timeoutS) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(timeoutS * 1000);
            } catch (InterruptedException e) {
                return;
            }
            Map<String, Object> m = base("crashed");
            m.put("command", cmd);
            m.put("reason", "timeout after " + timeoutS + " s");
            m.put("progress", progress());
            int code = emit(m);
            Runtime.getRuntime().halt(code);
        }, "snapsim-watchdog");
        t.setDaemon(true);
        watchdog = t;
        t.start();
    }

    static Map<String, Object> progress() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> e = new TreeMap<>();
        for (int s = 0; s < Progress.MAX_SPLITS; s++) {
            long v = Progress.EMITTED.get(s);
            if (v >= 0) e.put(String.valueOf(s), v);
        }
        m.put("source_next_offsets", e);
        m.put("agg_processed", Progress.PROCESSED.get());
        m.put("results_emitted", Progress.EMITTED_RESULTS.get());
        return m;
    }

    static void putException(Map<String, Object> m, Throwable t) {
        List<String> chain = new ArrayList<>();
        Throwable root = t;
        Set<Throwable> seen = new HashSet<>();
        for (Throwable x = t; x != null && seen.add(x); x = x.getCause()) {
            chain.add(className(x));
            root = x;
        }
        m.put("exception", className(root));
        m.put("message", firstLine(root.getMessage()));
        m.put("top_exception", className(t));
        m.put("top_message", firstLine(t.getMessage()));
        m.put("cause_chain", chain);
        List<String> frames = new ArrayList<>();
        for (StackTraceElement e : root.getStackTrace()) {
            if (frames.size() >= 6) break;
            frames.add(e.getClassName() + "." + e.getMethodName() + ":" + e.getLineNumber());
        }
        m.put("root_frames", frames);
        boolean restorePhase = false;
        int depth = 0;
        for (Throwable x = t; x != null && depth++ < 50; x = x.getCause()) {
            for (StackTraceElement e : x.getStackTrace()) {
                String f = e.getClassName() + "." + e.getMethodName();
                if (f.contains("restoreInternal") || f.contains("initializeState") || f.contains("BackendRestorerProcedure")
                        || f.contains("restoreSavepoint") || f.contains("loadAndValidateCheckpoint") || f.contains("restoreState")
                        || f.contains("ChannelStateCheckpointReader") || f.contains("RecoveredInputChannel")) {
                    restorePhase = true;
                }
            }
        }
        m.put("in_restore_code", restorePhase);
    }

    /** SerializedThrowable keeps the original class name. */
    static String className(Throwable t) {
        if (t instanceof org.apache.flink.util.SerializedThrowable) {
            return ((org.apache.flink.util.SerializedThrowable) t).getOriginalErrorClassName();
        }
        return t.getClass().getName();
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    // ------------------------------------------------------------------ options

    static final class Opts {
        final Map<String, String> m = new LinkedHashMap<>();
        final Set<String> used = new HashSet<>();

        Opts(String[] a) {
            for (int i = 0; i < a.length; i++) {
                if (!a[i].startsWith("--")) throw new Usage("expected --key, got " + a[i]);
                if (i + 1 >= a.length) throw new Usage("missing value for " + a[i]);
                m.put(a[i].substring(2), a[++i]);
            }
            used.add("log");
            used.add("timeout-s");
        }

        String str(String k, String def) {
            used.add(k);
            return m.getOrDefault(k, def);
        }

        String req(String k) {
            used.add(k);
            String v = m.get(k);
            if (v == null) throw new Usage("missing --" + k);
            return v;
        }

        String oneOf(String k, String def, String... allowed) {
            String v = def == null ? req(k) : str(k, def);
            for (String a : allowed) if (a.equals(v)) return v;
            throw new Usage("--" + k + " must be one of " + String.join("|", allowed) + ", got " + v);
        }

        long lng(String k, long def) {
            String v = str(k, null);
            if (v == null) return def;
            try { return Long.parseLong(v); } catch (NumberFormatException e) { throw new Usage("--" + k + " is not an integer: " + v); }
        }

        long reqLong(String k) {
            req(k);
            return lng(k, 0);
        }

        /** unsigned 64-bit decimal (the simulator's seeds are uint64) */
        long seed() {
            String v = req("seed");
            try { return Long.parseUnsignedLong(v); } catch (NumberFormatException e) { throw new Usage("--seed is not an unsigned integer: " + v); }
        }

        double dbl(String k, double def) {
            String v = str(k, null);
            if (v == null) return def;
            try { return Double.parseDouble(v); } catch (NumberFormatException e) { throw new Usage("--" + k + " is not a number: " + v); }
        }

        boolean bool(String k, boolean def) {
            String v = str(k, String.valueOf(def));
            if (v.equals("true")) return true;
            if (v.equals("false")) return false;
            throw new Usage("--" + k + " must be true or false, got " + v);
        }

        String job() {
            String v = str("job", "default");
            if (!Job.known(v)) throw new Usage("--job must be one of " + String.join("|", Job.VARIANTS) + ", got " + v);
            return v;
        }

        /** Fails on options the command does not know. */
        void done() {
            for (String k : m.keySet()) if (!used.contains(k)) throw new Usage("unknown option --" + k);
        }
    }

    // ------------------------------------------------------------------ cluster

    static void set(Configuration c, String key, String value) {
        c.set(ConfigOptions.key(key).stringType().noDefaultValue(), value);
    }

    static Configuration config(String work, String backend, boolean incremental, boolean unaligned, long intervalMs, int slots) {
        Configuration c = new Configuration();
        set(c, Shim.STATE_BACKEND, backend);
        set(c, Shim.INCREMENTAL, String.valueOf(incremental));
        set(c, Shim.CHECKPOINT_STORAGE, "filesystem");
        set(c, Shim.CHECKPOINTS_DIR, uri(new File(work, "checkpoints")));
        set(c, Shim.SAVEPOINTS_DIR, uri(new File(work, "savepoints")));
        set(c, Shim.CHECKPOINT_INTERVAL, intervalMs + " ms");
        set(c, Shim.UNALIGNED, String.valueOf(unaligned));
        set(c, Shim.RETENTION, "RETAIN_ON_CANCELLATION");
        set(c, "restart-strategy.type", "none");
        set(c, "classloader.resolve-order", "parent-first");
        set(c, "classloader.check-leaked-classloader", "false");
        set(c, "state.backend.rocksdb.localdir", new File(work, "rocksdb-local").getAbsolutePath());
        set(c, "io.tmp.dirs", new File(work, "tmp").getAbsolutePath());
        set(c, "taskmanager.numberOfTaskSlots", String.valueOf(slots));
        set(c, "rest.bind-port", "0");
        set(c, "rest.bind-address", "127.0.0.1");
        set(c, "rest.address", "127.0.0.1");
        set(c, "jobmanager.bind-host", "127.0.0.1");
        set(c, "taskmanager.bind-host", "127.0.0.1");
        set(c, "taskmanager.host", "127.0.0.1");
        set(c, "taskmanager.memory.managed.size", "256m");
        set(c, "taskmanager.memory.network.min", "64m");
        set(c, "taskmanager.memory.network.max", "64m");
        return c;
    }

    static String uri(File f) { return f.getAbsoluteFile().toURI().toString(); }

    static MiniCluster startCluster(Configuration conf, int slots) throws Exception {
        MiniCluster mc = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(slots).build());
        mc.start();
        return mc;
    }

    /**
     * SavepointRestoreSettings.forPath(path, allowNonRestored, mode): the mode enum is
     * org.apache.flink.runtime.jobgraph.RestoreMode (1.17-1.19), org.apache.flink.core.execution
     * .RestoreMode (1.20) or org.apache.flink.core.execution.RecoveryClaimMode (2.x); found
     * by reflection on the one three-argument forPath of this release.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static SavepointRestoreSettings restoreSettings(String path, boolean allowNonRestored, String mode) throws Exception {
        for (Method m : SavepointRestoreSettings.class.getMethods()) {
            if (m.getName().equals("forPath") && m.getParameterCount() == 3) {
                Class<? extends Enum> e = (Class<? extends Enum>) m.getParameterTypes()[2];
                Object v = Enum.valueOf(e, mode.toUpperCase());
                return (SavepointRestoreSettings) m.invoke(null, path, allowNonRestored, v);
            }
        }
        throw new IllegalStateException("no SavepointRestoreSettings.forPath(String, boolean, mode) in this release");
    }

    static String modeClass() {
        for (Method m : SavepointRestoreSettings.class.getMethods()) {
            if (m.getName().equals("forPath") && m.getParameterCount() == 3) return m.getParameterTypes()[2].getName();
        }
        return null;
    }

    static JobGraph jobGraph(Configuration conf, Job.Params p) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        Job.build(env, p);
        JobGraph jg = env.getStreamGraph().getJobGraph();
        // A job without jars or class paths runs in the JVM's system class loader
        // (BlobLibraryCacheManager.wrapsSystemClassLoader), which does not hold Flink here (the
        // Launcher's loader does). One class path entry makes Flink build a user-code loader whose
        // parent is Flink's own loader; with parent-first resolution every class, the job variant's
        // Stats included, comes from the Launcher's loader.
        try {
            jg.setClasspaths(java.util.Collections.singletonList(
                    Runner.class.getProtectionDomain().getCodeSource().getLocation()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return jg;
    }

    /* A checkpoint triggered while a restored job's tasks are still being
     * deployed or restored is declined ("... is not being executed at the
     * moment", "declined (tasks not ready)"):
     * that is the harness being early, not Flink's answer, so it waits and
     * triggers again within the budget. */
    static String triggerCheckpointWhenRunning(MiniCluster mc, JobID jobId, long budgetMs) throws Exception {
        return whenRunning(() -> mc.triggerCheckpoint(jobId), budgetMs);
    }

    /**
     * A checkpoint or savepoint trigger, again while the coordinator declines it because a task
     * (the sink, which has nothing to do before the end of input) is not running yet.
     */
    static String whenRunning(java.util.concurrent.Callable<java.util.concurrent.CompletableFuture<String>> trigger,
            long budgetMs) throws Exception {
        long deadline = System.nanoTime() + budgetMs * 1_000_000L;
        for (;;) {
            try {
                return trigger.call().get(budgetMs, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException ex) {
                Throwable t = ex;
                boolean early = false;
                for (; t != null; t = t.getCause())
                    if (String.valueOf(t.getMessage()).contains("is not being executed at the moment")
                            || String.valueOf(t.getMessage()).contains("declined (tasks not ready)")) early = true;
                if (!early || System.nanoTime() > deadline) throw ex;
                Thread.sleep(200);
            }
        }
    }

    static void waitFor(String what, long timeoutMs, BooleanSupplier cond) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > end) throw new IllegalStateException("gave up waiting for " + what);
            Thread.sleep(20);
        }
    }

    static long totalEmitted(int splits) {
        long t = 0;
        for (int s = 0; s < splits; s++) t += Math.max(0, Progress.EMITTED.get(s));
        return t;
    }

    static boolean allEmitted(int splits, long n) {
        for (int s = 0; s < splits; s++) if (Progress.EMITTED.get(s) < n) return false;
        return true;
    }

    static String localPath(String pointer) {
        if (pointer.startsWith("file:")) return Paths.get(URI.create(pointer)).toString();
        return pointer;
    }

    // ------------------------------------------------------------------ take

    static Map<String, Object> take(Opts o) throws Exception {
        String backend = o.oneOf("backend", null, "hashmap", "rocksdb");
        boolean incremental = o.bool("incremental", false);
        String kind = o.oneOf("kind", null, "canonical", "native", "aligned", "unaligned");
        long[] cuts = cuts(o.req("records"));
        long n = cuts[cuts.length - 1];
        long seed = o.seed();
        String work = new File(o.req("work")).getAbsolutePath();
        String variant = o.job();
        int par = (int) o.lng("parallelism", 2);
        int splits = (int) o.lng("splits", 4);
        int keys = (int) o.lng("keys", 256);
        double rate = o.dbl("rate", 0);
        boolean stop = o.bool("stop", false);
        boolean unaligned = kind.equals("unaligned");
        long aggDelayUs = o.lng("agg-delay-us", unaligned ? 500 : 0);
        long intervalMs = o.lng("checkpoint-interval-ms", 3_600_000);
        int attempts = (int) o.lng("attempts", 5);
        long timeoutS = o.lng("timeout-s", 120);
        long inline = o.lng("inline-threshold", -1);
        String from = o.str("from", null);
        String fromMode = o.oneOf("mode", "no_claim", "claim", "no_claim", "legacy");
        boolean allowNonRestored = o.bool("allow-non-restored-state", false);
        long retained = o.lng("retained", 0);
        o.done();
        if (n <= 0 || splits <= 0 || splits > Progress.MAX_SPLITS || par <= 0 || keys <= 0) throw new Usage("bad sizes");
        if (stop && (kind.equals("aligned") || kind.equals("unaligned"))) throw new Usage("--stop applies to savepoints");

        Files.createDirectories(Paths.get(work));
        String side = new File(work, "side-take").getAbsolutePath();
        deleteTree(Paths.get(side));
        int slots = par + 2;
        Configuration conf = config(work, backend, incremental, unaligned, intervalMs, slots);
        if (inline >= 0) set(conf, Shim.INLINE_THRESHOLD, String.valueOf(inline));
        if (retained > 0) set(conf, Shim.NUM_RETAINED, String.valueOf(retained));
        Job.Params p = new Job.Params();
        p.variant = variant;
        p.parallelism = par;
        p.aggDelayNanos = aggDelayUs * 1000;
        p.outFile = new File(work, "output-take.jsonl").getAbsolutePath();
        p.src = new SeqSource.Config();
        p.src.seed = seed;
        p.src.keys = keys;
        p.src.splits = splits;
        p.src.until = n;
        p.src.bounded = false;
        p.src.rate = rate;
        p.src.sideDir = side;

        Map<String, Object> res = base("works");
        res.put("command", "take");
        res.put("kind", kind);
        res.put("backend", backend);
        res.put("incremental", incremental);
        res.put("job", variant);
        res.put("parallelism", par);
        res.put("max_parallelism", p.maxParallelism);
        res.put("records_per_split", n);
        res.put("splits", splits);
        res.put("seed", Long.toUnsignedString(seed));

        long tStart = System.nanoTime();
        MiniCluster mc = startCluster(conf, slots);
        try {
            JobGraph jg = jobGraph(conf, p);
            if (from != null) {
                // a take that starts from a snapshot (e.g. CLAIM a native savepoint, then checkpoint)
                jg.setSavepointRestoreSettings(restoreSettings(new File(from).getAbsolutePath(), allowNonRestored, fromMode));
                res.put("from", new File(from).getAbsolutePath());
                res.put("mode", fromMode);
            }
            JobID jobId = jg.getJobID();
            mc.submitJob(jg).get();
            res.put("cluster_start_ms", (System.nanoTime() - tStart) / 1_000_000);
            long budget = timeoutS * 1000;
            // one snapshot per cut: the sources stop at the cut, the snapshot is taken, the next
            // cut lets them go on (take --records 250,280,310: three snapshots of one job)
            List<Object> snaps = new ArrayList<>();
            Map<String, Object> last = null;
            for (int i = 0; i < cuts.length; i++) {
                Progress.LIMIT.set(cuts[i]);
                last = snapshotAt(mc, jobId, cuts[i], kind, stop && i == cuts.length - 1, splits, par, attempts,
                        budget, work, side, tStart);
                snaps.add(last);
                if (cuts.length > 1) {
                    Map<String, Object> one = new LinkedHashMap<>(res);
                    one.putAll(last);
                    Files.write(Paths.get(work, "take-" + (i + 1) + ".json"), Json.write(one).getBytes(StandardCharsets.UTF_8));
                }
            }
            res.putAll(last);
            if (cuts.length > 1) res.put("snapshots", snaps);
            res.put("agg_processed_at_end", Progress.PROCESSED.get());
            if (from != null) res.put("restored_offsets", readSide(side, "splits-added-"));
            if (!stop) {
                mc.cancelJob(jobId).get(budget, TimeUnit.MILLISECONDS);
            }
            JobResult jr = mc.requestJobResult(jobId).get(budget, TimeUnit.MILLISECONDS);
            res.put("final_job_status", status(jr));
        } finally {
            closeQuietly(mc);
        }
        res.put("take_ms", (System.nanoTime() - tStart) / 1_000_000);
        Files.write(Paths.get(work, "take.json"), Json.write(res).getBytes(StandardCharsets.UTF_8));
        return res;
    }

    /** "250" or "250,280,310": the offsets per split at which take snapshots, ascending. */
    static long[] cuts(String v) {
        return cuts(v, "--records");
    }

    /** Positive ascending integers "a,b,c" of option opt. */
    static long[] cuts(String v, String opt) {
        String[] a = v.split(",");
        long[] c = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            try {
                c[i] = Long.parseLong(a[i].trim());
            } catch (NumberFormatException e) {
                throw new Usage(opt + ": '" + a[i] + "' is not a number");
            }
            if (c[i] <= 0 || (i > 0 && c[i] <= c[i - 1])) throw new Usage(opt + ": values must be positive and ascending");
        }
        return c;
    }

    /** One snapshot of the running job once its sources reached n (per split); its facts. */
    static Map<String, Object> snapshotAt(MiniCluster mc, JobID jobId, long n, String kind, boolean stop, int splits,
            int par, int attempts, long budget, String work, String side, long tStart)
            throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        String pointer = null;
        int channelHandles = 0;
        int tries;
        long tSnap;
        if (!kind.equals("unaligned")) {
            // records this run must process: [start, n) of every split (start 0, or restored)
            waitFor("all records processed", budget, () -> {
                if (!allEmitted(splits, n)) return false;
                long total = 0;
                for (int s = 0; s < splits; s++) total += n - Math.max(0, Math.min(n, Progress.START.get(s)));
                return Progress.PROCESSED.get() >= total;
            });
            out.put("records_done_ms", (System.nanoTime() - tStart) / 1_000_000);
            tSnap = System.nanoTime();
            if (kind.equals("aligned")) {
                pointer = triggerCheckpointWhenRunning(mc, jobId, budget);
            } else {
                SavepointFormatType fmt = kind.equals("canonical") ? SavepointFormatType.CANONICAL : SavepointFormatType.NATIVE;
                String dir = uri(new File(work, "savepoints"));
                pointer = whenRunning(() -> stop ? mc.stopWithSavepoint(jobId, dir, false, fmt)
                        : mc.triggerSavepoint(jobId, dir, false, fmt), budget);
            }
            tries = 1;
        } else {
            // in-flight data: a backpressured agg behind a fast source; the barrier overtakes
            // the buffered records, which land in the checkpoint as channel state
            tSnap = System.nanoTime();
            for (tries = 1; tries <= attempts; tries++) {
                final long seenBefore = Progress.PROCESSED.get();
                waitFor("backlog", budget, () -> Progress.PROCESSED.get() > seenBefore
                        && (totalEmitted(splits) - Progress.PROCESSED.get() >= 200 || allEmitted(splits, n)));
                pointer = triggerCheckpointWhenRunning(mc, jobId, budget);
                channelHandles = countChannelHandles(loadMetadata(localPath(pointer)));
                if (channelHandles > 0) break;
                log.info("checkpoint {} has no channel state, retrying", pointer);
            }
            if (tries > attempts) tries = attempts;
        }
        out.put("snapshot_ms", (System.nanoTime() - tSnap) / 1_000_000);
        String path = localPath(pointer);
        CheckpointMetadata md = loadMetadata(path);
        long cid = md.getCheckpointId();
        channelHandles = countChannelHandles(md);
        out.put("cut", n);
        out.put("path", path);
        out.put("pointer", pointer);
        out.put("checkpoint_id", cid);
        out.put("attempts", tries);
        out.put("channel_state_handles", channelHandles);
        out.put("in_flight", channelHandles > 0);
        out.put("offsets", readSide(side, "src-" + cid + "-"));
        Map<String, Object> fr = new TreeMap<>();
        for (int sub = 0; sub < par; sub++) {
            Map<String, Object> f = readSideFile(new File(side, "agg-" + cid + "-" + sub + ".txt"));
            if (f != null) fr.put(String.valueOf(sub), f);
        }
        out.put("agg_frontier", fr);
        return out;
    }

    /** JobResult.getApplicationStatus() (up to 2.2) or getJobStatus() (2.3): by reflection. */
    static String status(JobResult jr) {
        Object v = Inspect.call(jr, "getApplicationStatus");
        if (v == null) v = Inspect.call(jr, "getJobStatus");
        if (v instanceof java.util.Optional) v = ((java.util.Optional<?>) v).orElse(null);
        return String.valueOf(v);
    }

    static void closeQuietly(MiniCluster mc) {
        try {
            mc.closeAsync().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            reusable = false;
            log.warn("closing the MiniCluster failed", e);
        }
    }

    /** Reads side files PREFIX*.txt ("split offset" lines) into {split: offset}. */
    static Map<String, Object> readSide(String dir, String prefix) throws IOException {
        Map<String, Object> m = new TreeMap<>(Comparator.comparingInt(Integer::parseInt));
        File[] fs = new File(dir).listFiles((d, name) -> name.startsWith(prefix));
        if (fs == null) return m;
        Arrays.sort(fs);
        for (File f : fs) {
            Map<String, Object> x = readSideFile(f);
            if (x != null) m.putAll(x);
        }
        return m;
    }

    static Map<String, Object> readSideFile(File f) throws IOException {
        if (!f.isFile()) return null;
        Map<String, Object> m = new TreeMap<>(Comparator.comparingInt(Integer::parseInt));
        for (String line : Files.readAllLines(f.toPath())) {
            String[] a = line.trim().split(" ");
            if (a.length == 2) m.put(a[0], Long.parseLong(a[1]));
        }
        return m;
    }

    static CheckpointMetadata loadMetadata(String dir) throws IOException {
        File f = new File(dir, "_metadata");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(f.toPath()))) {
            return Checkpoints.loadCheckpointMetadata(new DataInputStream(in), Runner.class.getClassLoader(), dir);
        }
    }

    static int countChannelHandles(CheckpointMetadata md) {
        int n = 0;
        for (OperatorState os : md.getOperatorStates()) {
            for (OperatorSubtaskState st : os.getStates()) {
                n += st.getInputChannelState().size() + st.getResultSubpartitionState().size();
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ restore

    static Map<String, Object> restore(Opts o) throws Exception {
        String path = new File(o.req("path")).getAbsolutePath();
        String backend = o.oneOf("backend", null, "hashmap", "rocksdb");
        boolean incremental = o.bool("incremental", false);
        String mode = o.oneOf("mode", "no_claim", "claim", "no_claim", "legacy");
        long until = o.reqLong("records-until");
        long seed = o.seed();
        String work = new File(o.req("work")).getAbsolutePath();
        String variant = o.job();
        int par = (int) o.lng("parallelism", 2);
        int splits = (int) o.lng("splits", 4);
        int keys = (int) o.lng("keys", 256);
        double rate = o.dbl("rate", 0);
        boolean allowNonRestored = o.bool("allow-non-restored-state", false);
        long intervalMs = o.lng("checkpoint-interval-ms", 1000);
        boolean unaligned = o.bool("unaligned", false);
        String takeInfo = o.str("take-info", null);
        String takeJob = o.str("take-job", "default");
        long timeoutS = o.lng("timeout-s", 120);
        long inline = o.lng("inline-threshold", -1);
        boolean ownership = o.bool("ownership", false);
        String holdsArg = o.str("holds", null);
        String failArg = o.str("failover-after", null);
        String jmFailArg = o.str("jm-failover-after", null);
        o.done();
        // the offsets at which the held job checkpoints and reports its files: --ownership alone
        // is one hold at the end of the input
        long[] holds = holdsArg != null ? cuts(holdsArg, "--holds") : ownership ? new long[] {until} : new long[0];
        if (holds.length > 0 && holds[holds.length - 1] > until) throw new Usage("--holds: offsets must not exceed --records-until");
        java.util.TreeSet<Integer> failAfter = new java.util.TreeSet<>();
        if (failArg != null) {
            for (long i : cuts(failArg, "--failover-after")) failAfter.add((int) i - 1);
            if (failAfter.last() >= holds.length)
                throw new Usage("--failover-after: a hold number beyond --holds");
        }
        java.util.TreeSet<Integer> jmFailAfter = new java.util.TreeSet<>();
        if (jmFailArg != null) {
            for (long i : cuts(jmFailArg, "--jm-failover-after")) jmFailAfter.add((int) i - 1);
            if (jmFailAfter.last() >= holds.length)
                throw new Usage("--jm-failover-after: a hold number beyond --holds");
        }
        ownership = holds.length > 0;

        Files.createDirectories(Paths.get(work));
        String side = new File(work, "side-restore").getAbsolutePath();
        deleteTree(Paths.get(side));
        File outFile = new File(work, "output.jsonl");
        Files.deleteIfExists(outFile.toPath());
        int slots = Math.max(par, 1) + 3;
        Configuration conf = config(work, backend, incremental, unaligned, intervalMs, slots);
        if (inline >= 0) set(conf, Shim.INLINE_THRESHOLD, String.valueOf(inline));
        // Each injected task failure is one restart from the latest completed checkpoint
        // (FixedDelayRestartBackoffTimeStrategy); a restart that itself fails ends the job. A
        // JobManager failover (below) adds a few: the TaskManager's loss at the close must not
        // fail the job globally (which would clean its HA data).
        int restarts = failAfter.size() + 3 * jmFailAfter.size();
        if (restarts > 0) {
            set(conf, "restart-strategy.type", "fixed-delay");
            set(conf, "restart-strategy.fixed-delay.attempts", String.valueOf(restarts));
            set(conf, "restart-strategy.fixed-delay.delay", "100 ms");
        }
        Zk zk = null;
        if (!jmFailAfter.isEmpty()) {
            // ZooKeeper HA: a JobManager failover is the MiniCluster closed without cleaning its HA
            // data and a new one started on the same store (as Flink's own
            // UpdateJobResourceRequirementsRecoveryITCase does); its restarts are counted above.
            zk = new Zk(new File(work));
            set(conf, "high-availability.type", "zookeeper");
            set(conf, "high-availability.zookeeper.quorum", zk.connectString());
            set(conf, "high-availability.storageDir", uri(new File(work, "ha")));
            set(conf, "high-availability.cluster-id", "snapsim-" + Long.toHexString(System.nanoTime()));
        }
        Job.Params p = new Job.Params();
        p.variant = variant;
        p.parallelism = par;
        p.outFile = outFile.getAbsolutePath();
        p.src = new SeqSource.Config();
        p.src.seed = seed;
        p.src.keys = keys;
        p.src.splits = splits;
        p.src.until = until;
        p.src.bounded = true;
        p.src.rate = rate;
        p.src.sideDir = side;

        Map<String, Object> res = base("works");
        res.put("command", "restore");
        res.put("path", path);
        res.put("backend", backend);
        res.put("incremental", incremental);
        res.put("mode", mode);
        res.put("mode_class", modeClass());
        res.put("job", variant);
        res.put("parallelism", par);
        res.put("records_until", until);
        res.put("allow_non_restored_state", allowNonRestored);

        // --ownership: the files the restored snapshot names, to see which the job deletes and
        // which its own checkpoints reuse
        java.util.SortedSet<String> restoredFiles = ownership ? Inspect.files(path) : null;
        Map<String, Object> restoredOffsets = null;
        long tStart = System.nanoTime();
        MiniCluster mc = startCluster(conf, slots);
        JobResult jr = null;
        Throwable submitError = null;
        try {
            JobGraph jg = jobGraph(conf, p);
            jg.setSavepointRestoreSettings(restoreSettings(path, allowNonRestored, mode));
            JobID jobId = jg.getJobID();
            try {
                Progress.HOLD = ownership;
                if (ownership) Progress.LIMIT.set(holds[0]);
                mc.submitJob(jg).get(timeoutS, TimeUnit.SECONDS);
                List<Object> facts = new ArrayList<>();
                long readers = 0; // source readers per incarnation of the job
                for (int i = 0; i < holds.length; i++) {
                    Progress.LIMIT.set(holds[i]);
                    Map<String, Object> h = new LinkedHashMap<>();
                    h.put("offset", holds[i]);
                    facts.add(h);
                    ownershipCheckpoint(mc, jobId, splits, holds[i], timeoutS * 1000, restoredFiles, h);
                    if (i == 0) {
                        restoredOffsets = readSide(side, "splits-added-"); // before a restart adds them again
                        readers = Progress.READER_STARTS.get();
                    }
                    if (!h.containsKey("checkpoint_missing")) break; // the job ended first
                    if (failAfter.contains(i)) {
                        h.put("failover", true);
                        failover(mc, jobId, readers, timeoutS * 1000);
                    }
                    if (jmFailAfter.contains(i)) {
                        h.put("jm_failover", true);
                        MiniCluster old = mc;
                        mc = null; // closed here, whatever happens next
                        mc = jmFailover(old, conf, slots, jobId, readers, timeoutS * 1000);
                    }
                }
                if (ownership) res.put("holds", facts);
                Progress.LIMIT.set(Long.MAX_VALUE);
                Progress.HOLD = false;
                jr = mc.requestJobResult(jobId).get(timeoutS, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                submitError = e.getCause() != null ? e.getCause() : e;
            }
        } finally {
            if (mc != null) closeQuietly(mc);
            if (zk != null) zk.close();
        }
        res.put("restore_ms", (System.nanoTime() - tStart) / 1_000_000);
        res.put("progress", progress());
        res.put("snapshot_exists_after", new File(path, "_metadata").isFile());
        if (ownership) res.put("restored_missing_after_finish", missing(restoredFiles));
        Map<String, Object> restored = restoredOffsets != null ? restoredOffsets : readSide(side, "splits-added-");
        res.put("restored_offsets", restored);

        Throwable failure = submitError;
        if (failure == null && jr != null && !jr.isSuccess()) {
            failure = jr.getSerializedThrowable().map(st -> (Throwable) st.deserializeError(Runner.class.getClassLoader()))
                    .orElse(new IllegalStateException("job failed: " + status(jr)));
        }
        if (failure != null) {
            log.error("restore failed", failure);
            long processed = Progress.PROCESSED.get();
            res.put("outcome", processed == 0 ? "rejected" : "crashed");
            res.put("reason", processed == 0 ? "the job failed before processing any record"
                    : "the job failed after processing " + processed + " records");
            res.put("phase", submitError != null ? "submission" : (processed == 0 ? "restore" : "processing"));
            putException(res, failure);
            return res;
        }
        res.put("final_job_status", status(jr));

        // the oracle: every key's state is the fold of records [0, until) of every split, except
        // as the job variant says
        long[] from = new long[splits];
        long[] to = new long[splits];
        Arrays.fill(to, until);
        long[] r = new long[splits];
        for (int s = 0; s < splits; s++) {
            Object v = restored.get(String.valueOf(s));
            r[s] = v == null ? 0 : (Long) v;
        }
        Gen.Rule rule = null;
        String oracle = "fold of [0, until) of every split";
        if (variant.equals("new-code")) {
            Map<String, Object> ti = takeInfo == null ? null : asMap(Json.parse(new String(Files.readAllBytes(Paths.get(takeInfo)), StandardCharsets.UTF_8)));
            if (ti != null && ti.get("agg_frontier") instanceof Map && !((Map<?, ?>) ti.get("agg_frontier")).isEmpty()) {
                // old code folded what agg had processed at the snapshot (per split and agg
                // subtask, FIFO per channel); the new code processes the rest, in-flight records included
                Map<String, Object> fr = asMap(ti.get("agg_frontier"));
                int takePar = ((Number) ti.get("parallelism")).intValue();
                int maxPar = ((Number) ti.get("max_parallelism")).intValue();
                rule = (s, off, k) -> {
                    int sub = KeyGroupRangeAssignment.assignKeyToParallelOperator(k, maxPar, takePar);
                    Map<String, Object> f = asMap(fr.get(String.valueOf(sub)));
                    Object lim = f == null ? null : f.get(String.valueOf(s));
                    return off < (lim == null ? 0 : ((Number) lim).longValue()) ? 1 : 3;
                };
                oracle = "new code (sum += 3*value) for records the agg had not processed at the snapshot (take-info frontiers)";
            } else {
                rule = (s, off, k) -> off < r[s] ? 1 : 3;
                oracle = "new code (sum += 3*value) for offsets >= the restored source offsets (assumes no in-flight records)";
            }
        } else if (variant.equals("agg-renamed")) {
            from = r.clone();
            oracle = "fold of [restored offset, until): the renamed agg starts empty";
        }
        if (!takeJob.equals("default")) oracle += "; take job " + takeJob;
        res.put("oracle", oracle);
        TreeMap<Long, Gen.KeyState> expected = Gen.fold(seed, keys, from, to, rule);
        compare(expected, outFile, res);
        return res;
    }

    /**
     * The restored job, held at the end of its input, takes a checkpoint: which files of it exist,
     * which it shares with the restored snapshot, and which of the restored snapshot's files are
     * gone at that moment (the model's ownership check looks at the same moment). A job that
     * failed first leaves nothing to look at: the restore's own verdict follows.
     */
    static void ownershipCheckpoint(MiniCluster mc, JobID jobId, int splits, long until, long budget,
            java.util.SortedSet<String> restoredFiles, Map<String, Object> res) throws Exception {
        res.put("restored_files", restoredFiles.size());
        waitFor("all records processed", budget, () -> {
            if (terminal(mc, jobId)) return true;
            if (!allEmitted(splits, until)) return false;
            long total = 0;
            for (int s = 0; s < splits; s++) total += until - Math.max(0, Math.min(until, Progress.START.get(s)));
            return Progress.PROCESSED.get() >= total;
        });
        if (terminal(mc, jobId)) return;
        // The job keeps checkpointing periodically: a newer checkpoint may complete and subsume
        // the triggered one (discarding its own files, rightly) while its files are checked. Such
        // an observation is void, and is taken again on a new checkpoint; a file missing from a
        // checkpoint that nothing newer subsumed is the answer.
        String ck = null;
        java.util.SortedSet<String> files = new java.util.TreeSet<>();
        List<String> gone = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            ck = localPath(triggerCheckpointWhenRunning(mc, jobId, budget));
            try {
                files = Inspect.files(ck);
                gone = missing(files);
            } catch (Exception ex) {
                if (!subsumed(ck) || attempt == 5) throw ex;
                continue;
            }
            if (gone.isEmpty() || !subsumed(ck) || attempt == 5) break;
            log.info("checkpoint {} was subsumed while its files were checked ({} gone); again", ck, gone.size());
        }
        List<String> shared = new ArrayList<>();
        for (String f : files) if (restoredFiles.contains(f)) shared.add(f);
        res.put("ownership_checkpoint", ck);
        res.put("checkpoint_files", files.size());
        res.put("checkpoint_missing", gone);
        res.put("checkpoint_reuses_restored", shared);
        res.put("restored_missing", missing(restoredFiles));
    }

    /** Whether a checkpoint newer than ck (a sibling chk-N with a _metadata) has completed. */
    static boolean subsumed(String ck) {
        File dir = new File(ck);
        String name = dir.getName();
        File[] siblings = dir.getParentFile() == null ? null : dir.getParentFile().listFiles();
        if (!name.startsWith("chk-") || siblings == null) return false;
        long id = Long.parseLong(name.substring(4));
        for (File f : siblings) {
            String n = f.getName();
            if (n.startsWith("chk-") && n.substring(4).matches("[0-9]+") && Long.parseLong(n.substring(4)) > id
                    && new File(f, "_metadata").isFile()) return true;
        }
        return false;
    }

    /**
     * One task failure, then the restart: the job's sources throw once, Flink's restart strategy
     * restores every task from the latest completed checkpoint, and the readers start again (or
     * the job ends: a restore that fails is its own answer).
     */
    static void failover(MiniCluster mc, JobID jobId, long readers, long budget) throws Exception {
        long starts = Progress.READER_STARTS.get() + readers;
        Progress.FAIL_ONCE.set(true);
        waitFor("the injected failure", budget, () -> !Progress.FAIL_ONCE.get() || terminal(mc, jobId));
        waitFor("the restart after the failure", budget,
                () -> Progress.READER_STARTS.get() >= starts || terminal(mc, jobId));
    }

    /**
     * A JobManager failover: the cluster ends without cleaning its HA data (its JobManager is
     * gone; the job's graph and checkpoint pointers stay in ZooKeeper and the HA storage
     * directory), and a new cluster on the same HA store recovers the job from its latest
     * completed checkpoint (SessionDispatcherLeaderProcess recovers the job graph; the new
     * CheckpointCoordinator reads the completed checkpoint store). Returns the new cluster once
     * the recovered job's readers run (or the job ended: its result is the answer).
     */
    static MiniCluster jmFailover(MiniCluster old, Configuration conf, int slots, JobID jobId, long readers, long budget)
            throws Exception {
        Method close; // MiniCluster has it from 1.18 on
        try {
            close = MiniCluster.class.getMethod("closeAsyncWithoutCleaningHighAvailabilityData");
        } catch (NoSuchMethodException e) {
            closeQuietly(old);
            throw new UnsupportedOperationException("this Flink release's MiniCluster cannot close without cleaning its HA data (a JobManager failover needs 1.18 or later)");
        }
        ((java.util.concurrent.CompletableFuture<?>) close.invoke(old)).get(budget, TimeUnit.MILLISECONDS);
        long starts = Progress.READER_STARTS.get() + readers;
        MiniCluster mc = startCluster(conf, slots);
        waitFor("the job recovered by a new JobManager", budget, () -> {
            if (Progress.READER_STARTS.get() >= starts) return true;
            try { // unknown until the new Dispatcher recovered it
                return mc.getJobStatus(jobId).get(10, TimeUnit.SECONDS).isGloballyTerminalState();
            } catch (Exception e) {
                return false;
            }
        });
        return mc;
    }

    static boolean terminal(MiniCluster mc, JobID jobId) {
        try {
            return mc.getJobStatus(jobId).get(10, TimeUnit.SECONDS).isGloballyTerminalState();
        } catch (Exception e) {
            return true;
        }
    }

    static List<String> missing(java.util.Collection<String> files) {
        List<String> m = new ArrayList<>();
        for (String f : files) if (!new File(f).exists()) m.add(f);
        return m;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object o) { return (Map<String, Object>) o; }

    static void compare(TreeMap<Long, Gen.KeyState> expected, File outFile, Map<String, Object> res) throws IOException {
        Map<Long, String> actual = new HashMap<>();
        int duplicates = 0, lines = 0;
        if (outFile.isFile()) {
            for (String line : Files.readAllLines(outFile.toPath())) {
                if (line.isBlank()) continue;
                lines++;
                Map<String, Object> m = asMap(Json.parse(line));
                long key = ((Number) m.get("key")).longValue();
                Map<String, Object> c = new LinkedHashMap<>();
                for (String f : new String[] {"count", "sum", "xor", "top", "buckets"}) c.put(f, m.get(f));
                if (actual.put(key, Json.write(c)) != null) duplicates++;
            }
        }
        List<Object> firsts = new ArrayList<>();
        int mismatches = 0;
        Set<Long> all = new java.util.TreeSet<>(expected.keySet());
        all.addAll(actual.keySet());
        for (Long k : all) {
            Gen.KeyState e = expected.get(k);
            String want = e == null ? null : Json.write(e.toMap());
            String got = actual.get(k);
            if (want == null || !want.equals(got)) {
                mismatches++;
                if (firsts.size() < 5) {
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("key", k);
                    d.put("expected", want == null ? null : Json.parse(want));
                    d.put("actual", got == null ? null : Json.parse(got));
                    firsts.add(d);
                }
            }
        }
        mismatches += duplicates;
        res.put("keys_expected", expected.size());
        res.put("output_lines", lines);
        res.put("duplicates", duplicates);
        res.put("mismatches", mismatches);
        if (mismatches > 0) {
            res.put("outcome", "corrupted");
            res.put("reason", "final state differs from the oracle for " + mismatches + " key(s)");
            res.put("first_mismatches", firsts);
        }
    }

    /** Options classes whose ConfigOption keys (and deprecated fallback keys) this release knows. */
    static final String[] OPTION_CLASSES = {
        "org.apache.flink.configuration.CheckpointingOptions", "org.apache.flink.configuration.StateBackendOptions",
        "org.apache.flink.configuration.RestartStrategyOptions", "org.apache.flink.configuration.StateRecoveryOptions",
        "org.apache.flink.configuration.RestOptions", "org.apache.flink.configuration.TaskManagerOptions",
        "org.apache.flink.configuration.CoreOptions", "org.apache.flink.configuration.JobManagerOptions",
        "org.apache.flink.configuration.NettyShuffleEnvironmentOptions",
        "org.apache.flink.streaming.api.environment.ExecutionCheckpointingOptions",
        "org.apache.flink.runtime.jobgraph.SavepointConfigOptions",
        "org.apache.flink.contrib.streaming.state.RocksDBOptions", "org.apache.flink.state.rocksdb.RocksDBOptions",
    };

    /** key -> "primary" or "deprecated" for every ConfigOption of OPTION_CLASSES. */
    static Map<String, String> knownKeys() {
        Map<String, String> keys = new TreeMap<>();
        for (String cn : OPTION_CLASSES) {
            Class<?> c;
            try {
                c = Class.forName(cn);
            } catch (Throwable t) {
                continue;
            }
            for (java.lang.reflect.Field f : c.getFields()) {
                if (!java.lang.reflect.Modifier.isStatic(f.getModifiers())
                        || !org.apache.flink.configuration.ConfigOption.class.isAssignableFrom(f.getType())) continue;
                try {
                    org.apache.flink.configuration.ConfigOption<?> opt = (org.apache.flink.configuration.ConfigOption<?>) f.get(null);
                    keys.put(opt.key(), "primary");
                    for (Object fb : opt.fallbackKeys()) {
                        Object k = fb.getClass().getMethod("getKey").invoke(fb);
                        Object dep = fb.getClass().getMethod("isDeprecated").invoke(fb);
                        keys.putIfAbsent(String.valueOf(k), Boolean.TRUE.equals(dep) ? "deprecated" : "fallback");
                    }
                } catch (Throwable t) {
                    // not readable: skip
                }
            }
        }
        return keys;
    }

    /** version: the release, and whether every configuration key the runner sets is known to it. */
    static Map<String, Object> version() {
        Map<String, Object> res = base("works");
        res.put("command", "version");
        res.put("restore_mode_class", modeClass());
        Map<String, String> known = knownKeys();
        Configuration c = config("/tmp/x", "hashmap", false, false, 1000, 1);
        set(c, Shim.INLINE_THRESHOLD, "20480");
        set(c, Shim.NUM_RETAINED, "16");
        Map<String, Object> used = new TreeMap<>();
        List<String> unknown = new ArrayList<>();
        for (String k : c.keySet()) {
            String st = known.get(k);
            used.put(k, st == null ? "unknown" : st);
            if (st == null) unknown.add(k);
        }
        res.put("config_keys", used);
        res.put("config_keys_unknown", unknown);
        return res;
    }

    /** records --seed S [--splits 4] [--keys 256] [--count 3]: the generated records, to cross-check the C side. */
    static Map<String, Object> records(Opts o) {
        long seed = o.seed();
        int splits = (int) o.lng("splits", 4);
        int keys = (int) o.lng("keys", 256);
        long count = o.lng("count", 3);
        o.done();
        List<Object> l = new ArrayList<>();
        for (int s = 0; s < splits; s++) {
            for (long off = 0; off < count; off++) {
                l.add(Arrays.asList(s, off, Gen.key(seed, keys, s, off), Gen.value(seed, s, off)));
            }
        }
        Map<String, Object> res = base("works");
        res.put("command", "records");
        res.put("seed", Long.toUnsignedString(seed));
        res.put("records", l);
        return res;
    }

    // ------------------------------------------------------------------ relocate

    static Map<String, Object> relocate(Opts o) throws Exception {
        Path from = Paths.get(o.req("path")).toAbsolutePath();
        Path to = Paths.get(o.req("to")).toAbsolutePath();
        String remove = o.str("remove-original", null);
        o.done();
        if (!Files.isDirectory(from)) throw new Usage("--path is not a directory: " + from);
        if (Files.exists(to)) throw new Usage("--to exists: " + to);
        Files.createDirectories(to.getParent());
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            copyTree(from, to);
            deleteTree(from);
        }
        Map<String, Object> res = base("works");
        res.put("command", "relocate");
        res.put("from", from.toString());
        res.put("to", to.toString());
        if (remove != null) {
            deleteTree(Paths.get(remove).toAbsolutePath());
            res.put("removed", Paths.get(remove).toAbsolutePath().toString());
        }
        return res;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t); else Files.copy(p, t);
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            List<Path> l = new ArrayList<>();
            s.forEach(l::add);
            for (int i = l.size() - 1; i >= 0; i--) Files.deleteIfExists(l.get(i));
        }
    }

    // ------------------------------------------------------------------ inspect / spa

    static Map<String, Object> inspect(Opts o) throws Exception {
        String path = new File(o.req("path")).getAbsolutePath();
        o.done();
        Map<String, Object> res = base("works");
        res.put("command", "inspect");
        res.putAll(Inspect.inspect(path));
        return res;
    }

    static Map<String, Object> spa(Opts o, String what) throws Exception {
        Class<?> c;
        try {
            c = Class.forName("snapsim.conformance.Spa");
        } catch (ClassNotFoundException e) {
            Map<String, Object> res = base("rejected");
            res.put("reason", "this runner was built without flink-state-processor-api (not on Maven Central for this release)");
            return res;
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = (Map<String, Object>) c.getMethod(what, Opts.class).invoke(null, o);
            return r;
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
            throw e;
        }
    }
}
