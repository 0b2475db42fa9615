// Independent check of the java view (closematrix issue 19, point 1): the
// four scenarios of the other runtimes' checks (close/idle, abort/idle,
// close/unread-at-actor, abort/unread-at-peer) played on SocketChannels
// directly, not through the agent, printing what each step saw as one JSON
// object on the last line of stdout. harness/agents_check_test.go
// (TestIndependentChecks) runs it and compares with the view's cells.
//
// Run: java agents/java/Check.java   (single-file source program, JDK 11+)

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.TreeMap;

public class Check {
    interface Call { Object run() throws IOException; }

    /** A call's result as the matrix's class word, this program's own reading of Java's exceptions. */
    static String word(Call c) {
        try {
            Object r = c.run();
            if (r instanceof Integer) {
                int n = (Integer) r;
                return n < 0 ? "eof" : "data " + n;
            }
            return "ok";
        } catch (SocketException e) {
            return "Connection reset".equals(e.getMessage()) ? "reset" : "SocketException " + e.getMessage();
        } catch (IOException e) {
            if ("Broken pipe".equals(e.getMessage())) return "broken-pipe";
            if ("Connection reset by peer".equals(e.getMessage())) return "reset";
            return e.getClass().getSimpleName() + " " + e.getMessage();
        }
    }

    static SocketChannel[] pair() throws IOException {
        try (ServerSocketChannel ln = ServerSocketChannel.open()) {
            ln.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 1);
            SocketChannel actor = SocketChannel.open(ln.getLocalAddress());
            SocketChannel peer = ln.accept();
            return new SocketChannel[] {actor, peer};
        }
    }

    // The harness waits on the system's table; here, a plain pause for the
    // FIN or RST to cross loopback (microseconds) on a loaded machine.
    static void settle() throws InterruptedException { Thread.sleep(50); }

    static void abort(SocketChannel s) throws IOException {
        s.setOption(StandardSocketOptions.SO_LINGER, 0);
        s.close();
    }

    static int recv(SocketChannel s) throws IOException { return s.read(ByteBuffer.allocate(65536)); }

    static Object send(SocketChannel s, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) s.write(b);
        return null;
    }

    public static void main(String[] args) throws Exception {
        Map<String, Map<String, String>> seen = new TreeMap<>();

        SocketChannel[] p = pair();
        p[0].close();
        settle();
        Map<String, String> m = new TreeMap<>();
        final SocketChannel peer1 = p[1];
        m.put("peer.recv", word(() -> recv(peer1)));
        m.put("peer.send", word(() -> send(peer1, 32)));
        settle();
        m.put("peer.send#2", word(() -> send(peer1, 32)));
        p[1].close();
        seen.put("close/idle", m);

        p = pair();
        abort(p[0]);
        settle();
        m = new TreeMap<>();
        final SocketChannel peer2 = p[1];
        m.put("peer.recv", word(() -> recv(peer2)));
        p[1].close();
        seen.put("abort/idle", m);

        p = pair();
        send(p[1], 1024);
        settle();
        p[0].close();
        settle();
        m = new TreeMap<>();
        final SocketChannel peer3 = p[1];
        m.put("peer.recv", word(() -> recv(peer3)));
        p[1].close();
        seen.put("close/unread-at-actor", m);

        p = pair();
        send(p[0], 1024);
        settle();
        abort(p[0]);
        settle();
        m = new TreeMap<>();
        final SocketChannel peer4 = p[1];
        m.put("peer.recv", word(() -> recv(peer4)));
        m.put("peer.recv#2", word(() -> recv(peer4)));
        p[1].close();
        seen.put("abort/unread-at-peer", m);

        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Map<String, String>> e : seen.entrySet()) {
            if (!first) b.append(", ");
            first = false;
            b.append('"').append(e.getKey()).append("\": {");
            boolean f2 = true;
            for (Map.Entry<String, String> s : e.getValue().entrySet()) {
                if (!f2) b.append(", ");
                f2 = false;
                b.append('"').append(s.getKey()).append("\": \"").append(s.getValue().replace("\"", "'")).append('"');
            }
            b.append('}');
        }
        System.out.println(b.append('}'));
    }
}
