package matrix

import "github.com/closematrix/closematrix/schema"

// ClaimsSource is where the first claim set comes from: a widely reposted
// Chinese blog post summing up how a Winsock TCP connection closes
// (closesocket vs shutdown, error codes, states). The claims are the
// DESIGN §6 translation of its paragraphs.
const ClaimsSource = "blog post on closing TCP connections with closesocket and shutdown " +
	"(wjtxt, CSDN, 2011; widely reposted): blog.csdn.net/wjtxt/article/details/6598925"

// Sentences that several claim notes share.
const (
	byClass    = "The claim's Windows error names are mapped to classes, so that it means the same on every OS: "
	stateSteps = " States are RFC 793 names on state steps (actor.state, peer.state)."
	byCounter  = "Where no capture ran (Windows; macOS and FreeBSD without root) the RST is decided by the system's RSTs-sent counter " +
		"(tcp.rsts-sent, of the -wire scenario or its plain twin): 1 or more counts, 0 does not. The counter is system-wide and " +
		"both ends are on this host, so it says an RST left, not which end sent it; the evidence says which decided."
)

// check builds an unconditional check.
func check(scenario, step string, w Want) Check {
	return Check{Scenario: scenario, Step: step, Want: w}
}

// in limits a check to the views whose API has its posture.
func (c Check) in(views ...string) Check {
	c.Views = views
	return c
}

// asyncRecv is where an asynchronous recv exists (overlapped WSARecv,
// IORING_OP_RECV): the raw view only; Go's net and every agent hold their
// reads in their own loop, and the harness skips these scenarios there.
var asyncRecv = []string{schema.ViewRaw}

// when limits a check to runs where another step of its scenario satisfies w.
func (c Check) when(step string, w Want) Check {
	c.If = &Cond{Step: step, Want: w}
	return c
}

