package matrix

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// Tests of the event-loop kinds (closematrix issue 10) in the matrix:
// legend, cell text, comparison, drift, CSV and JSON.

func TestLegendCoversKinds(t *testing.T) {
	if len(KindLegend()) != len(schema.Kinds) {
		t.Errorf("kind legend has %d entries, schema %d", len(KindLegend()), len(schema.Kinds))
	}
	for _, e := range KindLegend() {
		// Two sentences: what it observes, and its vocabulary.
		if n := strings.Count(e.Meaning, ". "); n < 1 || !strings.HasSuffix(e.Meaning, ".") {
			t.Errorf("kind %q: want two sentences, got %q", e.Kind, e.Meaning)
		}
	}
	for _, w := range []string{"Events steps", "pending-recv steps"} {
		if !strings.Contains(LegendNote, w) {
			t.Errorf("LegendNote does not explain %s", w)
		}
	}
}

// rowOf finds a row of the fixture matrix.
func rowOf(t *testing.T, m *Matrix, scenario, step string) Row {
	t.Helper()
	for _, g := range m.Groups {
		for _, r := range g.Rows {
			if r.Scenario == scenario && r.Step == step {
				return r
			}
		}
	}
	t.Fatalf("no row %s %s", scenario, step)
	return Row{}
}

func TestEventLoopCells(t *testing.T) {
	m := fixtureMatrix(t) // linux and windows are schema 2, darwin schema 1
	r := rowOf(t, m, "v4/abort/peer-pending-recv", "peer.pending-recv")
	if r.Kind != schema.KindCompletion {
		t.Errorf("kind %q, want completion", r.Kind)
	}
	texts := []string{r.Cells[0].Text(), r.Cells[1].Text()}
	want := []string{"reset · ECONNRESET 104", "reset · ERROR_NETNAME_DELETED 64 (WSA: WSAECONNRESET 10054)"}
	if !slices.Equal(texts, want) {
		t.Errorf("completion cells %q, want %q", texts, want)
	}
	if r.Disagree {
		t.Error("a reset on both completion APIs marked as a disagreement")
	}
	// epoll's and AFD's names differ by design: not a disagreement.
	if r := rowOf(t, m, "v4/close/idle", "peer.events"); r.Kind != schema.KindEvents || r.Disagree {
		t.Errorf("peer.events across epoll and afd: kind %q, disagree %v", r.Kind, r.Disagree)
	}
	// The same API with different flags is one.
	a := Cell{Status: CellObserved, Kind: schema.KindEvents, Outcome: schema.Outcome{Class: "EPOLLIN"}, Events: &schema.Events{API: "epoll"}}
	b := a
	b.Outcome.Class = "EPOLLIN|EPOLLRDHUP"
	if !disagree([]Cell{a, b}) {
		t.Error("two epoll cells with different flags do not disagree")
	}
	if r := rowOf(t, m, "v4/close/idle", "peer.recv"); r.Kind != schema.KindCall {
		t.Errorf("peer.recv kind %q (the schema 1 column too)", r.Kind)
	}
}

// TestDiffEventLoop: the drift check sees a changed event set, and a
// completion whose only change is IOCP's second code.
func TestDiffEventLoop(t *testing.T) {
	base := loadFixtures(t)[1] // windows, schema 2
	cur := cloneFile(t, base)
	for i := range cur.Scenarios {
		for j := range cur.Scenarios[i].Steps {
			st := &cur.Scenarios[i].Steps[j]
			switch {
			case cur.Scenarios[i].ID == "v4/close/idle" && st.Name == "peer.events#2":
				st.Outcome.Class = "AFD_POLL_ABORT|AFD_POLL_DISCONNECT"
				st.Events.Names = []string{"AFD_POLL_ABORT", "AFD_POLL_DISCONNECT"}
			case st.Name == "peer.pending-recv":
				st.Completion.WSA, st.Completion.WSACode = "WSAENETRESET", 10052
			}
		}
	}
	var got []string
	for _, c := range Diff(base, cur) {
		got = append(got, c.String())
	}
	want := []string{
		"~ v4/close/idle peer.events#2: AFD_POLL_ABORT → AFD_POLL_ABORT|AFD_POLL_DISCONNECT",
		"~ v4/abort/peer-pending-recv peer.pending-recv: reset · ERROR_NETNAME_DELETED 64 (WSA: WSAECONNRESET 10054) → reset · ERROR_NETNAME_DELETED 64 (WSA: WSAENETRESET 10052)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("drift\n got %q\nwant %q", got, want)
	}
}

