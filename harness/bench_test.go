package harness

import "testing"

// BenchmarkCatalogue plays the whole core catalogue with the default repeat
// and bound, and reports which share of the time went into deliberate waits:
// bounds that expired (blocked calls) and signal waits.
func BenchmarkCatalogue(b *testing.B) {
	for b.Loop() {
		var st Stats
		for _, sc := range Catalogue() {
			_, s := Run(sc, Config{Repeat: DefaultRepeat})
			st.Add(s)
		}
		b.ReportMetric(100*float64(st.BoundWait)/float64(st.Wall), "bound-wait-%")
		b.ReportMetric(100*float64(st.SignalWait)/float64(st.Wall), "signal-wait-%")
	}
}
