package harness

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// fakeWatch stands in for the OS's readiness API: each read delivers a name
// that counts the reads, so a cell shows which read it was.
type fakeWatch struct {
	reads  int
	closed *int
}

func (w *fakeWatch) Read() (probes.Ready, error) {
	w.reads++
	return probes.Ready{API: "fake", Names: []string{fmt.Sprintf("READ%d", w.reads)}}, nil
}

func (w *fakeWatch) Close() error { *w.closed++; return nil }

// fakeRecv stands in for an asynchronous recv.
type fakeRecv struct {
	comp      probes.Completion
	cancelled bool
	closed    *int
	closeErr  error
}

func (a *fakeRecv) Wait(time.Duration) probes.Completion {
	if a.cancelled {
		return probes.Completion{API: "fake", Done: true, Errno: "ECANCELED", Code: 125}
	}
	return a.comp
}
func (a *fakeRecv) Cancel() error { a.cancelled = true; return nil }
func (a *fakeRecv) Close() error  { *a.closed++; return a.closeErr }

// withFakes replaces the event-loop API with fakes for the test's duration.
func withFakes(t *testing.T, watch func(Endpoint) (readiness, error), recv func(Endpoint, int) (asyncOp, error)) {
	t.Helper()
	sw, sr := watchOn, startRecvOn
	t.Cleanup(func() { watchOn, startRecvOn = sw, sr })
	if watch != nil {
		watchOn = watch
	}
	if recv != nil {
		startRecvOn = recv
	}
}

func stepOf(rec schema.Scenario, name string) schema.Step {
	for _, st := range rec.Steps {
		if st.Name == name {
			return st
		}
	}
	return schema.Step{}
}

// TestEventsRegistration: the registration is read once before the action
// (its initial edge and the setup's are dropped), each events step reads it
// again, and teardown closes it.
func TestEventsRegistration(t *testing.T) {
	closed := 0
	withFakes(t, func(Endpoint) (readiness, error) { return &fakeWatch{closed: &closed}, nil }, nil)
	rec, _ := Run(scenario(t, "v4/close/idle"), Config{Repeat: 2})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("%s: %s", rec.Status, rec.Reason)
	}
	for name, want := range map[string]string{"peer.events": "READ2", "peer.events#2": "READ3"} {
		st := stepOf(rec, name)
		if string(st.Outcome.Class) != want || st.Kind != schema.KindEvents || st.Events == nil || st.Events.API != "fake" {
			t.Errorf("%s = %+v, want %s (read 1 is the drain before the action), kind events, typed", name, st, want)
		}
	}
	if closed != 2 {
		t.Errorf("%d registrations closed, want 2 (one a run)", closed)
	}
}

// TestEventsUnavailable: a registration the OS refuses makes the events steps
// skipped with the reason; the rest of the scenario is observed.
func TestEventsUnavailable(t *testing.T) {
	refused := fmt.Errorf("%w: AFD poll: STATUS_NOT_SUPPORTED", probes.ErrAsyncUnavailable)
	withFakes(t, func(Endpoint) (readiness, error) { return nil, refused }, nil)
	rec, _ := Run(scenario(t, "v4/shutdown-wr/idle"), Config{Repeat: 1})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("%s: %s", rec.Status, rec.Reason)
	}
	for _, name := range []string{"actor.events", "peer.events"} {
		if st := stepOf(rec, name); !strings.Contains(st.Skipped, refused.Error()) || st.Outcome != (schema.Outcome{}) {
			t.Errorf("%s = %+v, want skipped with %q", name, st, refused)
		}
	}
	if st := stepOf(rec, "peer.recv"); st.Outcome.Class != schema.ClassEOF {
		t.Errorf("peer.recv = %v, want eof", st.Outcome)
	}
}

