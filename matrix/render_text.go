package matrix

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Widths that keep the text table compact: the claim text (the full text is
// one `closematrix claims` away) and a skip or error reason (the other
// formats carry it whole).
const (
	claimWidth  = 48
	cellWidth   = 14 // five OS columns and the step fit in 100
	reasonWidth = 40
)

// WriteText writes the whole matrix for a terminal (WriteSummary is what
// `make matrix` prints), to read at 100 columns: per view, one column per OS family with the
// platforms folded as on the page, compact cells (class letter and short
// native code; a split cell's parts joined by "/" and marked *), the
// scenario on a line of its own above its steps, ≠ where platforms
// disagree; then the claims' verdicts per folded column and the summary.
// `closematrix render --format md` has every full outcome.
func WriteText(w io.Writer, m *Matrix) error {
	bw := bufio.NewWriter(w)
	views := m.Layout()
	split := false
	for _, v := range views {
		fmt.Fprintf(bw, "== %s view ==\n", v.Name)
		header := []string{"  step"}
		for _, fc := range v.Cols {
			header = append(header, fc.Title)
		}
		t := table{header}
		for _, g := range m.Groups {
			t = append(t, []string{"[" + g.Action + "]"})
			for _, r := range g.Rows {
				if r.First {
					t = append(t, []string{r.Scenario})
				}
				row := []string{"  " + r.Step}
				if disagreeIn(&r, v.Cols) {
					row[0] = "≠ " + r.Step
				}
				for j := range v.Cols {
					parts := v.Cols[j].Fold(&r)
					texts := make([]string, len(parts))
					for k, p := range parts {
						texts[k] = strings.TrimSpace(p.Cell.Mark() + " " + p.Cell.Short())
					}
					text := strings.Join(texts, "/")
					if len(parts) > 1 {
						text, split = "*"+text, true
					}
					text = shorten(text, cellWidth)
					row = append(row, text)
				}
				t = append(t, row)
			}
		}
		t.writeSep(bw, " ") // every cell starts with its mark: one space parts them
		fmt.Fprintln(bw)
	}
	for _, v := range views {
		header := []string{"", "claim (" + v.Name + ")"}
		for _, fc := range v.Cols {
			header = append(header, fc.Title)
		}
		ct := table{header}
		for _, cr := range m.Claims {
			row := []string{fmt.Sprint(cr.Claim.ID), shorten(cr.Claim.Text, claimWidth)}
			for j := range v.Cols {
				var words []string
				for _, c := range v.Cols[j].Members {
					if w := shortVerdict(string(cr.Verdicts[c].Verdict)); !slices.Contains(words, w) {
						words = append(words, w)
					}
				}
				cell := strings.Join(words, "/")
				if len(words) > 1 {
					cell, split = "*"+cell, true
				}
				row = append(row, cell)
			}
			ct = append(ct, row)
		}
		ct.write(bw)
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, wrap(m.Summary.String(), 100))
	fmt.Fprintln(bw, "(≠: platforms disagree by class; a letter is the class: E eof, R reset, P broken-pipe, …")
	fmt.Fprintln(bw, " (the legend of render --format md); · a state, events or segments; – skipped; — missing")
	if split {
		fmt.Fprintln(bw, " *: the platforms of one OS differ, parts joined by /")
	}
	fmt.Fprintln(bw, " `closematrix claims` explains each verdict)")
	return bw.Flush()
}

// shortVerdict keeps a verdict narrow in the text table.
func shortVerdict(s string) string {
	return strings.NewReplacer(string(DoesNotHold), "fails", string(Unknown), "?").Replace(s)
}

// WriteClaims writes every claim with its source, note and, per platform,
// the verdict and every cell that took part: the long form behind the
// verdict tables.
func WriteClaims(w io.Writer, m *Matrix) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Claims from %s\n", ClaimsSource)
	for _, cr := range m.Claims {
		fmt.Fprintf(bw, "\n%d. %s\n   note: %s\n", cr.Claim.ID, cr.Claim.Text, cr.Claim.Note)
		for _, pv := range cr.Verdicts {
			fmt.Fprintf(bw, "   %s: %s\n", pv.Platform, pv.Verdict)
			for _, e := range pv.Evidence {
				fmt.Fprintf(bw, "      %s\n", oneLine(e.String()))
			}
			for _, n := range pv.Needs {
				fmt.Fprintf(bw, "      needs %s\n", oneLine(n))
			}
			if pv.Why != "" {
				fmt.Fprintf(bw, "      %s\n", oneLine(pv.Why))
			}
		}
	}
	return bw.Flush()
}

// table is rows of cells, aligned by rune count (the matrix uses · × ≠ —,
// all one column wide in a terminal).
type table [][]string

func (t table) write(w io.Writer) { t.writeSep(w, "  ") }

// writeSep writes the table with sep between columns. A row of one cell is
// a heading line: it does not set the widths.
func (t table) writeSep(w io.Writer, sep string) {
	var width []int
	for _, row := range t {
		if len(row) == 1 {
			continue
		}
		for i, c := range row {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(oneLine(c)))
		}
	}
	for _, row := range t {
		var b strings.Builder
		for i, c := range row {
			c = oneLine(c)
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(c)
			if i < len(row)-1 && i < len(width) {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// wrap breaks a line of text at spaces so that no line is wider than n runes.
func wrap(s string, n int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
