package snapsim.conformance;

import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;

import org.apache.flink.api.connector.sink2.SinkWriter;

/** The "sink" operator's writer: one line per record, appended to a local file. */
final class LineWriter implements SinkWriter<String> {
    private final BufferedWriter out;

    LineWriter(String file) throws IOException {
        out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(file, true), StandardCharsets.UTF_8));
    }

    @Override
    public void write(String line, Context context) throws IOException {
        out.write(line);
        out.write('\n');
    }

    @Override
    public void flush(boolean endOfInput) throws IOException { out.flush(); }

    @Override
    public void close() throws Exception { out.close(); }
}
