package matrix

import (
	"slices"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// file, observed and step build result files in tests, without JSON.
func file(label, goos string, scenarios ...schema.Scenario) *schema.File {
	return &schema.File{Schema: schema.Version, Platform: schema.Platform{Label: label, OS: goos}, Scenarios: scenarios}
}

func observed(id string, steps ...schema.Step) schema.Scenario {
	return schema.Scenario{ID: id, Status: schema.StatusObserved, Runs: 1, Steps: steps}
}

func step(name string, class schema.Class, n int, errno string, code int) schema.Step {
	return schema.Step{Name: name, Outcome: schema.Outcome{Class: class, N: n, Errno: errno, Code: code}}
}

func mustMerge(t *testing.T, files ...*schema.File) *Matrix {
	t.Helper()
	m, err := Merge(files)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestColumnOrder(t *testing.T) {
	sc := observed("v4/close/idle", step("peer.recv", schema.ClassEOF, 0, "", 0))
	wine := file("windows-amd64-wine", "windows", sc)
	wine.Platform.Emulator = "wine-8.0"
	m := mustMerge(t,
		file("freebsd-amd64", "freebsd", sc), wine, file("darwin-arm64", "darwin", sc),
		file("windows-arm64", "windows", sc), file("linux-arm64", "linux", sc), file("linux-amd64", "linux", sc),
		file("windows-amd64", "windows", sc), file("linux-amd64-gonet", "linux", sc), withView(file("linux-amd64-a", "linux", sc), "python"),
		withView(file("linux-amd64-b", "linux", sc), "node"))
	var got []string
	for _, c := range m.Columns {
		got = append(got, c.Platform.Label)
	}
	// Real systems by OS family (Linux, Windows, macOS, FreeBSD), views in
	// Views order (raw, gonet, python, asyncio, node, …) within one;
	// emulated columns after every real one.
	want := []string{"linux-amd64", "linux-arm64", "linux-amd64-gonet", "linux-amd64-a", "linux-amd64-b", "windows-amd64", "windows-arm64",
		"darwin-arm64", "freebsd-amd64", "windows-amd64-wine"}
	if !slices.Equal(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
}

func TestMergeRejectsDuplicateLabel(t *testing.T) {
	sc := observed("v4/close/idle", step("peer.recv", schema.ClassEOF, 0, "", 0))
	if _, err := Merge([]*schema.File{file("x", "linux", sc), file("x", "linux", sc)}); err == nil {
		t.Error("two files with one label merged")
	}
	// One label through two views, another column sorting between them.
	if _, err := Merge([]*schema.File{file("x", "linux", sc), file("y", "linux", sc), withView(file("x", "linux", sc), "gonet")}); err == nil {
		t.Error("two files with one label, in two views, merged")
	}
	if _, err := Merge(nil); err == nil {
		t.Error("no files merged")
	}
}

// TestRowOrder: groups in catalogue order of their action, v4 before v6
// within a group, and a step only one platform has placed after its
// predecessor there.
func TestRowOrder(t *testing.T) {
	eof := func(name string) schema.Step { return step(name, schema.ClassEOF, 0, "", 0) }
	a := file("linux-amd64", "linux",
		observed("v6/close/idle", eof("peer.recv"), eof("peer.recv#2")),
		observed("v4/abort/idle", eof("peer.recv")),
		observed("v4/close/idle", eof("peer.recv"), eof("peer.recv#2")),
		observed("v4/close/then-use", eof("actor.send")),
	)
	b := file("darwin-arm64", "darwin",
		observed("v4/close/idle", eof("peer.recv"), eof("peer.poll"), eof("peer.recv#2")),
		observed("v4/kill/idle", eof("peer.recv")),
	)
	m := mustMerge(t, b, a)
	var got []string
	for _, g := range m.Groups {
		got = append(got, "["+g.Action+"]")
		for _, r := range g.Rows {
			got = append(got, r.Scenario+" "+r.Step)
		}
	}
	want := []string{
		"[close]",
		"v4/close/idle peer.recv", "v4/close/idle peer.poll", "v4/close/idle peer.recv#2",
		"v4/close/then-use actor.send",
		"v6/close/idle peer.recv", "v6/close/idle peer.recv#2",
		"[abort]", "v4/abort/idle peer.recv",
		"[kill]", "v4/kill/idle peer.recv",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %q\nwant %q", got, want)
	}
}

// TestDisagreement compares by class (and n for data), never by native name.
func TestDisagreement(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lin, win schema.Step
		disagree bool
	}{
		{"same class, different errno", step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104),
			step("peer.recv", schema.ClassReset, 0, "WSAECONNRESET", 10054), false},
		{"different class", step("peer.recv", schema.ClassEOF, 0, "", 0),
			step("peer.recv", schema.ClassReset, 0, "WSAECONNRESET", 10054), true},
		{"data, different n", step("peer.recv", schema.ClassData, 1024, "", 0),
			step("peer.recv", schema.ClassData, 512, "", 0), true},
		{"ok, different n", step("peer.send", schema.ClassOK, 16, "", 0),
			step("peer.send", schema.ClassOK, 8, "", 0), false},
		{"foreign class", step("peer.state", "FIN_WAIT_2", 0, "", 0),
			step("peer.state", "TIME_WAIT", 0, "", 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustMerge(t, file("l", "linux", observed("v4/close/idle", tc.lin)), file("w", "windows", observed("v4/close/idle", tc.win)))
			if got := m.Groups[0].Rows[0].Disagree; got != tc.disagree {
				t.Errorf("disagree = %v, want %v", got, tc.disagree)
			}
		})
	}
}

func TestVariantsAndStatusCells(t *testing.T) {
	varied := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)
	varied.Variants = []schema.Variant{
		{Outcome: schema.Outcome{Class: schema.ClassEOF}, Count: 1},
		{Outcome: varied.Outcome, Count: 2},
	}
	stable := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 54)
	skipped := schema.Scenario{ID: "v4/close/idle", Status: schema.StatusSkipped, Reason: "no IPv6"}
	m := mustMerge(t,
		file("a", "linux", observed("v4/close/idle", varied)),
		file("b", "linux", observed("v4/close/idle", stable)),
		file("c", "linux", skipped),
		file("d", "linux", observed("v4/close/other", stable)),
		file("e", "linux", observed("v4/close/idle", step("peer.send", schema.ClassOK, 1, "", 0))),
	)
	r := findRow(t, m, "v4/close/idle", "peer.recv")
	var got []string
	for _, c := range r.Cells {
		got = append(got, c.Text())
	}
	want := []string{"reset · ECONNRESET 104 ×2 / eof ×1", "reset · ECONNRESET 54", "skipped: no IPv6",
		"— " + reasonNoScenario, "— " + reasonNoStep}
	if !slices.Equal(got, want) {
		t.Errorf("cells\n got %q\nwant %q", got, want)
	}
	if !r.Disagree {
		t.Error("a step that varied agrees with one that did not")
	}
	s := m.Summary
	if s.Scenarios != 2 || s.Platforms != 5 || s.Unstable != 1 || s.Skipped != 2 || s.Missing != 9 || s.Disagreements != 1 {
		t.Errorf("summary %+v", s)
	}
}

