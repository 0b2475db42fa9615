package matrix

import (
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// counterStep is a tcp.rsts-sent step as the harness writes it: kind
// counter, the delta in decimal, the readings typed.
func counterStep(delta string) schema.Step {
	var n int64
	for _, r := range delta {
		n = n*10 + int64(r-'0')
	}
	return schema.Step{Name: CounterStep, Kind: schema.KindCounter, Outcome: schema.Outcome{Class: schema.Class(delta)},
		Counters: &schema.Counters{Source: "/proc/net/snmp Tcp OutRsts", RstsSent: n}}
}

func wireStep(class string, segs ...schema.Segment) schema.Step {
	return schema.Step{Name: "wire.actor", Kind: schema.KindWire, Outcome: schema.Outcome{Class: schema.Class(class)}, Segments: segs}
}

func noCapture() schema.Step {
	return schema.Step{Name: "wire.actor", Kind: schema.KindWire, Skipped: "the wire capture uses Linux's AF_PACKET or a BSD's BPF device"}
}

// claim7Files are result files for claim 7 (closesocket with a recv blocked
// on another thread sends RST) with the evidence each platform may have:
// the capture only, the counter only (an RST, or none), both, neither.
func claim7Files() []*schema.File {
	reset := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)
	reset.Kind = schema.KindCall
	scen := func(wire ...schema.Step) []schema.Scenario {
		var out []schema.Scenario
		for _, fam := range []string{"v4", "v6"} {
			out = append(out, observed(fam+"/close/own-blocked-recv", reset), observed(fam+"/close/own-blocked-recv-wire", wire...))
		}
		return out
	}
	rst := schema.Segment{Seq: 0, Flags: "RST+ACK"}
	return []*schema.File{
		file("wire-only", "darwin", scen(wireStep("RST", rst))...),
		file("counter-only", "windows", scen(noCapture(), counterStep("1"))...),
		file("counter-zero", "windows", scen(noCapture(), counterStep("0"))...),
		file("both", "linux", scen(wireStep("RST", rst), counterStep("1"))...),
		file("neither", "freebsd", scen(noCapture())...),
	}
}

// TestClaimByCounter: a claim that hinges on an RST leaving is decided from
// the capture where one ran and from the RSTs-sent counter where none did,
// and each piece of evidence says which decided it.
func TestClaimByCounter(t *testing.T) {
	m := mustMerge(t, claim7Files()...)
	cr := claimByID(t, m, 7)
	want := map[string]struct {
		v  Verdict
		by string
	}{
		"wire-only":    {Holds, ByWire},
		"counter-only": {Holds, ByCounter},
		"counter-zero": {DoesNotHold, ByCounter},
		"both":         {Holds, ByWire},
		"neither":      {Unknown, ""},
	}
	for _, pv := range cr.Verdicts {
		w := want[pv.Platform]
		if pv.Verdict != w.v {
			t.Errorf("%s: %s, want %s (%s)", pv.Platform, pv.Verdict, w.v, pv.verdictDetail())
		}
		var by []string
		for _, e := range pv.Evidence {
			if e.By != "" {
				by = append(by, e.By)
			}
		}
		if w.by == "" {
			if len(by) != 0 {
				t.Errorf("%s: evidence by %v, want none", pv.Platform, by)
			}
			if len(pv.Needs) == 0 || !strings.Contains(pv.Needs[0], "no tcp.rsts-sent counter either") {
				t.Errorf("%s: needs %q, want it to say no counter stood in", pv.Platform, pv.Needs)
			}
			continue
		}
		if len(by) != 2 || by[0] != w.by || by[1] != w.by {
			t.Errorf("%s: the wire check was decided by %v, want %s in both families", pv.Platform, by, w.by)
		}
		if w.by == ByCounter {
			for _, e := range pv.Evidence {
				if e.By == ByCounter && (e.Step != CounterStep || !strings.Contains(e.String(), "decided by the counter") || !strings.Contains(e.Why, "either end")) {
					t.Errorf("%s: counter evidence %q does not say what decided it", pv.Platform, e)
				}
			}
		}
	}
}

