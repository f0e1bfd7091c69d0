package snapsim.conformance;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;

/** State Processor API functions of the 2.x line: states are registered in open(OpenContext). */
public final class SpaShim {
    private SpaShim() {}

    public abstract static class Reader<K, OUT> extends KeyedStateReaderFunction<K, OUT> {
        private static final long serialVersionUID = 1L;

        protected abstract void init();

        @Override
        public void open(OpenContext ctx) { init(); }
    }

    public abstract static class Bootstrap<K, IN> extends KeyedStateBootstrapFunction<K, IN> {
        private static final long serialVersionUID = 1L;

        protected abstract void init();

        @Override
        public void open(OpenContext ctx) { init(); }
    }
}
