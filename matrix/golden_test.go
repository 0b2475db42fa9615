package matrix

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// update rewrites the golden files from the current output:
// go test ./matrix -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// fixtures are the three platform files every golden test renders: a
// Linux-like, a Windows-like (WSA names and codes) and a macOS-like run,
// with a skipped and an error scenario, steps with variants, a step only
// one platform has, a state scenario, and markup in a title.
var fixtures = []string{"testdata/linux-amd64.json", "testdata/windows-amd64.json", "testdata/darwin-arm64.json"}

func loadFixtures(t testing.TB) []*schema.File {
	t.Helper()
	files, err := LoadAll(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func fixtureMatrix(t testing.TB) *Matrix {
	t.Helper()
	m, err := Merge(loadFixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./matrix -run Golden -update and review the diff\n%s",
			name, firstDifference(got, want))
	}
}

// firstDifference shows the first line that differs, which is what a reader
// of a failing golden test needs first.
func firstDifference(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return "line " + strconv.Itoa(i+1) + ":\n  got:  " + string(gl) + "\n  want: " + string(wl)
		}
	}
	return ""
}

func TestGoldenFormats(t *testing.T) {
	m := fixtureMatrix(t)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, m, f, Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, "matrix."+string(f), buf.Bytes())
		})
	}
}

// TestGoldenDeterministic renders twice from files given in another order:
// the output must not depend on input order or map iteration.
func TestGoldenDeterministic(t *testing.T) {
	files := loadFixtures(t)
	rev := []*schema.File{files[2], files[0], files[1]}
	for _, f := range Formats {
		var a, b bytes.Buffer
		m1, _ := Merge(files)
		m2, _ := Merge(rev)
		if err := Render(&a, m1, f, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := Render(&b, m2, f, Options{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: output depends on the order of the input files", f)
		}
	}
}

func TestGoldenMarkdownCapped(t *testing.T) {
	m := fixtureMatrix(t)
	var buf bytes.Buffer
	const limit = 24000
	if err := WriteMarkdown(&buf, m, limit); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > limit {
		t.Errorf("capped Markdown is %d bytes, over the %d cap", buf.Len(), limit)
	}
	golden(t, "matrix-capped.md", buf.Bytes())
}

func TestGoldenClaims(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteClaims(&buf, fixtureMatrix(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "claims.txt", buf.Bytes())
}

func TestGoldenDiff(t *testing.T) {
	base, err := Load("testdata/baseline/linux-amd64.json")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Load("testdata/linux-amd64.json")
	if err != nil {
		t.Fatal(err)
	}
	changes := Diff(base, cur)
	var text, gh bytes.Buffer
	if err := WriteDiff(&text, cur.Platform.Label, changes); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiffGitHub(&gh, cur.Platform.Label, changes); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.txt", text.Bytes())
	golden(t, "diff-github.txt", gh.Bytes())
}

// viewFixtures are the three platform fixtures plus two runtime views of
// the Linux one, python and node, each with the cells such a runtime
// changes (node: the RST read as end of stream, a send on the destroyed
// stream closed; python: its exception's name), so that
// the views as the second axis have something to show.
func viewFixtures(t testing.TB) []*schema.File {
	t.Helper()
	files := loadFixtures(t)
	for _, v := range []struct {
		view, runtime string
		change        map[string]schema.Outcome
	}{
		{"python", "CPython 3.11.7 socket", map[string]schema.Outcome{
			"v4/abort/idle peer.recv": {Class: schema.ClassReset, Errno: "ConnectionResetError ECONNRESET", Code: 104}}},
		{"node", "Node.js v20.20.2 net", map[string]schema.Outcome{
			"v4/abort/idle peer.recv": {Class: schema.ClassEOF, Errno: "'end' → 'finish' → 'close'"},
			"v4/abort/idle peer.send": {Class: schema.ClassClosed, Errno: "Error ERR_STREAM_DESTROYED"}}},
	} {
		f, err := Load(fixtures[0])
		if err != nil {
			t.Fatal(err)
		}
		f.Platform.Label, f.Platform.View, f.Platform.Runtime = "linux-amd64-"+v.view, v.view, v.runtime
		for i := range f.Scenarios {
			for j := range f.Scenarios[i].Steps {
				st := &f.Scenarios[i].Steps[j]
				if o, ok := v.change[f.Scenarios[i].ID+" "+st.Name]; ok {
					st.Outcome, st.Variants = o, nil
				}
			}
		}
		files = append(files, f)
	}
	return files
}

// TestGoldenViews: the Markdown's "Where views differ" lines, the CSV's
// views_differ column, the summary's comparison of Linux's views and the
// claims per view, on fixtures with three views of Linux.
func TestGoldenViews(t *testing.T) {
	m, err := Merge(viewFixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{FormatMarkdown, FormatCSV, FormatSummary} {
		var buf bytes.Buffer
		if err := Render(&buf, m, f, Options{}); err != nil {
			t.Fatal(err)
		}
		golden(t, "views."+string(f), buf.Bytes())
	}
}
