package harness

import (
	"time"

	"github.com/closematrix/closematrix/probes"
)

// body is a scenario without its family: the catalogue is bodies × families.
type body struct {
	action    Action
	condition string
	setup     []Setup
	posture   Posture
	steps     string // space-separated step names, in order
	title     string
	doc       string
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
	// (the question of libuv#3449).
	{Close, "idle", nil, Idle, "peer.events peer.recv peer.send peer.events#2 peer.send#2 peer.recv#2",
		"close with nothing in flight",
		"Orderly release (RFC 793 §3.5): the peer reads end of stream; its first send is accepted, " +
			"and the closed end answers the data with RST (RFC 1122 §4.2.2.13), which the second send and recv meet. " +
			"The peer's event loop sees the FIN (peer.events) and, after its send met the RST, a new edge or none (peer.events#2, libuv#3449)."},
	{Close, "peer-blocked-recv", nil, PeerBlockedRecv, "peer.blocked-recv peer.send peer.send#2",
		"close while the peer is blocked in recv",
		"The FIN wakes the peer's blocked recv with end of stream."},
	// Wine 8: the peer reads end of stream, not a reset: wineserver shuts the
	// host socket down (SHUT_RDWR) before closing it (server/sock.c,
	// sock_destroy), so a FIN leaves before the RST. No sock.c test covers
	// this case; Microsoft documents no answer for it either.
	{Close, "unread-at-actor", []Setup{UnreadAtActor}, Idle, "peer.events peer.recv peer.send peer.send#2",
		"close with data the actor never read",
		"RFC 2525 §2.17: closing with unread received data sends RST, not FIN, so the peer sees a reset rather than end of stream; " +
			"peer.events is what the RST wakes its event loop with (EPOLLERR? AFD_POLL_ABORT? EV_EOF with fflags?)."},
	{Close, "unread-at-peer", []Setup{UnreadAtPeer}, Idle, "peer.recv peer.recv#2 peer.send",
		"close after sending data the peer has not read yet",
		"An orderly close delivers queued data first: the peer reads the data, then end of stream."},
	// Wine 8: the blocked recv returns WSAEINVAL. Microsoft's recv page lists
	// WSAEINTR for a blocking call cancelled by closesocket; sock.c has no
	// test of a blocking recv here (test_accept checks closesocket wakes a
	// blocked accept). Only a real Windows run will say.
	{Close, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"close while another thread of the actor is blocked in recv on the same socket",
		"Whether close wakes a recv blocked in another thread, and whether anything is sent while it is still blocked, " +
			"differs by OS (Linux keeps the socket alive while a call holds it)."},
	{Close, "then-use", nil, Idle, "actor.send actor.recv",
		"send and recv on the descriptor after close",
		"What a program gets from a stale descriptor or SOCKET handle (EBADF, WSAENOTSOCK)."},
	// Wine 8: the peer's recv returns 0 twice and only its send meets
	// WSAECONNRESET (the FIN-before-RST of sock_destroy, as above). Windows
	// resets the recv: sock.c test_completion_port and test_tcp_reset expect
	// WSAECONNRESET after close_with_rst(), and the closesocket page says a
	// hard close makes "any recv call on the remote side" fail that way.
	{Abort, "idle", []Setup{Linger0}, Idle, "peer.events peer.recv peer.recv#2 peer.send",
		"abortive close (SO_LINGER {1, 0})",
		"Linger 0 turns close into ABORT (RFC 793 §3.5): RST instead of FIN; the peer's recv meets the reset, " +
			"and peer.events shows the bits an RST raises (mio#1303, #1964 for AFD poll)."},
	{Abort, "peer-blocked-recv", []Setup{Linger0}, PeerBlockedRecv, "peer.blocked-recv peer.send",
		"abortive close while the peer is blocked in recv",
		"The RST wakes the peer's blocked recv with a reset."},
	// Wine 8: the peer reads its 1 KiB, then end of stream. Microsoft says an
	// abortive close loses unsent data and resets the remote recv; no sock.c
	// test covers data already queued at the receiver.
	{Abort, "unread-at-peer", []Setup{Linger0, UnreadAtPeer}, Idle, "peer.recv peer.recv#2",
		"abortive close with data the peer has not read yet",
		"Whether a reset discards data already queued at the receiver (RFC 793 §3.4: RST flushes queues; some stacks deliver it first)."},
	{ShutdownWR, "idle", nil, Idle, "actor.events peer.events peer.recv actor.send peer.send actor.recv",
		"shutdown for sending",
		"Half close: the peer reads end of stream, the actor can no longer send but can still receive what the peer sends. " +
			"actor.events is what the actor's own shutdown raises on its registration (mio#1091: EV_EOF on kqueue's write filter), " +
			"peer.events what the FIN raises at the peer."},
	{ShutdownWR, "peer-blocked-recv", nil, PeerBlockedRecv, "peer.blocked-recv actor.send",
		"shutdown for sending while the peer is blocked in recv",
		"The FIN wakes the peer's blocked recv; the actor's own send then fails."},
	// Wine 8 and sock.c agree: shutdown does not complete a pending recv of
	// the same socket (test_shutdown, "async I/O pending").
	{ShutdownWR, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"shutdown for sending while another thread of the actor is blocked in recv",
		"A FIN goes out while the actor's own recv stays blocked (nothing arrived to wake it)."},
	// Wine 8: recv fails with WSAESHUTDOWN, as documented and as sock.c
	// test_shutdown expects; but data the peer sends afterwards resets
	// nothing (Wine passes SHUT_RD to Linux, which does not reset), where the
	// shutdown page says the connection is reset. sock.c has no test of a
	// peer's send with no recv pending, so this is the docs against Wine.
	{ShutdownRD, "idle", nil, Idle, "actor.events actor.recv peer.send actor.events#2 actor.recv#2 actor.send peer.recv peer.send#2",
		"shutdown for receiving",
		"Nothing goes on the wire (RFC 793 has no receive-side close); what the actor's recv returns and what " +
			"becomes of data that arrives afterwards is each stack's own choice. actor.events is what the own shutdown raises, " +
			"actor.events#2 whether the peer's data after it wakes the actor's event loop again."},
	// Wine 8: no reset although data is queued; the shutdown page says a TCP
	// connection is reset when SD_RECEIVE finds data waiting to be received.
	{ShutdownRD, "unread-at-actor", []Setup{UnreadAtActor}, Idle, "actor.recv peer.send",
		"shutdown for receiving with unread data",
		"Whether data already queued is still delivered, discarded, or answered with RST."},
	{ShutdownRD, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"shutdown for receiving while another thread of the actor is blocked in recv",
		"Whether shutdown(SHUT_RD) wakes a recv blocked in another thread."},
	{ShutdownRDWR, "idle", nil, Idle, "actor.events peer.events actor.recv actor.send peer.recv peer.send peer.send#2",
		"shutdown in both directions",
		"The actor can neither send nor receive; the peer reads end of stream, then its sends meet the half-dead end. " +
			"actor.events is what the own shutdown raises (EPOLLHUP once both directions are shut?), peer.events what the FIN raises."},
	{ShutdownRDWR, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"shutdown in both directions while another thread of the actor is blocked in recv",
		"The portable way to wake a thread blocked in recv before closing."},
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
	{Abort, "then-use", []Setup{Linger0}, Idle, "actor.send actor.recv",
		"send and recv on the descriptor after an abortive close",
		"The side that reset: what a stale descriptor answers after closesocket with linger 0 (claim 4: WSAENOTSOCK)."},
	{Close, "orderly-release", nil, Idle, "actor.state peer.state peer.recv peer.close actor.state#2 peer.state#2",
		"orderly release, the actor closing first (active close)",
		"RFC 793 figure 13: the active closer passes FIN_WAIT_1 → FIN_WAIT_2 and ends in TIME_WAIT; " +
			"the passive closer sits in CLOSE_WAIT until it closes, passes LAST_ACK and then has no entry (CLOSED). " +
			"The transient states last one round trip on loopback; the steps show where each end settles."},
	{Close, "after-peer-closed", []Setup{PeerClosedFirst}, Idle, "actor.state peer.state",
		"orderly release, the actor closing second (passive close)",
		"The peer closed first; the actor, in CLOSE_WAIT, now closes: it passes LAST_ACK and ends with no entry, " +
			"while the peer, the active closer, waits in TIME_WAIT (2 MSL, RFC 793 §3.5)."},
}

