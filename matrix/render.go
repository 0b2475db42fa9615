package matrix

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Format names an output format.
type Format string

// Output formats.
const (
	FormatMarkdown Format = "md"
	FormatHTML     Format = "html"
	FormatCSV      Format = "csv"
	FormatJSON     Format = "json"
	FormatText     Format = "text"
	// FormatSummary is what to read first (WriteSummary): the counts, the
	// rows where platforms or views disagree, the claims' verdicts.
	FormatSummary Format = "summary"
)

// Formats lists every format, in the order usage messages show them.
var Formats = []Format{FormatMarkdown, FormatHTML, FormatCSV, FormatJSON, FormatText, FormatSummary}

// ParseFormat accepts a format name as the command line gives it.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatMarkdown, FormatHTML, FormatCSV, FormatJSON, FormatText, FormatSummary:
		return f, nil
	case "markdown":
		return FormatMarkdown, nil
	case "txt":
		return FormatText, nil
	}
	return "", fmt.Errorf("unknown format %q: want md, html, csv, json, text or summary", s)
}

// Options tune rendering.
type Options struct {
	// MaxBytes caps Markdown output (0: no cap). GitHub's job summary takes
	// at most 1 MiB; past the cap the matrix rows are cut with a note, and
	// the summary, claims and legend are kept. Other formats ignore it: a
	// cut HTML, CSV or JSON file would be broken, not short.
	MaxBytes int
}

// Render writes m in format f.
func Render(w io.Writer, m *Matrix, f Format, opt Options) error {
	switch f {
	case FormatMarkdown:
		return WriteMarkdown(w, m, opt.MaxBytes)
	case FormatHTML:
		return WriteHTML(w, m)
	case FormatCSV:
		return WriteCSV(w, m)
	case FormatJSON:
		return WriteJSON(w, m)
	case FormatText:
		return WriteText(w, m)
	case FormatSummary:
		return WriteSummary(w, m)
	}
	return fmt.Errorf("unknown format %q", f)
}

// oneLine makes free text (titles, reasons, metadata) fit a table cell:
// control characters, newlines included, become spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// String is the one-line summary every format shows.
func (s Summary) String() string {
	return fmt.Sprintf("%d scenarios · %d platforms · %d rows · %d cells (%d observed, %d unstable, %d skipped, %d error, %d missing) · %d disagreements in %d scenarios",
		s.Scenarios, s.Platforms, s.Rows, s.Cells, s.Observed, s.Unstable, s.Skipped, s.Errors, s.Missing, s.Disagreements, s.Divergent)
}

// toolText names the collector: "closematrix v0.1.0 0123abcd".
func (c *Column) toolText() string {
	return strings.Join(strings.Fields(c.Tool.Name+" "+c.Tool.Version+" "+c.Tool.Commit), " ")
}

// verdictDetail is the reason behind a verdict in one line: failing cells
// for "does not hold", the missing cells for "unknown", and every deciding
// cell for "holds".
func (pv *PlatformVerdict) verdictDetail() string {
	var parts []string
	switch pv.Verdict {
	case NotApplicable:
		return oneLine(pv.Why)
	case DoesNotHold:
		for _, e := range pv.Evidence {
			if e.Result == ResultFail {
				parts = append(parts, e.String())
			}
		}
	case Unknown:
		for _, n := range pv.Needs {
			parts = append(parts, "needs "+n)
		}
	default:
		for _, e := range pv.Evidence {
			parts = append(parts, e.String())
		}
	}
	return oneLine(strings.Join(parts, "; "))
}
