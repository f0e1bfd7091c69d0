package snapsim.conformance;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters shared by the runner and the operators: the MiniCluster runs in this JVM and its user
 * code class loader delegates to ours, so the statics are the same.
 */
public final class Progress {
    private Progress() {}

    public static final int MAX_SPLITS = 64;
    /** next offset of each split, as the source reader last saw it (-1: never assigned here) */
    static final AtomicLongArray EMITTED = new AtomicLongArray(MAX_SPLITS);
    /** offset each split started from in this JVM (0 fresh, else the restored offset; -1 unknown) */
    static final AtomicLongArray START = new AtomicLongArray(MAX_SPLITS);
    /** records the agg operator processed in this JVM */
    static final AtomicLong PROCESSED = new AtomicLong();
    /** final-state lines the agg operator emitted (timers fired) */
    static final AtomicLong EMITTED_RESULTS = new AtomicLong();
    /** no split emits offsets at or above this (take raises it snapshot by snapshot) */
    static final AtomicLong LIMIT = new AtomicLong(Long.MAX_VALUE);
    /** a bounded source that reached its end idles instead of ending while this is set */
    static volatile boolean HOLD;
    /** the next pollNext of a source reader throws once (a task failure the restart strategy sees) */
    static final AtomicBoolean FAIL_ONCE = new AtomicBoolean();
    /** source readers started in this JVM (a restart starts them again) */
    static final AtomicLong READER_STARTS = new AtomicLong();

    static {
        reset();
    }

    /** The state of a fresh JVM: each command of a serving JVM starts from it (Launcher.serve). */
    static void reset() {
        for (int i = 0; i < MAX_SPLITS; i++) {
            EMITTED.set(i, -1);
            START.set(i, -1);
        }
        PROCESSED.set(0);
        EMITTED_RESULTS.set(0);
        LIMIT.set(Long.MAX_VALUE);
        HOLD = false;
        FAIL_ONCE.set(false);
        READER_STARTS.set(0);
    }

    static void started(int split, long offset) {
        if (split < MAX_SPLITS) START.compareAndSet(split, -1, offset);
    }

    static void emitted(int split, long nextOffset) {
        if (split < MAX_SPLITS) EMITTED.set(split, nextOffset);
    }
}
