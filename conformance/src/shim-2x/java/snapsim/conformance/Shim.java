package snapsim.conformance;

import java.io.IOException;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/** API and configuration differences of Flink 2.x. */
public final class Shim {
    private Shim() {}

    public static final int LINE = 2;

    // configuration keys of the 2.x line (CheckpointingOptions, StateBackendOptions,
    // RestartStrategyOptions, StateRecoveryOptions); the 1.x keys are deprecated fallbacks
    public static final String STATE_BACKEND = "state.backend.type";
    public static final String INCREMENTAL = "execution.checkpointing.incremental";
    public static final String CHECKPOINT_STORAGE = "execution.checkpointing.storage";
    public static final String CHECKPOINTS_DIR = "execution.checkpointing.dir";
    public static final String SAVEPOINTS_DIR = "execution.checkpointing.savepoint-dir";
    public static final String CHECKPOINT_INTERVAL = "execution.checkpointing.interval";
    public static final String UNALIGNED = "execution.checkpointing.unaligned.enabled";
    public static final String NUM_RETAINED = "execution.checkpointing.num-retained";
    public static final String RETENTION = "execution.checkpointing.externalized-checkpoint-retention";
    /** state smaller than this is inlined into _metadata (ByteStreamStateHandle) */
    public static final String INLINE_THRESHOLD = "execution.checkpointing.data-inline-threshold";
    public static final String RESTORE_MODE = "execution.state-recovery.claim-mode";

    public static final String ROCKSDB_BACKEND_CLASS = "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend";

    public static int subtaskIndex(RuntimeContext ctx) { return ctx.getTaskInfo().getIndexOfThisSubtask(); }

    /** Sink V2 writing each line to one file (parallelism 1). */
    public static Sink<String> lineSink(String file) { return new LineSink(file); }

    static final class LineSink implements Sink<String> {
        private static final long serialVersionUID = 1L;
        private final String file;

        LineSink(String file) { this.file = file; }

        @Override
        public SinkWriter<String> createWriter(WriterInitContext context) throws IOException {
            return new LineWriter(file);
        }
    }
}
