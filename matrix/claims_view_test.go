package matrix

import (
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// viewFile is one Linux column of a view with the cells claims 15–17 read,
// shaped as the runs here recorded them (raw, asyncio, node).
func viewFile(view string, sc ...schema.Scenario) *schema.File {
	label := "linux-amd64"
	if view != schema.ViewRaw {
		label += "-" + view
	}
	return withView(arch(file(label, "linux", sc...), "amd64"), view)
}

// both puts a scenario's steps under v4 and v6.
func both(id string, steps ...schema.Step) []schema.Scenario {
	return []schema.Scenario{observed("v4/"+id, steps...), observed("v6/"+id, steps...)}
}

func state(name, s string) schema.Step {
	return schema.Step{Name: name, Kind: schema.KindState, Outcome: schema.Outcome{Class: schema.Class(s)}}
}

func skippedScenario(id, reason string) []schema.Scenario {
	return []schema.Scenario{{ID: "v4/" + id, Status: schema.StatusSkipped, Reason: reason},
		{ID: "v6/" + id, Status: schema.StatusSkipped, Reason: reason}}
}

// TestClaimsPerView evaluates claims 15, 16 and 17 per view on cells shaped
// like this machine's runs: raw Linux delivers the data and then the reset,
// node reports the RST as end of stream; asyncio's abort sends a FIN, node's
// an RST; a raw close with a recv blocked sends nothing, the event loops'
// closes send a FIN. Claims about an asynchronous recv are n/a outside the
// raw view, not unknown.
func TestClaimsPerView(t *testing.T) {
	data := step("peer.recv", schema.ClassData, 1024, "", 0)
	reset2 := step("peer.recv#2", schema.ClassReset, 0, "ECONNRESET", 104)
	eof2 := step("peer.recv#2", schema.ClassEOF, 0, "", 0)
	add := func(s ...[]schema.Scenario) []schema.Scenario {
		var out []schema.Scenario
		for _, x := range s {
			out = append(out, x...)
		}
		return out
	}
	noAsync := skippedScenario("close/own-pending-recv", "posture own-pending-recv: not in this view")
	raw := viewFile(schema.ViewRaw, add(
		both("abort/unread-at-peer", state("peer.state", "CLOSED"), data, reset2),
		both("close/unread-at-both", data, reset2),
		both("abort/idle", step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)),
		both("abort/idle-wire", wireStep("RST")),
		both("close/own-blocked-recv", step("peer.recv", schema.ClassBlocked, 0, "", 0)),
		both("close/own-blocked-recv-wire", wireStep("none")),
		both("close/own-pending-recv", step("peer.recv", schema.ClassBlocked, 0, "", 0),
			schema.Step{Name: "actor.pending-recv", Kind: schema.KindCompletion, Outcome: schema.Outcome{Class: schema.ClassBlocked}}),
		both("close/own-pending-recv-wire", wireStep("none")),
	)...)
	asyncio := viewFile("asyncio", add(
		both("abort/unread-at-peer", state("peer.state", "CLOSE_WAIT"), data, eof2),
		both("close/unread-at-both", data, reset2),
		both("abort/idle", step("peer.recv", schema.ClassEOF, 0, "eof_received", 0)),
		both("abort/idle-wire", wireStep("FIN")),
		both("close/own-blocked-recv", step("peer.recv", schema.ClassEOF, 0, "eof_received", 0)),
		both("close/own-blocked-recv-wire", wireStep("FIN")),
		noAsync,
	)...)
	node := viewFile("node", add(
		both("abort/unread-at-peer", state("peer.state", "CLOSED"), data, eof2),
		both("close/unread-at-both", data, eof2),
		both("abort/idle", step("peer.recv", schema.ClassReset, 0, "'error' ECONNRESET", 104)),
		both("abort/idle-wire", wireStep("RST")),
		both("close/own-blocked-recv", step("peer.recv", schema.ClassEOF, 0, "'end'", 0)),
		both("close/own-blocked-recv-wire", wireStep("FIN")),
		noAsync,
	)...)
	m := mustMerge(t, raw, asyncio, node)
	want := map[int]map[string]Verdict{
		15: {"linux-amd64": Holds, "linux-amd64-asyncio": Holds, "linux-amd64-node": DoesNotHold},
		16: {"linux-amd64": Holds, "linux-amd64-asyncio": DoesNotHold, "linux-amd64-node": Holds},
		17: {"linux-amd64": DoesNotHold, "linux-amd64-asyncio": Holds, "linux-amd64-node": Holds},
		12: {"linux-amd64-asyncio": NotApplicable, "linux-amd64-node": NotApplicable},
	}
	for id, byLabel := range want {
		cr := claimByID(t, m, id)
		for _, pv := range cr.Verdicts {
			w, ok := byLabel[pv.Platform]
			if !ok {
				continue
			}
			if pv.Verdict != w {
				t.Errorf("claim %d on %s (%s view): %s, want %s\n%s", id, pv.Platform, pv.View, pv.Verdict, w, pv.verdictDetail())
			}
		}
	}
	// asyncio's abort sent a FIN: claim 15's abort checks do not apply
	// there, and say why; the close/unread-at-both reset decides.
	for _, pv := range claimByID(t, m, 15).Verdicts {
		if pv.Platform != "linux-amd64-asyncio" {
			continue
		}
		na := 0
		for _, e := range pv.Evidence {
			if e.Result == ResultNA && strings.Contains(e.Why, "CLOSE_WAIT") {
				na++
			}
		}
		if na != 4 {
			t.Errorf("asyncio claim 15: %d n/a cells citing CLOSE_WAIT, want 4: %+v", na, pv.Evidence)
		}
	}
	// Claim 17 in a runtime view is decided by the loop's own read alone:
	// the asynchronous-recv checks are left out, not counted missing.
	for _, pv := range claimByID(t, m, 17).Verdicts {
		if pv.Platform == "linux-amd64-node" && (len(pv.Needs) != 0 || len(pv.Evidence) != 4) {
			t.Errorf("node claim 17: needs %q, %d cells, want none and 4", pv.Needs, len(pv.Evidence))
		}
	}
	// An n/a verdict says which view the claim is about, in every format.
	for _, pv := range claimByID(t, m, 12).Verdicts {
		if pv.Verdict == NotApplicable && !strings.Contains(pv.verdictDetail(), "not about the "+pv.View+" view") {
			t.Errorf("n/a on %s: detail %q", pv.Platform, pv.verdictDetail())
		}
	}
}
