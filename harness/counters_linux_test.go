package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// TestCountersAgreeWithCapture: on Linux both kinds of RST evidence exist
// (closematrix issue 21.6). For every wired scenario, played alone, the
// growth of the system's RSTs-sent counter (tcp.rsts-sent, /proc/net/snmp
// OutRsts) must equal the RST segments the capture saw either end send
// (wire.actor, wire.peer, pure ACKs included in segments).
//
// The counters are system-wide, so nothing else on the machine may send an
// RST meanwhile: go test ./... runs other packages' tests (which play
// scenarios too) at the same time. It runs where it is asked for alone,
// CLOSEMATRIX_COUNTERS_ALONE=1 (make check-counters, part of make test).
func TestCountersAgreeWithCapture(t *testing.T) {
	if os.Getenv("CLOSEMATRIX_COUNTERS_ALONE") != "1" {
		t.Skip("run alone: make check-counters (CLOSEMATRIX_COUNTERS_ALONE=1); other packages' tests send RSTs meanwhile")
	}
	compared := 0
	for _, sc := range Catalogue() {
		if !sc.hasOp(RstsSent) || !sc.hasOp(Wire) {
			continue
		}
		// A disagreement must last: RSTs that something else on the
		// machine sent during one play (the counters are system-wide) do
		// not come back in the next, a real difference does.
		var why string
		for try := 0; try < 3; try++ {
			counted, captured, skip := countersAndCapture(t, sc)
			if skip {
				return
			}
			if why = ""; counted != captured {
				why = fmt.Sprintf("the counter says %d RSTs sent, the capture saw %d", counted, captured)
				continue
			}
			break
		}
		if why != "" {
			t.Errorf("%s, in each of 3 plays: %s", sc.ID, why)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no wired scenario compared")
	}
	t.Logf("%d wired scenarios compared", compared)
}

// countersAndCapture plays sc once: the counter's delta and the RSTs the
// capture saw either end send. skip is set (and the test skipped) where the
// scenario cannot be played here.
func countersAndCapture(t *testing.T, sc Scenario) (counted, captured int, skip bool) {
	rec, _ := Run(sc, Config{Repeat: 1})
	if rec.Status == schema.StatusSkipped {
		t.Skipf("%s: %s", sc.ID, rec.Reason) // no capture privilege, no ::1
		return 0, 0, true
	}
	if rec.Status != schema.StatusObserved {
		t.Fatalf("%s: %s: %s", sc.ID, rec.Status, rec.Reason)
	}
	counted, wires := -1, 0
	for _, st := range rec.Steps {
		switch {
		case st.Skipped != "":
			continue
		case st.Kind == schema.KindWire:
			wires++
			for _, seg := range st.Segments {
				if strings.Contains("+"+seg.Flags+"+", "+RST+") {
					captured++
				}
			}
		case st.Kind == schema.KindCounter:
			n, err := strconv.Atoi(string(st.Outcome.Class))
			if err != nil {
				t.Fatalf("%s: tcp.rsts-sent %q is not a count", sc.ID, st.Outcome.Class)
			}
			counted = n
		}
	}
	if wires != 2 || counted < 0 {
		t.Fatalf("%s: %d wire steps and counter %d observed; want both wire steps and the counter", sc.ID, wires, counted)
	}
	return counted, captured, false
}
