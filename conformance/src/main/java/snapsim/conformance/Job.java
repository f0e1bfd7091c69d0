package snapsim.conformance;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job graph, the same as the simulator's default job (sim_job_default): src (FLIP-27, 4
 * splits, parallelism P) -hash-> agg (keyed, parallelism P, max parallelism 128) -rebalance-> sink
 * (parallelism 1), and its upgrade variants (selected by --job).
 */
public final class Job {
    private Job() {}

    public static final String[] VARIANTS = {
        "default", "new-code", "reshaped", "types-changed", "pojo-field-added", "incompatible", "key-changed", "agg-renamed"
    };

    public static boolean known(String v) {
        for (String x : VARIANTS) if (x.equals(v)) return true;
        return false;
    }

    public static final class Params {
        String variant = "default";
        int parallelism = 2;
        int maxParallelism = 128;
        long aggDelayNanos;
        String outFile;
        SeqSource.Config src;
    }

    static final class EventView implements Agg.View<Event> {
        public long id(Event e) { return e.id; }
        public long key(Event e) { return e.key; }
        public long value(Event e) { return e.value; }
    }

    static final class EventV2View implements Agg.View<EventV2> {
        public long id(EventV2 e) { return e.id; }
        public long key(EventV2 e) { return e.key; }
        public long value(EventV2 e) { return e.value; }
    }

    static final class LongKey<T> implements KeySelector<T, Long> {
        private final Agg.View<T> v;
        LongKey(Agg.View<T> v) { this.v = v; }
        public Long getKey(T t) { return v.key(t); }
    }

    static final class StringKey<T> implements KeySelector<T, String> {
        private final Agg.View<T> v;
        StringKey(Agg.View<T> v) { this.v = v; }
        public String getKey(T t) { return String.valueOf(v.key(t)); }
    }

    static final class Identity implements MapFunction<Event, Event> {
        public Event map(Event e) { return e; }
    }

    static final class MakeEvent implements SeqSource.Maker<Event> {
        public Event make(long id, long key, long value) { return new Event(id, key, value); }
    }

    static final class MakeEventV2 implements SeqSource.Maker<EventV2> {
        public EventV2 make(long id, long key, long value) { return new EventV2(id, key, value); }
    }

    public static void build(StreamExecutionEnvironment env, Params p) {
        env.setParallelism(p.parallelism);
        env.setMaxParallelism(p.maxParallelism);
        String sideDir = p.src.sideDir;
        long mult = p.variant.equals("new-code") ? 3 : 1;
        String aggUid = p.variant.equals("agg-renamed") ? "agg-v2" : "agg";
        DataStream<String> results;
        if (p.variant.equals("types-changed")) {
            TypeInformation<EventV2> t = TypeInformation.of(EventV2.class);
            DataStream<EventV2> src = env.fromSource(new SeqSource<>(p.src, new MakeEventV2(), t),
                    WatermarkStrategy.noWatermarks(), "src", t).uid("src").setParallelism(p.parallelism);
            EventV2View v = new EventV2View();
            results = src.keyBy(new LongKey<>(v), Types.LONG)
                    .process(new Agg<Long, EventV2>(v, mult, p.aggDelayNanos, sideDir), Types.STRING)
                    .uid(aggUid).name("agg").setParallelism(p.parallelism);
        } else {
            TypeInformation<Event> t = TypeInformation.of(Event.class);
            DataStream<Event> src = env.fromSource(new SeqSource<>(p.src, new MakeEvent(), t),
                    WatermarkStrategy.noWatermarks(), "src", t).uid("src").setParallelism(p.parallelism);
            if (p.variant.equals("reshaped")) {
                src = src.rebalance().map(new Identity(), t).uid("reshape").name("reshape")
                        .setParallelism(p.parallelism + 1);
            }
            EventView v = new EventView();
            if (p.variant.equals("key-changed")) {
                results = src.keyBy(new StringKey<>(v), Types.STRING)
                        .process(new Agg<String, Event>(v, mult, p.aggDelayNanos, sideDir), Types.STRING)
                        .uid(aggUid).name("agg").setParallelism(p.parallelism);
            } else {
                results = src.keyBy(new LongKey<>(v), Types.LONG)
                        .process(new Agg<Long, Event>(v, mult, p.aggDelayNanos, sideDir), Types.STRING)
                        .uid(aggUid).name("agg").setParallelism(p.parallelism);
            }
        }
        results.sinkTo(Shim.lineSink(p.outFile)).uid("sink").name("sink").setParallelism(1);
    }
}