// Claims is the claim set of DESIGN §6, each written as the cells that decide
// it. A scenario the catalogue or a platform may lack (link-down/… needs
// Linux and root) is named here on purpose: until a run records them the claim says unknown
// and names them, and as soon as a run does, the claim is decided without a
// code change.
var Claims = []Claim{
	{
		ID:     1,
		Text:   "The active closer goes FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT; the passive side goes CLOSE_WAIT → LAST_ACK and ends in TIME_WAIT.",
		Source: ClaimsSource,
		Note: "Checked on close/orderly-release: after the actor closes (actor.state, peer.state) and after the peer closes too (actor.state#2, peer.state#2). " +
			"FIN_WAIT_1 is brief, so either FIN_WAIT state counts first. The passive side's end is checked as claimed (TIME_WAIT); " +
			"RFC 793 §3.5 has it go LAST_ACK → CLOSED, which a state step records as none." + stateSteps,
		Checks: []Check{
			check("close/orderly-release", "actor.state", OneOf("FIN_WAIT_1", "FIN_WAIT_2")),
			check("close/orderly-release", "peer.state", OneOf("CLOSE_WAIT")),
			check("close/orderly-release", "actor.state#2", OneOf("TIME_WAIT")),
			check("close/orderly-release", "peer.state#2", OneOf("TIME_WAIT")),
		},
	},
	{
		ID:     2,
		Text:   "After a normal close the peer's recv returns 0.",
		Source: ClaimsSource,
		Note:   "recv returning 0 is class eof; checked idle, with the peer blocked in recv, and after the peer drained data the actor had sent.",
		Checks: []Check{
			check("close/idle", "peer.recv", OneOf(schema.ClassEOF)),
			check("close/peer-blocked-recv", "peer.blocked-recv", OneOf(schema.ClassEOF)),
			check("close/unread-at-peer", "peer.recv#2", OneOf(schema.ClassEOF)),
		},
	},
	{
		ID:     3,
		Text:   "After shutdown for sending, the closer's own send fails with WSAESHUTDOWN (10058).",
		Source: ClaimsSource,
		Note:   byClass + "WSAESHUTDOWN is class shutdown, so ESHUTDOWN counts and EPIPE (broken-pipe, what Unix reports) does not.",
		Checks: []Check{
			check("shutdown-wr/idle", "actor.send", OneOf(schema.ClassShutdown)),
			check("shutdown-wr/peer-blocked-recv", "actor.send", OneOf(schema.ClassShutdown)),
			check("shutdown-rdwr/idle", "actor.send", OneOf(schema.ClassShutdown)),
		},
	},
	{
		ID:     4,
		Text:   "After a reset, the side that reset gets WSAECONNABORTED (10053) from send/recv, or WSAENOTSOCK (10038) if it had called closesocket.",
		Source: ClaimsSource,
		Note: byClass + "WSAECONNABORTED is class aborted, WSAENOTSOCK class not-socket (EBADF, Unix's answer to use after close, is bad-descriptor and does not count). " +
			"The closesocket case is abort/then-use (linger 0, close, then use the descriptor); the reset without closesocket is the one shutdown-rd causes " +
			"when the peer's data arrives, checked only where the peer saw that reset.",
		Checks: []Check{
			check("abort/then-use", "actor.send", OneOf(schema.ClassNotSocket)),
			check("abort/then-use", "actor.recv", OneOf(schema.ClassNotSocket)),
			check("shutdown-rd/idle", "actor.send", OneOf(schema.ClassAborted)).when("peer.recv", OneOf(schema.ClassReset)),
		},
	},
	{
		ID:     5,
		Text:   "After a reset, the other side's recv gets WSAECONNRESET (10054) and its send gets WSAECONNABORTED (10053) (WSAECONNRESET when the reset came from closesocket).",
		Source: ClaimsSource,
		Note: byClass + "WSAECONNRESET is class reset, WSAECONNABORTED class aborted. The abort/* resets come from closesocket (linger 0), so there the peer's send must be reset; " +
			"the shutdown-rd reset does not, so there the peer's next send must be aborted (checked only where the peer saw that reset).",
		Checks: []Check{
			check("abort/idle", "peer.recv", OneOf(schema.ClassReset)),
			check("abort/peer-blocked-recv", "peer.blocked-recv", OneOf(schema.ClassReset)),
			check("abort/idle", "peer.send", OneOf(schema.ClassReset)),
			check("abort/peer-blocked-recv", "peer.send", OneOf(schema.ClassReset)),
			check("shutdown-rd/idle", "peer.send#2", OneOf(schema.ClassAborted)).when("peer.recv", OneOf(schema.ClassReset)),
		},
	},
	{
		ID:     6,
		Text:   "A reset discards data still in the buffers.",
		Source: ClaimsSource,
		Note:   "Checked as: the peer never receives the 1 KiB that the actor sent before its abortive close (no recv of class data).",
		Checks: []Check{
			check("abort/unread-at-peer", "peer.recv", NoneOf(schema.ClassData)),
			check("abort/unread-at-peer", "peer.recv#2", NoneOf(schema.ClassData)),
		},
	},
	{
		ID:     7,
		Text:   "closesocket while another thread of the same process is blocked in recv resets the connection and sends RST.",
		Source: ClaimsSource,
		Note: "The reset is checked as the peer's recv being reset (class reset); that RST is what went out needs the wire.actor step " +
			"(the segments the actor sent, e.g. FIN, RST, data+FIN,RST, none), where any segment with RST counts. " + byCounter,
		Checks: []Check{
			check("close/own-blocked-recv", "peer.recv", OneOf(schema.ClassReset)),
			check("close/own-blocked-recv-wire", "wire.actor", HasSegment("RST")),
		},
	},
	{
		ID:     8,
		Text:   "shutdown for sending always sends FIN, whether or not a recv is blocked; the closer is then in FIN_WAIT_2, the peer in CLOSE_WAIT, and the closer can still recv.",
		Source: ClaimsSource,
		Note: "FIN is checked as the peer's recv returning 0 (class eof), idle, with the peer blocked in recv and with the closer's own recv blocked; " +
			"\"can still recv\" as the closer receiving what the peer sent after the shutdown (class data)." + stateSteps,
		Checks: []Check{
			check("shutdown-wr/idle", "peer.recv", OneOf(schema.ClassEOF)),
			check("shutdown-wr/peer-blocked-recv", "peer.blocked-recv", OneOf(schema.ClassEOF)),
			check("shutdown-wr/own-blocked-recv", "peer.recv", OneOf(schema.ClassEOF)),
			check("shutdown-wr/idle", "actor.recv", OneOf(schema.ClassData)).when("peer.send", OneOf(schema.ClassOK)),
			check("shutdown-wr/idle", "actor.state", OneOf("FIN_WAIT_2")),
			check("shutdown-wr/idle", "peer.state", OneOf("CLOSE_WAIT")),
			check("shutdown-wr/own-blocked-recv", "actor.state", OneOf("FIN_WAIT_2")),
		},
	},
	{
		ID:     9,
		Text:   "shutdown for receiving leaves both ends ESTABLISHED and the closer can still send; but if the peer then sends, the connection is reset and RST goes to the peer.",
		Source: ClaimsSource,
		Note: "The reset is checked as the peer's recv, after its own send, being reset (class reset: the RST reached the peer); " +
			"\"can still send\" as the closer's send being ok, checked only where no reset came first. " + byCounter + stateSteps,
		Checks: []Check{
			check("shutdown-rd/idle", "actor.state", OneOf("ESTABLISHED")),
			check("shutdown-rd/idle", "peer.state", OneOf("ESTABLISHED")),
			check("shutdown-rd/idle", "actor.send", OneOf(schema.ClassOK)).when("peer.recv", NoneOf(schema.ClassReset)),
			check("shutdown-rd/idle", "peer.recv", OneOf(schema.ClassReset)),
			check("shutdown-rd/idle-wire", "wire.actor", HasSegment("RST")),
		},
	},
	{
		ID:     10,
		Text:   "A process that is killed, or a network that goes away, resets its connections.",
		Source: ClaimsSource,
		Note:   "Checked as the peer's recv being reset (class reset) after the actor's process is killed (kill/idle) and after the network goes away (link-down/idle).",
		Checks: []Check{
			check("kill/idle", "peer.recv", OneOf(schema.ClassReset)),
			check("link-down/idle", "peer.recv", OneOf(schema.ClassReset)),
		},
	},
	// Claims 11–13 are what event loops that read through a completion API
	// (IOCP, io_uring) rely on (closematrix issue 10). Each is evaluated on
	// every platform of the raw view: a darwin column, which has no
	// completion API, skips the scenarios and reads unknown; the other
	// views have no asynchronous recv of their own, so there they are n/a
	// (claim 17 checks the loop's own read).
	{
		ID:     11,
		Text:   "Closing a socket with a pending overlapped read sends RST, not FIN.",
		Source: "libuv/libuv#3034 (fixed by #3036: CancelIoEx before closesocket), github.com/libuv/libuv/issues/3034; also openjdk/jdk#25700 (JDK-8358764)",
		Note: "Checked on close/own-pending-recv (the actor closes with an asynchronous recv pending: overlapped WSARecv on IOCP, IORING_OP_RECV on Linux) " +
			"as the peer's recv being reset (class reset: an RST reached it before any FIN). " +
			"The segments themselves are in close/own-pending-recv-wire's wire.actor where a capture runs (Linux, macOS, FreeBSD; root), " +
			"where any segment with RST counts. " + byCounter,
		Checks: []Check{
			check("close/own-pending-recv", "peer.recv", OneOf(schema.ClassReset)).in(asyncRecv...),
			check("close/own-pending-recv-wire", "wire.actor", HasSegment("RST")).in(asyncRecv...),
		},
	},
	{
		ID:     12,
		Text:   "close() does not complete a pending io_uring recv, and no FIN is sent until it is cancelled.",
		Source: "axboe/liburing#932 (also #568, #1048), github.com/axboe/liburing/issues/932",
		Note: "Checked as: after close the pending recv has not completed within the bound (actor.pending-recv blocked), " +
			"the peer reads nothing (peer.recv blocked: neither FIN nor RST arrived) and the capture shows no FIN; " +
			"after cancel-then-close the recv completes cancelled and the peer reads end of stream (the FIN left). " +
			"Evaluated wherever the scenarios ran: on IOCP it says whether closesocket behaves the same.",
		Checks: []Check{
			check("close/own-pending-recv", "actor.pending-recv", OneOf(schema.ClassBlocked)).in(asyncRecv...),
			check("close/own-pending-recv", "peer.recv", OneOf(schema.ClassBlocked)).in(asyncRecv...),
			check("close/own-pending-recv-wire", "wire.actor", NoSegment("FIN")).in(asyncRecv...),
			check("cancel-then-close/own-pending-recv", "actor.pending-recv", OneOf(schema.ClassCancelled)).in(asyncRecv...),
			check("cancel-then-close/own-pending-recv", "peer.recv", OneOf(schema.ClassEOF)).in(asyncRecv...),
		},
	},
	{
		ID:   13,
		Text: "A pending read completes with 0 bytes on a FIN and with an error on an RST.",
		Source: "event-loop folklore behind every completion-based loop (libuv, mio, asyncio's proactor); WSARecv on Microsoft Learn, " +
			"learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsarecv, and io_uring_prep_recv(3)",
		Note: "Checked on the peer's pending recv: after the actor's close (FIN) it must complete as end of stream (class eof, 0 bytes); " +
			"after the actor's abortive close (RST) with an error (any class but data, eof, ok and blocked; IOCP's " +
			"ERROR_NETNAME_DELETED and io_uring's ECONNRESET both count).",
		Checks: []Check{
			check("close/peer-pending-recv", "peer.pending-recv", OneOf(schema.ClassEOF)).in(asyncRecv...),
			check("abort/peer-pending-recv", "peer.pending-recv", NoneOf(schema.ClassData, schema.ClassEOF, schema.ClassOK, schema.ClassBlocked)).in(asyncRecv...),
		},
	},
	{
		ID:     14,
		Text:   "The passive closer's FIN can ride on its ACK of the active closer's FIN, making the close three segments.",
		Source: "the classic answer on how to close a TCP connection (DESIGN §6), its second half",
		Note: "Checked on close/orderly-release-wire, where both ends' segments are captured (Linux, root): the peer reads the end of stream, " +
			"then closes. The claim holds where the peer's first segment after the actor's FIN is its own FIN (FIN, FIN+ACK, ACK) and does not " +
			"where its stack acknowledged the FIN on its own first (FIN, ACK, FIN, ACK: four segments). " +
			"Whether the FIN rides depends on the passive closer closing before its delayed ACK fires (RFC 1122 §4.2.3.2), so \"does not hold\" " +
			"means: not in this scenario's timing. Platforms without a capture are unknown: the system's counters cannot order segments.",
		Checks: []Check{
			check("close/orderly-release-wire", "wire.peer", ThreeSegments()),
		},
	},
	// Claims 15–17 are what a runtime's own close and abort promise its
	// applications (closematrix issue 19): evaluated per view and OS, the
	// views being the runtimes.
	{
		ID:   15,
		Text: "Data that arrived before an RST is delivered to the application before the error.",
		Source: "RFC 793 §3.4 (reset processing) and §3.9 (on an RST in ESTABLISHED \"all segment queues should be flushed\"), " +
			"against gVisor's test of Linux, test/syscalls/linux/socket_ip_tcp_generic.cc RSTSentOnCloseWithUnreadDataAllowsReadBuffered " +
			"(\"the other end will not get an ECONNRESET until it's read all data\"); " +
			"Node.js streams, where an error destroys a paused socket with its buffer (nodejs.org/api/stream.html#readabledestroyerror)",
		Note: "Checked on abort/unread-at-peer (the actor aborts while the peer has 1 KiB unread) and close/unread-at-both (the actor closes " +
			"with data of its own unread, which sends an RST, while the peer has unread data): the peer's first recv must be the data " +
			"(class data) and its second the error (class reset). A runtime that reports the RST as end of stream (eof) never delivers " +
			"the error, so the claim does not hold there. On abort/unread-at-peer both checks apply only where the peer's connection " +
			"was reset (peer.state not CLOSE_WAIT): an abort that sent a FIN instead (claim 16) says nothing about an RST.",
		Checks: []Check{
			check("abort/unread-at-peer", "peer.recv", OneOf(schema.ClassData)).when("peer.state", NoneOf("CLOSE_WAIT")),
			check("abort/unread-at-peer", "peer.recv#2", OneOf(schema.ClassReset)).when("peer.state", NoneOf("CLOSE_WAIT")),
			check("close/unread-at-both", "peer.recv", OneOf(schema.ClassData)),
			check("close/unread-at-both", "peer.recv#2", OneOf(schema.ClassReset)),
		},
	},
	{
		ID:   16,
		Text: "The runtime's abort sends RST.",
		Source: "asyncio's transport.abort() (CPython Lib/asyncio/selector_events.py, _SelectorTransport.abort → _force_close, which " +
			"closes the socket without setting SO_LINGER); Node.js socket.resetAndDestroy(), nodejs.org/api/net.html#socketresetanddestroy " +
			"(\"close the TCP connection by sending an RST packet\"); SO_LINGER with a zero timeout elsewhere, socket(7)",
		Note: "The abort is each view's own (raw: SO_LINGER 0, then close; Go's net: SetLinger(0); python: SO_LINGER 0; asyncio: " +
			"transport.abort(); node: resetAndDestroy()). Checked on abort/idle-wire's wire.actor, where any segment with RST counts, " +
			"and on abort/idle as the peer's recv being reset (class reset). " + byCounter,
		Checks: []Check{
			check("abort/idle-wire", "wire.actor", HasSegment("RST")),
			check("abort/idle", "peer.recv", OneOf(schema.ClassReset)),
		},
	},
	{
		ID:   17,
		Text: "Closing a socket with a read pending sends FIN, not RST.",
		Source: "what libuv/libuv#3034 (github.com/libuv/libuv/issues/3034), openjdk/jdk#25700 (JDK-8358764) and asyncio's proactor " +
			"(CPython Lib/asyncio/proactor_events.py) make sure of by cancelling the read before the close; claim 11 is the folklore " +
			"the other way",
		Note: "Checked with the actor's read blocked in another thread, or held by the view's event loop (close/own-blocked-recv), and, " +
			"in the raw view, with an asynchronous recv pending (close/own-pending-recv): the peer's recv must be end of stream (class " +
			"eof: the FIN arrived, before any RST) and the -wire scenario's wire.actor must show no RST. A close that sends nothing " +
			"while the read holds the socket leaves the peer's recv blocked, and the claim does not hold. " + byCounter,
		Checks: []Check{
			check("close/own-blocked-recv", "peer.recv", OneOf(schema.ClassEOF)),
			check("close/own-blocked-recv-wire", "wire.actor", NoSegment("RST")),
			check("close/own-pending-recv", "peer.recv", OneOf(schema.ClassEOF)).in(asyncRecv...),
			check("close/own-pending-recv-wire", "wire.actor", NoSegment("RST")).in(asyncRecv...),
		},
	},
}
