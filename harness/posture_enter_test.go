package harness

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// slowEntering is a raw socket whose blocking recv spends a while before it
// reaches its system call, as a call whose thread the Go runtime parks first
// (GC, preemption) does.
type slowEntering struct {
	*probes.Socket
	entered atomic.Int64 // UnixNano when the call reached its system call
}

func (s *slowEntering) RecvEntering(max int, entering func()) probes.Outcome {
	time.Sleep(30 * time.Millisecond)
	return s.Socket.RecvEntering(max, func() {
		s.entered.Store(time.Now().UnixNano())
		entering()
	})
}

type slowEnteringView struct{ peer *slowEntering }

func (slowEnteringView) Name() string { return "" }
func (v slowEnteringView) Listen(f probes.Family) (Listener, error) {
	l, err := probes.Listen(f)
	if err != nil {
		return nil, err
	}
	return slowEnteringListener{l, v.peer}, nil
}
func (slowEnteringView) Dial(f probes.Family, port int) (Endpoint, error) {
	s, err := probes.Dial(f, port)
	if err != nil {
		return nil, err
	}
	return s, nil
}

type slowEnteringListener struct {
	*probes.Listener
	peer *slowEntering
}

func (l slowEnteringListener) Accept() (Endpoint, error) {
	s, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.peer.Socket = s
	l.peer.entered.Store(0) // a new run (the isolated poll step has its own)
	return l.peer, nil
}

// TestPostureWaitsForTheCall: the posture's thread-state signal is read only
// once the call has entered its system call (issue 20.2), not while the
// call is still preparing: a thread parked before the call reads Waiting on
// darwin too.
func TestPostureWaitsForTheCall(t *testing.T) {
	peer := &slowEntering{}
	var reads, early atomic.Int64
	old := waitInSyscall
	waitInSyscall = func(tid int, bound time.Duration) (bool, error) {
		reads.Add(1)
		if peer.entered.Load() == 0 {
			early.Add(1) // read while the call was still preparing
		}
		return old(tid, bound)
	}
	defer func() { waitInSyscall = old }()
	var sc Scenario
	for _, s := range Catalogue() {
		if s.ID == "v4/close/peer-blocked-recv" {
			sc = s
		}
	}
	rec, _ := Run(sc, Config{Repeat: 1, Transport: slowEnteringView{peer}})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("status %s (%s)", rec.Status, rec.Reason)
	}
	if reads.Load() == 0 {
		t.Fatal("the posture's signal was never read")
	}
	if n := early.Load(); n > 0 {
		t.Errorf("the signal was read %d of %d times before the call entered its system call", n, reads.Load())
	}
}
