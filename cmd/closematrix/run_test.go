package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/schema"
)

// TestRunFlags: every bad flag is named, all at once, with exit 2, and
// nothing runs.
func TestRunFlags(t *testing.T) {
	fake(t, func([]harness.Scenario) []schema.Scenario {
		t.Fatal("bad flags, yet the catalogue ran")
		return nil
	})
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want []string // lines in stderr
	}{
		{[]string{"run", "-repeat", "0"}, []string{"closematrix: -repeat: 0: want 1 or more"}},
		{[]string{"run", "-slow-repeat", "-1", "-bound", "0s"}, []string{"-slow-repeat: -1: want 1 or more", "-bound: 0s: want a positive duration"}},
		{[]string{"run", "-view", "netty"}, []string{`-view: unknown view "netty" (have asyncio, asyncio-selector, exec, gonet, java, node, python, raw, rust)`}},
		{[]string{"run", "-label", "my laptop"}, []string{`-label: "my laptop": want letters`}},
		{[]string{"run", "-workers", "-2"}, []string{"-workers: -2: want 0"}},
		{[]string{"run", "-label-filter", "abort &&"}, []string{`closematrix: -label-filter "abort &&": `}},
		{[]string{"run", "-label-filter", "(abort || v6"}, []string{`-label-filter "(abort || v6": `}},
		{[]string{"run", "-label-filter", "no-such-label"}, []string{`-label-filter "no-such-label" matches none of the`}},
		{[]string{"run", "-o", filepath.Join(dir, "no", "such", "dir", "x.json")}, []string{"directory " + filepath.Join(dir, "no", "such", "dir") + " does not exist"}},
		{[]string{"run", "-repeat", "three"}, []string{`invalid value "three" for flag -repeat`, "usage:"}},
		{[]string{"run", "-frobnicate"}, []string{"flag provided but not defined: -frobnicate", "usage:"}},
		{[]string{"run", "results"}, []string{`run takes no arguments, got ["results"]`, "usage:"}},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 2 || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q; want exit 2 and nothing on stdout", tc.args, code, stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
}

// TestRunList: -list prints what a filter picks, with the labels the filter
// saw, and runs nothing.
func TestRunList(t *testing.T) {
	fake(t, func([]harness.Scenario) []schema.Scenario {
		t.Fatal("-list ran the catalogue")
		return nil
	})
	code, stdout, stderr := runCmd("run", "-list", "-label-filter", "abort && v6 && !slow")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d scenarios: %q", len(lines), stdout)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if !strings.HasPrefix(f[0], "v6/abort/") || !contains(f[1:], "abort") || contains(f[1:], "slow") {
			t.Errorf("filter picked %q", l)
		}
	}
}

// TestRunExit: run fails (exit 1) only when the harness did — a scenario
// with status error, or a result file it could not write — never because of
// what the platform answered, skips included.
func TestRunExit(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		status string
		out    string
		code   int
		stderr string
	}{
		{"observed", schema.StatusObserved, filepath.Join(dir, "a.json"), 0, ""},
		{"skipped", schema.StatusSkipped, filepath.Join(dir, "b.json"), 0, ""},
		{"harness error", schema.StatusError, filepath.Join(dir, "c.json"), 1, "the harness failed in 3 of 3 scenarios"},
		{"unwritable", schema.StatusObserved, dir, 1, "write " + dir},
	} {
		fake(t, func(scs []harness.Scenario) []schema.Scenario {
			recs := make([]schema.Scenario, len(scs))
			for i, sc := range scs {
				recs[i] = schema.Scenario{ID: sc.ID, Title: sc.Title, Labels: sc.Labels(), Status: tc.status, Steps: []schema.Step{}}
				if tc.status != schema.StatusObserved {
					recs[i].Reason = "because"
				}
			}
			return recs
		})
		code, stdout, stderr := runCmd("run", "-label-filter", "kill && v4", "-o", tc.out)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: exit %d, want %d; stderr %q lacks %q", tc.name, code, tc.code, stderr, tc.stderr)
		}
		if tc.code == 0 {
			f := readResult(t, tc.out)
			if len(f.Scenarios) != 3 || f.Scenarios[0].ID != "v4/kill/idle" || f.Platform.Label != runtime.GOOS+"-"+runtime.GOARCH {
				t.Errorf("%s: wrote %+v", tc.name, f)
			}
			if !strings.Contains(stdout, "wrote "+tc.out) {
				t.Errorf("%s: stdout %q", tc.name, stdout)
			}
		}
	}
}

