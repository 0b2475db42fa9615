// closematrix agent, protocol 1 (docs/agent-protocol.md): Java's
// java.nio.channels.SocketChannel in blocking mode — what java.net.Socket
// itself runs on since JDK 13 (JEP 353, NioSocketImpl) — every blocking call
// on a thread of its own. Standard library only; run as a single-file source
// program (JEP 330, JDK 11+): `java Agent.java`.
//
// One JSON object per line: the hello first, then one answer per command, in
// any order, matched by id. A blocking call (accept, recv, send) first says
// "started", with its thread's native id where the system names it (Linux:
// /proc/thread-self, proc(5)), so that the harness can watch the thread fall
// asleep in the kernel. The agent exits when its stdin closes.
//
// Java gives no errno: an error is the exception's class and message, and
// the harness classifies it through a documented table of the JDK's own
// exceptions and messages (harness/java_classes.go). The messages that come
// from the OS (strerror_r on Unix, FormatMessageW on Windows) are localized,
// so the hello's options say which locale this JVM runs in.

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

public class Agent {
    static final int PROTOCOL = 1;
    static final String[] OPS = {"listen", "close-listener", "accept", "dial", "send", "recv", "shutdown",
        "close", "abort", "set-linger", "fill"};

    static final Map<String, Object> objs = new ConcurrentHashMap<>();
    static final AtomicInteger names = new AtomicInteger();
    static final OutputStream out = new FileOutputStream(FileDescriptor.out);
    static boolean threadIds;

    /** A command the agent cannot read: a missing field, an unknown name. */
    static final class BadRequest extends Exception {
        BadRequest(String m) { super(m); }
    }

    static synchronized void emit(Map<String, Object> o) {
        try {
            out.write((Json.write(o) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            Runtime.getRuntime().halt(1); // the harness is gone
        }
    }

    /** The calling thread's native id: /proc/thread-self links to PID/task/TID (proc(5)); 0 elsewhere. */
    static long nativeTid() {
        try {
            String l = Files.readSymbolicLink(Paths.get("/proc/thread-self")).toString();
            return Long.parseLong(l.substring(l.lastIndexOf('/') + 1));
        } catch (Exception e) {
            return 0;
        }
    }

    // SocketChannel.open(ProtocolFamily) and ServerSocketChannel.open(ProtocolFamily)
    // are JDK 15+: they make an AF_INET socket for v4 (the one the system's
    // table lists under 127.0.0.1). On JDK 11-14 the plain open() makes a
    // dual-stack socket, and the hello's options say so.
    static Method openSocket, openServer;
    static {
        try {
            openSocket = SocketChannel.class.getMethod("open", ProtocolFamily.class);
            openServer = ServerSocketChannel.class.getMethod("open", ProtocolFamily.class);
        } catch (NoSuchMethodException e) {
            openSocket = openServer = null;
        }
    }

    static Object open(boolean server, String family) throws Exception {
        ProtocolFamily f = family(family) == 4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
        Method m = server ? openServer : openSocket;
        if (m == null) {
            return server ? ServerSocketChannel.open() : SocketChannel.open();
        }
        try {
            return m.invoke(null, f);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception) throw (Exception) c;
            throw e;
        }
    }

    static int family(String f) throws BadRequest {
        if ("v4".equals(f)) return 4;
        if ("v6".equals(f)) return 6;
        throw new BadRequest("family " + f + ": want v4 or v6");
    }

    static InetAddress loopback(String f) throws Exception {
        return InetAddress.getByName(family(f) == 4 ? "127.0.0.1" : "::1");
    }

    static String addr(java.net.SocketAddress sa) {
        InetSocketAddress a = (InetSocketAddress) sa;
        InetAddress ip = a.getAddress();
        if (ip instanceof Inet6Address) {
            String h = ip.isLoopbackAddress() ? "::1" : ip.getHostAddress();
            int pct = h.indexOf('%');
            if (pct >= 0) h = h.substring(0, pct);
            return "[" + h + "]:" + a.getPort();
        }
        return ip.getHostAddress() + ":" + a.getPort();
    }

    static String register(String prefix, Object o) {
        String n = prefix + names.incrementAndGet();
        objs.put(n, o);
        return n;
    }

    static Object lookup(Map<String, Object> cmd, String field) throws BadRequest {
        Object name = cmd.get(field);
        if (!(name instanceof String)) throw new BadRequest("missing field " + field);
        Object o = objs.get(name);
        if (o == null) throw new BadRequest("unknown " + field + " " + name);
        return o;
    }

    static SocketChannel conn(Map<String, Object> cmd) throws BadRequest {
        Object o = lookup(cmd, "conn");
        if (!(o instanceof SocketChannel)) throw new BadRequest("not a connection: " + cmd.get("conn"));
        return (SocketChannel) o;
    }

    static ServerSocketChannel listener(Map<String, Object> cmd) throws BadRequest {
        Object o = lookup(cmd, "listener");
        if (!(o instanceof ServerSocketChannel)) throw new BadRequest("not a listener: " + cmd.get("listener"));
        return (ServerSocketChannel) o;
    }

    static long num(Map<String, Object> cmd, String field) throws BadRequest {
        Object v = cmd.get(field);
        if (!(v instanceof Number)) throw new BadRequest("missing field " + field);
        return ((Number) v).longValue();
    }

    static String str(Map<String, Object> cmd, String field) throws BadRequest {
        Object v = cmd.get(field);
        if (!(v instanceof String)) throw new BadRequest("missing field " + field);
        return (String) v;
    }

    static Map<String, Object> ok() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("status", "ok");
        return a;
    }

