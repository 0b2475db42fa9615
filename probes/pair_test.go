package probes

import (
	"errors"
	"testing"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// pair connects a client to l and accepts it: the package's one pair
// builder (statePair and loopPair build on it). The connect completes from
// the backlog, so accept then returns at once.
func pair(t *testing.T, l *Listener) (client, server *Socket) {
	t.Helper()
	c, err := Dial(l.Family(), l.Port())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s, err := l.Accept()
	if err != nil {
		c.Close()
		t.Fatalf("Accept: %v", err)
	}
	return c, s
}

// listen listens in family f, skipping the test where f cannot bind here
// or the platform has no socket probes.
func listen(t *testing.T, f Family) *Listener {
	t.Helper()
	l, err := Listen(f)
	if errors.Is(err, ErrFamilyUnavailable) || errors.Is(err, ErrUnsupported) {
		t.Skipf("%s: %v", f, err)
	}
	if err != nil {
		t.Fatalf("Listen(%s): %v", f, err)
	}
	return l
}

// statePair is a pair on a listener of its own in family f, skipping the
// test where f cannot bind here.
func statePair(t *testing.T, f Family) (l *Listener, client, server *Socket) {
	t.Helper()
	l = listen(t, f)
	defer func() {
		if client == nil {
			l.Close() // pair failed the test
		}
	}()
	client, server = pair(t, l)
	return l, client, server
}

// loopPair is statePair with every socket closed at the end (the ones
// still open with linger 0, so no TIME_WAIT piles up).
func loopPair(t *testing.T, f Family) (client, server *Socket) {
	t.Helper()
	l, c, s := statePair(t, f)
	l.Close()
	t.Cleanup(func() {
		for _, x := range []*Socket{c, s} {
			if !x.Closed() {
				x.SetLinger(true, 0)
				x.Close()
			}
		}
	})
	return c, s
}

// waitReadable polls the socket (poll(2), WSAPoll) until it shows more than
// POLLOUT, that is readable, hung up or in error (a segment crossed
// loopback), and returns what it showed; it fails the test after bound, as
// a Recv that follows would block.
func waitReadable(t *testing.T, s *Socket, bound time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ev, err := s.Poll()
		if err == nil && ev != PollOut && ev != PollNone {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("not readable after %v: %s %v", bound, ev, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// waitState polls State until it is want, for up to 2 s: the FIN and its ACK
// cross loopback asynchronously. (On darwin, a "none" for a closed client
// would mean pcblist_n does not list this process's orphaned connection:
// macOS 27 is reported to filter it for unprivileged callers.)
func waitState(t *testing.T, name string, s *Socket, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := s.State()
		if err == nil && st == want {
			t.Logf("%s State() = %s", name, st)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s State() = %q, %v after 2s; want %s", name, st, err, want)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStatePair: a live pair reports ESTABLISHED on both ends, and the
// server CLOSE_WAIT once the client has closed.
func TestStatePair(t *testing.T) {
	l, c, s := statePair(t, V4)
	defer l.Close()
	waitState(t, "client", c, StateEstablished)
	waitState(t, "server", s, StateEstablished)
	c.Close()
	waitState(t, "server", s, StateCloseWait)
	s.SetLinger(true, 0)
	s.Close()
}

// expect fails the test unless got has class and byte count n.
func expect(t *testing.T, step string, got Outcome, class schema.Class, n int) {
	t.Helper()
	if got.Class != class || got.N != n {
		t.Errorf("%s = %v; want %s (n=%d)", step, got, class, n)
	}
}

// expectErr fails the test unless got is exactly that error outcome.
func expectErr(t *testing.T, step string, got Outcome, class schema.Class, name string, code int) {
	t.Helper()
	want := Outcome{Class: class, Errno: name, Code: code}
	if got != want {
		t.Errorf("%s = %v; want %v", step, got, want)
	}
}
