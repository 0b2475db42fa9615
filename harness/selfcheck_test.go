package harness

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// fakeEnd is a real loopback socket whose answers a test replaces, to make
// the runner meet what a broken harness or a lying OS would show it.
type fakeEnd struct {
	Endpoint
	side   Side
	recv   func(e *fakeEnd, max int) probes.Outcome
	poll   func() (string, error)
	states func() (string, string, error)
	// waitInCall, when set, is the posture's signal (as Go's net view
	// gives one): true says the call was seen blocked.
	waitInCall func(bound time.Duration) (bool, error)

	closeOnce sync.Once
	closed    chan struct{}
}

func (e *fakeEnd) Recv(max int) probes.Outcome {
	if e.recv != nil {
		return e.recv(e, max)
	}
	return e.Endpoint.Recv(max)
}

func (e *fakeEnd) Poll() (string, error) {
	if e.poll != nil {
		return e.poll()
	}
	return e.sock().Poll()
}

// sock is the real socket under the fake: its own observations (Observer,
// Poller, flighter) pass through.
func (e *fakeEnd) sock() *probes.Socket { return e.Endpoint.(*probes.Socket) }

func (e *fakeEnd) State() (string, error)         { return e.sock().State() }
func (e *fakeEnd) Pending() (int, error)          { return e.sock().Pending() }
func (e *fakeEnd) Settle(b time.Duration) bool    { return e.sock().Settle(b) }
func (e *fakeEnd) SoError() probes.Outcome        { return e.sock().SoError() }
func (e *fakeEnd) Flight() (probes.Flight, error) { return e.sock().Flight() }

func (e *fakeEnd) States() (string, string, error) {
	if e.states != nil {
		return e.states()
	}
	return e.sock().States()
}

func (e *fakeEnd) Close() probes.Outcome {
	e.closeOnce.Do(func() { close(e.closed) })
	return e.Endpoint.Close()
}

func (e *fakeEnd) Shutdown(how probes.How) probes.Outcome {
	if how == probes.ShutRDWR && e.recv != nil {
		e.closeOnce.Do(func() { close(e.closed) }) // teardown frees a fake blocked recv
	}
	return e.Endpoint.Shutdown(how)
}

// blockUntilClosed is a recv that blocks until the socket is closed, then
// returns o.
func blockUntilClosed(o probes.Outcome) func(*fakeEnd, int) probes.Outcome {
	return func(e *fakeEnd, _ int) probes.Outcome { <-e.closed; return o }
}

type waitingFakeEnd struct{ *fakeEnd }

func (w waitingFakeEnd) WaitInCall(bound time.Duration) (bool, error) { return w.waitInCall(bound) }

// fakeTransport dials the actor and accepts the peer on raw sockets, and
// lets mod change either end.
type fakeTransport struct {
	mod func(e *fakeEnd)
}

func (fakeTransport) Name() string { return "fake" }

func (t fakeTransport) wrap(side Side, ep Endpoint) Endpoint {
	e := &fakeEnd{Endpoint: ep, side: side, closed: make(chan struct{})}
	t.mod(e)
	if e.waitInCall != nil {
		return waitingFakeEnd{e}
	}
	return e
}

func (t fakeTransport) Listen(f probes.Family) (Listener, error) {
	l, err := Raw.Listen(f)
	if err != nil {
		return nil, err
	}
	return fakeListener{l, t}, nil
}

func (t fakeTransport) Dial(f probes.Family, port int) (Endpoint, error) {
	ep, err := Raw.Dial(f, port)
	if err != nil {
		return nil, err
	}
	return t.wrap(Actor, ep), nil
}

type fakeListener struct {
	Listener
	t fakeTransport
}

func (l fakeListener) Accept() (Endpoint, error) {
	ep, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.t.wrap(Peer, ep), nil
}

func scenario(t *testing.T, id string) Scenario {
	t.Helper()
	for _, sc := range Catalogue() {
		if sc.ID == id {
			return sc
		}
	}
	t.Fatalf("%s not in the catalogue", id)
	return Scenario{}
}

func runFake(t *testing.T, id string, mod func(e *fakeEnd)) schema.Scenario {
	t.Helper()
	rec, _ := Run(scenario(t, id), Config{Repeat: 1, Bound: 50 * time.Millisecond, Transport: fakeTransport{mod}})
	return rec
}

func wantError(t *testing.T, rec schema.Scenario, reason string) {
	t.Helper()
	if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, reason) {
		t.Errorf("%s: status %s (%q), want error naming %q", rec.ID, rec.Status, rec.Reason, reason)
	}
}

// TestPostureThatReturnsEarlyIsAnError: the peer's "blocked" recv returns at
// once, yet a signal claims it is blocked; the run must be an error, not a
// record of what an early recv returned.
func TestPostureThatReturnsEarlyIsAnError(t *testing.T) {
	rec := runFake(t, "v4/close/peer-blocked-recv", func(e *fakeEnd) {
		if e.side != Peer {
			return
		}
		e.recv = func(*fakeEnd, int) probes.Outcome { return probes.Outcome{Class: schema.ClassEOF} }
		e.waitInCall = func(time.Duration) (bool, error) { time.Sleep(5 * time.Millisecond); return true, nil }
	})
	wantError(t, rec, "before the action")
}