// wired are the core bodies also played with a capture of what the actor puts
// on the wire (wire.actor), which settles whether a FIN or an RST went out
// (claims 7 and 9). The capture needs root and Linux.
var wired = map[string]bool{
	"close/idle": true, "close/unread-at-actor": true, "close/own-blocked-recv": true, "abort/idle": true,
	"shutdown-wr/idle": true, "shutdown-rd/idle": true, "shutdown-rdwr/idle": true,
}

// senders are about data in flight: a peer blocked in send because the actor
// never reads, and an actor that closes with data TCP has not delivered yet.
var senders = []body{
	{Close, "peer-blocked-send", nil, PeerBlockedSend, observe + "peer.blocked-send peer.send peer.recv",
		"close while the peer is blocked in send (the actor never read)",
		"The actor closes with unread data, so RFC 2525 §2.17 says RST: what does the peer's blocked send return, the count so far or an error?"},
	{Abort, "peer-blocked-send", []Setup{Linger0}, PeerBlockedSend, observe + "peer.blocked-send peer.send peer.recv",
		"abortive close while the peer is blocked in send",
		"The RST wakes the peer's blocked send."},
	{ShutdownRD, "peer-blocked-send", nil, PeerBlockedSend, observe + "peer.blocked-send actor.recv peer.send",
		"shutdown for receiving while the peer is blocked in send",
		"Does shutting the receive side discard the queue and unblock the sender, reset it, or change nothing?"},
	{Close, "unsent-at-actor", []Setup{UnsentAtActor}, Idle, "actor.state peer.state peer.drain actor.state#2",
		"close with unsent data (the actor's send buffer full, the peer not reading)",
		"close returns at once and TCP keeps delivering in the background (socket(7), SO_LINGER off): " +
			"the peer can still read everything, then end of stream."},
	{Close, "linger2-unsent-at-actor", []Setup{Linger2, UnsentAtActor}, Idle, "actor.action peer.drain actor.state",
		"close with SO_LINGER {1, 2 s} and unsent data the peer does not read",
		"With a linger time close waits for the data to be delivered: here it cannot be, so does close block 2 s, " +
			"return an error (EWOULDBLOCK, WSAEWOULDBLOCK), reset the connection, or let TCP carry on?"},
}

