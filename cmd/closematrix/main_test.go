package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	linux    = "../../matrix/testdata/linux-amd64.json"
	windows  = "../../matrix/testdata/windows-amd64.json"
	darwin   = "../../matrix/testdata/darwin-arm64.json"
	baseline = "../../matrix/testdata/baseline/linux-amd64.json"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr, or stdout for help
	}{
		{nil, 2, "usage:"},
		{[]string{"frobnicate"}, 2, `closematrix: unknown command "frobnicate"`},
		{[]string{"help"}, 0, "usage:"},
		{[]string{"--help"}, 0, "usage:"},
		{[]string{"render", "-h"}, 0, "usage:"},
		{[]string{"render", "-h"}, 0, "summary what to read first"},
		{[]string{"render"}, 2, "render: no result files given"},
		{[]string{"render", "--format", "pdf", linux}, 2, `unknown format "pdf"`},
		{[]string{"render", "--bogus", linux}, 2, "flag provided but not defined: -bogus"},
		{[]string{"render", "--format", "html", "--max-bytes", "100", linux}, 2, "--max-bytes"},
		{[]string{"claims"}, 2, "claims: no result files given"},
		{[]string{"diff", linux}, 2, "diff: want BASELINE CURRENT"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%q: exit %d, want %d; output %q lacks %q", tc.args, code, tc.code, stdout+stderr, tc.want)
		}
	}
}

func TestRender(t *testing.T) {
	for _, format := range []string{"md", "html", "csv", "json", "text", "summary"} {
		code, stdout, stderr := runCmd("render", "--format", format, linux, windows, darwin)
		if code != 0 || stdout == "" || stderr != "" {
			t.Errorf("%s: exit %d, %d bytes out, stderr %q", format, code, len(stdout), stderr)
		}
	}
	// Flags after the files, a directory for the files, and -o.
	out := filepath.Join(t.TempDir(), "index.html")
	code, stdout, stderr := runCmd("render", "../../matrix/testdata", "--format", "html", "-o", out)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("render -o: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "windows-amd64") {
		t.Errorf("render -o wrote %d bytes, %v", len(page), err)
	}
	code, stdout, _ = runCmd("render", "--max-bytes", "4000", linux, windows)
	if code != 0 || len(stdout) > 4000 || !strings.Contains(stdout, "Truncated") {
		t.Errorf("--max-bytes: exit %d, %d bytes", code, len(stdout))
	}
}

// TestBadInput: one line on stderr that names the file, exit 2.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	data, err := os.ReadFile(linux)
	if err != nil {
		t.Fatal(err)
	}
	schema3 := write("s3.json", regexp.MustCompile(`"schema": [12]`).ReplaceAllString(string(data), `"schema": 3`))
	trunc := write("trunc.json", string(data[:len(data)/3]))
	dup := write("dup.json", string(data))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"render", schema3}, "closematrix: " + schema3 + ": schema 3, want 1 or 2\n"},
		{[]string{"render", trunc}, "closematrix: " + trunc + ": truncated JSON"},
		{[]string{"render", linux, dup}, "closematrix: " + dup + `: platform label "linux-amd64" is also in ` + linux + ": one file per label\n"},
		{[]string{"render", filepath.Join(dir, "nope.json")}, "closematrix: " + filepath.Join(dir, "nope.json") + ": no such file or directory\n"},
		{[]string{"claims", trunc}, "closematrix: " + trunc + ": truncated JSON"},
		{[]string{"diff", schema3, linux}, "closematrix: " + schema3 + ": schema 3, want 1 or 2\n"},
		{[]string{"diff", windows, linux}, "closematrix: " + linux + ": platform linux-amd64, but baseline " + windows + " is windows-amd64"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestDiff(t *testing.T) {
	code, stdout, _ := runCmd("diff", linux, linux)
	if code != 0 || stdout != "linux-amd64: no drift\n" {
		t.Errorf("no drift: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runCmd("diff", baseline, linux)
	if code != 1 || !strings.HasPrefix(stdout, "linux-amd64: 10 changed\n") || strings.Contains(stdout, "::warning") {
		t.Errorf("drift: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runCmd("diff", "--github", baseline, linux)
	if code != 1 || strings.Count(stdout, "::warning file=results/linux-amd64.json,title=drift ") != 10 {
		t.Errorf("--github: exit %d, %q", code, stdout)
	}
}

// TestDiffViews: drift compares a column with itself, and the view is part
// of the column: one label through two views is refused; a file that says
// "raw" is the same column as an older one that says nothing.
func TestDiffViews(t *testing.T) {
	data, err := os.ReadFile(linux)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	with := func(name, view string) string {
		p := filepath.Join(dir, name)
		b := bytes.Replace(data, []byte(`"label": "linux-amd64",`), []byte(`"label": "linux-amd64", "view": "`+view+`",`), 1)
		if bytes.Equal(b, data) {
			t.Fatal("the fixture's label line moved")
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gonet, raw := with("gonet.json", "gonet"), with("raw.json", "raw")
	if code, _, stderr := runCmd("diff", linux, gonet); code != 2 || !strings.Contains(stderr, "view gonet, but baseline "+linux+" is view raw") {
		t.Errorf("raw baseline, gonet run: exit %d, %q", code, stderr)
	}
	if code, stdout, stderr := runCmd("diff", linux, raw); code != 0 || stdout != "linux-amd64: no drift\n" {
		t.Errorf("old raw baseline, raw run: exit %d, %q %q", code, stdout, stderr)
	}
}

func TestDiffUpdate(t *testing.T) {
	base := filepath.Join(t.TempDir(), "linux-amd64.json")
	data, err := os.ReadFile(baseline)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runCmd("diff", "--update", base, linux); code != 0 || !strings.Contains(stdout, "10 changed") {
		t.Errorf("--update: exit %d, %q", code, stdout)
	}
	if code, stdout, _ := runCmd("diff", base, linux); code != 0 {
		t.Errorf("after --update: exit %d, %q", code, stdout)
	}
}

func TestClaims(t *testing.T) {
	code, stdout, _ := runCmd("claims", linux, windows, darwin)
	if code != 0 || !strings.Contains(stdout, "3. After shutdown for sending") || !strings.Contains(stdout, "windows-amd64: holds") {
		t.Errorf("claims: exit %d, %q", code, stdout)
	}
}
