package snapsim.conformance;

import java.io.File;
import java.net.InetSocketAddress;

import org.apache.flink.shaded.zookeeper3.org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.flink.shaded.zookeeper3.org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A one-node ZooKeeper in this JVM, for a restore with JobManager failovers: Flink's ZooKeeper
 * HA services (ZooKeeperLeaderElectionHaServices, DefaultJobGraphStore and
 * DefaultCompletedCheckpointStore on ZooKeeperStateHandleStore) keep the job graph and the
 * completed checkpoints' pointers there, so a new JobManager recovers the job. It is the
 * ZooKeeper server Flink ships (flink-shaded-zookeeper-3), on a free port of 127.0.0.1.
 */
final class Zk implements AutoCloseable {
    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    Zk(File dir) throws Exception {
        File data = new File(dir, "zk");
        if (!data.mkdirs() && !data.isDirectory()) throw new java.io.IOException("cannot make " + data);
        server = new ZooKeeperServer(data, data, 500);
        factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 64);
        factory.startup(server);
    }

    String connectString() { return "127.0.0.1:" + factory.getLocalPort(); }

    @Override
    public void close() {
        factory.shutdown();
        server.shutdown();
    }
}