// TestRunView: the result file says its view in platform.view (and the
// runtime of a view that has one), whatever the label: the default label, a
// hand-given one that does not name the view, one that names another.
func TestRunView(t *testing.T) {
	fake(t, func(scs []harness.Scenario) []schema.Scenario {
		recs := make([]schema.Scenario, len(scs))
		for i, sc := range scs {
			recs[i] = schema.Scenario{ID: sc.ID, Status: schema.StatusObserved, Steps: []schema.Step{}}
		}
		return recs
	})
	dir := t.TempDir()
	def := runtime.GOOS + "-" + runtime.GOARCH
	for _, tc := range []struct {
		args          []string
		label, view   string
		goRuntimeView bool
	}{
		{nil, def, "raw", false},
		{[]string{"-view", "raw"}, def, "raw", false},
		{[]string{"-view", "gonet"}, def + "-gonet", "gonet", true},
		{[]string{"-view", "gonet", "-label", "my-box"}, "my-box", "gonet", true},
		{[]string{"-view", "gonet", "-label", "linux-amd64-gonet-ubuntu-24.04"}, "linux-amd64-gonet-ubuntu-24.04", "gonet", true},
		{[]string{"-view", "raw", "-label", "lab-gonet"}, "lab-gonet", "raw", false},
	} {
		out := filepath.Join(dir, "f.json")
		args := append([]string{"run", "-label-filter", "kill && v4", "-o", out}, tc.args...)
		if code, _, stderr := runCmd(args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		p := readResult(t, out).Platform
		wantRuntime := ""
		if tc.goRuntimeView {
			wantRuntime = runtime.Version() + " net"
		}
		if p.Label != tc.label || p.View != tc.view || p.Runtime != wantRuntime {
			t.Errorf("%q: label %q view %q runtime %q, want %q %q %q", tc.args, p.Label, p.View, p.Runtime, tc.label, tc.view, wantRuntime)
		}
		// The key is written for raw too: "never empty in new files".
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"view": "`+tc.view+`"`)) {
			t.Errorf("%q: the file has no \"view\": %q", tc.args, tc.view)
		}
	}
}

// TestProgress: one line redrawn in place on a terminal, with the count, the
// clock and the group, and a line of its own for a harness error; plain
// lines in a log.
func TestProgress(t *testing.T) {
	sc := harness.Catalogue()[0]
	var tty bytes.Buffer
	p := newProgress(&tty, true, 2)
	p.done(1, 2, sc, schema.Scenario{ID: sc.ID, Status: schema.StatusObserved})
	p.done(2, 2, sc, schema.Scenario{ID: sc.ID, Status: schema.StatusError, Reason: "connect: timed out"})
	p.stop()
	got := tty.String()
	for _, want := range []string{"\rclosematrix run: 1/2 scenarios, 0:00, " + string(sc.Action), "\rerror " + sc.ID + ": connect: timed out\n", "2/2 scenarios"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal: %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "\x1b") || !strings.HasSuffix(got, "\r") {
		t.Errorf("terminal: escape sequences, or the line was not cleared at the end: %q", got)
	}

	var log bytes.Buffer
	p = newProgress(&log, false, 2)
	p.done(1, 2, sc, schema.Scenario{ID: sc.ID, Status: schema.StatusObserved})
	p.done(2, 2, sc, schema.Scenario{ID: sc.ID, Status: schema.StatusSkipped, Reason: "no IPv6\nmore"})
	p.stop()
	want := "[1/2]    0:00 observed " + sc.ID + "\n[2/2]    0:00 skipped  " + sc.ID + ": no IPv6 ...\n"
	if log.String() != want {
		t.Errorf("log:\n%q\nwant\n%q", log.String(), want)
	}
	if isTerminal(&log) {
		t.Error("a buffer is not a terminal")
	}
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		if isTerminal(null) {
			t.Errorf("%s is not a terminal", os.DevNull)
		}
	}
}

// TestRunInstalled is `closematrix run` as a user runs it: the command built
// as `go install` builds it, copied into an empty directory away from the
// checkout, run there with a small label filter that includes process
// scenarios (the helper is this binary run again). It must write its result
// file into that directory, observe every scenario, and log plain lines.
func TestRunInstalled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "closematrix"+exe())
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin, "run", "-label-filter", "(kill || exit || close) && idle && v4 && !slow && !needs-root", "-repeat", "1")
	run.Dir = dir
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	err := run.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if code := run.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	label := runtime.GOOS + "-" + runtime.GOARCH
	f := readResult(t, filepath.Join(dir, label+".json"))
	ids := map[string]bool{}
	for _, sc := range f.Scenarios {
		ids[sc.ID] = true
		if sc.Status != schema.StatusObserved || sc.Runs != 1 {
			t.Errorf("%s: %s (%s), %d runs", sc.ID, sc.Status, sc.Reason, sc.Runs)
		}
	}
	for _, id := range []string{"v4/kill/idle", "v4/exit/idle", "v4/close/idle"} {
		if !ids[id] {
			t.Errorf("%s missing from %v", id, ids)
		}
	}
	if n := strings.Count(stderr.String(), "] "); n != len(f.Scenarios) || strings.Contains(stderr.String(), "\r") {
		t.Errorf("want %d plain progress lines, got:\n%s", len(f.Scenarios), &stderr)
	}
}

// fake puts a stand-in for harness.RunAll in place for one test.
func fake(t *testing.T, play func([]harness.Scenario) []schema.Scenario) {
	old := runAll
	runAll = func(scs []harness.Scenario, _ harness.Config, opt harness.RunOptions) ([]schema.Scenario, harness.Stats) {
		recs := play(scs)
		for i := range recs {
			if opt.Progress != nil {
				opt.Progress(i+1, len(recs), scs[i], recs[i])
			}
		}
		return recs, harness.Stats{}
	}
	t.Cleanup(func() { runAll = old })
}

func readResult(t *testing.T, path string) schema.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f schema.File
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func exe() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}