// listeners close or shut down a listening socket: the actor is the listener,
// the peer a client whose connection completed (the kernel answered the SYN)
// but was never accepted; with a thread blocked in accept there is no client,
// or the accept would take it.
var listeners = []body{
	{ListenerClose, "backlog", nil, Idle, "peer.recv peer.send peer.state",
		"close the listener while a connection waits in its accept backlog",
		"The client's connect succeeded, yet no program ever held the connection: closing the listener resets it (Linux), or?"},
	{ListenerClose, "own-blocked-accept", nil, OwnBlockedAccept, "actor.blocked-accept",
		"close the listener while another thread is blocked in accept",
		"Like close with a blocked recv: does close wake the accept, and what does it return?"},
	{ListenerShutdown, "own-blocked-accept", nil, OwnBlockedAccept, "actor.blocked-accept",
		"shut the listener down while another thread is blocked in accept",
		"shutdown(SHUT_RDWR) on a listening socket: the portable way to wake accept, or an error (ENOTCONN)?"},
}

// processes end the actor's whole process while it holds the connection: the
// crash (kill) and the exit that never closes. The OS closes what the process
// left open (claim 10: a killed process resets its connections).
var processes = []body{
	{Kill, "idle", nil, Idle, observe + "peer.recv peer.send peer.send#2",
		"the actor's process is killed",
		"SIGKILL or TerminateProcess while the connection is idle: does the OS close it with FIN, as a close would, or reset it?"},
	{Kill, "unread-at-actor", []Setup{UnreadAtActor}, Idle, observe + "peer.recv peer.send",
		"the actor's process is killed with data it never read",
		"As close/unread-at-actor, but the OS closes for a dead process: RST where data was left unread (RFC 2525 §2.17)?"},
	{Kill, "peer-blocked-recv", nil, PeerBlockedRecv, "peer.blocked-recv peer.send peer.send#2",
		"the actor's process is killed while the peer is blocked in recv",
		"What wakes the peer's blocked recv when the other program dies."},
	{Exit, "idle", nil, Idle, observe + "peer.recv peer.send peer.send#2",
		"the actor's process exits without closing its socket",
		"The OS closes what an exiting process left open: the same as close?"},
	{Exit, "unread-at-actor", []Setup{UnreadAtActor}, Idle, observe + "peer.recv peer.send",
		"the actor's process exits without closing, with data it never read",
		"Exit with unread data: FIN or RST?"},
	{Exit, "peer-blocked-recv", nil, PeerBlockedRecv, "peer.blocked-recv peer.send peer.send#2",
		"the actor's process exits while the peer is blocked in recv",
		"What wakes the peer's blocked recv when the other program exits."},
}

