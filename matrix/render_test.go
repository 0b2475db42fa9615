package matrix

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/closematrix/closematrix/schema"
)

// hostile is a file whose free-text fields all carry markup, table pipes and
// newlines.
func hostile(t *testing.T) *Matrix {
	t.Helper()
	const evil = "<script>alert(1)</script>|**x**\n[l](javascript:x)&amp;"
	f := file("linux-amd64", "linux",
		observed("v4/close/idle", schema.Step{Name: "peer.recv",
			Outcome: schema.Outcome{Class: "<img src=x onerror=alert(1)>|", Errno: "E|<b>", Code: 1}, Note: evil}),
		schema.Scenario{ID: "v6/close/idle", Status: schema.StatusSkipped, Reason: evil, Title: evil})
	f.Platform.OSVersion = evil
	f.Platform.Runner = evil
	f.Scenarios[0].Title = evil
	return mustMerge(t, f)
}

func TestMarkdownNeutralisesMarkup(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, hostile(t), 0); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script", "<img", "<b>", "[l](javascript"} {
		if strings.Contains(out, bad) {
			t.Errorf("Markdown contains %q", bad)
		}
	}
	// Every table row has exactly as many unescaped pipes as its header.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Contains(line, "v4/close/idle") {
			if n := strings.Count(line, "|") - strings.Count(line, `\|`); n != 5 {
				t.Errorf("row has %d cell separators, want 5: %s", n, line)
			}
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, hostile(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "E|<b>"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q unescaped", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped title not found")
	}
	for _, fetch := range []string{"http://", "https://", "<link", "src="} {
		// The SVG namespace names the ladder's elements; it is never fetched.
		if strings.Contains(strings.NewReplacer("src=x", "", "http://www.w3.org/2000/svg", "").Replace(out), fetch) {
			t.Errorf("page is not self-contained: contains %q", fetch)
		}
	}
}

func TestCSVAndJSONAreWellFormed(t *testing.T) {
	m := hostile(t)
	var c, j bytes.Buffer
	if err := WriteCSV(&c, m); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if len(r) != 9 {
			t.Errorf("CSV row has %d fields, want 9: %q", len(r), r)
		}
	}
	if err := WriteJSON(&j, m); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["merged_schema"] != float64(MergedSchema) {
		t.Errorf("merged_schema = %v", doc["merged_schema"])
	}
}

// TestMarkdownCap: any cap is respected, the output stays valid UTF-8, and a
// cut says so; the claims survive a cap that only cuts matrix rows.
func TestMarkdownCap(t *testing.T) {
	m := fixtureMatrix(t)
	var full bytes.Buffer
	if err := WriteMarkdown(&full, m, 0); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 10, 100, 1000, 12000, 24000, 30000, full.Len() - 1, full.Len(), 1 << 20} {
		var buf bytes.Buffer
		if err := WriteMarkdown(&buf, m, limit); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if len(out) > limit {
			t.Errorf("cap %d: %d bytes", limit, len(out))
		}
		if !utf8.ValidString(out) {
			t.Errorf("cap %d: invalid UTF-8", limit)
		}
		switch {
		case limit >= full.Len():
			if out != full.String() {
				t.Errorf("cap %d: output changed although it fits", limit)
			}
		case limit >= 1000:
			if !strings.Contains(out, "**Truncated**") {
				t.Errorf("cap %d: no truncation note", limit)
			}
		}
		if limit >= 24000 && limit < full.Len() && !strings.Contains(out, "## Claims") {
			t.Errorf("cap %d: claims were cut, matrix rows should go first", limit)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"md": FormatMarkdown, "markdown": FormatMarkdown, "HTML": FormatHTML,
		"csv": FormatCSV, "json": FormatJSON, "text": FormatText, "txt": FormatText} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("pdf accepted")
	}
}

func TestLegendCoversClasses(t *testing.T) {
	for _, e := range Legend() {
		if e.Meaning == "" {
			t.Errorf("class %q has no sentence in the legend", e.Class)
		}
	}
	if len(Legend()) != len(schema.Classes) {
		t.Errorf("legend has %d entries, vocabulary %d", len(Legend()), len(schema.Classes))
	}
}

// TestTextAligned: every row of the text table puts the platform columns at
// the same rune offset as the header.
func TestTextAligned(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, fixtureMatrix(t)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")[1:] // after "== raw view =="
	header := []rune(lines[0])
	col := strings.Index(lines[0], "Windows")
	col = utf8.RuneCountInString(lines[0][:col])
	for _, l := range lines[1:] {
		if l == "" {
			break // end of the matrix table
		}
		r := []rune(l)
		if len(r) > col && r[col-1] != ' ' {
			t.Errorf("misaligned row (col %d of %q): %s", col, string(header), l)
		}
	}
}
