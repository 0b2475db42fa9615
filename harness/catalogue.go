package harness

import "github.com/closematrix/closematrix/probes"

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
	{Close, "idle", nil, Idle, "peer.recv peer.send peer.send#2 peer.recv#2",
		"close with nothing in flight",
		"Orderly release (RFC 793 §3.5): the peer reads end of stream; its first send is accepted, " +
			"and the closed end answers the data with RST (RFC 1122 §4.2.2.13), which the second send and recv meet."},
	{Close, "peer-blocked-recv", nil, PeerBlockedRecv, "peer.blocked-recv peer.send peer.send#2",
		"close while the peer is blocked in recv",
		"The FIN wakes the peer's blocked recv with end of stream."},
	{Close, "unread-at-actor", []Setup{UnreadAtActor}, Idle, "peer.recv peer.send peer.send#2",
		"close with data the actor never read",
		"RFC 2525 §2.17: closing with unread received data sends RST, not FIN, so the peer sees a reset rather than end of stream."},
	{Close, "unread-at-peer", []Setup{UnreadAtPeer}, Idle, "peer.recv peer.recv#2 peer.send",
		"close after sending data the peer has not read yet",
		"An orderly close delivers queued data first: the peer reads the data, then end of stream."},
	{Close, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"close while another thread of the actor is blocked in recv on the same socket",
		"Whether close wakes a recv blocked in another thread, and whether anything is sent while it is still blocked, " +
			"differs by OS (Linux keeps the socket alive while a call holds it)."},
	{Close, "then-use", nil, Idle, "actor.send actor.recv",
		"send and recv on the descriptor after close",
		"What a program gets from a stale descriptor or SOCKET handle (EBADF, WSAENOTSOCK)."},
	{Abort, "idle", []Setup{Linger0}, Idle, "peer.recv peer.recv#2 peer.send",
		"abortive close (SO_LINGER {1, 0})",
		"Linger 0 turns close into ABORT (RFC 793 §3.5): RST instead of FIN; the peer's recv meets the reset."},
	{Abort, "peer-blocked-recv", []Setup{Linger0}, PeerBlockedRecv, "peer.blocked-recv peer.send",
		"abortive close while the peer is blocked in recv",
		"The RST wakes the peer's blocked recv with a reset."},
	{Abort, "unread-at-peer", []Setup{Linger0, UnreadAtPeer}, Idle, "peer.recv peer.recv#2",
		"abortive close with data the peer has not read yet",
		"Whether a reset discards data already queued at the receiver (RFC 793 §3.4: RST flushes queues; some stacks deliver it first)."},
	{ShutdownWR, "idle", nil, Idle, "peer.recv actor.send peer.send actor.recv",
		"shutdown for sending",
		"Half close: the peer reads end of stream, the actor can no longer send but can still receive what the peer sends."},
	{ShutdownWR, "peer-blocked-recv", nil, PeerBlockedRecv, "peer.blocked-recv actor.send",
		"shutdown for sending while the peer is blocked in recv",
		"The FIN wakes the peer's blocked recv; the actor's own send then fails."},
	{ShutdownWR, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"shutdown for sending while another thread of the actor is blocked in recv",
		"A FIN goes out while the actor's own recv stays blocked (nothing arrived to wake it)."},
	{ShutdownRD, "idle", nil, Idle, "actor.recv peer.send actor.recv#2 actor.send peer.recv peer.send#2",
		"shutdown for receiving",
		"Nothing goes on the wire (RFC 793 has no receive-side close); what the actor's recv returns and what " +
			"becomes of data that arrives afterwards is each stack's own choice."},
	{ShutdownRD, "unread-at-actor", []Setup{UnreadAtActor}, Idle, "actor.recv peer.send",
		"shutdown for receiving with unread data",
		"Whether data already queued is still delivered, discarded, or answered with RST."},
	{ShutdownRD, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"shutdown for receiving while another thread of the actor is blocked in recv",
		"Whether shutdown(SHUT_RD) wakes a recv blocked in another thread."},
	{ShutdownRDWR, "idle", nil, Idle, "actor.recv actor.send peer.recv peer.send peer.send#2",
		"shutdown in both directions",
		"The actor can neither send nor receive; the peer reads end of stream, then its sends meet the half-dead end."},
	{ShutdownRDWR, "own-blocked-recv", nil, OwnBlockedRecv, "actor.blocked-recv peer.recv",
		"shutdown in both directions while another thread of the actor is blocked in recv",
		"The portable way to wake a thread blocked in recv before closing."},
}

// Catalogue returns the core catalogue: every body in every family, in a
// stable order (body by body, v4 before v6).
func Catalogue() []Scenario {
	var out []Scenario
	for _, b := range core {
		for _, f := range Families {
			out = append(out, Scenario{
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
