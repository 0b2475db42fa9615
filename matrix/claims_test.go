package matrix

import (
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// TestClaimsData keeps the claim table well-formed: IDs increasing, and
// every check names a scenario and steps in the catalogue's grammar, so that
// a typo cannot leave a claim unknown forever.
func TestClaimsData(t *testing.T) {
	prev := 0
	for _, cl := range Claims {
		if cl.ID <= prev || cl.Text == "" || cl.Source == "" || cl.Note == "" || len(cl.Checks) == 0 {
			t.Errorf("claim %d: incomplete or out of order: %+v", cl.ID, cl)
		}
		prev = cl.ID
		for _, ch := range cl.Checks {
			if !scenarioRE.MatchString("v4/"+ch.Scenario) || !stepRE.MatchString(ch.Step) || len(ch.Want.Classes) == 0 && !ch.Want.ThreeSegmentClose {
				t.Errorf("claim %d: bad check %+v", cl.ID, ch)
			}
			if ch.If != nil && !stepRE.MatchString(ch.If.Step) {
				t.Errorf("claim %d: bad condition %+v", cl.ID, ch.If)
			}
		}
	}
}

func claimByID(t *testing.T, m *Matrix, id int) ClaimResult {
	t.Helper()
	for _, cr := range m.Claims {
		if cr.Claim.ID == id {
			return cr
		}
	}
	t.Fatalf("no claim %d", id)
	return ClaimResult{}
}

func TestClaimVerdicts(t *testing.T) {
	shut := func(class schema.Class) schema.Step { return step("actor.send", class, 0, "", 0) }
	all := func(class schema.Class) []schema.Scenario {
		var out []schema.Scenario
		for _, fam := range []string{"v4", "v6"} {
			for _, id := range []string{"shutdown-wr/idle", "shutdown-wr/peer-blocked-recv", "shutdown-rdwr/idle"} {
				out = append(out, observed(fam+"/"+id, shut(class)))
			}
		}
		return out
	}
	windowsLike := file("w", "windows", all(schema.ClassShutdown)...)
	linuxLike := file("l", "linux", all(schema.ClassBrokenPipe)...)
	// v6 skipped everywhere: v4 alone decides.
	noV6 := file("n", "linux", observed("v4/shutdown-wr/idle", shut(schema.ClassShutdown)),
		observed("v4/shutdown-wr/peer-blocked-recv", shut(schema.ClassShutdown)),
		observed("v4/shutdown-rdwr/idle", shut(schema.ClassShutdown)),
		schema.Scenario{ID: "v6/shutdown-wr/idle", Status: schema.StatusSkipped, Reason: "no IPv6"})
	// One cell missing: unknown, naming it.
	partial := file("p", "linux", observed("v4/shutdown-wr/idle", shut(schema.ClassShutdown)))
	// A step that varied between shutdown and broken-pipe does not hold.
	varied := shut(schema.ClassShutdown)
	varied.Variants = []schema.Variant{{Outcome: varied.Outcome, Count: 2}, {Outcome: schema.Outcome{Class: schema.ClassBrokenPipe}, Count: 1}}
	flaky := file("v", "linux", observed("v4/shutdown-wr/idle", varied))

	m := mustMerge(t, windowsLike, linuxLike, noV6, partial, flaky)
	cr := claimByID(t, m, 3)
	got := map[string]PlatformVerdict{}
	for _, pv := range cr.Verdicts {
		got[pv.Platform] = pv
	}
	if v := got["w"]; v.Verdict != Holds || len(v.Evidence) != 6 {
		t.Errorf("windows-like: %s with %d cells, want holds with 6", v.Verdict, len(v.Evidence))
	}
	if v := got["l"]; v.Verdict != DoesNotHold {
		t.Errorf("linux-like: %s, want does not hold", v.Verdict)
	}
	if v := got["n"]; v.Verdict != Holds {
		t.Errorf("v6 skipped: %s (needs %q), want holds on v4 alone", v.Verdict, v.Needs)
	}
	if v := got["p"]; v.Verdict != Unknown || len(v.Needs) != 2 ||
		v.Needs[0] != "v4/shutdown-wr/peer-blocked-recv actor.send (no such scenario in this run)" {
		t.Errorf("partial: %s, needs %q", v.Verdict, v.Needs)
	}
	if v := got["v"]; v.Verdict != DoesNotHold || v.Evidence[0].Why != "varies" {
		t.Errorf("varied: %s %+v, want does not hold because it varies", v.Verdict, v.Evidence)
	}
}

// TestClaimDecidesWhenCellsExist: claim 10's scenarios are not in the
// catalogue yet; a file that has them decides it with no code change.
func TestClaimDecidesWhenCellsExist(t *testing.T) {
	reset := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)
	f := file("l", "linux", observed("v4/kill/idle", reset), observed("v4/link-down/idle", reset))
	m := mustMerge(t, f)
	if v := claimByID(t, m, 10).Verdicts[0]; v.Verdict != Holds {
		t.Errorf("claim 10: %s, needs %q", v.Verdict, v.Needs)
	}
	timedOut := step("peer.recv", schema.ClassTimedOut, 0, "ETIMEDOUT", 110)
	m = mustMerge(t, file("l", "linux", observed("v4/kill/idle", reset), observed("v4/link-down/idle", timedOut)))
	if v := claimByID(t, m, 10).Verdicts[0]; v.Verdict != DoesNotHold {
		t.Errorf("claim 10 with a timeout: %s", v.Verdict)
	}
}

