// DynamoDB Local bound to one address (loopback by default) instead of every interface.
//
// DynamoDB Local's command line has no host option: its Jetty server listens on all interfaces. This launcher
// builds the server from the same command-line arguments (ServerRunner.createServerFromCommandLineArgs), sets the
// host of its Jetty connector before starting it, and runs it. Usage:
//   java -Dlocalcloud.host=127.0.0.1 -cp <DynamoDB Local lib>/*:<this class> LoopbackDynamoDbLocal <ServerRunner args>

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDbLocal {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("localcloud.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        int bound = 0;
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector serverConnector) {
                serverConnector.setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            System.err.println("DynamoDB Local has no connector that can be bound to " + host + "; refusing to start");
            System.exit(2);
        }
        proxy.start();
        proxy.join();
    }
}
