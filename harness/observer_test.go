package harness

import (
	"errors"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/probes"
)

// callsOnly is a view whose endpoints implement only Endpoint's calls, as a
// runtime's agent does: no state, unread count, settle, poll or queues of
// their own. The runner must observe them from the system's table.
type callsOnly struct{}

type callsOnlyEnd struct{ s *probes.Socket }

func (e callsOnlyEnd) Send(b []byte) probes.Outcome           { return e.s.Send(b) }
func (e callsOnlyEnd) Recv(max int) probes.Outcome            { return e.s.Recv(max) }
func (e callsOnlyEnd) Shutdown(how probes.How) probes.Outcome { return e.s.Shutdown(how) }
func (e callsOnlyEnd) Close() probes.Outcome                  { return e.s.Close() }
func (e callsOnlyEnd) SetLinger(on bool, secs int) error      { return e.s.SetLinger(on, secs) }
func (e callsOnlyEnd) Conn() probes.Conn4                     { return e.s.Conn() }
func (e callsOnlyEnd) Closed() bool                           { return e.s.Closed() }

type callsOnlyListener struct{ *probes.Listener }

func (l callsOnlyListener) Accept() (Endpoint, error) {
	s, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return callsOnlyEnd{s}, nil
}

func (callsOnly) Name() string { return "calls-only" }
func (callsOnly) Listen(f probes.Family) (Listener, error) {
	l, err := probes.Listen(f)
	if err != nil {
		return nil, err
	}
	return callsOnlyListener{l}, nil
}
func (callsOnly) Dial(f probes.Family, port int) (Endpoint, error) {
	s, err := probes.Dial(f, port)
	if err != nil {
		return nil, err
	}
	return callsOnlyEnd{s}, nil
}

// TestTableObserver plays scenarios whose steps need states, unread counts
// and settling through endpoints that have none of their own, and requires
// what the raw view records for the same steps: the table, by 4-tuple, is
// the default observer a runtime view gets.
func TestTableObserver(t *testing.T) {
	if _, err := probes.LookupState(probes.Conn4{}); errors.Is(err, probes.ErrUnsupported) {
		t.Skip("no system TCP table here")
	}
	want := map[string]bool{"v4/close/orderly-release": true, "v4/close/unread-at-peer": true, "v4/close/unread-at-actor": true}
	if _, err := probes.ConnFlight(probes.Conn4{}); errors.Is(err, probes.ErrUnsupported) {
		// The table shows no queues here (Windows: GetTcpTable2 has none),
		// so the unread setups cannot be seen through it: a view without
		// its own Pending skips them with that reason.
		delete(want, "v4/close/unread-at-peer")
		delete(want, "v4/close/unread-at-actor")
	}
	played := 0
	for _, sc := range Catalogue() {
		if !want[sc.ID] {
			continue
		}
		played++
		raw, _ := Run(sc, Config{Repeat: 1})
		got, _ := Run(sc, Config{Repeat: 1, Transport: callsOnly{}})
		if got.Status != raw.Status {
			t.Fatalf("%s: status %s (%s), raw %s", sc.ID, got.Status, got.Reason, raw.Status)
		}
		rawBy := map[string]string{}
		for _, st := range raw.Steps {
			rawBy[st.Name] = st.Outcome.String()
		}
		states := 0
		for _, st := range got.Steps {
			switch {
			case st.Kind == "poll" || st.Kind == "events":
				if st.Skipped == "" {
					t.Errorf("%s %s: observed through a view that has no poll or registration: %s", sc.ID, st.Name, st.Outcome)
				}
			case st.Skipped != "":
				t.Errorf("%s %s: skipped: %s", sc.ID, st.Name, st.Skipped)
			case st.Kind == "state" && st.Outcome.String() == "none" && rawBy[st.Name] == "CLOSED":
				// An open raw socket reads CLOSED; the table cannot tell an
				// open runtime socket from a closed one, and says so.
				if !strings.Contains(st.Note, "not visible from here") {
					t.Errorf("%s %s: none without the note that says why: %q", sc.ID, st.Name, st.Note)
				}
			case st.Outcome.String() != rawBy[st.Name]:
				t.Errorf("%s %s: %s through the table, %s raw", sc.ID, st.Name, st.Outcome, rawBy[st.Name])
			}
			if st.Kind == "state" {
				states++
			}
		}
		if states == 0 {
			t.Errorf("%s: no state step compared", sc.ID)
		}
	}
	if played != len(want) {
		t.Fatalf("played %d of %d scenarios", played, len(want))
	}
}
