package harness

import (
	"sort"
	"testing"
	"time"
)

// BenchmarkCatalogue plays the whole catalogue with the default repeat and
// bound (slow scenarios once) and reports: the catalogue's wall time, the
// median and 95th percentile of a scenario's wall time, and the share of the
// time spent in deliberate waits — bounds that expired (blocked calls) and
// waits on a signal (thread asleep in a call, unacknowledged data, a state
// change) or the grace period that stands in for one. `make bench` runs it.
func BenchmarkCatalogue(b *testing.B) {
	for b.Loop() {
		var total Stats
		var walls []time.Duration
		start := time.Now()
		for _, sc := range Catalogue() {
			_, st := Run(sc, Config{Repeat: DefaultRepeat})
			total.Add(st)
			walls = append(walls, st.Wall)
		}
		wall := time.Since(start)
		sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
		pct := func(p float64) float64 { return walls[int(p*float64(len(walls)-1))].Seconds() * 1000 }
		b.ReportMetric(wall.Seconds(), "catalogue-s")
		b.ReportMetric(float64(len(walls)), "scenarios")
		b.ReportMetric(pct(0.5), "scenario-p50-ms")
		b.ReportMetric(pct(0.95), "scenario-p95-ms")
		b.ReportMetric(100*float64(total.BoundWait)/float64(total.Wall), "bound-wait-%")
		b.ReportMetric(100*float64(total.SignalWait)/float64(total.Wall), "signal-wait-%")
	}
}
