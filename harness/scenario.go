// Package harness plays closematrix scenarios on real sockets and records what
// each call returned. Scenarios are data (scenario.go, catalogue.go); the
// runner (runner.go) plays one on two endpoints; the Ginkgo suite beside it
// turns the catalogue into specs and writes the result file (result.go).
package harness

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
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

// Action is what the actor does to its socket.
type Action string

// The actions.
const (
	Close        Action = "close"         // close(2) / closesocket
	Abort        Action = "abort"         // close with SO_LINGER {1, 0}: needs the Linger0 setup
	ShutdownRD   Action = "shutdown-rd"   // shutdown(SHUT_RD / SD_RECEIVE)
	ShutdownWR   Action = "shutdown-wr"   // shutdown(SHUT_WR / SD_SEND)
	ShutdownRDWR Action = "shutdown-rdwr" // shutdown(SHUT_RDWR / SD_BOTH)
	// Kill and Exit end the actor's process (process.go): SIGKILL or
	// TerminateProcess, or an exit that leaves the socket for the OS to close.
	Kill Action = "kill"
	Exit Action = "exit"
	// LinkDown and Drop break the network between the two ends, which live
	// in two network namespaces joined by a veth pair (network.go): the
	// link goes down, or nftables drops every segment ("the cable was
	// pulled"). Linux, root.
	LinkDown Action = "link-down"
	Drop     Action = "drop"
	// CancelThenClose cancels the actor's pending asynchronous recv
	// (CancelIoEx, IORING_OP_ASYNC_CANCEL), then closes: the fix of
	// libuv#3036 for libuv#3034 (closing with an overlapped read pending
	// sends RST), and what liburing#932 asks of io_uring users.
	CancelThenClose Action = "cancel-then-close"
)

// ListenerClose and ListenerShutdown act on a listening socket (the actor)
// instead of a connection; the peer is a client it never accepted.
const (
	ListenerClose    Action = "listener-close"
	ListenerShutdown Action = "listener-shutdown"
)

// onListener reports whether the actor is a listener.
func (a Action) onListener() bool { return a == ListenerClose || a == ListenerShutdown }

// closesActor reports whether the action closes the actor's socket.
func (a Action) closesActor() bool {
	return a == Close || a == Abort || a == CancelThenClose || a == ListenerClose || a.inProcess()
}

// onNetwork reports whether the action breaks the network rather than
// touching a socket.
func (a Action) onNetwork() bool { return a == LinkDown || a == Drop }

// inProcess reports whether the action ends a helper process that holds the
// actor's socket.
func (a Action) inProcess() bool { return a == Kill || a == Exit }

// Side names an endpoint. The actor is the connecting end, the peer the
// accepted one; after the handshake TCP treats both alike (RFC 793 §3.5).
type Side string

// The sides.
const (
	Actor Side = "actor"
	Peer  Side = "peer"
	// Net is the network between them, in network scenarios: net.up.
	Net Side = "net"
)

// Op is what a step observes.
type Op string

// The step operations.
const (
	Recv          Op = "recv"           // a new blocking recv
	Send          Op = "send"           // a new blocking send of SendBytes
	BlockedRecv   Op = "blocked-recv"   // the result of the posture's recv, blocked when the action happened
	BlockedSend   Op = "blocked-send"   // the result of the posture's send (a partial count reads ok 0, see FillBytes)
	BlockedAccept Op = "blocked-accept" // the result of the posture's accept
	// Drain reads until end of stream, an error or the bound: its outcome
	// is the call that ended it; the bytes read before are in the note.
	Drain Op = "drain"
	// ActionOp is the action's own call: what it returned (the note says
	// how long it took when that was more than a moment: linger).
	ActionOp Op = "action"
	CloseOp  Op = "close" // the side closes its socket (a step of a state sequence)
	State    Op = "state" // the side's TCP state, RFC 793 name, or none
	// Poll is the side's readiness (poll/WSAPoll, zero timeout) and its
	// SO_ERROR. Reading SO_ERROR clears it, so this step is observed in runs
	// of its own that stop after it: it never changes what other steps see.
	Poll Op = "poll"
	// Wire is the segments the side sent from the action to this step,
	// captured on loopback (Linux, root). Its name is wire.<side>.
	Wire Op = "wire"
	// Up restores the network a network action broke (net.up).
	Up Op = "up"
	// Events reads the side's readiness registration (probes.Watch: epoll
	// edge-triggered, kqueue, AFD poll), made right after the connection
	// was set up as an event loop makes it at connect or accept: what it
	// delivered since the last read, by native names. #2 reads the same
	// registration again later: a new edge, or none.
	Events Op = "events"
	// PendingRecv is how the asynchronous recv of a pending posture
	// completed (probes.AsyncRecv.Wait): data, eof, the native completion
	// error, or blocked.
	PendingRecv Op = "pending-recv"
)

// observational are the operations that only look: they are added to the
// scenarios of DESIGN §3 without changing its steps. Reading a readiness
// registration consumes its edge, nothing of the socket's.
var observational = map[Op]bool{State: true, Poll: true, Wire: true, Events: true}

// Isolated reports whether the step is observed in runs of its own.
func (s Step) Isolated() bool { return s.Op == Poll }

// SendBytes is what a send step sends.
const SendBytes = 32

// Step is one observation after the action: <side>.<op>[#n].
type Step struct {
	Side Side
	Op   Op
	N    int // 1 for the first of its kind; shown as #N from 2 on
}

// Name is the stable step name used in result files: peer.send#2.
func (s Step) Name() string {
	if s.Op == Wire {
		return "wire." + string(s.Side)
	}
	name := string(s.Side) + "." + string(s.Op)
	if s.N > 1 {
		name += "#" + strconv.Itoa(s.N)
	}
	return name
}

