package harness

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

func (p *play) setup() error {
	if p.sc.Has(Linger0) {
		if err := p.sock[Actor].SetLinger(true, 0); err != nil {
			return err
		}
	}
	if p.sc.Has(Linger2) {
		if err := p.sock[Actor].SetLinger(true, 2); err != nil {
			return err
		}
	}
	if p.sc.Has(UnsentAtActor) {
		f, ok := p.sock[Actor].(BufferFiller)
		if !ok {
			return fmt.Errorf("%w: %s needs a non-blocking send", ErrNotInView, UnsentAtActor)
		}
		n, err := f.FillSendBuffer()
		if err != nil || n == 0 {
			return fmt.Errorf("%s: queued %d bytes: %v", UnsentAtActor, n, err)
		}
		p.bytes.sent(Actor, n)
	}
	if p.sc.Has(UserTimeout) {
		for _, side := range []Side{Actor, Peer} {
			ut, ok := p.sock[side].(UserTimeouter)
			if !ok {
				return fmt.Errorf("%w: %s has no TCP_USER_TIMEOUT here", probes.ErrUnsupported, side)
			}
			if err := ut.SetUserTimeout(UserTimeoutValue); err != nil {
				return err
			}
		}
	}
	if p.sc.Has(PeerClosedFirst) {
		if o := p.sock[Peer].Close(); o.Class != schema.ClassOK {
			return fmt.Errorf("%s: the peer's close returned %s", PeerClosedFirst, o)
		}
		if err := p.waitReadable(Actor); err != nil {
			return fmt.Errorf("%s: %w", PeerClosedFirst, err)
		}
	}
	for _, u := range []struct {
		su   Setup
		from Side
	}{{UnreadAtActor, Peer}, {UnreadAtPeer, Actor}} {
		su, from := u.su, u.from
		if !p.sc.Has(su) {
			continue
		}
		to := other(from)
		if o := p.sock[from].Send(make([]byte, UnreadBytes)); o.Class != schema.ClassOK || o.N != UnreadBytes {
			return fmt.Errorf("%s: %s sent %s", su, from, o)
		}
		p.bytes.sent(from, UnreadBytes)
		wait := func() error { return p.waitPending(to, UnreadBytes) }
		if a, ok := p.sock[to].(processEnd); ok {
			wait = func() error { return a.waitPending(UnreadBytes) }
		}
		if err := wait(); err != nil {
			return fmt.Errorf("%s: %w", su, err)
		}
	}
	if p.sc.Has(ShutWRFirst) {
		if o := p.sock[Actor].Shutdown(probes.ShutWR); o.Class != schema.ClassOK {
			return fmt.Errorf("%s: the actor's shutdown returned %s", ShutWRFirst, o)
		}
		if err := p.waitReadable(Peer); err != nil { // the FIN has arrived
			return fmt.Errorf("%s: %w", ShutWRFirst, err)
		}
	}
	return nil
}

