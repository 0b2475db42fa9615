package probes

import (
	"fmt"
	"time"
)

// This file is the logic of a thread-state signal that cannot say which call
// a thread waits in (darwin's TH_STATE_WAITING; threadstate.go): no build
// tag, so that it is tested with fakes on every OS (threadwait_test.go).
//
// A thread of ours that is about to enter its call can read WAITING for
// other reasons: the Go runtime parks a locked thread on a condition
// variable (psynch_cvwait) while its goroutine waits for the scheduler, for
// a stop-the-world of the GC or after a preemption. Those parks are short —
// the runtime runs the goroutine again as soon as it may — while a call that
// blocks stays asleep. So the signal asks for the state to hold: two WAITING
// reads at least waitingGap apart, and nothing else read between them.

// waitingGap is how long WAITING must hold before it counts: longer than a
// park for the scheduler on a loaded runner is likely to last, short beside
// the bound of a posture (seconds).
const waitingGap = time.Millisecond

// awaitSustained polls waiting until it answers true twice, at least gap
// apart, with no false between; a false starts over. It gives up at bound
// with an error that says what was read last. Polling backs off from 50 µs
// to 1 ms (darwin's proc_info takes the process's thread list lock).
func awaitSustained(waiting func() (bool, string, error), gap, bound time.Duration) (bool, error) {
	deadline := time.Now().Add(bound)
	pause := 50 * time.Microsecond
	var since time.Time // when the current run of WAITING reads began
	for {
		w, what, err := waiting()
		if err != nil {
			return false, err
		}
		now := time.Now()
		switch {
		case !w:
			since = time.Time{}
		case since.IsZero():
			since = now
		case now.Sub(since) >= gap:
			return true, nil
		}
		if now.After(deadline) {
			return false, fmt.Errorf("not waiting for %v after %v: %s", gap, bound, what)
		}
		p := pause
		if !since.IsZero() {
			p = min(p, max(gap-now.Sub(since), 0)+50*time.Microsecond)
		}
		time.Sleep(p)
		pause = min(2*pause, time.Millisecond)
	}
}

// controlBound is how long the start-up control gives a thread blocked in
// read(2) to read as waiting.
const controlBound = 2 * time.Second

// positiveControl checks, once, that the signal sees what it is used for: a
// thread blocked reading an empty pipe (start) must read as waiting
// (waiting, through awaitSustained). Without that, a WAITING that a posture
// waits for would be unproven: the caller falls back to PostureGrace and
// says so (ThreadSignal), as under Wine.
func positiveControl(start func() (tid int, release func(), err error), waiting func(tid int) (bool, string, error)) error {
	tid, release, err := start()
	if err != nil {
		return fmt.Errorf("the positive control could not start its blocked thread: %w", err)
	}
	defer release()
	if _, err := awaitSustained(func() (bool, string, error) { return waiting(tid) }, waitingGap, controlBound); err != nil {
		return fmt.Errorf("positive control: a thread blocked in read(2) on a pipe did not read as waiting: %w", err)
	}
	return nil
}
