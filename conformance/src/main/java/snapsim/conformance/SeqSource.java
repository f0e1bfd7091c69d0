package snapsim.conformance;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A small FLIP-27 source: `splits` splits, the record at (split, offset) a pure function of the
 * seed (Gen). Each split's state is its next offset, checkpointed by the reader. Every split stops
 * at offset `until`; then an unbounded run idles (stays alive so a snapshot can be taken) and a
 * bounded run ends (END_OF_INPUT, after which Flink emits the MAX watermark).
 */
public class SeqSource<T> implements Source<T, SeqSource.Split, SeqSource.EnumState>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    /** Builds the emitted record from (id, key, value). */
    public interface Maker<T> extends Serializable {
        T make(long id, long key, long value);
    }

    public static final class Config implements Serializable {
        private static final long serialVersionUID = 1L;
        long seed;
        int keys = 256;
        int splits = 4;
        long until;
        boolean bounded;
        /** records per second per split; 0 = as fast as possible */
        double rate;
        /** directory for side files (offsets at snapshots and at restore) */
        String sideDir;
    }

    private final Config cfg;
    private final Maker<T> maker;
    private final TypeInformation<T> type;

    public SeqSource(Config cfg, Maker<T> maker, TypeInformation<T> type) {
        this.cfg = cfg;
        this.maker = maker;
        this.type = type;
    }

    @Override
    public Boundedness getBoundedness() {
        return cfg.bounded ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public TypeInformation<T> getProducedType() { return type; }

    @Override
    public SplitEnumerator<Split, EnumState> createEnumerator(SplitEnumeratorContext<Split> ctx) {
        List<Split> all = new ArrayList<>();
        for (int s = 0; s < cfg.splits; s++) all.add(new Split(s, 0));
        return new Enumerator(ctx, all, cfg.bounded);
    }

    @Override
    public SplitEnumerator<Split, EnumState> restoreEnumerator(SplitEnumeratorContext<Split> ctx, EnumState st) {
        return new Enumerator(ctx, new ArrayList<>(st.pending), cfg.bounded);
    }

    @Override
    public SimpleVersionedSerializer<Split> getSplitSerializer() { return new SplitSerializer(); }

    @Override
    public SimpleVersionedSerializer<EnumState> getEnumeratorCheckpointSerializer() { return new EnumSerializer(); }

    @Override
    public SourceReader<T, Split> createReader(SourceReaderContext ctx) {
        return new Reader<>(cfg, maker, ctx.getIndexOfSubtask());
    }

    // ---------------------------------------------------------------- splits

    public static final class Split implements SourceSplit {
        final int id;
        long offset;

        Split(int id, long offset) {
            this.id = id;
            this.offset = offset;
        }

        @Override
        public String splitId() { return String.valueOf(id); }

        @Override
        public String toString() { return "Split(" + id + "@" + offset + ")"; }
    }

    /** Version 1: int split id, long next offset. */
    public static final class SplitSerializer implements SimpleVersionedSerializer<Split> {
        @Override
        public int getVersion() { return 1; }

        @Override
        public byte[] serialize(Split s) throws IOException {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bo);
            out.writeInt(s.id);
            out.writeLong(s.offset);
            out.flush();
            return bo.toByteArray();
        }

        @Override
        public Split deserialize(int version, byte[] b) throws IOException {
            if (version != 1) throw new IOException("unknown split serializer version " + version);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            return new Split(in.readInt(), in.readLong());
        }
    }

    public static final class EnumState {
        final List<Split> pending;

        EnumState(List<Split> pending) { this.pending = pending; }
    }

    public static final class EnumSerializer implements SimpleVersionedSerializer<EnumState> {
        @Override
        public int getVersion() { return 1; }

        @Override
        public byte[] serialize(EnumState st) throws IOException {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bo);
            out.writeInt(st.pending.size());
            for (Split s : st.pending) {
                out.writeInt(s.id);
                out.writeLong(s.offset);
            }
            out.flush();
            return bo.toByteArray();
        }

        @Override
        public EnumState deserialize(int version, byte[] b) throws IOException {
            if (version != 1) throw new IOException("unknown enumerator state version " + version);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            int n = in.readInt();
            List<Split> l = new ArrayList<>();
            for (int i = 0; i < n; i++) l.add(new Split(in.readInt(), in.readLong()));
            return new EnumState(l);
        }
    }

    // ---------------------------------------------------------------- enumerator

    /** Split s goes to reader s % parallelism when that reader registers. */
    static final class Enumerator implements SplitEnumerator<Split, EnumState> {
        private final SplitEnumeratorContext<Split> ctx;
        private final List<Split> pending;
        private final boolean bounded;

        Enumerator(SplitEnumeratorContext<Split> ctx, List<Split> pending, boolean bounded) {
            this.ctx = ctx;
            this.pending = pending;
            this.bounded = bounded;
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {}

        @Override
        public void addSplitsBack(List<Split> splits, int subtaskId) { pending.addAll(splits); }

        @Override
        public void addReader(int subtaskId) {
            int p = ctx.currentParallelism();
            List<Split> mine = new ArrayList<>();
            for (Split s : pending) if (s.id % p == subtaskId) mine.add(s);
            pending.removeAll(mine);
            if (!mine.isEmpty()) {
                for (Split s : mine) ctx.assignSplit(s, subtaskId);
            }
            if (bounded) ctx.signalNoMoreSplits(subtaskId);
        }

        @Override
        public EnumState snapshotState(long checkpointId) { return new EnumState(new ArrayList<>(pending)); }

        @Override
        public void close() {}
    }

    // ---------------------------------------------------------------- reader

    static final class Reader<T> implements SourceReader<T, Split> {
        private final Config cfg;
        private final Maker<T> maker;
        private final int subtask;
        private final List<Split> splits = new ArrayList<>();
        private boolean noMoreSplits;
        private int next; // round robin position
        private long startNanos;
        private CompletableFuture<Void> available = CompletableFuture.completedFuture(null);

        Reader(Config cfg, Maker<T> maker, int subtask) {
            this.cfg = cfg;
            this.maker = maker;
            this.subtask = subtask;
        }

        @Override
        public void start() {
            startNanos = System.nanoTime();
            Progress.READER_STARTS.incrementAndGet();
        }

        private long allowed() {
            if (cfg.rate <= 0) return Long.MAX_VALUE;
            double sec = (System.nanoTime() - startNanos) / 1e9;
            return (long) (sec * cfg.rate) + 1;
        }

        @Override
        public InputStatus pollNext(ReaderOutput<T> out) {
            if (Progress.FAIL_ONCE.compareAndSet(true, false))
                throw new IllegalStateException("snapsim: injected task failure (failover)");
            long allowed = Math.min(allowed(), Progress.LIMIT.get());
            int n = splits.size();
            for (int i = 0; i < n; i++) {
                Split s = splits.get((next + i) % n);
                if (s.offset < cfg.until && s.offset < allowed) {
                    long key = Gen.key(cfg.seed, cfg.keys, s.id, s.offset);
                    long value = Gen.value(cfg.seed, s.id, s.offset);
                    out.collect(maker.make(Gen.id(s.id, s.offset), key, value), s.offset);
                    s.offset++;
                    Progress.emitted(s.id, s.offset);
                    next = (next + i + 1) % n;
                    return InputStatus.MORE_AVAILABLE;
                }
            }
            boolean allDone = true;
            for (Split s : splits) if (s.offset < cfg.until) allDone = false;
            if (allDone && noMoreSplits && cfg.bounded && !Progress.HOLD) return InputStatus.END_OF_INPUT;
            // idle (take runs, throttled runs, or waiting for splits): poll again soon
            long waitMs = allDone ? 50 : 5;
            available = new CompletableFuture<>();
            CompletableFuture<Void> f = available;
            CompletableFuture.delayedExecutor(waitMs, TimeUnit.MILLISECONDS).execute(() -> f.complete(null));
            return InputStatus.NOTHING_AVAILABLE;
        }

        @Override
        public List<Split> snapshotState(long checkpointId) {
            List<Split> copy = new ArrayList<>();
            Map<Integer, Long> offs = new TreeMap<>();
            for (Split s : splits) {
                copy.add(new Split(s.id, s.offset));
                offs.put(s.id, s.offset);
            }
            side("src-" + checkpointId + "-" + subtask + ".txt", offs, false);
            return copy;
        }

        private void side(String name, Map<Integer, Long> offs, boolean append) {
            if (cfg.sideDir == null) return;
            File f = new File(cfg.sideDir, name);
            f.getParentFile().mkdirs();
            try (FileWriter w = new FileWriter(f, append)) {
                for (Map.Entry<Integer, Long> e : offs.entrySet()) w.write(e.getKey() + " " + e.getValue() + "\n");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        @Override
        public CompletableFuture<Void> isAvailable() { return available; }

        @Override
        public void addSplits(List<Split> added) {
            Map<Integer, Long> offs = new TreeMap<>();
            for (Split s : added) {
                splits.add(new Split(s.id, s.offset));
                offs.put(s.id, s.offset);
                Progress.emitted(s.id, s.offset);
                Progress.started(s.id, s.offset);
            }
            side("splits-added-" + subtask + ".txt", offs, true);
            available.complete(null);
        }

        @Override
        public void notifyNoMoreSplits() {
            noMoreSplits = true;
            available.complete(null);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {}

        @Override
        public void close() {}
    }
}
