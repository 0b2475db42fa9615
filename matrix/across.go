package matrix

import (
	"slices"
	"strings"
)

// OSViews is one OS column (Linux; wine) as several views recorded it: the
// second axis of the matrix, one scenario across the runtimes of one OS.
type OSViews struct {
	Title, Emulated string
	Views           []string  // view names, in layout order
	Cols            []FoldCol // Cols[i] is the column in Views[i]
}

// Heading is the OS column's title as FoldCol.Heading gives it.
func (o *OSViews) Heading() string {
	return (&FoldCol{Title: o.Title, Emulated: o.Emulated}).Heading()
}

// AcrossViews groups the layout's folded columns by OS column, keeping the
// OS columns that two views or more recorded, in the order they first
// appear.
func AcrossViews(views []View) []OSViews {
	var out []OSViews
	for _, v := range views {
		for _, fc := range v.Cols {
			i := slices.IndexFunc(out, func(o OSViews) bool { return o.Title == fc.Title && o.Emulated == fc.Emulated })
			if i < 0 {
				i = len(out)
				out = append(out, OSViews{Title: fc.Title, Emulated: fc.Emulated})
			}
			out[i].Views = append(out[i].Views, v.Name)
			out[i].Cols = append(out[i].Cols, fc)
		}
	}
	return slices.DeleteFunc(out, func(o OSViews) bool { return len(o.Views) < 2 })
}

// ViewsDiffer reports whether the views of one OS column disagree on a
// row, by class as platforms do (disagree).
func (o *OSViews) ViewsDiffer(r *Row) bool { return disagreeIn(r, o.Cols) }

// StepAcross is one row across the views of one OS: "on Linux: reset raw,
// python · eof node"; a view whose platforms split names them ("python
// arm64"). "" when the views agree.
func (o *OSViews) StepAcross(r *Row) string {
	if !o.ViewsDiffer(r) {
		return ""
	}
	var order []string
	who := map[string][]string{}
	for i, fc := range o.Cols {
		for _, p := range fc.Fold(r) {
			if p.Cell.Status != CellObserved {
				continue
			}
			b := behaviourText(p.Cell)
			if _, ok := who[b]; !ok {
				order = append(order, b)
			}
			name := o.Views[i]
			if p.Who != "" {
				name += " " + p.Who
			}
			who[b] = append(who[b], name)
		}
	}
	parts := make([]string, len(order))
	for j, b := range order {
		parts[j] = b + " " + strings.Join(who[b], ", ")
	}
	return "on " + o.Title + ": " + strings.Join(parts, " · ")
}

// ViewPortability sums up in one line where the runtimes differ on the same
// OS in one scenario: per step and OS column whose views disagree,
// "peer.recv#2 on Linux: reset raw, python · eof node; …" (the counterpart
// of Portability, which compares OSes within one view). "" when every OS's
// views agree.
func ViewPortability(rows []Row, oses []OSViews) string {
	var steps []string
	for i := range rows {
		for j := range oses {
			if s := oses[j].StepAcross(&rows[i]); s != "" {
				steps = append(steps, rows[i].Step+" "+s)
			}
		}
	}
	return strings.Join(steps, "; ")
}

// RowAcross is every OS column's StepAcross of one row, joined: what the
// CSV's views_differ column holds.
func RowAcross(r *Row, oses []OSViews) string {
	var parts []string
	for j := range oses {
		if s := oses[j].StepAcross(r); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}
