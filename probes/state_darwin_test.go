package probes

import (
	"errors"
	"testing"
)

func TestXNUStates(t *testing.T) {
	// bsd/netinet/tcp_fsm.h, TCPS_*.
	for n, want := range []string{
		StateClosed, StateListen, StateSynSent, StateSynReceived, StateEstablished,
		StateCloseWait, StateFinWait1, StateClosing, StateLastAck, StateFinWait2, StateTimeWait,
	} {
		if got := stateName(int32(n)); got != want {
			t.Errorf("stateName(%d) = %s, want %s", n, got, want)
		}
	}
	if got := stateName(11); got != "STATE_11" {
		t.Errorf("stateName(11) = %s, want STATE_11", got)
	}
}

// TestStateDarwin checks TCP_CONNECTION_INFO and pcblist_n against a loopback
// connection: both ends ESTABLISHED; after the client's close, the server in
// CLOSE_WAIT (TCP_CONNECTION_INFO) and the client, which has no socket left,
// in FIN_WAIT_2 (pcblist_n), as RFC 793 §3.5 has it for a close acknowledged
// by a peer that has not closed.
func TestStateDarwin(t *testing.T) {
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
					t.Skipf("pcblist_n: %v", err)
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
