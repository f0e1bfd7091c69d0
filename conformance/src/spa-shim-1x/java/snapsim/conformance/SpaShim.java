package snapsim.conformance;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;

/** State Processor API functions of the 1.x line: states are registered in open(Configuration). */
public final class SpaShim {
    private SpaShim() {}

    public abstract static class Reader<K, OUT> extends KeyedStateReaderFunction<K, OUT> {
        private static final long serialVersionUID = 1L;

        protected abstract void init();

        @Override
        public void open(Configuration parameters) { init(); }
    }

    public abstract static class Bootstrap<K, IN> extends KeyedStateBootstrapFunction<K, IN> {
        private static final long serialVersionUID = 1L;

        protected abstract void init();

        @Override
        public void open(Configuration parameters) { init(); }
    }
}
