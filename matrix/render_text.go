package matrix

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Widths that keep the text table compact: the claim text (the full text is
// one `closematrix claims` away) and a skip or error reason (the other
// formats carry it whole).
const (
	claimWidth  = 60
	reasonWidth = 40
)

// WriteText writes the matrix as aligned plain-text columns for a terminal
// (`make matrix` prints it): a header of platform labels, a line per action,
// a row per step with ≠ in front where platforms disagree, then the claims as
// a verdict table and the summary.
func WriteText(w io.Writer, m *Matrix) error {
	bw := bufio.NewWriter(w)
	header := []string{"", "scenario", "step"}
	for _, c := range m.Columns {
		header = append(header, c.Platform.Label)
	}
	t := table{header}
	for _, g := range m.Groups {
		t = append(t, []string{"", "[" + g.Action + "]"})
		for _, r := range g.Rows {
			row := []string{mark(r.Disagree), "", r.Step}
			if r.First {
				row[1] = r.Scenario
			}
			for _, c := range r.Cells {
				text := c.Text()
				if c.Status != CellObserved {
					text = shorten(text, reasonWidth)
				}
				row = append(row, text)
			}
			t = append(t, row)
		}
	}
	t.write(bw)

	fmt.Fprintln(bw)
	ct := table{append([]string{"", "claim"}, header[3:]...)}
	for _, cr := range m.Claims {
		row := []string{fmt.Sprint(cr.Claim.ID), shorten(cr.Claim.Text, claimWidth)}
		for _, pv := range cr.Verdicts {
			row = append(row, string(pv.Verdict))
		}
		ct = append(ct, row)
	}
	ct.write(bw)
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, m.Summary.String())
	fmt.Fprintln(bw, "(≠: platforms disagree by class; `closematrix claims` explains each verdict)")
	return bw.Flush()
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
		}
	}
	return bw.Flush()
}

// table is rows of cells, aligned by rune count (the matrix uses · × ≠ —,
// all one column wide in a terminal).
type table [][]string

func (t table) write(w io.Writer) {
	var width []int
	for _, row := range t {
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
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