// TestClaimCounterTwin: the counter of the plain twin stands in when the
// -wire scenario did not run at all; a counter that varied decides only if
// every variant agrees; FIN checks and claim 14 never fall back to it.
func TestClaimCounterTwin(t *testing.T) {
	twin := func(c schema.Step) *schema.File {
		return file("twin", "windows",
			observed("v4/close/own-blocked-recv", step("peer.recv", schema.ClassReset, 0, "WSAECONNRESET", 10054), c))
	}
	ch := check("close/own-blocked-recv-wire", "wire.actor", HasSegment("RST"))
	col := &mustMerge(t, twin(counterStep("2"))).Columns[0]
	st, ev, _ := col.evalCheck(ch)
	if st != statePass || len(ev) != 1 || ev[0].Scenario != "v4/close/own-blocked-recv" || ev[0].By != ByCounter {
		t.Errorf("twin's counter: state %v, evidence %+v", st, ev)
	}
	varied := counterStep("1")
	varied.Variants = []schema.Variant{{Outcome: schema.Outcome{Class: "1"}, Count: 2}, {Outcome: schema.Outcome{Class: "0"}, Count: 1}}
	col = &mustMerge(t, twin(varied)).Columns[0]
	if st, ev, _ := col.evalCheck(ch); st != stateFail || len(ev) != 1 || !strings.HasPrefix(ev[0].Why, "varies") {
		t.Errorf("a counter that varied: state %v, evidence %+v", st, ev)
	}
	// No RST wanted: 0 passes.
	col = &mustMerge(t, twin(counterStep("0"))).Columns[0]
	if st, _, _ := col.evalCheck(check("close/own-blocked-recv-wire", "wire.actor", NoSegment("RST"))); st != statePass {
		t.Errorf("no RST wanted, counter 0: state %v", st)
	}
	for _, c := range []Check{
		check("close/own-blocked-recv-wire", "wire.actor", NoSegment("FIN")),
		check("close/own-blocked-recv-wire", "wire.peer", ThreeSegments()),
	} {
		if st, ev, why := col.evalCheck(c); st != stateMissing || len(ev) != 0 || why == "" {
			t.Errorf("%s %s: state %v, evidence %+v, why %q: the counter must not decide it", c.Step, c.Want, st, ev, why)
		}
	}
}

// TestCounterCell: a counter step is an observation whose class is the
// delta, typed detail kept.
func TestCounterCell(t *testing.T) {
	st := counterStep("1")
	c := stepCell(&st)
	if !c.Observation || c.Counters == nil || c.Counters.RstsSent != 1 || c.Text() != "1" || c.Kind != schema.KindCounter {
		t.Errorf("counter cell %+v (%q)", c, c.Text())
	}
}

// TestValidateCounters: a counter step's class is a decimal delta that its
// typed detail repeats; no other kind carries counters.
func TestValidateCounters(t *testing.T) {
	ok := counterStep("2")
	bad := []schema.Step{
		{Name: CounterStep, Kind: schema.KindCounter, Outcome: schema.Outcome{Class: "reset"}},
		{Name: CounterStep, Kind: schema.KindCounter, Outcome: schema.Outcome{Class: "-1"}},
		{Name: CounterStep, Kind: schema.KindCounter, Outcome: schema.Outcome{Class: "2"}, Counters: &schema.Counters{Source: "s", RstsSent: 3}},
		{Name: "peer.recv", Kind: schema.KindCall, Outcome: schema.Outcome{Class: schema.ClassEOF}, Counters: &schema.Counters{}},
	}
	if err := validate(file("p", "linux", observed("v4/close/idle", ok))); err != nil {
		t.Errorf("a good counter step: %v", err)
	}
	for _, st := range bad {
		if err := validate(file("p", "linux", observed("v4/close/idle", st))); err == nil {
			t.Errorf("accepted %+v", st)
		}
	}
	for _, f := range claim7Files() {
		if err := validate(f); err != nil {
			t.Errorf("%s: %v", f.Platform.Label, err)
		}
	}
}

// TestCounterJSON: a counter cell's typed readings reach the JSON matrix.
func TestCounterJSON(t *testing.T) {
	m := mustMerge(t, claim7Files()...)
	var b strings.Builder
	if err := WriteJSON(&b, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"counters": {`) || !strings.Contains(b.String(), `"rsts_sent": 1`) {
		t.Error("the JSON matrix has no counters detail")
	}
}

// TestCounterHint: a verdict the counter helped decide says so in its
// one-line hint.
func TestCounterHint(t *testing.T) {
	for _, pv := range claimByID(t, mustMerge(t, claim7Files()...), 7).Verdicts {
		h := pv.hint()
		if got, want := strings.Contains(h, "from the counter"), pv.Platform == "counter-only"; got != want {
			t.Errorf("%s: hint %q", pv.Platform, h)
		}
	}
}
