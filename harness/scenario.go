// Package harness plays closematrix scenarios on real sockets and records what
// each call returned. Scenarios are data (scenario.go, catalogue.go); the
// runner (runner.go) plays one on two endpoints; the Ginkgo suite beside it
// turns the catalogue into specs and writes the result file (result.go).
package harness

import (
	"sort"
	"strings"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// Setup is an option or state arranged before the action.
type Setup string

// The setups.
const (
	// Linger0 sets SO_LINGER {1, 0} on the actor: its close becomes abortive.
	Linger0 Setup = "linger0"
	// UnreadAtActor: the peer sent UnreadBytes that the actor never reads.
	UnreadAtActor Setup = "unread-at-actor"
	// UnreadAtPeer: the actor sent UnreadBytes that the peer never reads.
	UnreadAtPeer Setup = "unread-at-peer"
	// UnsentAtActor: the actor filled its send buffer (non-blocking sends)
	// toward a peer that does not read: data it sent but TCP has not
	// delivered.
	UnsentAtActor Setup = "unsent-at-actor"
	// Linger2 sets SO_LINGER {1, 2}: close may wait up to 2 s for unsent
	// data (socket(7); Winsock "Graceful Shutdown, Linger Options").
	Linger2 Setup = "linger2"
	// PeerClosedFirst: the peer closed its socket, and its FIN reached the
	// actor, before the action: the actor closes second (passive close).
	PeerClosedFirst Setup = "peer-closed-first"
	// UserTimeout sets TCP_USER_TIMEOUT (RFC 5482; tcp(7)) to UserTimeout on
	// both ends, so that unacknowledged data fails the connection quickly.
	UserTimeout Setup = "user-timeout"
	// ShutWRFirst: the actor shut its send direction (shutdown SHUT_WR)
	// and the peer saw the FIN before the action: an RST that arrives
	// after a FIN, a second shutdown of the same direction.
	ShutWRFirst Setup = "shut-wr-first"
	// Unconnected: the actor is a socket that never connected (socket(2)
	// alone), and there is no peer.
	Unconnected Setup = "unconnected"
)

// UserTimeoutValue is the TCP_USER_TIMEOUT of the UserTimeout setup.
const UserTimeoutValue = 500 * time.Millisecond

// UnreadBytes is the size of the unread-data setups: 1 KiB, well inside every
// platform's default socket buffer, so it arrives in full before the action.
const UnreadBytes = 1024

// Posture is what is going on when the action happens.
type Posture string

// The postures.
const (
	Idle Posture = "idle"
	// PeerBlockedRecv: a thread of the peer is blocked in recv.
	PeerBlockedRecv Posture = "peer-blocked-recv"
	// OwnBlockedRecv: a second thread of the actor is blocked in recv on the
	// socket the action is applied to.
	OwnBlockedRecv Posture = "own-blocked-recv"
	// PeerBlockedSend: the actor never reads, and a thread of the peer is
	// blocked in a send that filled both buffers.
	PeerBlockedSend Posture = "peer-blocked-send"
	// OwnBlockedAccept: a second thread of the actor, a listener, is
	// blocked in accept.
	OwnBlockedAccept Posture = "own-blocked-accept"
	// OwnPendingRecv: an asynchronous recv (io_uring IORING_OP_RECV, an
	// overlapped WSARecv on an I/O completion port) is outstanding on the
	// actor's socket when the action happens: how an event loop reads.
	OwnPendingRecv Posture = "own-pending-recv"
	// PeerPendingRecv: the same on the peer's socket.
	PeerPendingRecv Posture = "peer-pending-recv"
)

// posturePending says which side has the asynchronous recv of a pending
// posture; its step is <side>.pending-recv.
var posturePending = map[Posture]Side{OwnPendingRecv: Actor, PeerPendingRecv: Peer}

// postureCall says which side's thread is blocked in which call.
var postureCall = map[Posture]Step{
	PeerBlockedRecv:  {Side: Peer, Op: BlockedRecv, N: 1},
	OwnBlockedRecv:   {Side: Actor, Op: BlockedRecv, N: 1},
	PeerBlockedSend:  {Side: Peer, Op: BlockedSend, N: 1},
	OwnBlockedAccept: {Side: Actor, Op: BlockedAccept, N: 1},
}

// FillBytes is what the blocked send of PeerBlockedSend offers: more than
// any platform's send and receive buffers hold together, so it blocks.
const FillBytes = 64 << 20

// Scenario is one catalogue entry: a value, played by the runner.
type Scenario struct {
	ID        string // <family>/<action>/<condition>: stable, published
	Title     string
	Doc       string // what the scenario shows, and why it is interesting
	Family    probes.Family
	Condition string
	Setup     []Setup
	Posture   Posture
	Action    Action
	Steps     []Step
	// Bound, when set, replaces the configured bound for this scenario's
	// calls: such a scenario is slow (Slow), it waits out TCP's own timers.
	Bound time.Duration
	// Core marks the catalogue of DESIGN §3 (label core).
	Core bool
}

// Labels are the scenario's fields as words, for Ginkgo label filters and the
// result file: action, condition, posture, setups, family; "state" when it
// observes TCP states, "wire" and "needs-root" when it captures segments,
// "events" when it reads a readiness registration, "pending-recv" when it
// has an asynchronous recv outstanding.
func (s Scenario) Labels() []string {
	set := map[string]bool{string(s.Action): true, s.Condition: true, string(s.Posture): true, string(s.Family): true}
	for _, su := range s.Setup {
		set[string(su)] = true
	}
	for _, st := range s.Steps {
		switch st.Op {
		case Wire:
			set["wire"], set["needs-root"] = true, true
		case State:
			set["state"] = true
		case Events:
			set["events"] = true
		case PendingRecv:
			set["pending-recv"] = true
		case RstsSent:
			set["counters"] = true
		}
	}
	if s.Action.spec().network {
		set["network"], set["needs-root"] = true, true
	}
	if s.Slow() {
		set["slow"] = true
	}
	if s.Core {
		set["core"] = true
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Slow reports whether the scenario takes seconds a run (it has a bound of
// its own); it runs Config.SlowRepeat times.
func (s Scenario) Slow() bool { return s.Bound > 0 }

// Alone reports whether the scenario needs the process to itself, so that
// RunAll plays it while no other scenario runs: it calls a socket after
// closing it (use after close). The stale descriptor number must stay
// unused until that call, or the call would be another scenario's socket's;
// probes keeps our own new sockets off it only while the call is made
// (fdMu, staleIsFree), and reports the probe as not made when the number
// was taken before — which, with other scenarios opening sockets meanwhile,
// it is. Everything else shares the machine: each scenario has its own
// sockets and threads, its own helper process (kill and exit are per
// process), its own pair of network namespaces, and a capture filtered to
// its own 4-tuple; state lookups are by 4-tuple.
func (s Scenario) Alone() bool {
	if s.hasOp(RstsSent) {
		// The system's counters are system-wide: no other scenario may
		// send an RST between the reading before the action and the step.
		return true
	}
	closed := map[Side]bool{Actor: s.Action.spec().closes}
	for _, st := range s.Steps {
		switch st.Op {
		case CloseOp:
			closed[st.Side] = true
		case Send, Recv, Drain, Poll:
			if closed[st.Side] {
				return true
			}
		}
	}
	return false
}

// Group is the part of the catalogue the scenario belongs to, derived from
// its data, for `make bench`'s per-group figures: network, processes,
// listeners, event loops, wire, core, senders, sequences.
func (s Scenario) Group() string {
	a := s.Action.spec()
	switch {
	case a.network:
		return "network"
	case a.process:
		return "processes"
	case a.listener:
		return "listeners"
	case s.Posture == OwnPendingRecv || s.Posture == PeerPendingRecv:
		// The event-loop scenarios; a core scenario with an events step
		// stays core (the step only looks).
		return "event loops"
	case s.hasOp(Wire):
		return "wire"
	case s.Core:
		return "core"
	case s.Posture == PeerBlockedSend || s.Has(UnsentAtActor):
		return "senders"
	}
	return "sequences"
}

// hasOp reports whether one of the scenario's steps is one of ops.
func (s Scenario) hasOp(ops ...Op) bool {
	for _, st := range s.Steps {
		for _, op := range ops {
			if st.Op == op {
				return true
			}
		}
	}
	return false
}

// Has reports whether the scenario has setup su.
func (s Scenario) Has(su Setup) bool {
	for _, x := range s.Setup {
		if x == su {
			return true
		}
	}
	return false
}

func ownOrPeer(s Side) string {
	if s == Actor {
		return "own"
	}
	return string(s)
}

// watched reports whether the scenario reads side's readiness registration.
func (s Scenario) watched(side Side) bool {
	for _, st := range s.Steps {
		if st.Op == Events && st.Side == side {
			return true
		}
	}
	return false
}

// mustSteps parses a space-separated step list from the catalogue source.
func mustSteps(list string) []Step {
	var steps []Step
	for _, name := range strings.Fields(list) {
		st, err := ParseStep(name)
		if err != nil {
			panic(err)
		}
		steps = append(steps, st)
	}
	return steps
}
