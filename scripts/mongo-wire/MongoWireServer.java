// Embedded MongoDB-wire server for the one-machine default (npm start / npm test):
// mongo-java-server with its H2 MVStore backend, bound to loopback only.
// Usage: java -cp '<lib>/*' MongoWireServer.java --port N [--file path.mv] [--host 127.0.0.1]
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;

public class MongoWireServer {
    // The Node driver behind mongoose 9 refuses servers below wire version 9 (MongoDB 4.4);
    // the library's own version enum stops at 8, so report 5.0 with its real wire version.
    static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        public java.util.List<Integer> getVersionArray() { return java.util.List.of(5, 0, 0); }
        public String toVersionString() { return "5.0.0"; }
        public int getWireVersion() { return 13; }
    };

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 27017;
        String file = null;
        for (int i = 0; i < args.length - 1; i += 2) {
            switch (args[i]) {
                case "--host" -> host = args[i + 1];
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--file" -> file = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        H2Backend backend = file == null ? H2Backend.inMemory() : new H2Backend(file);
        backend.version(REPORTED_VERSION);
        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            backend.close();
        }));
        System.out.println("mongo-wire listening on " + host + ":" + port + (file == null ? " (in memory)" : " (" + file + ")"));
        Thread.currentThread().join();
    }
}
