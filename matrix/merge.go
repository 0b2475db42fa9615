package matrix

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/closematrix/closematrix/schema"
)

// Matrix is the merged view of several result files: what every renderer
// draws from, so that all formats agree.
type Matrix struct {
	Columns []Column      // one per platform, in column order
	Groups  []Group       // rows grouped by action
	Claims  []ClaimResult // every claim, evaluated per column
	Summary Summary
}

// Column is one platform's file, less its scenarios.
type Column struct {
	Platform   schema.Platform
	Tool       schema.Tool
	Started    string
	DurationMS int64

	index map[string]*schema.Scenario // scenario ID → record, for claims
}

// Group is the rows of one action (close, abort, shutdown-wr, …).
type Group struct {
	Action string
	Rows   []Row
}

// Row is one scenario × step across all columns.
type Row struct {
	Scenario string      // full ID, v4/close/idle
	Title    string      // first non-empty title in column order
	Labels   []string    // union of the scenario's labels, sorted
	Step     string      // "" for a scenario that no platform recorded steps for
	Kind     schema.Kind // what the step observes, as the result files recorded it
	First    bool        // the scenario's first row: renderers print the ID once
	Cells    []Cell      // one per column
	Disagree bool        // observed cells differ in behaviour (see package doc)
}

// Summary counts what the matrix holds. Cells counts every row × column;
// the status counts split it.
type Summary struct {
	Scenarios     int `json:"scenarios"`
	Platforms     int `json:"platforms"`
	Rows          int `json:"rows"`
	Cells         int `json:"cells"`
	Observed      int `json:"observed"`
	Unstable      int `json:"unstable"` // observed cells with variants
	Skipped       int `json:"skipped"`
	Errors        int `json:"errors"`
	Missing       int `json:"missing"`
	Disagreements int `json:"disagreements"` // rows
	Divergent     int `json:"divergent_scenarios"`
}

// Merge builds the matrix. The files should be valid (Parse/Load check
// that); Merge refuses none and two files with one label, since a column is a
// label.
func Merge(files []*schema.File) (*Matrix, error) {
	if len(files) == 0 {
		return nil, errors.New("no result files to merge")
	}
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b *schema.File) int { return comparePlatforms(&a.Platform, &b.Platform) })
	m := &Matrix{Columns: make([]Column, len(files))}
	labels := make(map[string]bool, len(files)) // not adjacent when their views differ
	for i, f := range files {
		if labels[f.Platform.Label] {
			return nil, fmt.Errorf("two files for platform label %q: one file per label", f.Platform.Label)
		}
		labels[f.Platform.Label] = true
		m.Columns[i] = Column{Platform: f.Platform, Tool: f.Tool, Started: f.Started, DurationMS: f.DurationMS,
			index: scenarioIndex(f)}
		m.Columns[i].Platform.View = ViewOf(&f.Platform) // an older file's, from its label
	}
	m.Groups = m.buildGroups(files)
	m.Claims = EvaluateClaims(m)
	m.Summary = m.summarise()
	return m, nil
}

// buildGroups lays out the rows; see the package doc for the order.
func (m *Matrix) buildGroups(files []*schema.File) []Group {
	lists := make([][]string, len(files))
	for i, f := range files {
		lists[i] = scenarioIDs(f)
	}
	ids := mergeOrder(lists)
	// Groups in the order their action first appears in the catalogue.
	var groups []Group
	at := map[string]int{}
	for _, id := range ids {
		_, action, _ := splitID(id)
		if _, ok := at[action]; !ok {
			at[action] = len(groups)
			groups = append(groups, Group{Action: action})
		}
	}
	// Within a group: family first, catalogue order after (stable sort).
	slices.SortStableFunc(ids, func(a, b string) int {
		fa, _, _ := splitID(a)
		fb, _, _ := splitID(b)
		return cmp.Or(cmp.Compare(familyRank(fa), familyRank(fb)), cmp.Compare(fa, fb))
	})
	for _, id := range ids {
		_, action, _ := splitID(id)
		g := &groups[at[action]]
		g.Rows = append(g.Rows, m.scenarioRows(id)...)
	}
	return groups
}