// networks break the network under an established, idle connection whose
// ends live in two network namespaces: "the cable was pulled". Both ends set
// TCP_USER_TIMEOUT (500 ms), send, and wait: the unacknowledged data makes
// the stack give up, or the restored link lets the retransmission through.
// Calls may take seconds here, so the bound is 3 s and each runs once.
var networks = []body{
	{LinkDown, "idle", []Setup{UserTimeout}, Idle, "actor.send peer.send actor.recv peer.recv actor.state peer.state",
		"the link goes down under an idle connection",
		"The actor's end of the link goes down, so the peer loses its carrier: no segment tells either end. " +
			"Each learns when its own unacknowledged data times out (RFC 5482) or, on the actor's side, its route is gone; " +
			"a timeout or an unreachable network, not a reset."},
	{LinkDown, "up-before-timeout", []Setup{UserTimeout}, Idle, "actor.send net.up peer.recv actor.state peer.state",
		"the link goes down and comes back before the user timeout",
		"A retransmission after the link returns delivers the data: the connection survives a short outage."},
	{Drop, "idle", []Setup{UserTimeout}, Idle, "actor.send peer.send actor.recv peer.recv actor.state peer.state",
		"every segment is dropped (nftables) under an idle connection",
		"A firewall that drops silently, the other way to pull the cable: the same timeouts as a dead link?"},
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
	{Close, "own-pending-recv", nil, OwnPendingRecv, pendingSteps,
		"close with an asynchronous recv pending on the actor's socket",
		"libuv#3034 (fixed by #3036) and JDK-8358764: on Windows, closesocket with an overlapped read pending sends RST, not FIN. " +
			"liburing#932 (also #568, #1048): close() does not complete an io_uring recv in flight, and no FIN leaves while it is pending. " +
			"Where the recv completes, with what code, and what the peer sees."},
	{Abort, "own-pending-recv", []Setup{Linger0}, OwnPendingRecv, pendingSteps,
		"abortive close with an asynchronous recv pending on the actor's socket",
		"Linger 0 asks for RST: does it leave while the recv holds the socket (liburing#932), and how does the recv complete " +
			"(IOCP: ERROR_OPERATION_ABORTED 995 or ERROR_CONNECTION_ABORTED 1236)?"},
	{ShutdownWR, "own-pending-recv", nil, OwnPendingRecv, pendingSteps,
		"shutdown for sending with an asynchronous recv pending on the actor's socket",
		"shutdown(SHUT_WR) is the other fix libuv#3034 names: the FIN leaves and the recv stays pending (nothing arrived for it)."},
	{ShutdownRD, "own-pending-recv", nil, OwnPendingRecv, pendingSteps,
		"shutdown for receiving with an asynchronous recv pending on the actor's socket",
		"Whether shutting the receive side completes the pending recv (with 0 bytes, as Linux wakes a blocked recv) or leaves it pending."},
	{ShutdownRDWR, "own-pending-recv", nil, OwnPendingRecv, pendingSteps,
		"shutdown in both directions with an asynchronous recv pending on the actor's socket",
		"The portable way to end a pending recv before closing (liburing#932's advice): the FIN leaves, and the recv completes how?"},
	{CancelThenClose, "own-pending-recv", nil, OwnPendingRecv, pendingSteps,
		"cancel the pending asynchronous recv, then close",
		"What the fix of libuv#3036 relies on: CancelIoEx (IORING_OP_ASYNC_CANCEL on Linux) first, so the recv completes cancelled " +
			"and the close that follows sends FIN, not RST."},
	{Close, "peer-pending-recv", nil, PeerPendingRecv, "actor.state peer.state peer.pending-recv peer.recv peer.send",
		"close while the peer has an asynchronous recv pending",
		"The FIN completes the peer's pending recv: with 0 bytes (end of stream) on every completion API?"},
	{Abort, "peer-pending-recv", []Setup{Linger0}, PeerPendingRecv, "actor.state peer.state peer.pending-recv peer.recv peer.send",
		"abortive close while the peer has an asynchronous recv pending",
		"The RST completes the peer's pending recv with an error: io_uring's -ECONNRESET; on IOCP GetQueuedCompletionStatus says " +
			"ERROR_NETNAME_DELETED 64 where WSAGetOverlappedResult says WSAECONNRESET 10054, which runtimes translate differently " +
			"(libuv src/win/error.c, Go runtime/netpoll_windows.go, CPython asyncio windows_events.py)."},
}

