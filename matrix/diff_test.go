package matrix

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

func TestDiffIdentical(t *testing.T) {
	for _, f := range loadFixtures(t) {
		if c := Diff(f, f); len(c) != 0 {
			t.Errorf("%s against itself: %v", f.Platform.Label, c)
		}
	}
}

func TestDiffKinds(t *testing.T) {
	base, err := Load("testdata/baseline/linux-amd64.json")
	if err != nil {
		t.Fatal(err)
	}
	cur := loadFixtures(t)[0]
	var got []string
	for _, c := range Diff(base, cur) {
		got = append(got, string(c.Kind)+" "+c.Scenario+" "+c.Step)
	}
	// The baseline is schema 1, the fixture schema 2: only what was
	// recorded differs, never the schema (the event-loop steps and
	// scenarios are new since the baseline).
	want := []string{
		"step-added v4/close/idle peer.events",
		"step-added v4/close/idle peer.events#2",
		"outcome v4/abort/idle peer.recv#2",
		"step-removed v4/shutdown-rd/idle peer.recv#2",
		"outcome v6/close/idle peer.send#2",
		"status v6/close/own-blocked-recv ",
		"scenario-added v6/shutdown-rdwr/own-blocked-recv ",
		"scenario-removed v4/listen/close ",
		"scenario-added v4/close/own-pending-recv ",
		"scenario-added v4/abort/peer-pending-recv ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes\n got %q\nwant %q", got, want)
	}
}

// TestDiffVariants: which variant is most frequent, and the counts, are
// noise; an outcome that appears or disappears, or a native code that
// changes, is drift.
func TestDiffVariants(t *testing.T) {
	eof := schema.Outcome{Class: schema.ClassEOF}
	rst := schema.Outcome{Class: schema.ClassReset, Errno: "ECONNRESET", Code: 104}
	mk := func(main schema.Outcome, vs ...schema.Variant) *schema.File {
		return file("l", "linux", observed("v4/close/idle", schema.Step{Name: "peer.recv", Outcome: main, Variants: vs}))
	}
	twoOne := mk(eof, schema.Variant{Outcome: eof, Count: 2}, schema.Variant{Outcome: rst, Count: 1})
	oneTwo := mk(rst, schema.Variant{Outcome: rst, Count: 2}, schema.Variant{Outcome: eof, Count: 1})
	if c := Diff(twoOne, oneTwo); len(c) != 0 {
		t.Errorf("swapped counts reported as drift: %v", c)
	}
	if c := Diff(twoOne, mk(eof)); len(c) != 1 || c[0].Before != "eof ×2 / reset · ECONNRESET 104 ×1" || c[0].After != "eof" {
		t.Errorf("variant that vanished: %v", c)
	}
	// A single variant is no variation: same as a stable step.
	if c := Diff(mk(eof), mk(eof, schema.Variant{Outcome: eof, Count: 3})); len(c) != 0 {
		t.Errorf("single variant reported as drift: %v", c)
	}
	other := rst
	other.Code = 54
	if c := Diff(mk(rst), mk(other)); len(c) != 1 {
		t.Errorf("changed code not reported: %v", c)
	}
}

func TestDiffGitHubEscaping(t *testing.T) {
	changes := []Change{{Kind: StatusChanged, Scenario: "v4/close/idle", Before: "observed, 2 steps",
		After: "error: 100% broken\nsee log, line 2: here"}}
	var buf bytes.Buffer
	if err := WriteDiffGitHub(&buf, "linux-amd64", changes); err != nil {
		t.Fatal(err)
	}
	want := "::warning file=results/linux-amd64.json,title=drift v4/close/idle::observed, 2 steps → error: 100%25 broken%0Asee log, line 2: here\n"
	if buf.String() != want {
		t.Errorf("annotation\n got %q\nwant %q", buf.String(), want)
	}
	if strings.Count(buf.String(), "\n") != len(changes) {
		t.Error("an annotation spans more than one line")
	}
}