    static Map<String, Object> connAnswer(SocketChannel ch) throws IOException {
        Map<String, Object> a = ok();
        a.put("conn", register("c", ch));
        a.put("local", addr(ch.getLocalAddress()));
        a.put("remote", addr(ch.getRemoteAddress()));
        return a;
    }

    static void started(Map<String, Object> cmd) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("id", cmd.get("id"));
        s.put("started", true);
        if (threadIds) s.put("tid", nativeTid());
        emit(s);
    }

    static Map<String, Object> run(Map<String, Object> cmd) throws Exception {
        String op = (String) cmd.get("op");
        switch (op) {
        case "listen": {
            String f = str(cmd, "family");
            ServerSocketChannel s = (ServerSocketChannel) open(true, f);
            try {
                s.bind(new InetSocketAddress(loopback(f), 0), 16);
            } catch (Exception e) {
                s.close();
                throw e;
            }
            Map<String, Object> a = ok();
            a.put("listener", register("l", s));
            a.put("port", ((InetSocketAddress) s.getLocalAddress()).getPort());
            return a;
        }
        case "close-listener":
            listener(cmd).close();
            return ok();
        case "accept": {
            ServerSocketChannel s = listener(cmd);
            started(cmd);
            return connAnswer(s.accept());
        }
        case "dial": {
            String f = str(cmd, "family");
            InetSocketAddress to = new InetSocketAddress(loopback(f), (int) num(cmd, "port"));
            SocketChannel ch = (SocketChannel) open(false, f);
            try {
                ch.connect(to);
            } catch (Exception e) {
                ch.close();
                throw e;
            }
            return connAnswer(ch);
        }
        case "send": {
            SocketChannel ch = conn(cmd);
            ByteBuffer b = ByteBuffer.allocate((int) num(cmd, "n"));
            started(cmd);
            // A blocking channel's write writes every byte or throws
            // (WritableByteChannel.write); the loop is what programs write.
            while (b.hasRemaining()) ch.write(b);
            Map<String, Object> a = ok();
            a.put("n", b.position());
            return a;
        }
        case "recv": {
            SocketChannel ch = conn(cmd);
            ByteBuffer b = ByteBuffer.allocate((int) num(cmd, "max"));
            started(cmd);
            int n = ch.read(b); // -1 at end of stream
            Map<String, Object> a = ok();
            a.put("n", n < 0 ? 0 : n);
            return a;
        }
        case "shutdown": {
            SocketChannel ch = conn(cmd);
            String how = str(cmd, "how");
            Map<String, Object> a = ok();
            switch (how) {
            case "rd": ch.shutdownInput(); break;
            case "wr": ch.shutdownOutput(); break;
            case "rdwr":
                // SocketChannel has no SHUT_RDWR: both halves, as a program would.
                ch.shutdownInput();
                ch.shutdownOutput();
                a.put("note", "shutdownInput() then shutdownOutput(): SocketChannel has no both-directions shutdown");
                break;
            default: throw new BadRequest("how " + how + ": want rd, wr or rdwr");
            }
            return a;
        }
        case "close":
            conn(cmd).close();
            return ok();
        case "abort": {
            SocketChannel ch = conn(cmd);
            ch.setOption(StandardSocketOptions.SO_LINGER, 0);
            ch.close();
            return ok();
        }
        case "set-linger": {
            SocketChannel ch = conn(cmd);
            boolean on = Boolean.TRUE.equals(cmd.get("on"));
            Object secs = cmd.get("secs");
            // SO_LINGER: a negative value disables it (StandardSocketOptions).
            ch.setOption(StandardSocketOptions.SO_LINGER, on ? (secs instanceof Number ? ((Number) secs).intValue() : 0) : -1);
            return ok();
        }
        case "fill": {
            // Queue data without blocking until the send buffer is full:
            // a non-blocking channel's write returns 0 then.
            SocketChannel ch = conn(cmd);
            long total = 0;
            ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
            ch.configureBlocking(false);
            try {
                while (true) {
                    chunk.clear();
                    int n = ch.write(chunk);
                    if (n == 0) break;
                    total += n;
                }
            } finally {
                ch.configureBlocking(true);
            }
            Map<String, Object> a = ok();
            a.put("n", total);
            return a;
        }
        }
        throw new BadRequest("unknown op " + op);
    }

    static Map<String, Object> errorOf(Throwable e) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("type", e.getClass().getName());
        if (e.getMessage() != null) d.put("message", e.getMessage());
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("status", "error");
        a.put("error", d);
        return a;
    }

    static void serve(Map<String, Object> cmd) {
        Map<String, Object> a;
        try {
            a = run(cmd);
        } catch (BadRequest e) {
            a = new LinkedHashMap<>();
            a.put("status", "bad-request");
            a.put("reason", e.getMessage());
        } catch (Throwable e) { // every other exception is the runtime's answer
            a = errorOf(e);
        }
        Map<String, Object> full = new LinkedHashMap<>();
        full.put("id", cmd.get("id"));
        full.putAll(a);
        emit(full);
    }

    static String env(String... keys) {
        for (String k : keys) {
            String v = System.getenv(k);
            if (v != null && !v.isEmpty()) return k + "=" + v;
        }
        return "";
    }

    public static void main(String[] args) throws Exception {
        threadIds = nativeTid() > 0;
        Map<String, Object> opts = new LinkedHashMap<>();
        // The JVM calls setlocale(LC_ALL, "") at start (java_props_md.c,
        // GetJavaProperties), so the OS's messages (strerror_r) follow the
        // environment's LC_MESSAGES; Windows' FormatMessageW follows the
        // user's UI language. Locale.getDefault() is what the JVM made of it.
        opts.put("locale", Locale.getDefault().toString());
        opts.put("display_locale", Locale.getDefault(Locale.Category.DISPLAY).toString());
        String lc = env("LC_ALL", "LC_MESSAGES", "LANG");
        opts.put("messages_env", lc.isEmpty() ? "(unset: the C locale)" : lc);
        opts.put("vendor", System.getProperty("java.vendor", ""));
        opts.put("vm", System.getProperty("java.vm.name", "") + " " + System.getProperty("java.vm.version", ""));
        opts.put("sockets", openSocket != null ? "one family per socket (open(ProtocolFamily))" : "dual-stack (JDK < 15)");

        Map<String, Object> h = new LinkedHashMap<>();
        h.put("protocol", PROTOCOL);
        h.put("runtime", "Java");
        h.put("version", Runtime.version().toString());
        h.put("api", "SocketChannel");
        List<Object> ops = new ArrayList<>();
        for (String o : OPS) ops.add(o);
        h.put("ops", ops);
        h.put("thread_ids", threadIds);
        h.put("abort", "setOption(SO_LINGER, 0), then close()");
        h.put("options", opts);
        h.put("pid", ProcessHandle.current().pid());
        emit(h);

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) continue;
            Map<String, Object> cmd;
            try {
                Object v = Json.parse(line);
                if (!(v instanceof Map)) throw new IllegalArgumentException("not an object");
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) v;
                if (!(m.get("id") instanceof Number) || !(m.get("op") instanceof String)) {
                    throw new IllegalArgumentException("no id or op");
                }
                cmd = m;
            } catch (RuntimeException e) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("id", 0);
                a.put("status", "bad-request");
                a.put("reason", "unreadable command: " + e.getMessage());
                emit(a);
                continue;
            }
            String op = (String) cmd.get("op");
            boolean known = false;
            for (String o : OPS) known |= o.equals(op);
            if (!known) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("id", cmd.get("id"));
                if ("pause-reading".equals(op)) {
                    a.put("status", "unsupported");
                    a.put("reason", "a blocking SocketChannel reads only inside read(): there is no reading to pause");
                } else {
                    a.put("status", "bad-request");
                    a.put("reason", "unknown op " + op);
                }
                emit(a);
                continue;
            }
            final Map<String, Object> c = cmd;
            Thread t = new Thread(() -> serve(c), "cmd-" + cmd.get("id"));
            t.setDaemon(true);
            t.start();
        }
        out.flush();
        Runtime.getRuntime().halt(0); // threads still blocked in calls do not hold the exit
    }
}

