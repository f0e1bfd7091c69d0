package snapsim.conformance;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.StateBootstrapTransformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/** spa-read and spa-write: the State Processor API (SavepointReader / SavepointWriter). */
public final class Spa {
    private Spa() {}

    static StateBackend backend(String name) throws Exception {
        if (name.equals("hashmap")) return new HashMapStateBackend();
        return (StateBackend) Class.forName(Shim.ROCKSDB_BACKEND_CLASS).getDeclaredConstructor().newInstance();
    }

    static StreamExecutionEnvironment env(String work) {
        Configuration c = Runner.config(work, "hashmap", false, false, 3_600_000, 4);
        // see Runner.jobGraph: a class path entry makes the job use Flink's (the Launcher's) loader
        Runner.set(c, "pipeline.classpaths", Runner.class.getProtectionDomain().getCodeSource().getLocation().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(c);
        env.setParallelism(2);
        return env;
    }

    /** Reads agg's three states per key as the agg operator's JSON line. */
    public static final class StatsReader extends SpaShim.Reader<Long, String> {
        private static final long serialVersionUID = 1L;
        transient ValueState<Stats> stats;
        transient ListState<Long> top;
        transient MapState<Integer, Long> buckets;

        @Override
        protected void init() {
            stats = getRuntimeContext().getState(new ValueStateDescriptor<>("stats", Stats.class));
            top = getRuntimeContext().getListState(new ListStateDescriptor<>("top", Types.LONG));
            buckets = getRuntimeContext().getMapState(new MapStateDescriptor<>("buckets", Types.INT, Types.LONG));
        }

        @Override
        public void readKey(Long key, Context ctx, Collector<String> out) throws Exception {
            StringBuilder b = new StringBuilder();
            b.append("{\"key\":").append(key).append(',');
            Stats s = stats.value();
            if (s == null) s = new Stats();
            s.json(b);
            b.append(",\"top\":[");
            int i = 0;
            for (Long x : top.get()) b.append(i++ == 0 ? "" : ",").append(x);
            b.append("],\"buckets\":{");
            TreeMap<Integer, Long> m = new TreeMap<>();
            for (Map.Entry<Integer, Long> e : buckets.entries()) m.put(e.getKey(), e.getValue());
            i = 0;
            for (Map.Entry<Integer, Long> e : m.entrySet()) {
                b.append(i++ == 0 ? "" : ",").append('"').append(e.getKey()).append("\":").append(e.getValue());
            }
            b.append("},\"timers\":").append(ctx.registeredEventTimeTimers().size()).append('}');
            out.collect(b.toString());
        }
    }

    /** Writes a JSON line back into agg's three states, with the key's end-of-input timer. */
    public static final class AggBootstrap extends SpaShim.Bootstrap<Long, String> {
        private static final long serialVersionUID = 1L;
        transient ValueState<Stats> stats;
        transient ListState<Long> top;
        transient MapState<Integer, Long> buckets;

        @Override
        protected void init() {
            stats = getRuntimeContext().getState(new ValueStateDescriptor<>("stats", Stats.class));
            top = getRuntimeContext().getListState(new ListStateDescriptor<>("top", Types.LONG));
            buckets = getRuntimeContext().getMapState(new MapStateDescriptor<>("buckets", Types.INT, Types.LONG));
        }

        @Override
        public void processElement(String line, Context ctx) throws Exception {
            Map<String, Object> m = Runner.asMap(Json.parse(line));
            Stats s = new Stats();
            // rebuild through the same fields; Stats layouts differ, so set them reflectively
            for (String f : new String[] {"count", "sum", "xor"}) {
                java.lang.reflect.Field fl = Stats.class.getField(f);
                long v = ((Number) m.get(f)).longValue();
                if (fl.getType() == long.class) fl.setLong(s, v); else fl.set(s, String.valueOf(v));
            }
            stats.update(s);
            List<Long> t = new ArrayList<>();
            for (Object x : (List<?>) m.get("top")) t.add(((Number) x).longValue());
            top.update(t);
            for (Map.Entry<String, Object> e : Runner.asMap(m.get("buckets")).entrySet()) {
                buckets.put(Integer.parseInt(e.getKey()), ((Number) e.getValue()).longValue());
            }
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
        }
    }

    static final class KeyOfLine implements KeySelector<String, Long> {
        public Long getKey(String line) { return ((Number) Runner.asMap(Json.parse(line)).get("key")).longValue(); }
    }

    static List<String> collect(DataStream<String> ds, String name) throws Exception {
        List<String> l = new ArrayList<>();
        try (CloseableIterator<String> it = ds.executeAndCollect(name)) {
            while (it.hasNext()) l.add(it.next());
        }
        return l;
    }

    /** src's "SourceReaderState" entries (SimpleVersionedSerialization of our splits) as "src id offset". */
    static final class DecodeSplit implements org.apache.flink.api.common.functions.MapFunction<byte[], String> {
        public String map(byte[] b) throws Exception {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            int version = in.readInt();
            int len = in.readInt();
            byte[] payload = new byte[len];
            in.readFully(payload);
            SeqSource.Split s = new SeqSource.SplitSerializer().deserialize(version, payload);
            return "src " + s.id + " " + s.offset;
        }
    }

    public static Map<String, Object> read(Runner.Opts o) throws Exception {
        String path = new File(o.req("path")).getAbsolutePath();
        String backend = o.oneOf("backend", "hashmap", "hashmap", "rocksdb");
        long seed = o.seed();
        String work = new File(o.req("work")).getAbsolutePath();
        int splits = (int) o.lng("splits", 4);
        int keys = (int) o.lng("keys", 256);
        String offsetsJson = o.str("offsets", null);
        String takeInfo = o.str("take-info", null);
        o.done();
        Files.createDirectories(Paths.get(work));
        Map<String, Object> res = Runner.base("works");
        res.put("command", "spa-read");
        res.put("path", path);
        res.put("backend", backend);
        long t0 = System.nanoTime();
        List<String> lines;
        Map<String, Object> srcOffs;
        try {
            StreamExecutionEnvironment env = env(work);
            SavepointReader r = SavepointReader.read(env, path, backend(backend));
            // one job reads both operators: agg's keyed state and src's split offsets
            DataStream<String> agg = r.readKeyedState(OperatorIdentifier.forUid("agg"), new StatsReader(), Types.LONG, Types.STRING);
            DataStream<String> src = r.readListState(OperatorIdentifier.forUid("src"), "SourceReaderState",
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO).map(new DecodeSplit(), Types.STRING);
            lines = new ArrayList<>();
            srcOffs = new TreeMap<>();
            for (String l : collect(agg.union(src), "spa-read")) {
                if (l.startsWith("src ")) {
                    String[] a = l.split(" ");
                    srcOffs.put(a[1], Long.parseLong(a[2]));
                } else {
                    lines.add(l);
                }
            }
        } catch (Exception e) {
            Runner.log().error("spa-read failed", e);
            res.put("outcome", "rejected");
            res.put("reason", "the State Processor API could not read the snapshot");
            Runner.putException(res, e);
            return res;
        }
        res.put("read_ms", (System.nanoTime() - t0) / 1_000_000);
        res.put("source_offsets_in_snapshot", srcOffs);
        Map<String, Object> offs = srcOffs;
        if (offsetsJson != null) offs = Runner.asMap(Json.parse(offsetsJson));
        long[] from = new long[splits];
        long[] to = new long[splits];
        for (int s = 0; s < splits; s++) {
            Object v = offs.get(String.valueOf(s));
            to[s] = v == null ? 0 : ((Number) v).longValue();
        }
        res.put("oracle_offsets", offs);
        Gen.Rule rule = null;
        String oracle = "fold of [0, source offset in the snapshot)";
        if (takeInfo != null) {
            Map<String, Object> ti = Runner.asMap(Json.parse(new String(Files.readAllBytes(Paths.get(takeInfo)), StandardCharsets.UTF_8)));
            Map<String, Object> fr = Runner.asMap(ti.get("agg_frontier"));
            if (fr != null && !fr.isEmpty()) {
                int takePar = ((Number) ti.get("parallelism")).intValue();
                int maxPar = ((Number) ti.get("max_parallelism")).intValue();
                // records agg had not processed (in flight at the snapshot) count 0 times
                rule = (s, off, k) -> {
                    int sub = KeyGroupRangeAssignment.assignKeyToParallelOperator(k, maxPar, takePar);
                    Map<String, Object> f = Runner.asMap(fr.get(String.valueOf(sub)));
                    Object lim = f == null ? null : f.get(String.valueOf(s));
                    return off < (lim == null ? 0 : ((Number) lim).longValue()) ? 1 : 0;
                };
                oracle = "fold of what agg had processed at the snapshot (take-info frontiers)";
            }
        }
        res.put("oracle", oracle);
        TreeMap<Long, Gen.KeyState> expected = Gen.fold(seed, keys, from, to, rule);
        File f = new File(work, "spa-read.jsonl");
        Files.write(f.toPath(), String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
        long timers = 0;
        for (String l : lines) timers += ((Number) Runner.asMap(Json.parse(l)).get("timers")).longValue();
        res.put("timers", timers);
        Runner.compare(expected, f, res);
        return res;
    }

    public static Map<String, Object> write(Runner.Opts o) throws Exception {
        String path = new File(o.req("path")).getAbsolutePath();
        String outPath = new File(o.req("out")).getAbsolutePath();
        String format = o.oneOf("format", "canonical", "canonical", "native");
        String backend = o.oneOf("backend", "hashmap", "hashmap", "rocksdb");
        String op = o.oneOf("op", "rewrite-agg", "rewrite-agg", "remove-sink", "copy");
        String work = new File(o.req("work")).getAbsolutePath();
        o.done();
        Files.createDirectories(Paths.get(work));
        Map<String, Object> res = Runner.base("works");
        res.put("command", "spa-write");
        res.put("path", path);
        res.put("op", op);
        res.put("format_requested", format);
        List<String> formatMethods = new ArrayList<>();
        for (java.lang.reflect.Method m : SavepointWriter.class.getMethods()) {
            for (Class<?> p : m.getParameterTypes()) if (p.getSimpleName().equals("SavepointFormatType")) formatMethods.add(m.getName());
        }
        res.put("writer_format_methods", formatMethods);
        long t0 = System.nanoTime();
        try {
            StreamExecutionEnvironment env = env(work);
            StateBackend be = backend(backend);
            SavepointWriter w = SavepointWriter.fromExistingSavepoint(env, path, be);
            if (op.equals("rewrite-agg")) {
                SavepointReader r = SavepointReader.read(env, path, be);
                DataStream<String> states = r.readKeyedState(OperatorIdentifier.forUid("agg"), new StatsReader(), Types.LONG, Types.STRING);
                StateBootstrapTransformation<String> t = OperatorTransformation.bootstrapWith(states)
                        .keyBy(new KeyOfLine(), Types.LONG).transform(new AggBootstrap());
                w = w.removeOperator(OperatorIdentifier.forUid("agg")).withOperator(OperatorIdentifier.forUid("agg"), t);
            } else if (op.equals("remove-sink")) {
                w = w.removeOperator(OperatorIdentifier.forUid("sink"));
            }
            if (!formatMethods.isEmpty() && format.equals("native")) {
                res.put("format_note", "a format-type method exists but this runner does not call it yet");
            }
            w.write(Runner.uri(new File(outPath)));
            env.execute("spa-write");
        } catch (Exception e) {
            Runner.log().error("spa-write failed", e);
            res.put("outcome", "rejected");
            res.put("reason", "the State Processor API could not write the savepoint");
            Runner.putException(res, e);
            return res;
        }
        res.put("write_ms", (System.nanoTime() - t0) / 1_000_000);
        res.put("out", outPath);
        Map<String, Object> ins = Inspect.inspect(outPath);
        res.put("out_properties", ins.get("properties"));
        res.put("out_handle_classes", ins.get("handle_classes"));
        List<String> foreign = new ArrayList<>();
        collectFiles(ins, foreign, outPath);
        res.put("files_outside_out", foreign);
        return res;
    }

    @SuppressWarnings("unchecked")
    static void collectFiles(Object o, List<String> foreign, String outPath) {
        if (o instanceof Map) {
            Map<String, Object> m = (Map<String, Object>) o;
            Object f = m.get("file");
            if (f instanceof String && !((String) f).replaceFirst("^file:", "").startsWith(outPath)) foreign.add((String) f);
            for (Object v : m.values()) collectFiles(v, foreign, outPath);
        } else if (o instanceof List) {
            for (Object v : (List<Object>) o) collectFiles(v, foreign, outPath);
        }
    }

}