// waitPending polls FIONREAD until side has n bytes waiting: the signal that
// unread data has landed, instead of a sleep.
func (p *play) waitPending(side Side, n int) error {
	start := time.Now()
	defer func() { p.stats.SignalWait += time.Since(start) }()
	for {
		got, err := observerOf(p.sock[side]).Pending()
		if err != nil {
			return err
		}
		if got == n {
			return nil
		}
		if time.Since(start) > setupBound {
			return fmt.Errorf("%s has %d bytes pending after %v, want %d", side, got, setupBound, n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// waitReadable polls (zero timeout) until side reports the other end's FIN:
// readable on Unix (poll(2): end of file reads as POLLIN), POLLHUP from
// WSAPoll, which reports a graceful disconnect that way (WSAPOLLFD, revents).
func (p *play) waitReadable(side Side) error {
	start := time.Now()
	defer func() { p.stats.SignalWait += time.Since(start) }()
	for {
		var ev string
		err := fmt.Errorf("%w: no poll", ErrNotInView)
		if pl, ok := p.sock[side].(Poller); ok {
			ev, err = pl.Poll()
		}
		if err != nil {
			// No poll in this view (Go's net, an agent): the state says it
			// instead.
			st, serr := observerOf(p.sock[side]).State()
			if serr != nil {
				return errors.Join(err, serr)
			}
			if st == probes.StateCloseWait {
				return nil
			}
		} else if strings.Contains(ev, probes.PollIn) || strings.Contains(ev, probes.PollHup) {
			return nil
		}
		if time.Since(start) > setupBound {
			return fmt.Errorf("%s not readable after %v (poll: %s)", side, setupBound, ev)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// fill is what the blocked send of PeerBlockedSend offers; it is only read.
// Made when a scenario first needs it, not when the package loads: every
// closematrix render would pay 64 MiB for it.
var fill = sync.OnceValue(func() []byte { return make([]byte, FillBytes) })

// waitInSyscall is the posture's thread-state signal (probes.WaitInSyscall),
// a variable so that a test can see when the runner starts reading it.
var waitInSyscall = probes.WaitInSyscall

// startPosture starts the blocked call the posture needs and waits until its
// thread is asleep inside the call (a signal on Linux, PostureGrace
// elsewhere).
func (p *play) startPosture() (*call, error) {
	pc, ok := postureCall[p.sc.Posture]
	if !ok {
		return nil, nil // idle
	}
	s := p.sock[pc.Side]
	// entered is closed when the call enters its system call (CallEnterer)
	// or returns, whichever is first: the thread-state signal is read only
	// from then on (issue 20.2). A view that cannot say so closes it at the
	// start of the call.
	entered := make(chan struct{})
	var enterOnce sync.Once
	enter := func() { enterOnce.Do(func() { close(entered) }) }
	ce, enters := s.(CallEnterer)
	recvOf, sendOf := s.Recv, s.Send
	if enters {
		recvOf = func(n int) probes.Outcome { return ce.RecvEntering(n, enter) }
		sendOf = func(b []byte) probes.Outcome { return ce.SendEntering(b, enter) }
	}
	var f func() probes.Outcome
	var op Op
	switch pc.Op {
	case BlockedRecv:
		recv := p.counted(pc.Side, recvOf)
		f, op = func() probes.Outcome { return recv(recvMax) }, Recv
	case BlockedSend:
		// How much of it the other end reads is not known until it
		// returns, and a send that fails midway says nothing of the bytes
		// it moved: that direction is not counted.
		p.bytes.unknown(pc.Side)
		// Made here, not on the call's thread: the posture's signal must
		// see the send itself, not 64 MiB being zeroed first.
		buf := fill()
		f, op = func() probes.Outcome {
			o := sendOf(buf)
			if o.Class == schema.ClassOK && o.N < len(buf) {
				// A partial count varies with the buffers' sizes: it says
				// "returned after moving some bytes", recorded as ok 0.
				o.N = 0
			}
			return o
		}, Send
	case BlockedAccept:
		f, op = s.(*listenerActor).accept, Recv
		enters = false
	}
	inner := f
	f = func() probes.Outcome {
		if s.Closed() {
			p.postureLate.Store(true) // the action overtook the call
		}
		if !enters {
			enter()
		}
		defer enter()
		return inner()
	}
	c := p.start(pc.Side, op, pc.Name(), f)
	start := time.Now()
	var err error
	t := time.NewTimer(setupBound)
	select {
	case <-entered:
		t.Stop()
	case <-t.C:
		return c, fmt.Errorf("the %s did not reach its system call within %v", pc.Op, setupBound)
	}
	if w, ok := s.(CallWaiter); ok {
		// A view with calls of its own (Go's netpoller parks a Read
		// instead of blocking in recvfrom) says when its call is waiting.
		var signal bool
		signal, err = w.WaitInCall(setupBound)
		if !signal && err == nil {
			p.postureGrace = fmt.Sprintf("posture held by a %v grace period: the %s view shows no blocked call", probes.PostureGrace, p.cfg.Transport.Name())
		}
	} else {
		var signal bool
		signal, err = waitInSyscall(c.tid, setupBound)
		if !signal && err == nil {
			p.postureGrace = fmt.Sprintf("posture held by a %v grace period, not a signal: %v", probes.PostureGrace, probes.ThreadSignal())
		}
	}
	p.stats.SignalWait += time.Since(start)
	if c.finished() {
		return nil, fmt.Errorf("the %s returned %s before the action", pc.Op, *c.res)
	}
	return c, err
}
