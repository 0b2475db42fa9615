package probes

import (
	"errors"
	"testing"
)

// TestStateFreeBSD checks TCP_INFO and net.inet.tcp.pcblist against a
// loopback connection: both ends ESTABLISHED; after the client's close, the
// server in CLOSE_WAIT (TCP_INFO) and the client, which has no socket left,
// in FIN_WAIT_2 (pcblist), as RFC 793 §3.5 has it for a close acknowledged
// by a peer that has not closed.
func TestStateFreeBSD(t *testing.T) {
	for _, f := range []Family{V4, V6} {
		t.Run(string(f), func(t *testing.T) {
			l, c, a := statePair(t, f)
			defer l.Close()
			defer a.Close()

			for name, s := range map[string]*Socket{"client": c, "server": a} {
				if st, err := s.State(); err != nil || st != StateEstablished {
					t.Errorf("%s State() = %q, %v; want %s", name, st, err, StateEstablished)
				}
				st, err := LookupState(s.Conn())
				if errors.Is(err, ErrStateUnavailable) {
					t.Skipf("pcblist: %v", err)
				}
				if err != nil || st != StateEstablished {
					t.Errorf("%s LookupState(%v) = %q, %v; want %s", name, s.Conn(), st, err, StateEstablished)
				}
			}

			c.Close()
			waitState(t, "server", a, StateCloseWait)
			waitState(t, "client (closed)", c, StateFinWait2)
		})
	}
}

// TestThreadIDFreeBSD: thr_self(2) gives a thread id, distinct from the
// process id (FreeBSD thread ids start above PID_MAX).
func TestThreadIDFreeBSD(t *testing.T) {
	if id := threadID(); id <= 0 {
		t.Errorf("threadID() = %d", id)
	}
}
