package harness

import (
	"fmt"
	"testing"
	"time"
)

// groups are Scenario.Group's values, in the order `make bench` prints them.
var groups = []string{"core", "sequences", "senders", "listeners", "processes", "network", "wire", "event loops"}

// BenchmarkCatalogue plays the whole catalogue through RunAll with the default
// repeat, bound and pool (slow scenarios once) and reports: the catalogue's
// wall time and the share of the scenarios' summed time spent in deliberate waits —
// bounds that expired (blocked calls), waits on a signal (thread asleep in a
// call, unacknowledged data, a state change, a call concluded blocked) or
// the grace period that stands in for one, and TCP's own timers (linger,
// user timeout). It then plays each group of the catalogue (Scenario.Group)
// on its own and prints the same per group, so the next person sees where
// time goes. `make bench` runs it.
func BenchmarkCatalogue(b *testing.B) {
	for b.Loop() {
		cfg := Config{Repeat: DefaultRepeat}
		start := time.Now()
		_, total := RunAll(Catalogue(), cfg, RunOptions{})
		wall := time.Since(start)
		fmt.Printf("catalogue          %3d scenarios %7.0f ms wall %7.0f ms summed: bounds %4.1f%%  signals %4.1f%%  TCP timers %4.1f%%  (%d workers)\n",
			len(Catalogue()), ms(wall), ms(total.Wall), share(total.BoundWait, total.Wall), share(total.SignalWait, total.Wall), share(total.TimerWait, total.Wall), DefaultWorkers())
		for _, g := range groups {
			var scs []Scenario
			for _, sc := range Catalogue() {
				if sc.Group() == g {
					scs = append(scs, sc)
				}
			}
			if len(scs) == 0 {
				fmt.Printf("group %-12s %3d scenarios\n", g, 0)
				continue
			}
			start := time.Now()
			_, st := RunAll(scs, cfg, RunOptions{})
			gw := time.Since(start)
			fmt.Printf("group %-12s %3d scenarios %7.0f ms wall %7.0f ms summed: bounds %4.1f%%  signals %4.1f%%  TCP timers %4.1f%%\n",
				g, len(scs), ms(gw), ms(st.Wall), share(st.BoundWait, st.Wall), share(st.SignalWait, st.Wall), share(st.TimerWait, st.Wall))
		}
		b.ReportMetric(wall.Seconds(), "catalogue-s")
		b.ReportMetric(float64(len(Catalogue())), "scenarios")
		b.ReportMetric(share(total.BoundWait, total.Wall), "bound-wait-%")
		b.ReportMetric(share(total.SignalWait, total.Wall), "signal-wait-%")
		b.ReportMetric(share(total.TimerWait, total.Wall), "timer-wait-%")
	}
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func share(part, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// BenchmarkViews plays the whole catalogue through the raw view and each
// other view whose runtime is here (issue 18.7: a runtime view within twice
// the raw view's wall time), one after the other, and prints each wall time
// with its ratio to raw's. A view that cannot start (its runtime is not on
// PATH) says so. `make bench` runs it.
func BenchmarkViews(b *testing.B) {
	for b.Loop() {
		var raw time.Duration
		for _, v := range []string{"raw", "gonet", "python", "asyncio", "node", "java", "rust"} {
			t, err := TransportByName(v)
			if err != nil {
				fmt.Printf("view %-8s %v\n", v, err)
				continue
			}
			if r, ok := t.(RuntimeNamer); ok && v != "gonet" && r.Runtime() == "" {
				fmt.Printf("view %-8s not here: its agent did not start (runtime not on PATH?)\n", v)
				continue
			}
			start := time.Now()
			recs, _ := RunAll(Catalogue(), Config{Repeat: DefaultRepeat, Transport: t}, RunOptions{})
			wall := time.Since(start)
			if v == "raw" {
				raw = wall
			}
			observed := 0
			for _, r := range recs {
				if r.Status == "observed" {
					observed++
				}
			}
			fmt.Printf("view %-8s %3d scenarios (%3d observed) %7.0f ms wall  %4.2f× raw\n", v, len(recs), observed, ms(wall), wall.Seconds()/raw.Seconds())
			b.ReportMetric(wall.Seconds(), v+"-s")
		}
	}
}