/** Just enough JSON for protocol 1: flat objects of strings, numbers, booleans, lists. */
final class Json {
    private final String s;
    private int i;

    private Json(String s) { this.s = s; }

    static Object parse(String s) {
        Json j = new Json(s);
        Object v = j.value();
        j.ws();
        if (j.i != s.length()) throw new IllegalArgumentException("trailing characters at " + j.i);
        return v;
    }

    private void ws() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }

    private char peek() {
        ws();
        if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
        return s.charAt(i);
    }

    private Object value() {
        char c = peek();
        if (c == '{') {
            i++;
            Map<String, Object> m = new LinkedHashMap<>();
            if (peek() == '}') { i++; return m; }
            while (true) {
                if (peek() != '"') throw new IllegalArgumentException("want a key at " + i);
                String k = string();
                if (peek() != ':') throw new IllegalArgumentException("want : at " + i);
                i++;
                m.put(k, value());
                char d = peek();
                i++;
                if (d == '}') return m;
                if (d != ',') throw new IllegalArgumentException("want , or } at " + (i - 1));
            }
        }
        if (c == '[') {
            i++;
            List<Object> l = new ArrayList<>();
            if (peek() == ']') { i++; return l; }
            while (true) {
                l.add(value());
                char d = peek();
                i++;
                if (d == ']') return l;
                if (d != ',') throw new IllegalArgumentException("want , or ] at " + (i - 1));
            }
        }
        if (c == '"') return string();
        if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
        if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
        if (s.startsWith("null", i)) { i += 4; return null; }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
        if (start == i) throw new IllegalArgumentException("unexpected " + c + " at " + i);
        String n = s.substring(start, i);
        if (n.indexOf('.') >= 0 || n.indexOf('e') >= 0 || n.indexOf('E') >= 0) return Double.parseDouble(n);
        return Long.parseLong(n);
    }

    private String string() {
        i++; // the opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw new IllegalArgumentException("unterminated string");
            char c = s.charAt(i++);
            if (c == '"') return b.toString();
            if (c != '\\') { b.append(c); continue; }
            char e = s.charAt(i++);
            switch (e) {
            case 'n': b.append('\n'); break;
            case 't': b.append('\t'); break;
            case 'r': b.append('\r'); break;
            case 'b': b.append('\b'); break;
            case 'f': b.append('\f'); break;
            case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
            default: b.append(e);
            }
        }
    }

    /** Writes v as JSON, every non-ASCII character escaped (a localized message stays one line of ASCII). */
    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String) {
            String s = (String) v;
            b.append('"');
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                if (c == '"' || c == '\\') b.append('\\').append(c);
                else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
                else b.append(c);
            }
            b.append('"');
        } else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) b.append(',');
                first = false;
                write(b, e.getKey().toString());
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof List) {
            b.append('[');
            boolean first = true;
            for (Object o : (List<?>) v) {
                if (!first) b.append(',');
                first = false;
                write(b, o);
            }
            b.append(']');
        } else {
            b.append(v.toString()); // numbers and booleans
        }
    }
}
