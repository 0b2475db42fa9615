package matrix

import "github.com/closematrix/closematrix/schema"

// LegendEntry explains one class in a sentence.
type LegendEntry struct {
	Class   schema.Class `json:"class"`
	Meaning string       `json:"meaning"`
}

// classMeaning holds one sentence per class of the vocabulary; Legend keeps
// schema.Classes' order, so a class added there without a sentence here
// shows up in TestLegendCoversClasses rather than silently.
var classMeaning = map[schema.Class]string{
	schema.ClassData:          "recv returned bytes; n is how many.",
	schema.ClassEOF:           "recv returned 0: the peer's FIN arrived, an orderly end of stream.",
	schema.ClassOK:            "the call succeeded; for send, n bytes were accepted by the local stack (not necessarily delivered).",
	schema.ClassReset:         "the connection was reset by a RST (ECONNRESET, WSAECONNRESET).",
	schema.ClassAborted:       "the connection was aborted on this side (ECONNABORTED, WSAECONNABORTED).",
	schema.ClassBrokenPipe:    "send on a connection that can no longer send (EPIPE).",
	schema.ClassShutdown:      "that direction was shut down (ESHUTDOWN, WSAESHUTDOWN).",
	schema.ClassNotConnected:  "the socket is not, or no longer, connected (ENOTCONN, WSAENOTCONN).",
	schema.ClassBadDescriptor: "the descriptor is not open (EBADF): use after close on Unix.",
	schema.ClassNotSocket:     "the handle is not a socket (ENOTSOCK, WSAENOTSOCK): use after closesocket on Windows.",
	schema.ClassInterrupted:   "the blocking call was interrupted (EINTR, WSAEINTR).",
	schema.ClassTimedOut:      "the connection timed out (ETIMEDOUT, WSAETIMEDOUT).",
	schema.ClassUnreachable:   "no route to the network or host any more (ENETUNREACH, EHOSTUNREACH and their WSAE twins).",
	schema.ClassWouldBlock:    "the call would have blocked (EAGAIN, WSAEWOULDBLOCK).",
	schema.ClassBlocked:       "the call had not returned when its time bound expired; the harness then freed it.",
	schema.ClassOther:         "any other error; the native name and code say which.",
	schema.ClassClosed:        "Go's net.ErrClosed: the program's own connection was already closed (the Go net view only).",
	schema.ClassCancelled:     "an asynchronous recv (io_uring, IOCP) that completed because it was cancelled: ECANCELED, ERROR_OPERATION_ABORTED.",
}

// LegendNote explains the cells whose "class" is not from the vocabulary.
const LegendNote = "State steps (actor.state, peer.state) show RFC 793 state names or none; " +
	"peer.poll shows the ready poll events joined by | (or none); wire.actor and wire.peer show the segments that side sent, " +
	"in order and joined by \",\", a segment's flags joined by + (data+FIN,RST), or none. " +
	"Events steps (peer.events, #2 a later read of the same registration) show what the platform's readiness API, " +
	"registered at connect/accept and drained just before the action (so not its first edge), delivered in native names: epoll bits (EPOLLIN|EPOLLRDHUP), kqueue filters with flags, fflags and data, AFD_POLL_* (Windows), or none; " +
	"pending-recv steps show how an asynchronous recv (io_uring, IOCP) completed, as a call's class with the native code " +
	"(IOCP adds WSAGetOverlappedResult's: \"(WSA: WSAECONNRESET 10054)\"), or blocked. " +
	"A cell like \"eof ×2 / reset ×1\" varied over the runs; a skipped step is one this system offers no view of. " +
	"Platforms disagree (≠) when their classes differ (and the byte count, for data); " +
	"native names differ between OSes and are not compared. " +
	LegendStates + " " + LegendPollHup

// LegendStates is the rule that gives each state word one meaning, whatever
// path read it (the socket's own TCP_INFO, TCP_CONNECTION_INFO or
// SIO_TCP_INFO, or the system's table).
const LegendStates = "CLOSED is a socket that is still open but whose connection is gone (reset), " +
	"whether the socket said so itself or the system's table no longer lists its connection; " +
	"none is a socket that side has closed and that the system no longer lists."