// scenarioRows builds the rows of one scenario across the columns.
func (m *Matrix) scenarioRows(id string) []Row {
	var stepLists [][]string
	var title string
	var labels []string
	for _, col := range m.Columns {
		sc := col.index[id]
		if sc == nil {
			continue
		}
		if title == "" {
			title = sc.Title
		}
		labels = append(labels, sc.Labels...)
		if sc.Status != schema.StatusObserved {
			continue
		}
		stepLists = append(stepLists, stepNames(sc))
	}
	slices.Sort(labels)
	labels = slices.Compact(labels)
	steps := mergeOrder(stepLists)
	if len(steps) == 0 {
		steps = []string{""} // a row that carries the skip or error reasons
	}
	rows := make([]Row, len(steps))
	for i, step := range steps {
		r := Row{Scenario: id, Title: title, Labels: labels, Step: step, Kind: m.kindOf(id, step), First: i == 0,
			Cells: make([]Cell, len(m.Columns))}
		for c := range m.Columns {
			r.Cells[c] = m.Columns[c].cell(id, step)
		}
		r.Disagree = disagree(r.Cells)
		rows[i] = r
	}
	return rows
}

// kindOf is a row's kind: what the result files recorded for the step (a
// schema 1 file's kind was filled in from the name when it was read), or
// "" for a row without a step. Names are not parsed here: a step kind that
// this reader does not know by name still lands in its kind.
func (m *Matrix) kindOf(id, step string) schema.Kind {
	if step == "" {
		return ""
	}
	for _, col := range m.Columns {
		if sc := col.index[id]; sc != nil {
			for i := range sc.Steps {
				if sc.Steps[i].Name == step && sc.Steps[i].Kind != "" {
					return sc.Steps[i].Kind
				}
			}
		}
	}
	return schema.KindOf(step)
}

// cell finds one column's record of one step.
func (col *Column) cell(id, step string) Cell {
	sc := col.index[id]
	switch {
	case sc == nil:
		return Cell{Status: CellMissing, Reason: reasonNoScenario}
	case sc.Status != schema.StatusObserved:
		return Cell{Status: CellStatus(sc.Status), Reason: sc.Reason}
	}
	for i := range sc.Steps {
		if sc.Steps[i].Name == step {
			return stepCell(&sc.Steps[i])
		}
	}
	return Cell{Status: CellMissing, Reason: reasonNoStep}
}

// disagree reports whether the observed cells show more than one behaviour.
// Events cells compare only with cells of the same readiness API: epoll's
// EPOLLRDHUP and AFD's AFD_POLL_DISCONNECT are different words by design.
func disagree(cells []Cell) bool {
	first := map[string]string{} // api → behaviour
	for _, c := range cells {
		if c.Status != CellObserved {
			continue
		}
		b := c.behaviour()
		if f, ok := first[c.api()]; !ok {
			first[c.api()] = b
		} else if b != f {
			return true
		}
	}
	return false
}

func (m *Matrix) summarise() Summary {
	s := Summary{Platforms: len(m.Columns)}
	for _, g := range m.Groups {
		divergent := false
		for _, r := range g.Rows {
			if r.First {
				s.Scenarios++
				divergent = false
			}
			s.Rows++
			if r.Disagree {
				s.Disagreements++
				if !divergent {
					s.Divergent++
					divergent = true
				}
			}
			for _, c := range r.Cells {
				s.Cells++
				switch c.Status {
				case CellObserved:
					s.Observed++
					if len(c.Variants) > 0 {
						s.Unstable++
					}
				case CellSkipped:
					s.Skipped++
				case CellError:
					s.Errors++
				case CellMissing:
					s.Missing++
				}
			}
		}
	}
	return s
}