// TestPostureOvertakenByCloseIsAnError: with no signal (grace only), an
// own-blocked recv that answers not-socket on the actor's own socket is what
// a call that started after the close returns: an error, not a cell. With a
// signal that saw it blocked, the same answer is the OS's and is recorded.
func TestPostureOvertakenByCloseIsAnError(t *testing.T) {
	notSock := probes.Outcome{Class: schema.ClassNotSocket, Errno: "WSAENOTSOCK", Code: 10038}
	for _, signal := range []bool{false, true} {
		rec := runFake(t, "v4/close/own-blocked-recv", func(e *fakeEnd) {
			if e.side != Actor {
				return
			}
			e.recv = blockUntilClosed(notSock)
			e.waitInCall = func(time.Duration) (bool, error) { time.Sleep(probes.PostureGrace); return signal, nil }
		})
		if !signal {
			wantError(t, rec, "did not hold")
			continue
		}
		if rec.Status != schema.StatusObserved {
			t.Errorf("with a signal: status %s (%s), want observed", rec.Status, rec.Reason)
		}
	}
}

// TestGracePostureIsNoted: steps of a posture that rested on a grace period
// say so in the result file.
func TestGracePostureIsNoted(t *testing.T) {
	rec := runFake(t, "v4/shutdown-wr/own-blocked-recv", func(e *fakeEnd) {
		if e.side == Actor {
			e.recv = blockUntilClosed(probes.Outcome{Class: schema.ClassEOF})
			e.waitInCall = func(time.Duration) (bool, error) { time.Sleep(probes.PostureGrace); return false, nil }
		}
	})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("status %s (%s)", rec.Status, rec.Reason)
	}
	for _, st := range rec.Steps {
		if st.Skipped == "" && !strings.Contains(st.Note, "grace period") {
			t.Errorf("%s: note %q does not say the posture rested on a grace period", st.Name, st.Note)
		}
	}
}

// TestStatesThatDisagreeAreAnError: a socket and the system's table that
// name different states for a live connection fail the self-check.
func TestStatesThatDisagreeAreAnError(t *testing.T) {
	rec := runFake(t, "v4/shutdown-rd/idle", func(e *fakeEnd) {
		if e.side == Actor {
			e.states = func() (string, string, error) { return probes.StateEstablished, probes.StateFinWait2, nil }
		}
	})
	wantError(t, rec, "self-check: actor.state: the socket says ESTABLISHED, the system's table FIN_WAIT_2")
}

// TestBytesFromNowhereAreAnError: a recv that returns more bytes than the
// other side ever sent fails the self-check.
func TestBytesFromNowhereAreAnError(t *testing.T) {
	rec := runFake(t, "v4/close/idle", func(e *fakeEnd) {
		if e.side == Peer {
			e.recv = func(*fakeEnd, int) probes.Outcome { return probes.Outcome{Class: schema.ClassData, N: 64} }
		}
	})
	wantError(t, rec, "self-check: peer received 64 bytes, but the actor sent 0")
}

// TestEndOfStreamBeforeAllBytesIsAnError: end of stream after fewer bytes
// than the other side sent (data lost without a reset) fails the self-check.
func TestEndOfStreamBeforeAllBytesIsAnError(t *testing.T) {
	rec := runFake(t, "v4/close/unread-at-peer", func(e *fakeEnd) {
		if e.side == Peer {
			e.recv = func(e *fakeEnd, max int) probes.Outcome {
				o := e.Endpoint.Recv(max)
				if o.Class == schema.ClassData {
					return probes.Outcome{Class: schema.ClassEOF} // swallow the data
				}
				return o
			}
		}
	})
	wantError(t, rec, "self-check: peer read end of stream after 0 bytes, but the actor sent 1024")
}

// TestReadablePollThenBlockedRecvIsAnError: a poll that says POLLIN, followed
// by a recv that blocks, fails the self-check.
func TestReadablePollThenBlockedRecvIsAnError(t *testing.T) {
	rec := runFake(t, "v4/shutdown-rd/idle", func(e *fakeEnd) {
		if e.side == Peer {
			e.poll = func() (string, error) { return probes.PollIn + "|" + probes.PollOut, nil }
		}
	})
	wantError(t, rec, "self-check: peer.poll said readable, yet a recv then blocked")
}

// TestTeardownDialsOnlyABlockedAccept: where closing the listener wakes the
// accept blocked on it (Windows, darwin, Wine), teardown must not dial the
// closed port (a refused loopback connect takes ~2 s on Windows); where it
// does not (Linux), one connection is what frees the accept.
func TestTeardownDialsOnlyABlockedAccept(t *testing.T) {
	before := wakeDials.Load()
	rec, _ := Run(scenario(t, "v4/listener-close/own-blocked-accept"), Config{Repeat: 1})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("status %s (%s)", rec.Status, rec.Reason)
	}
	woken := rec.Steps[0].Outcome.Class != schema.ClassBlocked
	dials := wakeDials.Load() - before
	t.Logf("blocked-accept %s; teardown dialled %d times", rec.Steps[0].Outcome, dials)
	if woken && dials != 0 {
		t.Errorf("the close woke the accept (%s), yet teardown dialled the closed port %d times", rec.Steps[0].Outcome, dials)
	}
	if !woken && dials == 0 {
		t.Error("the accept stayed blocked, yet teardown did not dial to free it")
	}
}
