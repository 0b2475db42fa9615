package harness

import (
	"fmt"
	"strings"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// A call that has not returned is recorded as blocked at its bound. Where the
// OS shows enough, the runner concludes it sooner, from signals, and records
// the same observation: the bound stays as the backstop.
//
// Why that is sound (Linux). A thread asleep in recvfrom or accept4 on a TCP
// socket wakes only for an event on that socket (tcp_recvmsg's
// sk_wait_data, inet_csk_wait_for_connect): a segment arriving (data, FIN,
// RST, a completed handshake), a call on the socket from another thread
// (shutdown), an error a timer reports (retransmission timeout, user
// timeout, keepalive), or a signal — the Go runtime's are restarted
// (SA_RESTART; probes retries EINTR). While the runner waits it makes no
// call of its own, and every other call of the run still in flight is
// itself asleep in a socket call (a sleeping recv or accept sends nothing;
// a sleeping send has bytes queued, which the next condition excludes). A
// segment can then only come from a kernel that has something to send, and
// both ends have nothing: no byte or FIN unsent or unacknowledged (SIOCOUTQ,
// or tx_queue by 4-tuple for a closed socket or another process's), so no
// retransmission, tail loss probe or zero-window probe is armed; nothing
// unread (SIOCINQ) whose reading would open a window; no state that an ACK
// on its way would end. A segment already sent but not yet processed is
// either unacknowledged (so counted above) or an RST, which no queue holds:
// it waits in the CPUs' receive backlog until processed (LoopbackIdle), and
// a packet taken from the backlog reaches its socket within the same softirq
// pass, microseconds, which tasks do not preempt (on PREEMPT_RT kernels
// softirqs run in threads and this margin is not guaranteed) — so the runner takes two
// samples at least quietSpan apart, with the same states and queues, the
// thread still asleep, and the backlog empty at both. Pure ACKs (a delayed
// ACK) wake no recv or accept. The timers that remain, TIME_WAIT's and
// FIN_WAIT_2's (tcp_fin_timeout), last 60 s and end silently, far beyond
// any bound.
//
// Where it is not sound, the full bound is kept: scenarios that set timers
// of their own (UserTimeout, Linger2: Slow) and network scenarios, where
// routes, carrier and ICMP errors are events no queue shows; views whose
// calls are not socket syscalls (Go's net parks a goroutine, so its thread
// is never seen asleep in recvfrom); sends, which always have bytes queued;
// and systems that show neither thread states nor queues (darwin and
// Windows for now: probes.InSyscall, Flight and LoopbackIdle return
// ErrUnsupported there). The call site needs nothing more when they come:
// a per-OS inSyscall built on a thread-state signal (darwin's
// TH_STATE_WAITING, Windows' Waiting — which, unlike Linux's, do not say
// which call the thread waits in, so the caller must know it entered it),
// fdFlight and lookupFlight from TCP_CONNECTION_INFO or SIO_TCP_INFO and the
// TCP tables, and a loopbackIdle, in place of probes/flight_noview.go.
const quietSpan = time.Millisecond

// pollEvery is how often the signals are read while a call is awaited.
const pollEvery = 250 * time.Microsecond

// unscheduledGrace is how much longer than its bound a call may take while
// its thread has not reached the kernel call: the bound covers a
// descheduled thread (Config.Bound), and on a loaded machine a thread can
// wait longer than that for a CPU, or for the Go scheduler to run its
// preempted goroutine again, without being blocked at all. A blocked call
// sleeps in the kernel; only that is recorded as blocked.
const unscheduledGrace = setupBound

// awaitScheduled, after c's bound expired, waits while the OS shows c's
// thread not asleep in a system call (probes.AsleepInCall: Linux), within
// unscheduledGrace. It reports the call's result if it returned meanwhile.
func (p *play) awaitScheduled(c *call) (probes.Outcome, bool) {
	start := time.Now()
	defer func() { c.waited += time.Since(start) }()
	for time.Since(start) < unscheduledGrace && c.tid != 0 {
		if in, err := probes.AsleepInCall(c.tid); err != nil || in {
			break
		}
		if o, ok := c.awaitFor(pollEvery); ok {
			return o, true
		}
	}
	if c.finished() {
		return *c.res, true
	}
	return blockedOutcome, false
}

// settling reports whether what s waits for to settle is still on its way,
// so that a settle that ran out of time may go on: received packets wait
// for the kernel to process them (probes.LoopbackIdle), or s has less than a
// window queued — sent, then, and waiting only for its ACK, which the
// receiver may delay (RFC 1122 §4.2.3.2; Linux acks a FIN late too, in
// pingpong mode: net/ipv4/tcp_input.c, tcp_fin) and whose timer a loaded
// machine runs late. A queue of a window or more waits for the receiver to
// read and will not settle by itself: no more time for it.
func settling(s Endpoint) bool {
	if idle, err := probes.LoopbackIdle(); err == nil && !idle {
		return true
	}
	fl := flightOf(s)
	if fl == nil {
		return false
	}
	f, err := fl.Flight()
	return err == nil && f.Queued > 0 && f.Queued < settleWindow
}

// settleWindow is less than any receive window Linux offers on loopback
// (tcp_rmem's default 128 KiB and up; tcp(7)).
const settleWindow = 64 << 10

// blockedBySignal reports whether the run may conclude blocked from signals.
func (p *play) blockedBySignal() bool {
	return !p.sc.Slow() && !p.sc.Has(UserTimeout) && !p.sc.Has(Linger2) && p.net == nil && !p.sc.Action.spec().network
}

// flighter is an endpoint that shows its queues: raw sockets, listeners, the
// helper process's connection (by 4-tuple).
type flighter interface {
	Flight() (probes.Flight, error)
}

// quiet samples the signals for c: ok when c's thread is asleep in its
// socket call, every other unfinished call of the run likewise, both ends
// have nothing in flight and no received packet awaits processing. key
// identifies what was seen, so that two samples can be compared. known is
// false when some signal does not exist here: then only the bound decides.
func (p *play) quiet(c *call) (key string, ok, known bool) {
	var sb strings.Builder
	for _, o := range p.calls {
		if o != c && o.finished() {
			continue
		}
		if o.tid == 0 {
			return "", false, false
		}
		in, err := probes.InSyscall(o.tid)
		if err != nil {
			return "", false, false
		}
		if !in {
			return "", false, true
		}
		fmt.Fprintf(&sb, "%d ", o.tid)
	}
	for _, side := range []Side{Actor, Peer} {
		s := p.sock[side]
		if s == nil {
			continue
		}
		fl := flightOf(s)
		if fl == nil {
			return "", false, false
		}
		f, err := fl.Flight()
		if err != nil {
			return "", false, false
		}
		if !f.Quiet() {
			return "", false, true
		}
		fmt.Fprintf(&sb, "%s:%s ", side, f.State)
	}
	idle, err := probes.LoopbackIdle()
	if err != nil {
		return "", false, false
	}
	return sb.String(), idle, true
}

// awaitQuiet waits for c within bound like call.await, and concludes
// blocked early when quiet holds at two samples quietSpan apart with the
// same key. bySignal says which ended the wait.
func (p *play) awaitQuiet(c *call, bound time.Duration) (o probes.Outcome, ok, bySignal bool) {
	if c.finished() {
		return *c.res, true, false
	}
	start := time.Now()
	defer func() { c.waited += time.Since(start) }()
	deadline := start.Add(max(bound-c.waited, 0))
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	var lastKey string
	var lastAt time.Time
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return blockedOutcome, false, false
		}
		t.Reset(min(wait, pollEvery))
		select {
		case res := <-c.done:
			c.res = &res
			return res, true, false
		case <-t.C:
		}
		key, quiet, known := p.quiet(c)
		if !known {
			// No signal here: the bound decides.
			o, ok := c.awaitFor(time.Until(deadline))
			return o, ok, false
		}
		switch {
		case !quiet:
			lastKey = ""
		case key != lastKey:
			lastKey, lastAt = key, time.Now()
		case time.Since(lastAt) >= quietSpan && !c.finished():
			return blockedOutcome, false, true
		}
		if c.finished() {
			return *c.res, true, false
		}
	}
}