// TestPendingRecv: the pending-recv step is the completion's outcome, typed;
// cancel-then-close cancels before it closes; teardown closes the recv.
func TestPendingRecv(t *testing.T) {
	closed := 0
	comp := probes.Completion{API: "iocp", Done: true, Errno: "ERROR_NETNAME_DELETED", Code: 64, WSA: "WSAECONNRESET", WSACode: 10054}
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) { return &fakeRecv{comp: comp, closed: &closed}, nil })
	rec, _ := Run(scenario(t, "v4/abort/peer-pending-recv"), Config{Repeat: 1})
	st := stepOf(rec, "peer.pending-recv")
	if rec.Status != schema.StatusObserved || st.Kind != schema.KindCompletion || st.Completion == nil ||
		st.Completion.WSACode != 10054 || st.Outcome.Errno != "ERROR_NETNAME_DELETED" {
		t.Errorf("%s %s: peer.pending-recv = %+v", rec.Status, rec.Reason, st)
	}
	rec, _ = Run(scenario(t, "v4/cancel-then-close/own-pending-recv"), Config{Repeat: 1})
	if st := stepOf(rec, "actor.pending-recv"); st.Outcome.Errno != "ECANCELED" {
		t.Errorf("cancel-then-close: actor.pending-recv = %+v, want the cancelled completion", st)
	}
	if st := stepOf(rec, "peer.recv"); st.Outcome.Class != schema.ClassEOF {
		t.Errorf("cancel-then-close: peer.recv = %v, want eof (the close happened)", st.Outcome)
	}
	if closed != 2 {
		t.Errorf("%d asynchronous recvs closed, want 2", closed)
	}
	// Nothing completed within the bound: blocked, no typed completion.
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) { return &fakeRecv{closed: &closed}, nil })
	rec, _ = Run(scenario(t, "v4/shutdown-wr/own-pending-recv"), Config{Repeat: 1})
	if st := stepOf(rec, "actor.pending-recv"); st.Outcome.Class != schema.ClassBlocked || st.Completion != nil {
		t.Errorf("a recv that did not complete = %+v, want blocked", st)
	}
}

// TestPendingReapFailure: a recv that teardown cannot reap is a harness
// error, never an observation.
func TestPendingReapFailure(t *testing.T) {
	closed := 0
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) {
		return &fakeRecv{closed: &closed, closeErr: errors.New("CQE never came")}, nil
	})
	rec, _ := Run(scenario(t, "v4/close/own-pending-recv"), Config{Repeat: 1})
	if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, "CQE never came") {
		t.Errorf("status %s (%s), want error naming the reap failure", rec.Status, rec.Reason)
	}
}

// TestPendingUnavailable: a completion API the OS refuses (no io_uring, a
// seccomp profile) makes the pending scenarios skipped with the reason.
func TestPendingUnavailable(t *testing.T) {
	refused := fmt.Errorf("%w: io_uring_setup: EPERM (seccomp)", probes.ErrAsyncUnavailable)
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) { return nil, refused })
	rec, _ := Run(scenario(t, "v6/close/peer-pending-recv"), Config{Repeat: 1})
	if rec.Status != schema.StatusSkipped || !strings.Contains(rec.Reason, refused.Error()) {
		t.Errorf("status %s (%s), want skipped with %q", rec.Status, rec.Reason, refused)
	}
}

// TestIOURingOff: CLOSEMATRIX_IO_URING=off (the contract's switch) forces
// the real probe's refusal; the pending scenarios are skipped with its
// reason and nothing is left outstanding.
func TestIOURingOff(t *testing.T) {
	if runtime.GOOS != "linux" {
		// The variable turns io_uring off; IOCP and the rest do not read it.
		t.Skipf("CLOSEMATRIX_IO_URING is io_uring's switch; %s has none", runtime.GOOS)
	}
	t.Setenv("CLOSEMATRIX_IO_URING", "off")
	before := probes.Outstanding()
	s, err := probeRecvErr()
	rec, _ := Run(scenario(t, "v4/close/own-pending-recv"), Config{Repeat: 1})
	if rec.Status != schema.StatusSkipped {
		t.Fatalf("status %s (%s), want skipped", rec.Status, rec.Reason)
	}
	if !strings.Contains(rec.Reason, s) {
		t.Errorf("reason %q does not carry the probe's %q", rec.Reason, s)
	}
	if err == nil || !errors.Is(err, probes.ErrAsyncUnavailable) && !errors.Is(err, probes.ErrUnsupported) {
		t.Errorf("StartRecv with CLOSEMATRIX_IO_URING=off: %v, want ErrAsyncUnavailable (or ErrUnsupported where there is no io_uring)", err)
	}
	if runtime.GOOS == "linux" && (!errors.Is(err, probes.ErrAsyncUnavailable) || !strings.Contains(rec.Reason, "CLOSEMATRIX_IO_URING=off")) {
		t.Errorf("Linux: reason %q, want the contract's ErrAsyncUnavailable naming CLOSEMATRIX_IO_URING=off", rec.Reason)
	}
	if got := probes.Outstanding(); got != before {
		t.Errorf("outstanding %d, want %d", got, before)
	}
}

// errStartRecvWorks is probeRecvErr's answer where StartRecv succeeded.
var errStartRecvWorks = errors.New("StartRecv succeeded")

// probeRecvErr asks a real socket for an asynchronous recv and returns the
// error's text and the error.
func probeRecvErr() (string, error) {
	ln, err := probes.Listen(probes.V4)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	s, err := probes.Dial(probes.V4, ln.Port())
	if err != nil {
		return "", err
	}
	defer s.Close()
	a, err := s.StartRecv(recvMax)
	if err == nil {
		a.Close()
		return "", errStartRecvWorks
	}
	return err.Error(), err
}