var (
	stepRE = regexp.MustCompile(`^(actor|peer)\.(recv|send|blocked-recv|blocked-send|blocked-accept|drain|action|close|state|poll|events|pending-recv)(?:#([2-9]))?$`)
	wireRE = regexp.MustCompile(`^wire\.(actor|peer)$`)
)

// ParseStep parses a step name.
func ParseStep(name string) (Step, error) {
	if name == "net.up" {
		return Step{Side: Net, Op: Up, N: 1}, nil
	}
	if m := wireRE.FindStringSubmatch(name); m != nil {
		return Step{Side: Side(m[1]), Op: Wire, N: 1}, nil
	}
	m := stepRE.FindStringSubmatch(name)
	if m == nil {
		return Step{}, fmt.Errorf("step %q: want <actor|peer>.<op>[#2-9], wire.<actor|peer> or net.up", name)
	}
	n := 1
	if m[3] != "" {
		n, _ = strconv.Atoi(m[3])
	}
	return Step{Side: Side(m[1]), Op: Op(m[2]), N: n}, nil
}

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
		}
	}
	if s.Action.onNetwork() {
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
	closed := map[Side]bool{Actor: s.Action.closes()}
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

// closes reports whether the action closes the actor's socket: abort, and
// every action named for close (close, listener-close, cancel-then-close).
func (a Action) closes() bool {
	return a == Abort || strings.HasSuffix(string(a), string(Close))
}

// Group is the part of the catalogue the scenario belongs to, derived from
// its data, for `make bench`'s per-group figures: network, processes,
// listeners, event loops, wire, core, senders, sequences.
func (s Scenario) Group() string {
	switch {
	case s.Action.onNetwork():
		return "network"
	case s.Action.inProcess():
		return "processes"
	case s.Action.onListener():
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

// Validate checks that the scenario is well formed: its ID matches its fields,
// steps are unique, numbered in order, and possible.
func (s Scenario) Validate() error {
	if want := fmt.Sprintf("%s/%s/%s", s.Family, s.Action, s.Condition); s.ID != want {
		return fmt.Errorf("%s: ID does not match fields (%s)", s.ID, want)
	}
	if (s.Action == Abort) != s.Has(Linger0) {
		return fmt.Errorf("%s: abort and the linger0 setup go together", s.ID)
	}
	seen := map[string]int{}
	for _, st := range s.Steps {
		key := string(st.Side) + "." + string(st.Op)
		if st.N != seen[key]+1 {
			return fmt.Errorf("%s: step %s out of order", s.ID, st.Name())
		}
		seen[key] = st.N
		if st.Op == BlockedRecv || st.Op == BlockedSend || st.Op == BlockedAccept {
			if postureCall[s.Posture] != st {
				return fmt.Errorf("%s: %s does not match posture %s", s.ID, st.Name(), s.Posture)
			}
		}
		if s.Action.onListener() && st.Side == Actor && st.Op != BlockedAccept && st.Op != ActionOp {
			return fmt.Errorf("%s: %s: a listener actor only accepts and acts", s.ID, st.Name())
		}
		if st.Op == ActionOp && st.Side != Actor {
			return fmt.Errorf("%s: %s: only the actor acts", s.ID, st.Name())
		}
		if st.Op == Events && st.Side == Actor && s.Action.closesActor() {
			// The registration would outlive the descriptor it watches
			// (epoll drops it on the last close; AFD on a closed handle).
			return fmt.Errorf("%s: %s: the action closes the actor's socket", s.ID, st.Name())
		}
		if st.Op == PendingRecv {
			if side, ok := posturePending[s.Posture]; !ok || side != st.Side || st.N != 1 {
				return fmt.Errorf("%s: %s needs the posture %s-pending-recv (one asynchronous recv, read once)", s.ID, st.Name(), ownOrPeer(st.Side))
			}
		}
	}
	for _, st := range s.Steps {
		if st.Op == Up && !s.Action.onNetwork() {
			return fmt.Errorf("%s: net.up needs a network action", s.ID)
		}
		if s.Action.inProcess() && st.Side == Actor && st.Op != State {
			return fmt.Errorf("%s: %s: the actor of a process scenario is only seen through its state", s.ID, st.Name())
		}
	}
	if s.Action.inProcess() && s.Posture == OwnBlockedRecv {
		return fmt.Errorf("%s: a process scenario's actor has no thread here", s.ID)
	}
	if side, ok := posturePending[s.Posture]; ok {
		if seen[string(side)+"."+string(PendingRecv)] != 1 {
			return fmt.Errorf("%s: posture %s without its %s.%s step", s.ID, s.Posture, side, PendingRecv)
		}
		if s.Action.onListener() || s.Action.inProcess() && side == Actor {
			return fmt.Errorf("%s: posture %s needs a connection the runner holds", s.ID, s.Posture)
		}
	} else if pc, ok := postureCall[s.Posture]; ok && seen[string(pc.Side)+"."+string(pc.Op)] != 1 {
		return fmt.Errorf("%s: posture %s without its %s step", s.ID, s.Posture, pc.Name())
	} else if !ok && s.Posture != Idle {
		return fmt.Errorf("%s: unknown posture %s", s.ID, s.Posture)
	}
	if s.Posture == OwnBlockedAccept && !s.Action.onListener() {
		return fmt.Errorf("%s: %s needs a listener action", s.ID, OwnBlockedAccept)
	}
	if s.Action == CancelThenClose && s.Posture != OwnPendingRecv {
		return fmt.Errorf("%s: %s needs the posture %s (a recv to cancel)", s.ID, CancelThenClose, OwnPendingRecv)
	}
	return nil
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
