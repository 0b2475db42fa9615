package harness

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// Op is what a step observes.
type Op string

// The step operations. What each one is, who may have it and how it is
// observed is its row in ops below.
const (
	Recv          Op = "recv"
	Send          Op = "send"
	BlockedRecv   Op = "blocked-recv"
	BlockedSend   Op = "blocked-send"
	BlockedAccept Op = "blocked-accept"
	Drain         Op = "drain"
	ActionOp      Op = "action"
	CloseOp       Op = "close"
	State         Op = "state"
	Poll          Op = "poll"
	Wire          Op = "wire"
	Up            Op = "up"
	Events        Op = "events"
	PendingRecv   Op = "pending-recv"
	// PollAfterSoError (poll-cleared) reads SO_ERROR first, clearing it,
	// then polls: does POLLERR stay once the pending error was read?
	PollAfterSoError Op = "poll-cleared"
	// RstsSent is the growth of the system's RSTs-sent counter from just
	// before the action to this step: tcp.rsts-sent.
	RstsSent Op = "rsts-sent"
)

// SendBytes is what a send step sends.
const SendBytes = 32

// opSpec is everything the harness knows about one step operation: the
// grammar of its step names, its kind in the result file, and how the play
// observes it (steps.go). Adding an op is one row of ops and its method.
type opSpec struct {
	op    Op
	kind  schema.Kind
	sides []Side // which sides may have it
	// once: at most one step of this op per side (no #n).
	once bool
	// wireForm: named <op>.<side> (wire.actor), not <side>.<op>.
	wireForm bool
	// looks: it only looks, so it may be added to a scenario without
	// changing what its other steps see (state, poll, wire, events).
	looks bool
	// isolated: observed in runs of its own that stop after it, because
	// observing it changes the socket (reading SO_ERROR clears it).
	isolated bool
	// observe makes the observation (steps.go).
	observe func(p *play, st Step) observation
	doc     string
}

var both = []Side{Actor, Peer}

// ops is the op table. It is filled in init: its rows name methods of play,
// which themselves consult the table (a package-level initializer would be
// an initialization cycle).
var ops []opSpec

func init() {
	ops = []opSpec{
		{op: Recv, kind: schema.KindCall, sides: both, observe: (*play).callStep,
			doc: "a new blocking recv"},
		{op: Send, kind: schema.KindCall, sides: both, observe: (*play).callStep,
			doc: "a new blocking send of SendBytes"},
		{op: BlockedRecv, kind: schema.KindCall, sides: both, once: true, observe: (*play).postureStep,
			doc: "the result of the posture's recv, blocked when the action happened"},
		{op: BlockedSend, kind: schema.KindCall, sides: both, once: true, observe: (*play).postureStep,
			doc: "the result of the posture's send (a partial count reads ok 0, see FillBytes)"},
		{op: BlockedAccept, kind: schema.KindCall, sides: []Side{Actor}, once: true, observe: (*play).postureStep,
			doc: "the result of the posture's accept"},
		{op: Drain, kind: schema.KindCall, sides: both, observe: (*play).drainStep,
			doc: "reads until end of stream, an error or the bound: its outcome is the call that ended it; the bytes read before are in the note"},
		{op: ActionOp, kind: schema.KindCall, sides: []Side{Actor}, once: true, observe: (*play).actionStep,
			doc: "the action's own call: what it returned (the note says how long it took when that was more than a moment: linger)"},
		{op: CloseOp, kind: schema.KindCall, sides: both, observe: (*play).closeStep,
			doc: "the side closes its socket (a step of a state sequence)"},
		{op: State, kind: schema.KindState, sides: both, looks: true, observe: (*play).stateStep,
			doc: "the side's TCP state, RFC 793 name, or none"},
		{op: Poll, kind: schema.KindPoll, sides: both, looks: true, isolated: true, observe: (*play).pollStep,
			doc: "the side's readiness (poll/WSAPoll, zero timeout) and its SO_ERROR; reading SO_ERROR clears it, so it is observed in runs of its own"},
		{op: Wire, kind: schema.KindWire, sides: both, once: true, wireForm: true, looks: true, observe: (*play).wireStep,
			doc: "the segments the side sent from the action to this step, captured on loopback (Linux, root)"},
		{op: Up, kind: schema.KindCall, sides: []Side{Net}, once: true, observe: (*play).upStep,
			doc: "restores the network a network action broke (net.up)"},
		{op: Events, kind: schema.KindEvents, sides: both, looks: true, observe: (*play).eventsStep,
			doc: "reads the side's readiness registration (epoll edge-triggered, kqueue, AFD poll): what it delivered since the last read, by native names"},
		{op: PollAfterSoError, kind: schema.KindPoll, sides: both, once: true, looks: true, isolated: true, observe: (*play).pollAfterSoErrorStep,
			doc: "SO_ERROR read first (its error is the cell's errno), then the readiness (zero timeout): what a loop sees after it fetched the error"},
		{op: RstsSent, kind: schema.KindCounter, sides: []Side{TCP}, once: true, looks: true, observe: (*play).countersStep,
			doc: "how many segments with RST the system sent from just before the action to this step (its own TCP statistics: system-wide, so the scenario runs alone)"},
		{op: PendingRecv, kind: schema.KindCompletion, sides: both, once: true, observe: (*play).pendingStep,
			doc: "how the asynchronous recv of a pending posture completed: data, eof, the native completion error, or blocked"},
	}
	opIndex = map[Op]*opSpec{}
	var names, wires []string
	for i := range ops {
		o := &ops[i]
		if opIndex[o.op] != nil {
			panic("harness: op " + string(o.op) + " twice in the op table")
		}
		opIndex[o.op] = o
		if o.wireForm {
			wires = append(wires, regexp.QuoteMeta(string(o.op)))
		} else {
			names = append(names, regexp.QuoteMeta(string(o.op)))
		}
	}
	stepRE = regexp.MustCompile(`^(actor|peer|net|tcp)\.(` + strings.Join(names, "|") + `)(?:#([2-9]))?$`)
	wireRE = regexp.MustCompile(`^(` + strings.Join(wires, "|") + `)\.(actor|peer)$`)
}