// TestClaimCondition: a check whose precondition did not happen is n/a; a
// claim with nothing but n/a checks is unknown, and says so.
func TestClaimCondition(t *testing.T) {
	// Claim 4 on a file that has only shutdown-rd/idle, with no reset: n/a.
	f := file("l", "linux", observed("v4/shutdown-rd/idle",
		step("actor.send", schema.ClassOK, 16, "", 0), step("peer.recv", schema.ClassData, 16, "", 0)))
	v := claimByID(t, mustMerge(t, f), 4).Verdicts[0]
	if v.Verdict != Unknown || len(v.Evidence) != 1 || v.Evidence[0].Result != ResultNA ||
		!strings.Contains(v.Evidence[0].Why, "applies only when peer.recv is reset; it was data 16") {
		t.Errorf("claim 4: %s %+v", v.Verdict, v.Evidence)
	}
	// With the reset and an aborted send the check passes.
	f = file("w", "windows", observed("v4/shutdown-rd/idle",
		step("actor.send", schema.ClassAborted, 0, "WSAECONNABORTED", 10053), step("peer.recv", schema.ClassReset, 0, "WSAECONNRESET", 10054)),
		observed("v4/abort/then-use", step("actor.send", schema.ClassNotSocket, 0, "WSAENOTSOCK", 10038),
			step("actor.recv", schema.ClassNotSocket, 0, "WSAENOTSOCK", 10038)))
	if v := claimByID(t, mustMerge(t, f), 4).Verdicts[0]; v.Verdict != Holds {
		t.Errorf("claim 4 on a Windows-like file: %s %+v", v.Verdict, v.Needs)
	}
}

// TestClaimsOnFixtures pins the verdicts that the fixtures were written to
// show, so that a change in the claim table that flips one is noticed here
// and not only in a golden diff.
func TestClaimsOnFixtures(t *testing.T) {
	m := fixtureMatrix(t)
	want := map[int]string{ // linux, windows, darwin
		1:  "unknown/unknown/does not hold",
		2:  "holds/holds/holds",
		3:  "does not hold/holds/does not hold",
		6:  "holds/holds/holds",
		8:  "unknown/unknown/unknown",
		9:  "does not hold/unknown/does not hold",
		10: "unknown/unknown/unknown",
	}
	for id, w := range want {
		cr := claimByID(t, m, id)
		var got []string
		for _, pv := range cr.Verdicts {
			got = append(got, string(pv.Verdict))
		}
		if g := strings.Join(got, "/"); g != w {
			t.Errorf("claim %d: %s, want %s", id, g, w)
		}
	}
	v := claimByID(t, m, 8).Verdicts[0]
	if len(v.Needs) == 0 || !strings.HasPrefix(v.Needs[0], "v4/shutdown-wr/idle actor.state") {
		t.Errorf("claim 8 needs %q, want the shutdown-wr state steps named", v.Needs)
	}
}

func TestHasSegment(t *testing.T) {
	w := HasSegment("RST")
	for class, want := range map[schema.Class]bool{"RST": true, "FIN,RST": true, "data+RST": true, "data+FIN": false, "none": false, "RSTX": false} {
		if got := w.match(class); got != want {
			t.Errorf("HasSegment(RST).match(%q) = %v", class, got)
		}
	}
	if s := w.String(); s != "a RST segment" {
		t.Errorf("String() = %q", s)
	}
	if s := NoneOf(schema.ClassData).String(); s != "not data" {
		t.Errorf("String() = %q", s)
	}
}
