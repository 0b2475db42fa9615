package harness

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// listenerActor is the actor of a listener scenario: a listening socket that
// never accepts the peer, a client whose connection waits in its backlog.
// Only what a listener can do is offered; Validate keeps other actor steps
// (all but blocked-accept and action) out of listener scenarios.
type listenerActor struct {
	ln     *probes.Listener
	family probes.Family
	mu     sync.Mutex
	closed bool
}

var errListener = errors.New("the actor is a listener")

// wakeDials counts wake's connections, for the test that teardown dials a
// closed listener only when accept is still blocked.
var wakeDials atomic.Int64

// accept is the posture's call: ws2_32/accept(2), blocking. A connection it
// does accept (teardown's wake-up call) is closed at once.
func (l *listenerActor) accept() probes.Outcome {
	s, o := l.ln.AcceptOutcome()
	if s != nil {
		s.SetLinger(true, 0)
		s.Close()
	}
	return o
}

// Close wraps close(2) / closesocket of the listener.
func (l *listenerActor) Close() probes.Outcome {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return l.ln.CloseOutcome()
}

// Shutdown wraps shutdown(2) of the listener.
func (l *listenerActor) Shutdown(how probes.How) probes.Outcome { return l.ln.Shutdown(how) }

// Closed reports whether Close was called.
func (l *listenerActor) Closed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// wake frees a thread still blocked in accept after the listener's close:
// on Linux that close does not wake it, and the socket keeps listening while
// the call holds it, so one more connection is what returns the call.
func (l *listenerActor) wake() {
	wakeDials.Add(1)
	if s, err := probes.Dial(l.family, l.ln.Port()); err == nil {
		s.SetLinger(true, 0)
		s.Close()
	}
}

func (l *listenerActor) Send([]byte) probes.Outcome { return probes.Outcome{} }
func (l *listenerActor) Recv(int) probes.Outcome    { return probes.Outcome{} }
func (l *listenerActor) SetLinger(bool, int) error  { return errListener }
func (l *listenerActor) Pending() (int, error)      { return 0, errListener }
func (l *listenerActor) Settle(time.Duration) bool  { return false }
func (l *listenerActor) State() (string, error)     { return "", errListener }
func (l *listenerActor) Conn() probes.Conn4         { return probes.Conn4{} }

// Flight is the listener's accept queue and state (blocked.go).
func (l *listenerActor) Flight() (probes.Flight, error) { return l.ln.Flight() }
