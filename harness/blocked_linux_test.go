package harness

import (
	"testing"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// TestBlockedBySignal: with a bound of 5 s, a recv that nothing will wake
// (Linux: close does not wake a recv blocked in another thread) is recorded
// blocked from signals in a fraction of it; a scenario with TCP timers of its
// own keeps the full bound.
func TestBlockedBySignal(t *testing.T) {
	var sc Scenario
	for _, s := range Catalogue() {
		if s.ID == "v4/close/own-blocked-recv" {
			sc = s
		}
	}
	rec, st := Run(sc, Config{Repeat: 1, Bound: 5 * time.Second})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("%s: %s %s", sc.ID, rec.Status, rec.Reason)
	}
	if got := rec.Steps[len(rec.Steps)-2]; got.Name != "actor.blocked-recv" || got.Outcome.Class != schema.ClassBlocked {
		t.Fatalf("%s: %s = %s, want blocked", sc.ID, got.Name, got.Outcome.Class)
	}
	if st.BoundWait != 0 || st.Wall > 2*time.Second {
		t.Errorf("%s: %v spent in bounds, %v in all: blocked was not concluded from signals", sc.ID, st.BoundWait, st.Wall)
	}
	t.Logf("%s: %v wall, %v on signals, %v on bounds", sc.ID, st.Wall, st.SignalWait, st.BoundWait)

	p := &play{sc: sc}
	p.sc.Setup = append(p.sc.Setup, UserTimeout)
	if p.blockedBySignal() {
		t.Error("a scenario with a user timeout concludes blocked from signals")
	}
}
