package harness

import (
	"testing"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// TestCallThatNeverReturns proves the runner stays bounded when a call never
// returns, not even after teardown: await records blocked at its bound and
// reap gives up at its own, naming the call.
func TestCallThatNeverReturns(t *testing.T) {
	forever := make(chan struct{})
	defer close(forever) // let the goroutine go once the test is over
	c := startCall(Peer, Recv, "peer.recv", func() probes.Outcome { <-forever; return probes.Outcome{} })
	start := time.Now()
	o, ok := c.await(20 * time.Millisecond)
	if ok || o.Class != schema.ClassBlocked {
		t.Fatalf("await = %v, %v; want blocked", o, ok)
	}
	if err := reap([]*call{c}, 30*time.Millisecond); err == nil {
		t.Fatal("reap reported success for a call that never returned")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v: not bounded", d)
	}
}

// TestBlockedScenarioBounded plays the scenario whose call never returns by
// itself on Linux (close does not wake a recv blocked in another thread) and
// checks it finishes in bounded time, recorded and freed.
func TestBlockedScenarioBounded(t *testing.T) {
	var sc Scenario
	for _, s := range Catalogue() {
		if s.ID == "v4/close/own-blocked-recv" {
			sc = s
		}
	}
	bound := 50 * time.Millisecond
	start := time.Now()
	rec, _ := Run(sc, Config{Repeat: 1, Bound: bound})
	if rec.Status != schema.StatusObserved {
		t.Fatalf("%s: %s", rec.Status, rec.Reason)
	}
	// Each step may spend one bound; the main run and the isolated one may
	// each spend a setup bound besides (slow systems: Wine). A hang would
	// take forever, or at least the teardown bound of every stuck call.
	if d := time.Since(start); d > 2*(time.Duration(len(sc.Steps))*bound+setupBound) {
		t.Errorf("scenario took %v with bound %v", d, bound)
	}
}

func TestAggregate(t *testing.T) {
	sc := Scenario{Steps: mustSteps("peer.recv peer.send")}
	eof := probes.Outcome{Class: schema.ClassEOF}
	reset := probes.Outcome{Class: schema.ClassReset, Errno: "ECONNRESET", Code: 104}
	ok := probes.Outcome{Class: schema.ClassOK, N: 32}
	steps := aggregate(sc, [][]observation{
		{{outcome: reset}, {outcome: ok}},
		{{outcome: eof}, {outcome: ok}},
		{{outcome: eof}, {outcome: ok}},
	})
	if steps[0].Outcome != eof || len(steps[0].Variants) != 2 ||
		steps[0].Variants[0].Outcome != reset || steps[0].Variants[0].Count != 1 || steps[0].Variants[1].Count != 2 {
		t.Errorf("unstable step: %+v", steps[0])
	}
	if steps[1].Outcome != ok || len(steps[1].Variants) != 0 {
		t.Errorf("stable step: %+v", steps[1])
	}
}
