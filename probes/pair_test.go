package probes

import (
	"errors"
	"testing"
	"time"
)

// statePair connects a client to a listener in family f and accepts it,
// skipping the test where f cannot bind here.
func statePair(t *testing.T, f Family) (l *Listener, client, server *Socket) {
	t.Helper()
	l, err := Listen(f)
	if errors.Is(err, ErrFamilyUnavailable) {
		t.Skipf("%s: %v", f, err)
	}
	if err != nil {
		t.Fatalf("Listen(%s): %v", f, err)
	}
	c, err := Dial(f, l.Port())
	if err != nil {
		l.Close()
		t.Fatalf("Dial: %v", err)
	}
	s, err := l.Accept()
	if err != nil {
		c.Close()
		l.Close()
		t.Fatalf("Accept: %v", err)
	}
	return l, c, s
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