// start runs f as the side's call on a thread of its own (startCall).
func (p *play) start(side Side, op Op, step string, f func() probes.Outcome) *call {
	c := startCall(side, op, step, f)
	p.calls = append(p.calls, c)
	if c.tid != 0 {
		p.stats.Threads = append(p.stats.Threads, c.tid)
	}
	return c
}

func (p *play) await(c *call, note string) observation {
	return observation{outcome: p.awaitCall(c), note: note}
}

// awaitCall waits for c within the run's bound, or until signals say it is
// blocked (blocked.go), and counts the wait: a spent bound, a signal, or
// TCP's timers (a slow scenario's call that returned).
func (p *play) awaitCall(c *call) probes.Outcome {
	start := time.Now()
	var o probes.Outcome
	var ok, bySignal bool
	if p.blockedBySignal() {
		o, ok, bySignal = p.awaitQuiet(c, p.cfg.Bound)
	} else {
		o, ok = c.await(p.cfg.Bound)
	}
	if _, parks := p.sock[c.side].(CallWaiter); !ok && !bySignal && !parks {
		o, ok = p.awaitScheduled(c) // a view whose calls park in Go (gonet) has no such signal
	}
	switch {
	case bySignal:
		p.stats.SignalWait += time.Since(start)
	case !ok:
		p.stats.BoundWait += time.Since(start)
	case p.sc.Slow():
		p.stats.TimerWait += time.Since(start)
	}
	return o
}
