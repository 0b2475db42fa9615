package matrix

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/closematrix/closematrix/schema"
)

// summaryOf renders the summary and checks what every summary must be: at
// most summaryMaxLines lines (under 150), none wider than 100 columns, and
// the counts, the claims and where the full table is in it.
func summaryOf(t *testing.T, m *Matrix) (string, []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSummary(&buf, m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) > summaryMaxLines || len(lines) >= 150 {
		t.Errorf("%d lines, want at most %d", len(lines), summaryMaxLines)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, l)
		}
	}
	for _, want := range []string{strings.SplitN(m.Summary.String(), " · ", 2)[0], "Claims, per view and OS",
		"results/MATRIX.md", "results/index.html", "closematrix render --format text", "closematrix claims"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
	for _, cr := range m.Claims {
		if !strings.Contains(out, string([]rune(cr.Claim.Text)[:20])) {
			t.Errorf("claim %d is not in the summary", cr.Claim.ID)
		}
	}
	return out, lines
}

// TestSummaryCommitted: `make matrix` prints the summary of the committed
// results/*.json; it must fit a terminal — under 150 lines, no line over
// 100 columns — and show where platforms and where views disagree.
func TestSummaryCommitted(t *testing.T) {
	paths, err := filepath.Glob("../results/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no committed results: %v", err)
	}
	files, err := LoadAll(paths)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(files)
	if err != nil {
		t.Fatal(err)
	}
	out, lines := summaryOf(t, m)
	t.Logf("%d lines for %d files", len(lines), len(files))
	if m.Summary.Disagreements > 0 && !strings.Contains(out, "Where platforms differ, raw view") {
		t.Error("platforms disagree, but the summary has no rows where they do")
	}
	if len(m.Layout()) > 1 && !strings.Contains(out, "Where views differ on Linux") {
		t.Error("Linux was recorded through several views, but the summary does not compare them")
	}
}

// TestSummaryBudget: 30 columns of 200 scenarios do not fit; the summary
// still does, with the most informative rows and a line saying how many
// more there are.
func TestSummaryBudget(t *testing.T) {
	m, err := Merge(syntheticFiles(t, 30, 200))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := summaryOf(t, m)
	if !strings.Contains(out, " more such rows") {
		t.Error("rows were left out without saying so")
	}
	// 3 views × 5 OS columns of verdicts are too wide side by side; claim 13
	// holds in raw and is n/a in the views without an asynchronous recv.
	if !strings.Contains(out, "one letter per view (raw, gonet, python)") || !strings.Contains(out, "hnn") {
		t.Error("the claims are not folded into one column per OS")
	}
	for _, v := range []string{"raw", "gonet", "python"} {
		if !strings.Contains(out, "Where platforms differ, "+v+" view") {
			t.Errorf("no section for the %s view", v)
		}
	}
}

// TestSummaryKeepsCalls: short of room, a table keeps call rows before
// observation rows, shows them in catalogue order, and counts the rest.
func TestSummaryKeepsCalls(t *testing.T) {
	tab := sumTable{title: "T", header: []string{"scenario", "step", "Linux"}, rows: []sumRow{
		{unit: 0, scenario: "v4 close/idle", step: "peer.poll", cells: []string{"· IN"}, rank: 3},
		{unit: 0, scenario: "v4 close/idle", step: "peer.recv", cells: []string{"E EOF"}, rank: 0},
		{unit: 1, scenario: "v4 abort/idle", step: "actor.state", cells: []string{"· none"}, rank: 1},
		{unit: 1, scenario: "v4 abort/idle", step: "peer.send", cells: []string{"R 104"}, rank: 0},
	}}
	marks := map[string]bool{}
	got := strings.Join(tab.lines(2, marks), "\n")
	want := strings.Join([]string{"", "T",
		"scenario       step       Linux",
		"v4 close/idle  peer.recv  E EOF",
		"v4 abort/idle  peer.send  R 104",
		"… 2 more such rows (observations left out first) are in the full table"}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestSummaryFolds: v4 and v6 rows that say the same are one entry; rows
// that differ stay apart; a view that differs from another on one OS is
// listed there, with the same folding.
func TestSummaryFolds(t *testing.T) {
	eof := func(s string) schema.Step { return step(s, schema.ClassEOF, 0, "", 0) }
	reset := func(s string) schema.Step { return step(s, schema.ClassReset, 0, "ECONNRESET", 104) }
	wreset := func(s string) schema.Step { return step(s, schema.ClassReset, 0, "WSAECONNRESET", 10054) }
	closed := func(s string) schema.Step {
		return step(s, schema.ClassClosed, 0, "net.ErrClosed", 0)
	}
	linux := arch(file("linux-amd64", "linux",
		observed("v4/close/idle", eof("peer.recv")), observed("v6/close/idle", eof("peer.recv")),
		observed("v4/abort/idle", reset("peer.recv")), observed("v6/abort/idle", eof("peer.recv"))), "amd64")
	windows := arch(file("windows-amd64", "windows",
		observed("v4/close/idle", wreset("peer.recv")), observed("v6/close/idle", wreset("peer.recv")),
		observed("v4/abort/idle", wreset("peer.recv")), observed("v6/abort/idle", wreset("peer.recv"))), "amd64")
	gonet := withView(arch(file("linux-amd64-gonet", "linux",
		observed("v4/close/idle", closed("peer.recv")), observed("v6/close/idle", closed("peer.recv")),
		observed("v4/abort/idle", reset("peer.recv")), observed("v6/abort/idle", eof("peer.recv"))), "amd64"), "gonet")
	out, _ := summaryOf(t, mustMerge(t, linux, windows, gonet))
	for _, want := range []string{
		"Where platforms differ, raw view: 3 rows in 3 scenarios, v4 and v6 folded where they agree",
		"v4,v6 close/idle  peer.recv  E EOF  R 10054",
		"v6 abort/idle     peer.recv  E EOF  R 10054",
		"Where views differ on Linux (raw vs gonet): 2 rows in 2 scenarios",
		"v4,v6 close/idle  peer.recv  E EOF  C ErrClosed",
		"Cells: E eof, R reset, C closed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "v4 abort/idle") {
		t.Errorf("v4/abort/idle agrees everywhere, yet it is listed:\n%s", out)
	}
}
