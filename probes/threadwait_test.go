package probes

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeThread answers awaitSustained from a script of reads; after the script
// the last answer repeats.
type fakeThread struct {
	reads []bool
	n     int
	at    []time.Time
}

func (f *fakeThread) read() (bool, string, error) {
	f.at = append(f.at, time.Now())
	w := f.reads[min(f.n, len(f.reads)-1)]
	f.n++
	return w, "fake", nil
}

func TestAwaitSustained(t *testing.T) {
	// A thread that waits for good: true once WAITING has held for the
	// gap, and never on the first WAITING read.
	f := &fakeThread{reads: []bool{false, false, true}}
	ok, err := awaitSustained(f.read, waitingGap, time.Second)
	if !ok || err != nil {
		t.Fatalf("awaitSustained = %v, %v", ok, err)
	}
	first := f.at[2]
	if held := f.at[len(f.at)-1].Sub(first); held < waitingGap {
		t.Errorf("declared waiting after %v of WAITING, want at least %v", held, waitingGap)
	}
	if f.n < 4 {
		t.Errorf("declared waiting after %d reads: a single WAITING read counted", f.n)
	}

	// A runtime park: WAITING for one read, then running again, then
	// parked again briefly — never held for the gap, so never declared.
	flap := &fakeThread{}
	for range 400 {
		flap.reads = append(flap.reads, true, false)
	}
	ok, err = awaitSustained(flap.read, waitingGap, 20*time.Millisecond)
	if ok || err == nil || !strings.Contains(err.Error(), "fake") {
		t.Errorf("awaitSustained over a flapping thread = %v, %v; want false and the last state", ok, err)
	}

	// A read that fails is the caller's error, at once.
	boom := errors.New("proc_info failed")
	if ok, err := awaitSustained(func() (bool, string, error) { return false, "", boom }, waitingGap, time.Second); ok || !errors.Is(err, boom) {
		t.Errorf("awaitSustained with a failing read = %v, %v", ok, err)
	}
}

func TestPositiveControl(t *testing.T) {
	released := 0
	start := func() (int, func(), error) { return 42, func() { released++ }, nil }
	if err := positiveControl(start, func(tid int) (bool, string, error) { return tid == 42, "", nil }); err != nil {
		t.Errorf("control over a thread that waits: %v", err)
	}
	// A signal that never sees the blocked thread wait: the control fails
	// (and the caller falls back to the grace period).
	begin := time.Now()
	if err := positiveControl(start, func(int) (bool, string, error) { return false, "pth_run_state 1", nil }); err == nil || !strings.Contains(err.Error(), "did not read as waiting") {
		t.Errorf("control over a thread that never waits: %v", err)
	}
	if el := time.Since(begin); el > controlBound+time.Second {
		t.Errorf("the failing control took %v, bound %v", el, controlBound)
	}
	if released != 2 {
		t.Errorf("blocked thread released %d times, want 2", released)
	}
	if err := positiveControl(func() (int, func(), error) { return 0, nil, errors.New("no pipe") }, nil); err == nil {
		t.Error("control without its thread passed")
	}
}
