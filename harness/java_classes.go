package harness

import (
	"strconv"
	"strings"

	"github.com/closematrix/closematrix/internal/agent"
	"github.com/closematrix/closematrix/schema"
)

// Java gives a program no errno: a socket call fails with an exception, and
// the JDK decides its class and message. The java view's agent
// (agents/java/Agent.java) reports both; the class of the cell comes from
// this table and from nothing else, so a message is compared here only. Each
// row cites the JDK source that throws it (openjdk/jdk, src/java.base; the
// paths are the same in JDK 17 and 25).
//
// Two kinds of message:
//
//   - the JDK's own words, the same in every locale: "Connection reset"
//     (SocketChannelImpl.throwConnectionReset), "Connection reset by peer"
//     on Windows (windows/native/libnio/ch/SocketDispatcher.c);
//   - the OS's words, which the JDK passes on (JNU_ThrowIOExceptionWithLastError,
//     share/native/libjava/jni_util.c): strerror_r on Unix
//     (unix/native/libjava/jni_util_md.c, getErrorString) after the JVM's
//     setlocale(LC_ALL, "") (unix/native/libjava/java_props_md.c,
//     GetJavaProperties), so they follow LC_MESSAGES; FormatMessageW with
//     the user's language on Windows (windows/native/libjava/jni_util_md.c,
//     getLastErrorString, which drops the final '.'). These rows hold the
//     English texts (glibc, the BSD libcs, Windows' English message table);
//     in another locale the same call is class other, with its localized
//     message in the cell — visible, never guessed — and the result file's
//     platform.runtime names the locale the run used.
//
// A row whose message is "" matches the type with any message (or none).
var javaClasses = []struct {
	typ, msg string
	class    schema.Class
	source   string
}{
	// A read that met ECONNRESET or EPIPE (Unix) or WSAECONNRESET
	// (Windows): SocketDispatcher.c read0 throws
	// sun.net.ConnectionResetException, which SocketChannelImpl.implRead
	// turns into this, and every later read on the channel throws it again
	// without a call (the connectionReset flag).
	{"java.net.SocketException", "Connection reset", schema.ClassReset,
		"SocketChannelImpl.throwConnectionReset; unix and windows SocketDispatcher.c read0"},
	// A write that met ECONNRESET: unix SocketDispatcher.c write0 →
	// libnio convertReturnVal (nio_util.h) → strerror_r
	// (glibc and BSD libc: "Connection reset by peer"); Windows'
	// SocketDispatcher.c write0 throws the same text itself.
	{"java.io.IOException", "Connection reset by peer", schema.ClassReset,
		"SocketDispatcher.c write0 (windows: literal; unix: convertReturnVal, strerror_r(ECONNRESET))"},
	// A write after the peer's reset was taken (EPIPE): strerror_r.
	{"java.io.IOException", "Broken pipe", schema.ClassBrokenPipe,
		"unix SocketDispatcher.c write0 → libnio convertReturnVal (nio_util.h), strerror_r(EPIPE)"},
	// ECONNABORTED, strerror_r (glibc, BSD libc); WSAECONNABORTED,
	// FormatMessageW (Windows Sockets Error Codes, 10053).
	{"java.io.IOException", "Software caused connection abort", schema.ClassAborted,
		"libnio convertReturnVal (nio_util.h), strerror_r(ECONNABORTED)"},
	{"java.io.IOException", "An established connection was aborted by the software in your host machine", schema.ClassAborted,
		"windows SocketDispatcher.c read0/write0 → jni_util_md.c getLastErrorString, FormatMessageW(WSAECONNABORTED)"},
	{"java.io.IOException", "An existing connection was forcibly closed by the remote host", schema.ClassReset,
		"windows jni_util_md.c getLastErrorString, FormatMessageW(WSAECONNRESET)"},
	// ENOTCONN, from a call the JDK passes to the OS (strerror_r).
	{"java.io.IOException", "Transport endpoint is not connected", schema.ClassNotConnected,
		"libnio convertReturnVal (nio_util.h), strerror_r(ENOTCONN) (glibc)"},
	{"java.net.SocketException", "Transport endpoint is not connected", schema.ClassNotConnected,
		"unix/native/libnio/ch/Net.c handleSocketError, strerror_r(ENOTCONN) (glibc)"},
	{"java.io.IOException", "Socket is not connected", schema.ClassNotConnected,
		"libnio convertReturnVal (nio_util.h), strerror_r(ENOTCONN) (BSD libc)"},
	{"java.net.SocketException", "Socket is not connected", schema.ClassNotConnected,
		"Net.c handleSocketError, strerror_r(ENOTCONN) (BSD libc)"},
	// The program's own channel is closed, or its output shut down (a
	// write after shutdownOutput throws this before any call):
	// SocketChannelImpl.ensureOpen, beginWrite.
	{"java.nio.channels.ClosedChannelException", "", schema.ClassClosed,
		"SocketChannelImpl.ensureOpen, beginWrite (isOutputClosed)"},
	// A call blocked in the kernel when another thread closed the channel
	// (or shut down its direction): the channel's close pre-closes the
	// descriptor (dup2 of a half-closed socket, NativeDispatcher.preClose)
	// and signals the thread; the call ends with this
	// (AbstractInterruptibleChannel.end, SocketChannelImpl.implWrite). It
	// is Go's net.ErrClosed for the same case: the program's own close.
	{"java.nio.channels.AsynchronousCloseException", "", schema.ClassClosed,
		"AbstractInterruptibleChannel.end; SocketChannelImpl.implCloseBlockingMode, implWrite"},
	{"java.nio.channels.NotYetConnectedException", "", schema.ClassNotConnected,
		"SocketChannelImpl.ensureOpenAndConnected"},
}

// javaClass is the class of a Java exception, by the table; ok is false for
// an exception the table does not have.
func javaClass(e *agent.Error) (schema.Class, bool) {
	if e == nil || !isJavaType(e.Type) {
		return "", false
	}
	for _, r := range javaClasses {
		if r.typ == e.Type && (r.msg == "" || r.msg == e.Message) {
			return r.class, true
		}
	}
	return "", false
}

// isJavaType reports whether an error's type is a Java class name.
func isJavaType(t string) bool {
	return strings.HasPrefix(t, "java.") || strings.HasPrefix(t, "javax.") || strings.HasPrefix(t, "sun.")
}

// javaWords is a Java exception as a cell shows it: the class's simple
// name and the message, quoted, since the message is the only detail Java
// gives (`SocketException "Connection reset"`).
func javaWords(e *agent.Error) string {
	w := e.Type[strings.LastIndexByte(e.Type, '.')+1:]
	if e.Message != "" {
		w += " " + strconv.Quote(e.Message)
	}
	return w
}