// slow are the scenarios whose calls wait out TCP's own timers, with the
// bound they need; they run Config.SlowRepeat times. A network scenario's
// calls outlast UserTimeoutValue plus the retransmission timer that notices
// it; a linger close may take its whole linger time.
var slow = map[string]time.Duration{
	"link-down/idle": 3 * time.Second, "link-down/up-before-timeout": 3 * time.Second, "drop/idle": 3 * time.Second,
	"close/linger2-unsent-at-actor": 3 * time.Second,
}

// Catalogue returns the catalogue: the core bodies (with the observation steps
// first), the state sequences, the other groups, the event loops' pending
// recvs, and the wired variants, each in every family,
// in a stable order (body by body, v4 before v6).
func Catalogue() []Scenario {
	var bodies []body
	for _, b := range core {
		b.steps = observe + b.steps
		bodies = append(bodies, b)
	}
	nCore := len(bodies)
	bodies = append(bodies, sequences...)
	bodies = append(bodies, senders...)
	bodies = append(bodies, listeners...)
	bodies = append(bodies, processes...)
	bodies = append(bodies, networks...)
	bodies = append(bodies, eventLoops...)
	for _, b := range core {
		if wired[string(b.action)+"/"+b.condition] {
			b.condition += "-wire"
			b.steps += " wire.actor" // the state and poll steps are the core scenario's
			b.title += ", with the actor's segments captured"
			b.doc += " The capture records which segments (data, FIN, RST) the actor sent."
			bodies = append(bodies, b)
		}
	}
	for _, b := range eventLoops {
		if b.posture == OwnPendingRecv {
			b.condition += "-wire"
			b.steps += " wire.actor"
			b.title += ", with the actor's segments captured"
			b.doc += " The capture records which segments (FIN, RST, or none while the recv is pending) the actor sent."
			bodies = append(bodies, b)
		}
	}
	var out []Scenario
	for i, b := range bodies {
		for _, f := range Families {
			bound := slow[string(b.action)+"/"+b.condition]
			out = append(out, Scenario{
				Core:      i < nCore,
				Bound:     bound,
				ID:        string(f) + "/" + string(b.action) + "/" + b.condition,
				Title:     b.title,
				Doc:       b.doc,
				Family:    f,
				Condition: b.condition,
				Setup:     b.setup,
				Posture:   b.posture,
				Action:    b.action,
				Steps:     mustSteps(b.steps),
			})
		}
	}
	return out
}