// TestScenarioWithoutSteps keeps a row for a scenario no platform observed,
// so that its skip and error reasons still show.
func TestScenarioWithoutSteps(t *testing.T) {
	m := mustMerge(t,
		file("a", "linux", schema.Scenario{ID: "v6/close/idle", Status: schema.StatusSkipped, Reason: "no IPv6"}),
		file("b", "linux", schema.Scenario{ID: "v6/close/idle", Status: schema.StatusError, Reason: "bind: address in use"}))
	rows := m.Groups[0].Rows
	if len(rows) != 1 || rows[0].Step != "" || rows[0].Cells[1].Text() != "error: bind: address in use" {
		t.Errorf("rows %+v", rows)
	}
}

func TestMergeOrder(t *testing.T) {
	got := mergeOrder([][]string{{"a", "b", "d"}, {"a", "c", "d", "e"}, {"x", "b"}})
	want := []string{"x", "a", "c", "b", "d", "e"}
	if !slices.Equal(got, want) {
		t.Errorf("mergeOrder = %q, want %q", got, want)
	}
}

func findRow(t *testing.T, m *Matrix, id, step string) Row {
	t.Helper()
	for _, g := range m.Groups {
		for _, r := range g.Rows {
			if r.Scenario == id && r.Step == step {
				return r
			}
		}
	}
	t.Fatalf("no row %s %s", id, step)
	return Row{}
}
