package harness

import (
	"slices"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// TestRunAll: records come back in the order given, whatever order the pool
// finished them in, and Progress counts every scenario once, one call at a
// time.
func TestRunAll(t *testing.T) {
	var scs []Scenario
	for _, sc := range Catalogue() {
		if sc.Core && len(scs) < 8 || sc.Alone() {
			scs = append(scs, sc)
		}
	}
	slices.Reverse(scs)
	var seen []int
	recs, stats := RunAll(scs, Config{Repeat: 1}, RunOptions{Workers: 4, Progress: func(done, total int, sc Scenario, rec schema.Scenario) {
		if total != len(scs) || rec.ID != sc.ID {
			t.Errorf("progress %d/%d: %s for %s", done, total, rec.ID, sc.ID)
		}
		seen = append(seen, done)
	}})
	if len(recs) != len(scs) {
		t.Fatalf("%d records for %d scenarios", len(recs), len(scs))
	}
	for i, rec := range recs {
		if rec.ID != scs[i].ID || rec.Status != schema.StatusObserved {
			t.Errorf("record %d: %s %s (%s), want %s observed", i, rec.ID, rec.Status, rec.Reason, scs[i].ID)
		}
	}
	for i, d := range seen {
		if d != i+1 {
			t.Fatalf("progress counted %v", seen)
		}
	}
	if len(seen) != len(scs) || stats.Wall <= 0 {
		t.Errorf("progress %d times, summed wall %v", len(seen), stats.Wall)
	}
}

// TestAloneAndGroup: only a scenario that calls a socket after closing it,
// or reads the system's counters, needs the process to itself, and every scenario falls in a bench group.
func TestAloneAndGroup(t *testing.T) {
	for _, sc := range Catalogue() {
		// Use after close, and the system-wide counter steps.
		want := sc.Condition == "then-use" || sc.hasOp(RstsSent)
		if sc.Alone() != want {
			t.Errorf("%s: Alone() = %v, want %v", sc.ID, sc.Alone(), want)
		}
		if !slices.Contains(groups, sc.Group()) {
			t.Errorf("%s: group %q is not one of %v", sc.ID, sc.Group(), groups)
		}
	}
	if DefaultWorkers() < 1 {
		t.Errorf("DefaultWorkers() = %d", DefaultWorkers())
	}
}
