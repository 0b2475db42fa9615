package matrix

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestPublishBudget renders 30 real-shaped columns × 200 scenarios and holds
// the page to its budget (issue 13): under 2 MB, under 300 kB gzipped, and
// the Markdown job summary under GitHub's 1 MiB once capped. The time is
// logged (the benchmark BenchmarkPublish30x200 measures it); a loaded
// machine makes a wall-clock assertion flaky, so only a gross overrun fails.
func TestPublishBudget(t *testing.T) {
	files := syntheticFiles(t, 30, 200)
	start := time.Now()
	m, err := Merge(files)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, m); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(page.Bytes())
	zw.Close()
	var md, full bytes.Buffer
	if err := WriteMarkdown(&md, m, 1000000); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&full, m, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("30 columns × %d scenarios (%d rows): merge+HTML %v; page %d bytes, gzip %d bytes; Markdown %d bytes (uncapped %d)",
		m.Summary.Scenarios, m.Summary.Rows, took, page.Len(), z.Len(), md.Len(), full.Len())
	if page.Len() >= 2_000_000 {
		t.Errorf("page is %d bytes, budget 2 MB", page.Len())
	}
	if z.Len() >= 300_000 {
		t.Errorf("page is %d bytes gzipped, budget 300 kB", z.Len())
	}
	if md.Len() > 1000000 {
		t.Errorf("capped Markdown is %d bytes", md.Len())
	}
	if took > 5*time.Second {
		t.Errorf("merge and render took %v, budget 1 s", took)
	}
}

// TestTextReadsAt100Columns renders the terminal table for 24 real-shaped
// columns and for the committed results: no line may be wider than 100.
func TestTextReadsAt100Columns(t *testing.T) {
	m, err := Merge(syntheticFiles(t, 24, 0))
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Matrix{"24 synthetic columns": m, "fixtures": fixtureMatrix(t)} {
		var buf bytes.Buffer
		if err := WriteText(&buf, m); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(buf.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > 100 {
				t.Errorf("%s: line %d is %d wide: %s", name, i+1, n, line)
			}
		}
	}
}
