package snapsim.conformance;

import java.io.IOException;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

/** API and configuration differences of Flink 1.x (1.17 .. 1.20). */
public final class Shim {
    private Shim() {}

    public static final int LINE = 1;

    // configuration keys of the 1.x line (ConfigOptions in CheckpointingOptions,
    // ExecutionCheckpointingOptions, StateBackendOptions, RestartStrategyOptions)
    public static final String STATE_BACKEND = "state.backend.type";
    public static final String INCREMENTAL = "state.backend.incremental";
    public static final String CHECKPOINT_STORAGE = "state.checkpoint-storage";
    public static final String CHECKPOINTS_DIR = "state.checkpoints.dir";
    public static final String SAVEPOINTS_DIR = "state.savepoints.dir";
    public static final String CHECKPOINT_INTERVAL = "execution.checkpointing.interval";
    public static final String UNALIGNED = "execution.checkpointing.unaligned";
    public static final String NUM_RETAINED = "state.checkpoints.num-retained";
    public static final String RETENTION = "execution.checkpointing.externalized-checkpoint-retention";
    /** state smaller than this is inlined into _metadata (ByteStreamStateHandle) */
    public static final String INLINE_THRESHOLD = "state.storage.fs.memory-threshold";
    public static final String RESTORE_MODE = "execution.savepoint.restore-mode";

    public static final String ROCKSDB_BACKEND_CLASS = "org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend";

    @SuppressWarnings("deprecation")
    public static int subtaskIndex(RuntimeContext ctx) { return ctx.getIndexOfThisSubtask(); }

    /** Sink V2 writing each line to one file (parallelism 1). */
    public static Sink<String> lineSink(String file) { return new LineSink(file); }

    static final class LineSink implements Sink<String> {
        private static final long serialVersionUID = 1L;
        private final String file;

        LineSink(String file) { this.file = file; }

        @Override
        @SuppressWarnings("deprecation")
        public SinkWriter<String> createWriter(InitContext context) throws IOException {
            return new LineWriter(file);
        }
    }
}
