package snapsim.conformance;

import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The keyed operator "agg": ValueState "stats" (count, sum, xor), ListState "top" (the 3 largest
 * values, descending), MapState "buckets" (value % 8 -> count). All updates commute, so the state
 * does not depend on arrival order. A timer at Long.MAX_VALUE per key fires on the MAX watermark
 * that ends a bounded run and emits the key's final state as one JSON line.
 *
 * States are registered in initializeState (before any record), so Flink's serializer
 * compatibility checks (schema evolution, incompatible types) run at restore time.
 */
public class Agg<K, T> extends KeyedProcessFunction<K, T, String> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    /** Reads the three fields of a record type. */
    public interface View<T> extends Serializable {
        long id(T t);
        long key(T t);
        long value(T t);
    }

    private final View<T> view;
    /** 1 for the default code, 3 for the "new-code" variant (sum += value + 2*value) */
    private final long sumMult;
    /** busy wait per record (unaligned-checkpoint takes need a backpressured agg) */
    private final long delayNanos;
    private final String sideDir;

    private transient ValueState<Stats> stats;
    private transient ListState<Long> top;
    private transient MapState<Integer, Long> buckets;
    /** per split: 1 + the highest offset this subtask processed in this run */
    private transient long[] frontier;

    public Agg(View<T> view, long sumMult, long delayNanos, String sideDir) {
        this.view = view;
        this.sumMult = sumMult;
        this.delayNanos = delayNanos;
        this.sideDir = sideDir;
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) {
        stats = ctx.getKeyedStateStore().getState(new ValueStateDescriptor<>("stats", Stats.class));
        top = ctx.getKeyedStateStore().getListState(new ListStateDescriptor<>("top", Types.LONG));
        buckets = ctx.getKeyedStateStore().getMapState(new MapStateDescriptor<>("buckets", Types.INT, Types.LONG));
        frontier = new long[Progress.MAX_SPLITS];
    }

    @Override
    public void processElement(T rec, Context ctx, Collector<String> out) throws Exception {
        if (delayNanos > 0) {
            long end = System.nanoTime() + delayNanos;
            while (System.nanoTime() < end) LockSupport.parkNanos(Math.min(50_000, end - System.nanoTime()));
        }
        long v = view.value(rec);
        Stats s = stats.value();
        if (s == null) s = new Stats();
        s.add(v, sumMult);
        stats.update(s);

        List<Long> t = new ArrayList<>();
        Iterable<Long> old = top.get();
        if (old != null) for (Long x : old) t.add(x);
        t.add(v);
        t.sort((a, b) -> Long.compare(b, a));
        while (t.size() > 3) t.remove(t.size() - 1);
        top.update(t);

        int b = (int) (v % 8);
        Long c = buckets.get(b);
        buckets.put(b, c == null ? 1L : c + 1);

        ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
        long id = view.id(rec);
        int split = Gen.splitOf(id);
        if (split < frontier.length) frontier[split] = Math.max(frontier[split], Gen.offsetOf(id) + 1);
        Progress.PROCESSED.incrementAndGet();
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) throws Exception {
        StringBuilder b = new StringBuilder();
        b.append("{\"key\":").append(ctx.getCurrentKey()).append(',');
        Stats s = stats.value();
        if (s == null) s = new Stats();
        s.json(b);
        b.append(",\"top\":[");
        int i = 0;
        Iterable<Long> t = top.get();
        if (t != null) for (Long x : t) b.append(i++ == 0 ? "" : ",").append(x);
        b.append("],\"buckets\":{");
        TreeMap<Integer, Long> m = new TreeMap<>();
        Iterable<Map.Entry<Integer, Long>> es = buckets.entries();
        if (es != null) for (Map.Entry<Integer, Long> e : es) m.put(e.getKey(), e.getValue());
        i = 0;
        for (Map.Entry<Integer, Long> e : m.entrySet()) {
            b.append(i++ == 0 ? "" : ",").append('"').append(e.getKey()).append("\":").append(e.getValue());
        }
        b.append("}}");
        out.collect(b.toString());
        Progress.EMITTED_RESULTS.incrementAndGet();
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws IOException {
        if (sideDir == null) return;
        int sub = Shim.subtaskIndex(getRuntimeContext());
        File f = new File(sideDir, "agg-" + ctx.getCheckpointId() + "-" + sub + ".txt");
        f.getParentFile().mkdirs();
        try (FileWriter w = new FileWriter(f)) {
            for (int s = 0; s < frontier.length; s++) if (frontier[s] > 0) w.write(s + " " + frontier[s] + "\n");
        }
    }
}