var (
	opIndex        map[Op]*opSpec
	stepRE, wireRE *regexp.Regexp
)

// spec is the op's row; nil for an op not in the table.
func (o Op) spec() *opSpec { return opIndex[o] }

func (o *opSpec) allows(s Side) bool {
	for _, x := range o.sides {
		if x == s {
			return true
		}
	}
	return false
}

// Side names an endpoint. The actor is the connecting end, the peer the
// accepted one; after the handshake TCP treats both alike (RFC 793 §3.5).
type Side string

// The sides.
const (
	Actor Side = "actor"
	Peer  Side = "peer"
	// Net is the network between them, in network scenarios: net.up.
	Net Side = "net"
	// TCP is the system's TCP as a whole, in the counter steps:
	// tcp.rsts-sent.
	TCP Side = "tcp"
)

// Step is one observation after the action: <side>.<op>[#n].
type Step struct {
	Side Side
	Op   Op
	N    int // 1 for the first of its kind; shown as #N from 2 on
}

// Name is the stable step name used in result files: peer.send#2.
func (s Step) Name() string {
	if sp := s.Op.spec(); sp != nil && sp.wireForm {
		return string(s.Op) + "." + string(s.Side)
	}
	name := string(s.Side) + "." + string(s.Op)
	if s.N > 1 {
		name += "#" + strconv.Itoa(s.N)
	}
	return name
}

// Kind is the step's kind in the result file (schema 2).
func (s Step) Kind() schema.Kind {
	if sp := s.Op.spec(); sp != nil {
		return sp.kind
	}
	return schema.KindCall
}

// Isolated reports whether the step is observed in runs of its own.
func (s Step) Isolated() bool { sp := s.Op.spec(); return sp != nil && sp.isolated }

// looks reports whether the step only looks (state, poll, wire, events).
func (s Step) looks() bool { sp := s.Op.spec(); return sp != nil && sp.looks }

// ParseStep parses a step name: <side>.<op>[#2-9], or <op>.<side> for the
// ops named that way (wire.actor), with the sides its row allows.
func ParseStep(name string) (Step, error) {
	var st Step
	if m := wireRE.FindStringSubmatch(name); m != nil {
		st = Step{Side: Side(m[2]), Op: Op(m[1]), N: 1}
	} else if m := stepRE.FindStringSubmatch(name); m != nil {
		st = Step{Side: Side(m[1]), Op: Op(m[2]), N: 1}
		if m[3] != "" {
			st.N, _ = strconv.Atoi(m[3])
		}
	} else {
		return Step{}, fmt.Errorf("step %q: want <actor|peer>.<op>[#2-9], wire.<actor|peer> or net.up", name)
	}
	sp := st.Op.spec()
	if !sp.allows(st.Side) {
		return Step{}, fmt.Errorf("step %q: %s is not a step of the %s", name, st.Op, st.Side)
	}
	if sp.once && st.N > 1 {
		return Step{}, fmt.Errorf("step %q: a side has one %s step", name, st.Op)
	}
	return st, nil
}
