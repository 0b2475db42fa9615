package matrix

import (
	"fmt"
	"io"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// benchFiles makes n platform files of k scenarios with four steps each,
// with enough variety (classes, variants, a skip) to exercise every path.
func benchFiles(n, k int) []*schema.File {
	classes := []schema.Class{schema.ClassEOF, schema.ClassReset, schema.ClassOK, schema.ClassBrokenPipe}
	files := make([]*schema.File, n)
	for p := range files {
		f := &schema.File{Schema: schema.Version, Platform: schema.Platform{
			Label: fmt.Sprintf("os%d-amd64", p), OS: []string{"linux", "windows", "darwin"}[p%3],
			OSVersion: "bench", Kernel: "1.0"}}
		for s := range k {
			sc := schema.Scenario{ID: fmt.Sprintf("v%d/action%d/cond%d", 4+2*(s%2), s%7, s), Title: "bench scenario",
				Labels: []string{"bench"}, Status: schema.StatusObserved, Runs: 3}
			if (s+p)%50 == 0 {
				sc.Status, sc.Reason = schema.StatusSkipped, "not here"
			}
			for i, name := range []string{"peer.recv", "peer.send", "peer.send#2", "peer.recv#2"} {
				st := schema.Step{Name: name, Outcome: schema.Outcome{Class: classes[(s+p+i)%len(classes)], Errno: "ECONNRESET", Code: 104}}
				if (s+i)%13 == 0 {
					st.Variants = []schema.Variant{{Outcome: st.Outcome, Count: 2}, {Outcome: schema.Outcome{Class: schema.ClassEOF}, Count: 1}}
				}
				sc.Steps = append(sc.Steps, st)
			}
			f.Scenarios = append(f.Scenarios, sc)
		}
		files[p] = f
	}
	return files
}

// BenchmarkRenderHTML merges 10 platform files × 1,000 scenarios and renders
// the HTML page: the size the published matrix may grow to. Budget: 1 s/op.
func BenchmarkRenderHTML(b *testing.B) {
	files := benchFiles(10, 1000)
	b.ResetTimer()
	for b.Loop() {
		m, err := Merge(files)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteHTML(io.Discard, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublish30x200 merges 30 real-shaped columns × 200 scenarios and
// renders the page and the capped Markdown, what the workflow publishes.
// Budget (issue 13): under 1 s.
func BenchmarkPublish30x200(b *testing.B) {
	files := syntheticFiles(b, 30, 200)
	b.ResetTimer()
	for b.Loop() {
		m, err := Merge(files)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteHTML(io.Discard, m); err != nil {
			b.Fatal(err)
		}
		if err := WriteMarkdown(io.Discard, m, 1000000); err != nil {
			b.Fatal(err)
		}
	}
}
