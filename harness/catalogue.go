package harness

import (
	"slices"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// body is a scenario without its family: the catalogue is bodies × families.
// A new scenario from existing parts is one literal.
type body struct {
	action    Action
	condition string
	setup     []Setup
	posture   Posture // Idle when empty
	steps     string  // space-separated step names, in order
	// wire: the body is also played with a capture of what each end puts on
	// the wire (condition -wire, steps wire.actor wire.peer). The capture
	// needs root and Linux.
	wire bool
	// bound, when set, replaces the configured bound for the scenario's
	// calls: it waits out TCP's own timers (Scenario.Slow).
	bound time.Duration
	title string
	doc   string
}

// Families are the address families every body is played in.
var Families = []probes.Family{probes.V4, probes.V6}

// core is the core catalogue of DESIGN §3. IDs are stable: published tables
// and baselines refer to them. Each doc says what the scenario shows.
var core = []body{
	// Wine 8: the peer's recv#2 after its send met the RST returns 0. Wine's own
	// conformance test (dlls/ws2_32/tests/sock.c, test_shutdown, "Send data to
	// a peer which is closed") expects WSAECONNABORTED there on Windows and
	// marks it todo_wine.
	//
	// peer.events is what the peer's event loop is woken with by the FIN;
	// peer.events#2, read after the peer's send met the RST, whether the
	// same edge-triggered registration gets a new edge for the RST
	// (the question of libuv#3449). Wine 8 (observed): AFD_POLL_DISCONNECT,
	// then a new edge AFD_POLL_ABORT; Wine's afd.c test_poll (run on
	// Windows by Wine's test bot) expects the same bits for a FIN and an RST.
	{action: Close, condition: "idle", steps: "peer.events peer.recv peer.send peer.events#2 peer.send#2 peer.recv#2", wire: true,
		title: "close with nothing in flight",
		doc: "Orderly release (RFC 793 §3.5): the peer reads end of stream; its first send is accepted, " +
			"and the closed end answers the data with RST (RFC 1122 §4.2.2.13), which the second send and recv meet. " +
			"The peer's event loop sees the FIN (peer.events) and, after its send met the RST, a new edge or none (peer.events#2, libuv#3449).",
	},
	{action: Close, condition: "peer-blocked-recv", posture: PeerBlockedRecv, steps: "peer.blocked-recv peer.send peer.send#2",
		title: "close while the peer is blocked in recv",
		doc:   "The FIN wakes the peer's blocked recv with end of stream.",
	},
	// Wine 8 (observed): the peer's recv reads end of stream, though its poll
	// already shows POLLERR|POLLHUP and its send meets WSAECONNRESET. Wine 8's
	// server/sock.c makes no shutdown call when the socket is destroyed
	// (sock_destroy), so this is not a FIN sent ahead of the RST by Wine's
	// own shutdown; the cause is not traced. No sock.c test covers this case;
	// Microsoft documents no answer for it either.
	{action: Close, condition: "unread-at-actor", setup: []Setup{UnreadAtActor}, steps: "peer.events peer.recv peer.send peer.send#2", wire: true,
		title: "close with data the actor never read",
		doc: "RFC 2525 §2.17: closing with unread received data sends RST, not FIN, so the peer sees a reset rather than end of stream; " +
			"peer.events is what the RST wakes its event loop with (EPOLLERR? AFD_POLL_ABORT? EV_EOF with fflags?).",
	},
	{action: Close, condition: "unread-at-peer", setup: []Setup{UnreadAtPeer}, steps: "peer.recv peer.recv#2 peer.send",
		title: "close after sending data the peer has not read yet",
		doc:   "An orderly close delivers queued data first: the peer reads the data, then end of stream.",
	},
	// Wine 8 (observed): the blocked recv returns WSAEINVAL. Microsoft's recv
	// page lists WSAEINTR only for a blocking Windows Sockets 1.1 call
	// cancelled through WSACancelBlockingCall and says nothing of
	// closesocket; sock.c has no test of a blocking recv here (test_accept
	// checks that closesocket wakes a blocked accept). Only a real Windows
	// run will say.
	{action: Close, condition: "own-blocked-recv", posture: OwnBlockedRecv, steps: "actor.blocked-recv peer.recv", wire: true,
		title: "close while another thread of the actor is blocked in recv on the same socket",
		doc: "Whether close wakes a recv blocked in another thread, and whether anything is sent while it is still blocked, " +
			"differs by OS (Linux keeps the socket alive while a call holds it).",
	},
	{action: Close, condition: "then-use", steps: "actor.send actor.recv",
		title: "send and recv on the descriptor after close",
		doc:   "What a program gets from a stale descriptor or SOCKET handle (EBADF, WSAENOTSOCK).",
	},
	// Wine 8 (observed): the peer's recv returns 0 twice and only its send
	// meets WSAECONNRESET (as close/unread-at-actor; not traced further).
	// Windows resets the recv: sock.c test_completion_port and test_tcp_reset
	// expect WSAECONNRESET after close_with_rst(), and the closesocket page
	// says a hard close makes "any recv call on the remote side" fail that way.
	{action: Abort, condition: "idle", setup: []Setup{Linger0}, steps: "peer.events peer.recv peer.recv#2 peer.send", wire: true,
		title: "abortive close (SO_LINGER {1, 0})",
		doc: "Linger 0 turns close into ABORT (RFC 793 §3.5): RST instead of FIN; the peer's recv meets the reset, " +
			"and peer.events shows the bits an RST raises (mio#1303, #1964 for AFD poll).",
	},
	{action: Abort, condition: "peer-blocked-recv", setup: []Setup{Linger0}, posture: PeerBlockedRecv, steps: "peer.blocked-recv peer.send",
		title: "abortive close while the peer is blocked in recv",
		doc:   "The RST wakes the peer's blocked recv with a reset.",
	},
	// Wine 8: the peer reads its 1 KiB, then end of stream. Microsoft says an
	// abortive close loses unsent data and resets the remote recv; no sock.c
	// test covers data already queued at the receiver.
	{action: Abort, condition: "unread-at-peer", setup: []Setup{Linger0, UnreadAtPeer}, steps: "peer.recv peer.recv#2",
		title: "abortive close with data the peer has not read yet",
		doc:   "Whether a reset discards data already queued at the receiver (RFC 793 §3.4: RST flushes queues; some stacks deliver it first).",
	},
	{action: ShutdownWR, condition: "idle", steps: "actor.events peer.events peer.recv actor.send peer.send actor.recv", wire: true,
		title: "shutdown for sending",
		doc: "Half close: the peer reads end of stream, the actor can no longer send but can still receive what the peer sends. " +
			"actor.events is what the actor's own shutdown raises on its registration (mio#1091: EV_EOF on kqueue's write filter), " +
			"peer.events what the FIN raises at the peer.",
	},
	{action: ShutdownWR, condition: "peer-blocked-recv", posture: PeerBlockedRecv, steps: "peer.blocked-recv actor.send",
		title: "shutdown for sending while the peer is blocked in recv",
		doc:   "The FIN wakes the peer's blocked recv; the actor's own send then fails.",
	},
	// Wine 8 and sock.c agree: shutdown does not complete a pending recv of
	// the same socket (test_shutdown, "async I/O pending").
	{action: ShutdownWR, condition: "own-blocked-recv", posture: OwnBlockedRecv, steps: "actor.blocked-recv peer.recv",
		title: "shutdown for sending while another thread of the actor is blocked in recv",
		doc:   "A FIN goes out while the actor's own recv stays blocked (nothing arrived to wake it).",
	},
	// Wine 8 (observed): recv fails with WSAESHUTDOWN, as documented and as
	// sock.c test_shutdown expects; but data the peer sends afterwards resets
	// nothing, where the shutdown page says the connection is reset. Wine 8's
	// server/sock.c passes SD_RECEIVE to no host call (IOCTL_AFD_WINE_SHUTDOWN
	// only marks the socket read-shut), so Linux underneath never hears of it.
	// sock.c has no test of a peer's send with no recv pending, so this is
	// the docs against Wine.
	{action: ShutdownRD, condition: "idle", steps: "actor.events actor.recv peer.send actor.events#2 actor.recv#2 actor.send peer.recv peer.send#2", wire: true,
		title: "shutdown for receiving",
		doc: "Nothing goes on the wire (RFC 793 has no receive-side close); what the actor's recv returns and what " +
			"becomes of data that arrives afterwards is each stack's own choice. actor.events is what the own shutdown raises, " +
			"actor.events#2 whether the peer's data after it wakes the actor's event loop again.",
	},
	// Wine 8 (observed): no reset although data is queued (SD_RECEIVE reaches
	// no host call, as above); the shutdown page says a TCP connection is
	// reset when SD_RECEIVE finds data waiting to be received.
	{action: ShutdownRD, condition: "unread-at-actor", setup: []Setup{UnreadAtActor}, steps: "actor.recv peer.send",
		title: "shutdown for receiving with unread data",
		doc:   "Whether data already queued is still delivered, discarded, or answered with RST.",
	},
	{action: ShutdownRD, condition: "own-blocked-recv", posture: OwnBlockedRecv, steps: "actor.blocked-recv peer.recv",
		title: "shutdown for receiving while another thread of the actor is blocked in recv",
		doc:   "Whether shutdown(SHUT_RD) wakes a recv blocked in another thread.",
	},
	{action: ShutdownRDWR, condition: "idle", steps: "actor.events peer.events actor.recv actor.send peer.recv peer.send peer.send#2", wire: true,
		title: "shutdown in both directions",
		doc: "The actor can neither send nor receive; the peer reads end of stream, then its sends meet the half-dead end. " +
			"actor.events is what the own shutdown raises (EPOLLHUP once both directions are shut?), peer.events what the FIN raises.",
	},
	{action: ShutdownRDWR, condition: "own-blocked-recv", posture: OwnBlockedRecv, steps: "actor.blocked-recv peer.recv",
		title: "shutdown in both directions while another thread of the actor is blocked in recv",
		doc:   "The portable way to wake a thread blocked in recv before closing.",
	},
}

// observe are the observation steps every core scenario starts with, right
// after the action has settled: both ends' TCP state and the peer's readiness
// with its pending error. They only look, so DESIGN §3's steps that follow see
// what they would see without them.
const observe = "actor.state peer.state peer.poll "

// sequences are scenarios beyond DESIGN §3: use after an abortive close, and
// state sequences that follow an orderly release through the TCP states of both ends
// (RFC 793 §3.5, figure 13): who passes through FIN_WAIT_2, CLOSE_WAIT,
// TIME_WAIT, and who ends with no entry at all.
var sequences = []body{
	{action: Abort, condition: "then-use", setup: []Setup{Linger0}, steps: "actor.send actor.recv",
		title: "send and recv on the descriptor after an abortive close",
		doc:   "The side that reset: what a stale descriptor answers after closesocket with linger 0 (claim 4: WSAENOTSOCK).",
	},
	{action: Close, condition: "orderly-release", steps: "actor.state peer.state peer.recv peer.close actor.state#2 peer.state#2", wire: true,
		title: "orderly release, the actor closing first (active close)",
		doc: "RFC 793 figure 13: the active closer passes FIN_WAIT_1 → FIN_WAIT_2 and ends in TIME_WAIT; " +
			"the passive closer sits in CLOSE_WAIT until it closes, passes LAST_ACK and then has no entry (CLOSED). " +
			"The transient states last one round trip on loopback; the steps show where each end settles.",
	},
	{action: Close, condition: "after-peer-closed", setup: []Setup{PeerClosedFirst}, steps: "actor.state peer.state", wire: true,
		title: "orderly release, the actor closing second (passive close)",
		doc: "The peer closed first; the actor, in CLOSE_WAIT, now closes: it passes LAST_ACK and ends with no entry, " +
			"while the peer, the active closer, waits in TIME_WAIT (2 MSL, RFC 793 §3.5).",
	},
}

// senders are about data in flight: a peer blocked in send because the actor
// never reads, and an actor that closes with data TCP has not delivered yet.
var senders = []body{
	{action: Close, condition: "peer-blocked-send", posture: PeerBlockedSend, steps: observe + "peer.blocked-send peer.send peer.recv",
		title: "close while the peer is blocked in send (the actor never read)",
		doc:   "The actor closes with unread data, so RFC 2525 §2.17 says RST: what does the peer's blocked send return, the count so far or an error?",
	},
	{action: Abort, condition: "peer-blocked-send", setup: []Setup{Linger0}, posture: PeerBlockedSend, steps: observe + "peer.blocked-send peer.send peer.recv",
		title: "abortive close while the peer is blocked in send",
		doc:   "The RST wakes the peer's blocked send.",
	},
	{action: ShutdownRD, condition: "peer-blocked-send", posture: PeerBlockedSend, steps: observe + "peer.blocked-send actor.recv peer.send",
		title: "shutdown for receiving while the peer is blocked in send",
		doc:   "Does shutting the receive side discard the queue and unblock the sender, reset it, or change nothing?",
	},
	{action: Close, condition: "unsent-at-actor", setup: []Setup{UnsentAtActor}, steps: "actor.state peer.state peer.drain actor.state#2",
		title: "close with unsent data (the actor's send buffer full, the peer not reading)",
		doc: "close returns at once and TCP keeps delivering in the background (socket(7), SO_LINGER off): " +
			"the peer can still read everything, then end of stream.",
	},
	{action: Close, condition: "linger2-unsent-at-actor", setup: []Setup{Linger2, UnsentAtActor}, steps: "actor.action peer.drain actor.state", bound: 3 * time.Second,
		title: "close with SO_LINGER {1, 2 s} and unsent data the peer does not read",
		doc: "With a linger time close waits for the data to be delivered: here it cannot be, so does close block 2 s, " +
			"return an error (EWOULDBLOCK, WSAEWOULDBLOCK), reset the connection, or let TCP carry on?",
	},
}

// listeners close or shut down a listening socket: the actor is the listener,
// the peer a client whose connection completed (the kernel answered the SYN)
// but was never accepted; with a thread blocked in accept there is no client,
// or the accept would take it.
var listeners = []body{
	{action: ListenerClose, condition: "backlog", steps: "peer.recv peer.send peer.state",
		title: "close the listener while a connection waits in its accept backlog",
		doc:   "The client's connect succeeded, yet no program ever held the connection: closing the listener resets it (Linux), or?",
	},
	{action: ListenerClose, condition: "own-blocked-accept", posture: OwnBlockedAccept, steps: "actor.blocked-accept",
		title: "close the listener while another thread is blocked in accept",
		doc:   "Like close with a blocked recv: does close wake the accept, and what does it return?",
	},
	{action: ListenerShutdown, condition: "own-blocked-accept", posture: OwnBlockedAccept, steps: "actor.blocked-accept",
		title: "shut the listener down while another thread is blocked in accept",
		doc:   "shutdown(SHUT_RDWR) on a listening socket: the portable way to wake accept, or an error (ENOTCONN)?",
	},
}

// processes end the actor's whole process while it holds the connection: the
// crash (kill) and the exit that never closes. The OS closes what the process
// left open (claim 10: a killed process resets its connections).
var processes = []body{
	{action: Kill, condition: "idle", steps: observe + "peer.recv peer.send peer.send#2",
		title: "the actor's process is killed",
		doc:   "SIGKILL or TerminateProcess while the connection is idle: does the OS close it with FIN, as a close would, or reset it?",
	},
	{action: Kill, condition: "unread-at-actor", setup: []Setup{UnreadAtActor}, steps: observe + "peer.recv peer.send",
		title: "the actor's process is killed with data it never read",
		doc:   "As close/unread-at-actor, but the OS closes for a dead process: RST where data was left unread (RFC 2525 §2.17)?",
	},
	{action: Kill, condition: "peer-blocked-recv", posture: PeerBlockedRecv, steps: "peer.blocked-recv peer.send peer.send#2",
		title: "the actor's process is killed while the peer is blocked in recv",
		doc:   "What wakes the peer's blocked recv when the other program dies.",
	},
	{action: Exit, condition: "idle", steps: observe + "peer.recv peer.send peer.send#2",
		title: "the actor's process exits without closing its socket",
		doc:   "The OS closes what an exiting process left open: the same as close?",
	},
	{action: Exit, condition: "unread-at-actor", setup: []Setup{UnreadAtActor}, steps: observe + "peer.recv peer.send",
		title: "the actor's process exits without closing, with data it never read",
		doc:   "Exit with unread data: FIN or RST?",
	},
	{action: Exit, condition: "peer-blocked-recv", posture: PeerBlockedRecv, steps: "peer.blocked-recv peer.send peer.send#2",
		title: "the actor's process exits while the peer is blocked in recv",
		doc:   "What wakes the peer's blocked recv when the other program exits.",
	},
}

// networks break the network under an established, idle connection whose
// ends live in two network namespaces: "the cable was pulled". Both ends set
// TCP_USER_TIMEOUT (500 ms), send, and wait: the unacknowledged data makes
// the stack give up, or the restored link lets the retransmission through.
// Calls may take seconds here, so the bound is 3 s and each runs once.
var networks = []body{
	{action: LinkDown, condition: "idle", setup: []Setup{UserTimeout}, steps: "actor.send peer.send actor.recv peer.recv actor.state peer.state", bound: 3 * time.Second,
		title: "the link goes down under an idle connection",
		doc: "The actor's end of the link goes down, so the peer loses its carrier: no segment tells either end. " +
			"Each learns when its own unacknowledged data times out (RFC 5482) or, on the actor's side, its route is gone; " +
			"a timeout or an unreachable network, not a reset.",
	},
	{action: LinkDown, condition: "up-before-timeout", setup: []Setup{UserTimeout}, steps: "actor.send net.up peer.recv actor.state peer.state", bound: 3 * time.Second,
		title: "the link goes down and comes back before the user timeout",
		doc:   "A retransmission after the link returns delivers the data: the connection survives a short outage.",
	},
	{action: Drop, condition: "idle", setup: []Setup{UserTimeout}, steps: "actor.send peer.send actor.recv peer.recv actor.state peer.state", bound: 3 * time.Second,
		title: "every segment is dropped (nftables) under an idle connection",
		doc:   "A firewall that drops silently, the other way to pull the cable: the same timeouts as a dead link?",
	},
}

// pendingSteps are the steps of a scenario with an asynchronous recv
// outstanding on the actor: both states, how the recv completed, and the
// peer's view of what the action sent (FIN: eof, RST: reset, nothing:
// blocked).
const pendingSteps = "actor.state peer.state actor.pending-recv peer.recv"

// eventLoops are the scenarios of an event loop that reads through a
// completion API (DESIGN §3, "Event loops"; closematrix issue 10): an
// asynchronous recv is outstanding (io_uring IORING_OP_RECV on Linux, an
// overlapped WSARecv on an I/O completion port on Windows; darwin has none,
// so they are skipped there) when the action happens. Each of the actor's
// is also played with its segments captured (-wire).
var eventLoops = []body{
	// Wine 8 (observed): the pending recv completes with ERROR_HANDLES_CLOSED
	// 676, WSAGetOverlappedResult says WSAENOTSOCK 10038 (the handle is gone
	// when it is asked), and the peer reads end of stream: a FIN. Wine's
	// sock.c test_completion_port (the AcceptEx cases: an operation pending
	// on a socket that is closed completes with ERROR_OPERATION_ABORTED) and
	// libuv#3034 (an RST reaches the peer) say Windows differs on both.
	{action: Close, condition: "own-pending-recv", posture: OwnPendingRecv, steps: pendingSteps, wire: true,
		title: "close with an asynchronous recv pending on the actor's socket",
		doc: "libuv#3034 (fixed by #3036) and JDK-8358764: on Windows, closesocket with an overlapped read pending sends RST, not FIN. " +
			"liburing#932 (also #568, #1048): close() does not complete an io_uring recv in flight, and no FIN leaves while it is pending. " +
			"Where the recv completes, with what code, and what the peer sees.",
	},
	// Wine 8 (observed): as close above, ERROR_HANDLES_CLOSED 676, and the
	// peer reads end of stream although linger 0 asks for RST (Wine's abort
	// reads the same in abort/idle).
	{action: Abort, condition: "own-pending-recv", setup: []Setup{Linger0}, posture: OwnPendingRecv, steps: pendingSteps, wire: true,
		title: "abortive close with an asynchronous recv pending on the actor's socket",
		doc: "Linger 0 asks for RST: does it leave while the recv holds the socket (liburing#932), and how does the recv complete " +
			"(IOCP: ERROR_OPERATION_ABORTED 995 or ERROR_CONNECTION_ABORTED 1236)?",
	},
	{action: ShutdownWR, condition: "own-pending-recv", posture: OwnPendingRecv, steps: pendingSteps, wire: true,
		title: "shutdown for sending with an asynchronous recv pending on the actor's socket",
		doc:   "shutdown(SHUT_WR) is the other fix libuv#3034 names: the FIN leaves and the recv stays pending (nothing arrived for it).",
	},
	{action: ShutdownRD, condition: "own-pending-recv", posture: OwnPendingRecv, steps: pendingSteps, wire: true,
		title: "shutdown for receiving with an asynchronous recv pending on the actor's socket",
		doc:   "Whether shutting the receive side completes the pending recv (with 0 bytes, as Linux wakes a blocked recv) or leaves it pending.",
	},
	{action: ShutdownRDWR, condition: "own-pending-recv", posture: OwnPendingRecv, steps: pendingSteps, wire: true,
		title: "shutdown in both directions with an asynchronous recv pending on the actor's socket",
		doc:   "The portable way to end a pending recv before closing (liburing#932's advice): the FIN leaves, and the recv completes how?",
	},
	{action: CancelThenClose, condition: "own-pending-recv", posture: OwnPendingRecv, steps: pendingSteps, wire: true,
		title: "cancel the pending asynchronous recv, then close",
		doc: "What the fix of libuv#3036 relies on: CancelIoEx (IORING_OP_ASYNC_CANCEL on Linux) first, so the recv completes cancelled " +
			"and the close that follows sends FIN, not RST.",
	},
	{action: Close, condition: "peer-pending-recv", posture: PeerPendingRecv, steps: "actor.state peer.state peer.pending-recv peer.recv peer.send",
		title: "close while the peer has an asynchronous recv pending",
		doc:   "The FIN completes the peer's pending recv: with 0 bytes (end of stream) on every completion API?",
	},
	// Wine 8 (observed) agrees with sock.c test_completion_port on the
	// pending recv: ERROR_NETNAME_DELETED 64 from GetQueuedCompletionStatus,
	// WSAECONNRESET 10054 from WSAGetOverlappedResult. The recv after it
	// reads end of stream; sock.c test_completion_port ("hard shutdown")
	// expects a WSARecv posted after the reset to fail with WSAECONNRESET.
	{action: Abort, condition: "peer-pending-recv", setup: []Setup{Linger0}, posture: PeerPendingRecv, steps: "actor.state peer.state peer.pending-recv peer.recv peer.send",
		title: "abortive close while the peer has an asynchronous recv pending",
		doc: "The RST completes the peer's pending recv with an error: io_uring's -ECONNRESET; on IOCP GetQueuedCompletionStatus says " +
			"ERROR_NETNAME_DELETED 64 where WSAGetOverlappedResult says WSAECONNRESET 10054, which runtimes translate differently " +
			"(libuv src/win/error.c, Go runtime/netpoll_windows.go, CPython asyncio windows_events.py).",
	},
}

// asserted are close cases that other kernel-facing suites assert on real
// Linux and that the groups above did not play (closematrix issue 22): each
// doc names the public test or thread. gVisor's tests are its
// test/syscalls/linux suite, run natively on Linux as well as on gVisor;
// sapi-ts is Xilinx's Socket API Test Suite (OpenOnload).
var asserted = []body{
	{action: ShutdownWR, condition: "unread-at-actor", setup: []Setup{UnreadAtActor}, steps: "actor.state peer.state peer.recv peer.send actor.recv", wire: true,
		title: "shutdown for sending with data the actor never read",
		doc: "Unread data makes close send RST (RFC 2525 §2.17); does a half close send FIN all the same? " +
			"gVisor socket_ip_tcp_generic.cc FINSentOnShutdownWrWithUnreadData asserts a FIN (the peer reads 0); sapi-ts usecases/shutdown_wr."},
	{action: ShutdownRD, condition: "unread-at-actor-then-close", setup: []Setup{UnreadAtActor}, steps: "actor.state peer.state actor.close peer.recv peer.send", wire: true,
		title: "shutdown for receiving with unread data, then close",
		doc: "shutdown(SHUT_RD) sends nothing; the close that follows finds the data still unread: RST? " +
			"gVisor socket_ip_tcp_generic.cc ShutdownRdUnreadDataShouldCauseNoPacketsUnlessClosed asserts no segment at the shutdown, then ECONNRESET at the peer after the close."},
	{action: ShutdownRD, condition: "unread-at-actor-read-twice", setup: []Setup{UnreadAtActor}, steps: "actor.recv actor.recv#2 peer.send",
		title: "recv twice after shutdown for receiving with data queued",
		doc: "Is data that arrived before shutdown(SHUT_RD) still delivered, and what does the recv after it return? " +
			"gVisor socket_ip_tcp_generic.cc ShutdownRdAllowsReadOfReceivedDataBeforeEOF asserts the data, then 0; sapi-ts basic/shutdown_stream_read_write."},
	{action: Close, condition: "unread-at-both", setup: []Setup{UnreadAtActor, UnreadAtPeer}, steps: "peer.recv peer.recv#2 peer.send", wire: true,
		title: "close with unread data while the peer has unread data too",
		doc: "The close sends RST (unread data at the actor); does the peer still read what had reached it first? " +
			"gVisor socket_ip_tcp_generic.cc RSTSentOnCloseWithUnreadDataAllowsReadBuffered asserts the data, then ECONNRESET (the question of claim 15)."},
	{action: Abort, condition: "idle-poll-after-so-error", setup: []Setup{Linger0}, steps: "peer.poll peer.poll-cleared",
		title: "after an RST: poll, and poll again once SO_ERROR was read",
		doc: "An RST raises POLLERR with the pending error (gVisor socket_ip_tcp_generic.cc RSTCausesPollHUP asserts POLLHUP); " +
			"once a loop has fetched SO_ERROR, does POLLERR stay, as libuv and mio assume when they read the error on POLLERR?"},
	{action: Abort, condition: "idle-send-first", setup: []Setup{Linger0}, steps: "peer.send peer.recv",
		title: "after an RST in ESTABLISHED, send first, then recv",
		doc:   "abort/idle reads first; here the first call after the RST is a send: does it take the reset (EPIPE, ECONNRESET) and leave the recv an EOF or the error again?"},
	{action: Abort, condition: "after-fin", setup: []Setup{Linger0, ShutWRFirst}, steps: "actor.state peer.state peer.recv peer.recv#2 peer.send",
		title: "RST after a FIN: the actor shut its sending side, the peer saw the FIN, then the actor aborts",
		doc: "The peer holds a FIN it has not read when the RST arrives: does its recv return 0 for the FIN or the reset? " +
			"(RFC 793 §3.4: a reset in CLOSE_WAIT; gVisor tcp_socket.cc plays resets in each state.)"},
	{action: Abort, condition: "after-fin-send-first", setup: []Setup{Linger0, ShutWRFirst}, steps: "peer.send peer.recv",
		title: "RST after a FIN, send first",
		doc:   "As abort/after-fin, with a send as the first call after the RST."},
	{action: ShutdownWR, condition: "twice", setup: []Setup{ShutWRFirst}, steps: "actor.action peer.recv",
		title: "shutdown for sending a second time",
		doc:   "hyperium/hyper#512: \"on OSX, calling shutdown a second time will return a NotConnected error\"; Linux succeeds?"},
	{action: ShutdownWR, condition: "after-peer-closed", setup: []Setup{PeerClosedFirst}, steps: "actor.action actor.state",
		title: "shutdown for sending after the peer closed",
		doc:   "tokio-rs/tokio#4665 and ocaml-multicore/eio#521: on macOS, shutdown of a loopback socket whose peer has closed returns ENOTCONN."},
	{action: ShutdownRDWR, condition: "after-peer-closed", setup: []Setup{PeerClosedFirst}, steps: "actor.action actor.state",
		title: "shutdown in both directions after the peer closed",
		doc:   "As shutdown-wr/after-peer-closed, SHUT_RDWR (nuodb/nuodb-python#151: ENOTCONN from shutdown(SHUT_RDWR) on macOS)."},
	{action: ShutdownWR, condition: "unconnected", setup: []Setup{Unconnected}, steps: "actor.action",
		title: "shutdown for sending on a socket that never connected",
		doc:   "POSIX shutdown(): ENOTCONN \"The socket is not connected\"; Winsock: WSAENOTCONN. sapi-ts basic/shutdown_* plays it on every socket state."},
	{action: ShutdownRD, condition: "unconnected", setup: []Setup{Unconnected}, steps: "actor.action",
		title: "shutdown for receiving on a socket that never connected",
		doc:   "As shutdown-wr/unconnected, SHUT_RD: Linux's inet_shutdown answers ENOTCONN for a socket in TCP_CLOSE, but also marks it shut."},
	{action: ShutdownRDWR, condition: "unconnected", setup: []Setup{Unconnected}, steps: "actor.action",
		title: "shutdown in both directions on a socket that never connected",
		doc:   "As shutdown-wr/unconnected, SHUT_RDWR."},
	{action: ListenerShutdownWR, condition: "backlog", steps: "actor.action peer.recv peer.send peer.state",
		title: "shutdown for sending on a listening socket with a connection in its backlog",
		doc:   "A listener sends nothing: is SHUT_WR an error (ENOTCONN), a no-op, or does it touch the connection waiting to be accepted?"},
}

// Catalogue returns the catalogue: the core bodies (with the observation steps
// first), the state sequences, the other groups, the event loops' pending
// recvs, and the wired variants (body.wire: with both ends' segments
// captured, which settles whether a FIN or an RST went out, claims 7, 9, 11
// and 14, and draws the ladder diagram), each in every family, in a stable
// order (body by body, v4 before v6).
func Catalogue() []Scenario {
	var bodies []body
	for _, b := range core {
		b.steps = observe + b.steps
		bodies = append(bodies, b)
	}
	nCore := len(bodies)
	for _, group := range [][]body{sequences, senders, listeners, processes, networks, eventLoops, asserted} {
		bodies = append(bodies, group...)
	}
	// The wired variants take a body's own steps: a core body's without
	// the observation steps (the core scenario has those).
	for _, b := range slices.Concat(core, sequences, senders, listeners, processes, networks, eventLoops, asserted) {
		if !b.wire {
			continue
		}
		b.condition += "-wire"
		// The state and poll steps are the body's; the system's RSTs-sent
		// counter is the evidence where no capture runs (Windows, and
		// without root), and Linux checks it against the capture.
		b.steps += " wire.actor wire.peer tcp.rsts-sent"
		b.title += ", with both ends' segments captured"
		if b.posture == OwnPendingRecv {
			b.doc += " The capture records which segments (FIN, RST, or none while the recv is pending) each end sent, in order, and tcp.rsts-sent how many RSTs the system sent meanwhile."
		} else {
			b.doc += " The capture records which segments (data, FIN, RST, ACK) each end sent, in order, and tcp.rsts-sent how many RSTs the system sent meanwhile."
		}
		bodies = append(bodies, b)
	}
	var out []Scenario
	for i, b := range bodies {
		posture := b.posture
		if posture == "" {
			posture = Idle
		}
		for _, f := range Families {
			out = append(out, Scenario{
				Core:      i < nCore,
				Bound:     b.bound,
				ID:        string(f) + "/" + string(b.action) + "/" + b.condition,
				Title:     b.title,
				Doc:       b.doc,
				Family:    f,
				Condition: b.condition,
				Setup:     b.setup,
				Posture:   posture,
				Action:    b.action,
				Steps:     mustSteps(b.steps),
			})
		}
	}
	return out
}
