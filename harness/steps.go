package harness

import (
	"fmt"
	"sync"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// One method per op: the observe column of the op table (ops.go). Each makes
// one observation of step st after the action.

// step makes one observation: its op's method.
func (p *play) step(st Step) observation {
	sp := st.Op.spec()
	if sp == nil {
		panic("harness: no op " + string(st.Op)) // Validate keeps such steps out
	}
	return sp.observe(p, st)
}

// postureStep is the result of the posture's blocked call (blocked-recv,
// blocked-send, blocked-accept).
func (p *play) postureStep(Step) observation { return p.await(p.held, "") }

// stateStep is the side's TCP state, from its socket or the system's table.
func (p *play) stateStep(st Step) observation {
	if why := p.stateSkip[st.Side]; why != "" {
		return observation{skipped: why}
	}
	s := p.sock[st.Side]
	o := stateObservation(observerOf(s).State())
	if o.skipped == "" {
		p.fail(p.checkStates(st, s))
	}
	if _, byTable := observerOf(s).(tableObserver); byTable && o.outcome.Class == probes.StateNone && !s.Closed() {
		o.note = "from the system's table, which has no entry for the connection: the harness did not close this end, and whether the runtime did (raw sockets still open read CLOSED) is not visible from here"
	}
	if o.outcome.Class == probes.StateNone && noLocalTimeWait() {
		o.note = "net.inet.tcp.nolocaltimewait=1: FreeBSD keeps no TIME_WAIT for loopback connections (tcp(4)), so a closed end has no entry where Linux shows TIME_WAIT"
	}
	return o
}

// noLocalTimeWait reports whether this system keeps no TIME_WAIT for
// loopback connections (FreeBSD's net.inet.tcp.nolocaltimewait, 1 by
// default since 14.0), as probes.PlatformNotes read it.
var noLocalTimeWait = sync.OnceValue(func() bool { return probes.PlatformNotes()["net.inet.tcp.nolocaltimewait"] == "1" })

// pollStep is the side's readiness and SO_ERROR. The run stops after this
// step (Isolated), so the recv that checks the readiness changes nothing
// another step sees.
func (p *play) pollStep(st Step) observation { return p.readiness(st, false) }

// pollAfterSoErrorStep reads SO_ERROR, then the readiness: the cell is the
// readiness after the read, with the error the read returned. Isolated like
// poll: reading SO_ERROR clears it.
func (p *play) pollAfterSoErrorStep(st Step) observation { return p.readiness(st, true) }

// readiness polls the side (zero timeout) and reads its SO_ERROR, the error
// first when soErrorFirst, and checks that a readable poll is followed by a
// recv that returns (checkReadable).
func (p *play) readiness(st Step, soErrorFirst bool) observation {
	s, ok := p.sock[st.Side].(Poller)
	if !ok {
		return observation{skipped: "poll: " + fmt.Errorf("%w: the view shows no readiness or pending error", ErrNotInView).Error()}
	}
	var pend probes.Outcome
	if soErrorFirst {
		pend = s.SoError()
	}
	ev, err := s.Poll()
	if err != nil {
		return observation{skipped: "poll: " + err.Error()}
	}
	if !soErrorFirst {
		pend = s.SoError()
	}
	if !probes.Observed(pend) {
		return observation{skipped: "SO_ERROR could not be read"}
	}
	o := observation{outcome: probes.Outcome{Class: schema.Class(ev), Errno: pend.Errno, Code: pend.Code}}
	if soErrorFirst {
		o.note = "SO_ERROR was read first"
	}
	p.fail(p.checkReadable(st.Side, st.Name(), pollReadable(ev)))
	return o
}

// countersStep is the delta of the system's TCP counters since the quiet
// reading just before the action (readCounterBase).
func (p *play) countersStep(Step) observation {
	if p.counterSkip != "" {
		return observation{skipped: p.counterSkip}
	}
	after, err := probes.TCPCounters()
	if err != nil {
		return observation{skipped: "TCP counters: " + err.Error()}
	}
	d, err := probes.CounterDelta(*p.counterBase, after)
	if err != nil {
		return observation{skipped: err.Error()}
	}
	class, err := d.Class()
	if err != nil {
		return observation{skipped: "TCP counters: " + err.Error()}
	}
	note := "system-wide: RSTs either end (or anything else on this system) sent; the scenario ran alone"
	// The baseline stood still before the action; a counter that moves
	// again right after the step says other traffic is about, and may be in
	// this count too: said beside the value, which stays an observation of
	// the counter.
	time.Sleep(time.Millisecond)
	if later, err := probes.TCPCounters(); err == nil && later.RstsSent != after.RstsSent {
		note += fmt.Sprintf("; the counter moved again (+%d) within 1 ms after the step: other traffic on this system may be counted here", later.RstsSent-after.RstsSent)
	}
	return observation{outcome: probes.Outcome{Class: class}, counters: d.Schema(), note: note}
}

// wireStep is the segments the side sent since the capture started. The
// capture follows the actor's 4-tuple: what the actor sent is FromLocal,
// what the peer sent comes back to it.
func (p *play) wireStep(st Step) observation {
	if p.captureSkip != "" {
		return observation{skipped: p.captureSkip}
	}
	all, err := p.capture.Packets()
	p.stats.WireAt = append(p.stats.WireAt, time.Now())
	if err != nil {
		return observation{skipped: "wire capture: " + err.Error()}
	}
	var segs []probes.Segment
	var recs []schema.Segment
	for seq, pk := range all {
		if pk.FromLocal == (st.Side == Actor) {
			segs = append(segs, pk.Segment)
			recs = append(recs, schema.Segment{Seq: seq, Flags: pk.Flags(), Len: pk.Data})
		}
	}
	return observation{outcome: probes.Outcome{Class: schema.Class(probes.WireClass(segs))}, segments: recs}
}

// upStep restores the network (net.up).
func (p *play) upStep(Step) observation {
	return observation{outcome: p.harnessOp("net.up", p.net.Restore())}
}

// actionStep is the action's own result, or blocked.
func (p *play) actionStep(Step) observation {
	o := p.awaitCall(p.action)
	if o.Class != schema.ClassBlocked && p.tookFor > 10*time.Millisecond {
		return observation{outcome: o, note: fmt.Sprintf("the %s took %.1f s", p.sc.Action, p.tookFor.Seconds())}
	}
	return observation{outcome: o}
}

// drainStep reads until end of stream, an error or the bound.
func (p *play) drainStep(st Step) observation {
	var total int
	recv := p.counted(st.Side, p.sock[st.Side].Recv)
	o := p.await(p.start(st.Side, Recv, st.Name(), func() probes.Outcome {
		for {
			o := recv(recvMax)
			if o.Class != schema.ClassData {
				return o
			}
			total += o.N
		}
	}), "")
	if o.outcome.Class != schema.ClassBlocked {
		o.note = fmt.Sprintf("read %d bytes first", total)
	}
	p.settle(Actor, Peer) // draining lets the actor's data and FIN be acknowledged
	return o
}

// closeStep closes the side's socket; a lingering close may block.
func (p *play) closeStep(st Step) observation {
	o := p.await(p.start(st.Side, CloseOp, st.Name(), p.sock[st.Side].Close), "")
	p.settle(st.Side)
	return o
}

// callStep is a new recv or send. A call of the same kind still in flight on
// this side would race a new one for the same bytes: the step observes that
// call instead.
func (p *play) callStep(st Step) observation {
	for _, c := range p.calls {
		if c.side == st.Side && c.op == st.Op && !c.finished() {
			return p.await(c, fmt.Sprintf("the %s of %s was still in flight; this is that call", st.Op, c.step))
		}
	}
	s := p.sock[st.Side]
	recv := p.counted(st.Side, s.Recv)
	f := func() probes.Outcome { return recv(recvMax) }
	if st.Op == Send {
		send := p.countedSend(st.Side, s.Send)
		f = func() probes.Outcome { return send(make([]byte, SendBytes)) }
	}
	o := p.await(p.start(st.Side, st.Op, st.Name(), f), "")
	if st.Op == Send && o.outcome.Class == schema.ClassOK {
		p.settle(st.Side)
	}
	return o
}
