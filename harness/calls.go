package harness

import (
	"fmt"
	"runtime"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// call is one blocking socket call running on its own locked OS thread. It is
// never cancelled: a call that has not returned by its bound is recorded as
// blocked and stays in flight until it returns by itself or teardown frees it.
type call struct {
	side Side
	op   Op     // Recv or Send
	step string // the step that started it
	tid  int    // the OS thread's id (gettid, GetCurrentThreadId, thread_selfid)
	done chan probes.Outcome
	res  *probes.Outcome
	// end is when f returned; written before done is sent, so it may be
	// read once finished (or await) has seen the result.
	end time.Time
	// waited is how long awaits have waited for it so far: a call's bound
	// is spent once, however many awaits it takes.
	waited time.Duration
}

// startCall runs f on a fresh goroutine locked to its OS thread. The goroutine
// never unlocks: when it exits the runtime terminates the thread instead of
// reusing it (runtime.LockOSThread), so a thread that sat in a blocked call is
// not handed to other goroutines and no thread outlives its call.
func startCall(side Side, op Op, step string, f func() probes.Outcome) *call {
	c := &call{side: side, op: op, step: step, done: make(chan probes.Outcome, 1)}
	tid := make(chan int, 1)
	go func() {
		runtime.LockOSThread()
		tid <- probes.ThreadID()
		o := f()
		c.end = time.Now()
		c.done <- o
	}()
	c.tid = <-tid
	return c
}

// finished reports whether the call has returned, without waiting.
func (c *call) finished() bool {
	if c.res != nil {
		return true
	}
	select {
	case o := <-c.done:
		c.res = &o
		return true
	default:
		return false
	}
}

// await waits, up to what is left of bound after earlier awaits, for the
// call's result. ok is false when the bound is spent: the outcome is then the
// observation blocked.
func (c *call) await(bound time.Duration) (o probes.Outcome, ok bool) {
	if c.finished() {
		return *c.res, true
	}
	start := time.Now()
	defer func() { c.waited += time.Since(start) }()
	return c.awaitFor(bound - c.waited)
}

// awaitFor waits up to d for the call's result, not counting it as waited.
func (c *call) awaitFor(d time.Duration) (o probes.Outcome, ok bool) {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case o := <-c.done:
		c.res = &o
		return o, true
	case <-t.C:
		return blockedOutcome, false
	}
}

// blockedOutcome is the observation of a call that had not returned.
var blockedOutcome = probes.Outcome{Class: schema.ClassBlocked}

// reap waits, within one overall bound, for every call to return. It names
// the calls that did not: their threads are lost, and the run is an error.
func reap(calls []*call, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	var stuck []string
	for _, c := range calls {
		c.waited = 0 // teardown's bound is its own
		if _, ok := c.await(max(time.Until(deadline), 0)); !ok {
			stuck = append(stuck, c.step)
		}
	}
	if len(stuck) > 0 {
		return fmt.Errorf("calls still blocked %v after teardown: %v (their threads are leaked)", bound, stuck)
	}
	return nil
}