func cloneFile(t *testing.T, f *schema.File) *schema.File {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Parse("clone.json", b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEventLoopCSVAndJSON: a consumer reads the kind of every matrix row in
// the CSV and JSON, and the typed detail in the JSON.
func TestEventLoopCSVAndJSON(t *testing.T) {
	m := fixtureMatrix(t)
	var c bytes.Buffer
	if err := WriteCSV(&c, m); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, r := range recs[1:] {
		if r[0] == "matrix" {
			kinds[r[3]] = r[4]
		}
	}
	for step, want := range map[string]string{"peer.events#2": "events", "actor.pending-recv": "completion", "peer.poll": "poll", "peer.recv": "call"} {
		if kinds[step] != want {
			t.Errorf("CSV kind of %s = %q, want %q", step, kinds[step], want)
		}
	}
	var j bytes.Buffer
	if err := WriteJSON(&j, m); err != nil {
		t.Fatal(err)
	}
	var doc jsonMatrix
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Kinds) != len(schema.Kinds) {
		t.Errorf("JSON kinds legend has %d entries", len(doc.Kinds))
	}
	var sawEvents, sawCompletion bool
	for _, g := range doc.Groups {
		for _, r := range g.Rows {
			for _, c := range r.Cells {
				if r.Kind == schema.KindEvents && c.Events != nil && c.Events.API == "epoll" {
					sawEvents = true
				}
				if r.Kind == schema.KindCompletion && c.Completion != nil && c.Completion.WSACode == 10054 {
					sawCompletion = true
				}
			}
		}
	}
	if !sawEvents || !sawCompletion {
		t.Errorf("JSON typed detail: events %v, completion %v", sawEvents, sawCompletion)
	}
}

// TestEventLoopClaims evaluates claims 11–13 on an io_uring-like column
// (liburing#932: close leaves the recv pending and sends nothing), an
// IOCP-like one (libuv#3034: closesocket aborts the recv and resets), a
// column without a completion API (darwin: skipped, so unknown) and one
// whose close sent a FIN while the recv was pending.
func TestEventLoopClaims(t *testing.T) {
	both := func(id string, steps ...schema.Step) []schema.Scenario {
		return []schema.Scenario{observed("v4/"+id, steps...), observed("v6/"+id, steps...)}
	}
	var uring, iocp, finOut []schema.Scenario
	for _, p := range []struct {
		to    *[]schema.Scenario
		close []schema.Step
		wire  string
	}{
		{&uring, []schema.Step{step("actor.pending-recv", schema.ClassBlocked, 0, "", 0), step("peer.recv", schema.ClassBlocked, 0, "", 0)}, "none"},
		{&iocp, []schema.Step{step("actor.pending-recv", schema.ClassCancelled, 0, "ERROR_OPERATION_ABORTED", 995), step("peer.recv", schema.ClassReset, 0, "WSAECONNRESET", 10054)}, "RST"},
		{&finOut, []schema.Step{step("actor.pending-recv", schema.ClassBlocked, 0, "", 0), step("peer.recv", schema.ClassEOF, 0, "", 0)}, "FIN"},
	} {
		*p.to = append(*p.to, both("close/own-pending-recv", p.close...)...)
		*p.to = append(*p.to, both("close/own-pending-recv-wire", append(p.close, step("wire.actor", schema.Class(p.wire), 0, "", 0))...)...)
		*p.to = append(*p.to, both("cancel-then-close/own-pending-recv",
			step("actor.pending-recv", schema.ClassCancelled, 0, "ECANCELED", 125), step("peer.recv", schema.ClassEOF, 0, "", 0))...)
		*p.to = append(*p.to, both("close/peer-pending-recv", step("peer.pending-recv", schema.ClassEOF, 0, "", 0))...)
		*p.to = append(*p.to, both("abort/peer-pending-recv", step("peer.pending-recv", schema.ClassReset, 0, "ECONNRESET", 104))...)
	}
	var none []schema.Scenario
	for _, id := range []string{"close/own-pending-recv", "cancel-then-close/own-pending-recv", "close/peer-pending-recv", "abort/peer-pending-recv"} {
		for _, f := range []string{"v4/", "v6/"} {
			none = append(none, schema.Scenario{ID: f + id, Status: schema.StatusSkipped, Reason: "darwin has no completion API for sockets"})
		}
	}
	m := mustMerge(t, file("uring", "linux", uring...), file("iocp", "windows", iocp...), file("kq", "darwin", none...), file("fin", "linux", finOut...))
	want := map[int]map[string]Verdict{
		11: {"uring": DoesNotHold, "iocp": Holds, "kq": Unknown, "fin": DoesNotHold},
		12: {"uring": Holds, "iocp": DoesNotHold, "kq": Unknown, "fin": DoesNotHold},
		13: {"uring": Holds, "iocp": Holds, "kq": Unknown, "fin": Holds},
	}
	for id, byPlatform := range want {
		cr := claimByID(t, m, id)
		if id != 13 && !strings.Contains(cr.Claim.Source, "#") { // 11 and 12 cite their issues
			t.Errorf("claim %d: source %q names no issue", id, cr.Claim.Source)
		}
		for _, pv := range cr.Verdicts {
			if pv.Verdict != byPlatform[pv.Platform] {
				t.Errorf("claim %d on %s: %s, want %s (evidence %v, needs %v)", id, pv.Platform, pv.Verdict, byPlatform[pv.Platform], pv.Evidence, pv.Needs)
			}
		}
	}
}