// TestEventLoopGoNetView: Go's net view has neither: events steps and
// pending scenarios are not in that view.
func TestEventLoopGoNetView(t *testing.T) {
	rec, _ := Run(scenario(t, "v4/close/idle"), Config{Repeat: 1, Transport: GoNet})
	if st := stepOf(rec, "peer.events"); !strings.Contains(st.Skipped, ErrNotInView.Error()) {
		t.Errorf("gonet peer.events = %+v, want skipped: not in this view", st)
	}
	rec, _ = Run(scenario(t, "v4/close/peer-pending-recv"), Config{Repeat: 1, Transport: GoNet})
	if rec.Status != schema.StatusSkipped || !strings.Contains(rec.Reason, ErrNotInView.Error()) {
		t.Errorf("gonet pending: %s (%s), want skipped: not in this view", rec.Status, rec.Reason)
	}
}

// canStartRecv reports whether probes' asynchronous recv works here, so that
// a test that allows the pending scenarios to be skipped allows it only where
// they must be.
func canStartRecv(t *testing.T) bool {
	t.Helper()
	text, err := probeRecvErr()
	if errors.Is(err, errStartRecvWorks) {
		return true
	}
	if errors.Is(err, probes.ErrUnsupported) || errors.Is(err, probes.ErrAsyncUnavailable) {
		t.Logf("asynchronous recv unavailable here: %s", text)
		return false
	}
	return true
}

// overstayRecv is an asynchronous recv whose Wait overstays its own bound
// and the harness's guard: it returns, done, a little after the guard gave
// up on it, while nothing orders that with the runner's goroutine (teardown
// then reaps its thread like any call's).
type overstayRecv struct{}

func (overstayRecv) Wait(bound time.Duration) probes.Completion {
	time.Sleep(bound + setupBound + 200*time.Millisecond) // the fake's overstay, not a wait for a signal
	return probes.Completion{API: "fake", Done: true, N: 1}
}
func (overstayRecv) Cancel() error { return nil }
func (overstayRecv) Close() error  { return nil }

// TestPendingWaitOverstays: a wait that does not return within its guard is a
// harness error, and the completion its thread delivers later is neither
// recorded nor read while that thread writes it (go test -race).
func TestPendingWaitOverstays(t *testing.T) {
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) { return overstayRecv{}, nil })
	rec, _ := Run(scenario(t, "v4/close/own-pending-recv"), Config{Repeat: 1, Bound: 20 * time.Millisecond})
	if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, "did not return") {
		t.Errorf("status %s (%s), want error naming the wait that did not return", rec.Status, rec.Reason)
	}
}

// TestOverstayingOpenLeaksNothing: a registration or a submission that
// returns only after its guard gave up is a harness error, and what it made
// then is closed, not left open behind the run.
func TestOverstayingOpenLeaksNothing(t *testing.T) {
	late := setupBound + 200*time.Millisecond // the fake's overstay, not a wait for a signal
	var watchClosed, recvClosed int
	withFakes(t, func(Endpoint) (readiness, error) {
		time.Sleep(late)
		return &fakeWatch{closed: &watchClosed}, nil
	}, nil)
	rec, _ := Run(scenario(t, "v4/close/idle"), Config{Repeat: 1})
	if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, "did not return") {
		t.Errorf("late registration: status %s (%s), want error naming the call that did not return", rec.Status, rec.Reason)
	}
	if watchClosed != 1 {
		t.Errorf("late registration: %d closed, want 1", watchClosed)
	}
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) {
		time.Sleep(late)
		return &fakeRecv{closed: &recvClosed}, nil
	})
	rec, _ = Run(scenario(t, "v4/close/own-pending-recv"), Config{Repeat: 1})
	if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, "did not return") {
		t.Errorf("late submission: status %s (%s), want error naming the call that did not return", rec.Status, rec.Reason)
	}
	if recvClosed != 1 {
		t.Errorf("late submission: %d closed, want 1", recvClosed)
	}
}

// TestPendingWaitFailed: a wait that failed (ppoll on the ring, the port's
// GetQueuedCompletionStatus) saw nothing: a harness error, not a blocked cell.
func TestPendingWaitFailed(t *testing.T) {
	closed := 0
	failed := errors.New("ppoll: EINVAL")
	withFakes(t, nil, func(Endpoint, int) (asyncOp, error) {
		return &fakeRecv{comp: probes.Completion{API: "fake", Err: failed}, closed: &closed}, nil
	})
	rec, _ := Run(scenario(t, "v4/shutdown-wr/own-pending-recv"), Config{Repeat: 1})
	if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, failed.Error()) {
		t.Errorf("status %s (%s), want error naming the failed wait", rec.Status, rec.Reason)
	}
}
