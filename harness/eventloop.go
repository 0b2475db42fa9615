package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// What event loops see (DESIGN §3, "Event loops"; closematrix issue 10): the
// runner's part of the readiness step <side>.events and of the pending
// postures with their step <side>.pending-recv. The platform work lives in
// probes (probes.Watch, probes.AsyncRecv); this file only decides when to
// register, read, submit, wait and reap, the same way on every OS.

// readiness is a readiness registration as the runner uses it
// (*probes.Watch).
type readiness interface {
	Read() (probes.Ready, error)
	Close() error
}

// asyncOp is an asynchronous recv as the runner uses it (*probes.AsyncRecv).
type asyncOp interface {
	Wait(bound time.Duration) probes.Completion
	Cancel() error
	Close() error
}

// watchOn registers an endpoint with the platform's readiness API. Raw
// sockets can be; the Go net view cannot (its netpoller owns the
// descriptor's registration), so its events steps are not in that view.
// A variable so that the runner's own tests can stand in for the OS.
var watchOn = func(e Endpoint) (readiness, error) {
	we, ok := e.(Watchable)
	if !ok {
		return nil, fmt.Errorf("%w: the view's own poller holds the registration", ErrNotInView)
	}
	w, err := we.Watch()
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return w, nil
}

// startRecvOn submits an asynchronous recv on an endpoint: raw sockets
// only. A variable for the same reason as watchOn.
var startRecvOn = func(e Endpoint, max int) (asyncOp, error) {
	ae, ok := e.(AsyncReceiver)
	if !ok {
		return nil, fmt.Errorf("%w: an asynchronous recv needs a raw socket", ErrNotInView)
	}
	a, err := ae.StartRecv(max)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// unavailable reports whether err says the OS has no such API here, or
// refuses it (no io_uring, a seccomp profile, an AFD ioctl Wine lacks,
// CLOSEMATRIX_IO_URING=off): an observation skipped with its reason, never a
// failure.
func unavailable(err error) bool {
	return errors.Is(err, probes.ErrUnsupported) || errors.Is(err, probes.ErrAsyncUnavailable) || errors.Is(err, ErrNotInView)
}

// watch is one side's readiness registration.
type watch struct {
	w       readiness
	skipped string // why the side's events steps cannot be observed
}

// register makes the readiness registrations of the sides the scenario
// reads events of, right after the connection is set up, as an event loop
// registers a socket at connect or accept (libuv uv__io_start, mio
// Registry::register, wepoll's first AFD poll).
func (p *play) register() error {
	for _, side := range []Side{Actor, Peer} {
		if !p.sc.watched(side) {
			continue
		}
		s := p.sock[side]
		w, err, gerr := guardedOpen(p, side, Events, "readiness registration", setupBound,
			func() (readiness, error) { return watchOn(s) }, readiness.Close)
		if gerr != nil {
			return gerr
		}
		switch {
		case unavailable(err):
			p.watches[side] = &watch{skipped: "readiness registration: " + err.Error()}
		case err != nil:
			return fmt.Errorf("%s readiness registration: %w", side, err)
		default:
			p.watches[side] = &watch{w: w}
		}
	}
	return nil
}

// drainWatches reads every registration once just before the action and
// drops what it delivered: the registration's initial edge (EPOLLOUT of a
// writable socket, the first AFD poll) and the setup's data. The events
// steps then show what the action and what followed it delivered, the way
// an event loop that had been idle sees a close.
func (p *play) drainWatches() error {
	for _, side := range []Side{Actor, Peer} {
		if w := p.watches[side]; w != nil && w.w != nil {
			var err error
			if gerr := p.guarded(side, Events, "readiness read before the action", setupBound, func() { _, err = w.w.Read() }); gerr != nil {
				return gerr
			}
			if err != nil {
				if unavailable(err) {
					w.skipped = "readiness read: " + err.Error()
					continue
				}
				return fmt.Errorf("%s readiness read before the action: %w", side, err)
			}
		}
	}
	return nil
}

// eventsStep reads side's registration: what it delivered since the drain or
// the previous events step.
func (p *play) eventsStep(st Step) observation {
	side := st.Side
	w := p.watches[side]
	if w == nil {
		return observation{skipped: "no readiness registration for " + string(side)}
	}
	if w.w == nil {
		return observation{skipped: w.skipped}
	}
	var rd probes.Ready
	var err error
	if gerr := p.guarded(side, Events, "readiness read", setupBound, func() { rd, err = w.w.Read() }); gerr != nil {
		p.harnessOp(string(side)+" readiness read", gerr)
		return observation{outcome: probes.Outcome{Class: schema.ClassOther}}
	}
	if err != nil {
		if unavailable(err) {
			return observation{skipped: "readiness read: " + err.Error()}
		}
		p.harnessOp(string(side)+" readiness read", err)
		return observation{outcome: probes.Outcome{Class: schema.ClassOther}}
	}
	return observation{outcome: probes.Outcome{Class: schema.Class(rd.String())}, events: eventsOf(rd)}
}

// eventsOf is rd typed for the result file.
func eventsOf(rd probes.Ready) *schema.Events {
	ev := &schema.Events{API: rd.API, Names: append([]string{}, rd.Names...)}
	for _, f := range rd.Filters {
		ev.Filters = append(ev.Filters, schema.KEvent{Filter: f.Filter, Flags: append([]string{}, f.Flags...), Fflags: f.Fflags, Data: f.Data})
	}
	return ev
}

// pending is the asynchronous recv of a pending posture.
type pending struct {
	side      Side
	a         asyncOp
	comp      *probes.Completion // once Done, or once the bound was spent
	cancelErr error              // what the cancel of cancel-then-close returned
}

// startPending submits the posture's asynchronous recv. StartRecv returns
// once the OS holds the operation (the SQE was consumed by io_uring_enter,
// WSARecv returned WSA_IO_PENDING): that is the posture's signal, so no grace
// sleep follows. A system without the API skips the scenario with the reason.
func (p *play) startPending() error {
	side, ok := posturePending[p.sc.Posture]
	if !ok {
		return nil
	}
	s := p.sock[side]
	a, err, gerr := guardedOpen(p, side, PendingRecv, "asynchronous recv submission", setupBound,
		func() (asyncOp, error) { return startRecvOn(s, recvMax) }, asyncOp.Close)
	if gerr != nil {
		return gerr
	}
	if err != nil {
		return fmt.Errorf("asynchronous recv on the %s: %w", side, err) // skipError: unavailable is a skip
	}
	p.pending = &pending{side: side, a: a}
	return nil
}

// cancelThenClose is the action cancel-then-close: cancel the actor's pending
// recv (CancelIoEx, IORING_OP_ASYNC_CANCEL), then close, as libuv does since
// libuv#3036 before closesocket. The close's result is the action's outcome;
// the cancel's error, if any, is noted on the pending-recv step.
func (p *play) cancelThenClose() probes.Outcome {
	p.pending.cancelErr = p.pending.a.Cancel()
	return p.sock[Actor].Close()
}

// awaitPending waits up to the run's bound for the pending recv's completion,
// once: later calls return the same completion.
func (p *play) awaitPending() probes.Completion {
	pd := p.pending
	if pd.comp == nil {
		start := time.Now()
		var c, got probes.Completion
		// Wait has a bound of its own; the guard is only against an
		// implementation that overstays it. got is written by the call
		// thread and read only once it returned: after an overstay that
		// thread may still write it, so c stays the zero Completion (not
		// done) beside the harness error.
		if gerr := p.guarded(pd.side, PendingRecv, "asynchronous recv wait", p.cfg.Bound+setupBound, func() { got = pd.a.Wait(p.cfg.Bound) }); gerr != nil {
			p.harnessOp("the pending recv's wait", gerr)
		} else {
			c = got
		}
		if c.Err != nil { // the wait failed: not seen, so no blocked cell
			p.harnessOp("the pending recv's wait", c.Err)
		}
		if !c.Done {
			p.stats.BoundWait += time.Since(start)
		}
		pd.comp = &c
	}
	return *pd.comp
}

// pendingStep records how the pending recv completed.
func (p *play) pendingStep(Step) observation {
	c := p.awaitPending()
	o := observation{outcome: c.Outcome()}
	if c.Done {
		o.completion = &schema.Completion{API: c.API, Done: c.Done, N: c.N, Errno: c.Errno, Code: c.Code, WSA: c.WSA, WSACode: c.WSACode,
			NTStatus: c.NTStatus, NTStatusCode: c.NTStatusCode}
		o.note = c.Note // why a code is missing (no WSA code once the socket was closed)
	}
	if err := p.pending.cancelErr; err != nil {
		o.note = join(o.note, "the cancel returned: "+err.Error())
	}
	return o
}

// closeEventLoop closes the registrations and the pending recv (which cancels
// and reaps it), each within teardownBound on a thread of its own: a close
// that does not return, or fails, leaves an operation or a descriptor behind,
// and that is a harness error.
func (p *play) closeEventLoop() error {
	var closers []func() error
	var what []string
	if pd := p.pending; pd != nil && pd.a != nil {
		closers, what = append(closers, pd.a.Close), append(what, fmt.Sprintf("the %s's asynchronous recv", pd.side))
	}
	for _, side := range []Side{Actor, Peer} {
		if w := p.watches[side]; w != nil && w.w != nil {
			closers, what = append(closers, w.w.Close), append(what, fmt.Sprintf("the %s's readiness registration", side))
		}
	}
	var errs []error
	for i, f := range closers {
		var err error
		c := startCall(Actor, CloseOp, "close "+what[i], func() probes.Outcome { err = f(); return probes.Outcome{Class: schema.ClassOK} })
		if _, ok := c.await(teardownBound); !ok {
			errs = append(errs, fmt.Errorf("closing %s did not return within %v (leaked)", what[i], teardownBound))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", what[i], err))
		}
	}
	return errors.Join(errs...)
}

// detailKey tells apart observations whose outcome is the same but whose
// typed detail is not (an IOCP completion's WSA code), for aggregate.
func (o observation) detailKey() string {
	if o.events == nil && o.completion == nil {
		return ""
	}
	b, _ := json.Marshal(struct {
		E *schema.Events
		C *schema.Completion
	}{o.events, o.completion})
	return string(b)
}
