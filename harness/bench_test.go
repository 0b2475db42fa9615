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