// LegendPollHup says what POLLHUP means on each OS, so that a native cell is
// not misread: darwin's poll() is built on kqueue (xnu bsd/kern/sys_generic.c,
// poll_callback: EV_EOF sets POLLHUP, which suppresses POLLOUT; POLLERR only
// from EV_ERROR); WSAPoll reports a graceful disconnect as POLLHUP
// (learn.microsoft.com, "WSAPoll function", WSAPOLLFD revents); Linux's
// tcp_poll sets POLLHUP only when both directions are shut or the connection
// is closed (net/ipv4/tcp.c).
const LegendPollHup = "POLLHUP means different things: on Linux, both directions are shut or the connection is closed or reset " +
	"(a FIN alone gives POLLIN|POLLRDHUP); on darwin, whose poll() is built on kqueue, any end of file, a FIN alone included, " +
	"and POLLOUT is dropped whenever POLLHUP is set, while a pending SO_ERROR never shows as POLLERR; " +
	"on Windows, WSAPoll reports the peer's FIN as POLLHUP without POLLRDNORM (POLLIN) although recv would return 0. " +
	"Cells keep each OS's own events."

// Legend lists every class of the vocabulary with its sentence, in the
// order schema.Classes gives.
func Legend() []LegendEntry {
	out := make([]LegendEntry, len(schema.Classes))
	for i, c := range schema.Classes {
		out[i] = LegendEntry{Class: c, Meaning: classMeaning[c]}
	}
	return out
}

// KindEntry explains one step kind (schema.Kind) in two sentences: what it
// observes, and the vocabulary of its cells.
type KindEntry struct {
	Kind    schema.Kind `json:"kind"`
	Meaning string      `json:"meaning"`
}

// kindMeaning holds the sentences per kind; TestLegendCoversKinds checks
// every schema.Kinds entry has them.
var kindMeaning = map[schema.Kind]string{
	schema.KindCall: "A socket call's result (recv, send, the call blocked when the action happened, the action itself). " +
		"The cell is a class from the legend above with the native error name and number.",
	schema.KindState: "The side's TCP state, from the socket or the system's connection table once it is closed. " +
		"The cell is an RFC 793 state name (ESTABLISHED, FIN_WAIT_2, TIME_WAIT, …) or none when no entry exists.",
	schema.KindPoll: "The side's readiness by poll(2) or WSAPoll with a zero timeout, and its SO_ERROR. " +
		"The cell is the ready events joined by | (POLLIN|POLLHUP) or none, followed by the pending error if any.",
	schema.KindWire: "The segments the side sent from the action to this step, captured on loopback (Linux AF_PACKET, macOS and FreeBSD BPF; root). " +
		"The cell is the segments in order joined by \",\", a segment's flags joined by + (data+FIN,RST), or none.",
	schema.KindEvents: "A read of the side's readiness registration, made at connect/accept as event loops make it " +
		"(epoll EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, kqueue read and write filters, AFD poll) and drained before the action; " +
		"#2 reads it again later, so it shows whether a new edge came. The cell is the delivered flags by native name, " +
		"sorted and joined by | (EPOLLIN|EPOLLRDHUP, AFD_POLL_DISCONNECT), kqueue's per filter with flags, fflags and data, or none when nothing was delivered.",
	schema.KindCompletion: "How an asynchronous recv outstanding when the action happened completed (io_uring IORING_OP_RECV, " +
		"an overlapped WSARecv on an I/O completion port). The cell is a call's class (data, eof, reset, cancelled, …) with the " +
		"native completion code (io_uring's -res as an errno, GetQueuedCompletionStatus's Win32 error plus WSAGetOverlappedResult's WSA code), " +
		"or blocked when nothing completed within the bound.",
	schema.KindCounter: "How much the system's own TCP statistics grew from just before the action to this step (tcp.rsts-sent: " +
		"segments sent with RST, /proc/net/snmp OutRsts on Linux, GetTcpStatisticsEx dwOutRsts on Windows; macOS and FreeBSD keep no such counter). " +
		"They are system-wide, not the connection's: both ends on this host count, and so would any other TCP on the host meanwhile " +
		"(on Linux the network namespace's), which is why the harness waits for them to stand still before the action. " +
		"The cell is the delta in decimal (0, 1, 2); it says an RST left, not which end sent it.",
}

// KindLegend lists every step kind with its sentences, in schema.Kinds'
// order.
func KindLegend() []KindEntry {
	out := make([]KindEntry, len(schema.Kinds))
	for i, k := range schema.Kinds {
		out[i] = KindEntry{Kind: k, Meaning: kindMeaning[k]}
	}
	return out
}
