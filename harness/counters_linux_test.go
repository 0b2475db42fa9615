package harness

import (
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
func TestCountersAgreeWithCapture(t *testing.T) {
	compared := 0
	for _, sc := range Catalogue() {
		if !sc.hasOp(RstsSent) || !sc.hasOp(Wire) {
			continue
		}
		rec, _ := Run(sc, Config{Repeat: 1})
		if rec.Status == schema.StatusSkipped {
			t.Skipf("%s: %s", sc.ID, rec.Reason) // no capture privilege, no ::1
		}
		if rec.Status != schema.StatusObserved {
			t.Fatalf("%s: %s: %s", sc.ID, rec.Status, rec.Reason)
		}
		rsts, counted, captured := 0, -1, 0
		for _, st := range rec.Steps {
			switch {
			case st.Skipped != "":
				continue
			case st.Kind == schema.KindWire:
				captured++
				for _, seg := range st.Segments {
					if strings.Contains("+"+seg.Flags+"+", "+RST+") {
						rsts++
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
		if captured != 2 || counted < 0 {
			t.Errorf("%s: %d wire steps and counter %d observed; want both wire steps and the counter", sc.ID, captured, counted)
			continue
		}
		compared++
		if counted != rsts {
			t.Errorf("%s: the counter says %d RSTs sent, the capture saw %d", sc.ID, counted, rsts)
		}
	}
	if compared == 0 {
		t.Fatal("no wired scenario compared")
	}
	t.Logf("%d wired scenarios: counter and capture agree", compared)
}
