package matrix

import (
	"fmt"
	"slices"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// A View is the columns recorded through one view (raw syscalls, Go net, an
// event loop), folded: the page shows one view at a time and switches
// between them, instead of putting every view's columns side by side.
type View struct {
	Name string
	Cols []FoldCol
}

// FoldCol is one displayed column: every platform of one OS family (or one
// emulator) in one view. Its platforms — architectures, runner versions —
// share a cell where they agree and split it, each part named, where they do
// not.
type FoldCol struct {
	Title    string // Linux, Windows, macOS, FreeBSD; wine for an emulated Windows
	Emulated string // the emulated OS ("Windows") for an emulator's column, "" for a real one
	Members  []int  // indices into Matrix.Columns, in column order
	Names    []string
}

// FoldPart is one or more platforms' shared cell.
type FoldPart struct {
	Who  string // the member names it stands for, "" when the whole column agrees
	Col  int    // the first member's index into Matrix.Columns
	Cell Cell
}

// Layout folds the matrix's columns into views (platform.view, ViewOf), in
// the order of Views and then alphabetically; within a view, columns in
// Matrix column order (so: Linux, Windows, macOS, FreeBSD, others, then
// emulated ones).
func (m *Matrix) Layout() []View {
	var views []View
	at := map[string]int{}
	cols := map[string]int{} // view + fold key → index in its view's Cols
	for i := range m.Columns {
		p := &m.Columns[i].Platform
		v := ViewOf(p)
		vi, ok := at[v]
		if !ok {
			vi = len(views)
			at[v] = vi
			views = append(views, View{Name: v})
		}
		title, emu := osFamilyName(p.OS), ""
		if p.Emulator != "" {
			title, emu = emulatorName(p.Emulator), osFamilyName(p.OS)
		}
		key := v + "\x00" + title + "\x00" + emu
		ci, ok := cols[key]
		if !ok {
			ci = len(views[vi].Cols)
			cols[key] = ci
			views[vi].Cols = append(views[vi].Cols, FoldCol{Title: title, Emulated: emu})
		}
		views[vi].Cols[ci].Members = append(views[vi].Cols[ci].Members, i)
	}
	slices.SortStableFunc(views, func(a, b View) int { return compareViews(a.Name, b.Name) })
	for _, v := range views {
		for j := range v.Cols {
			v.Cols[j].Names = m.memberNames(v.Cols[j].Members)
		}
	}
	return views
}

// memberNames names each member of a folded column as briefly as tells them
// apart: the architecture when that is unique, the label without its OS and
// view otherwise (amd64-ubuntu-22.04, from linux-amd64-ubuntu-22.04-gonet or
// linux-amd64-gonet-ubuntu-22.04).
func (m *Matrix) memberNames(members []int) []string {
	names := make([]string, len(members))
	seen := map[string]int{}
	for i, c := range members {
		names[i] = m.Columns[c].Platform.Arch
		if names[i] == "" {
			names[i] = m.Columns[c].Platform.Label
		}
		seen[names[i]]++
	}
	for i, c := range members {
		if seen[names[i]] > 1 {
			p := &m.Columns[c].Platform
			l := strings.TrimPrefix(p.Label, p.OS+"-")
			if v := ViewOf(p); v != schema.ViewRaw {
				l = strings.Replace(strings.TrimSuffix(l, "-"+v), "-"+v+"-", "-", 1)
			}
			names[i] = l
		}
	}
	return names
}

// emulatorName is "wine" for "wine-8.0".
func emulatorName(e string) string {
	if i := strings.IndexByte(e, '-'); i > 0 {
		return e[:i]
	}
	return e
}

// Fold is a row's cell in a folded column: one part when every member
// recorded the same (native name and code included: they are one OS), one
// part per distinct record otherwise, each naming its members.
func (fc *FoldCol) Fold(r *Row) []FoldPart {
	var parts []FoldPart
	var keys []string
	for i, c := range fc.Members {
		cell := r.Cells[c]
		k := cell.exact() + "\x00" + cell.Note
		if j := slices.Index(keys, k); j >= 0 {
			parts[j].Who += " " + fc.Names[i]
			continue
		}
		keys = append(keys, k)
		parts = append(parts, FoldPart{Who: fc.Names[i], Col: c, Cell: cell})
	}
	if len(parts) == 1 {
		parts[0].Who = ""
	}
	return parts
}

// Heading is the column's title, with the OS it emulates for an emulator's
// column: "Linux", "wine (emulated Windows)".
func (fc *FoldCol) Heading() string {
	if fc.Emulated != "" {
		return fc.Title + " (emulated " + fc.Emulated + ")"
	}
	return fc.Title
}

// Small is the heading's small print: what the column folds, and that it is
// emulated ("emulated Windows · amd64").
func (fc *FoldCol) Small() string {
	s := strings.Join(fc.Names, " · ")
	if fc.Emulated != "" {
		s = "emulated " + fc.Emulated + " · " + s
	}
	return s
}

// disagreeIn reports whether the observed cells of these columns differ in
// behaviour, as Row.Disagree does for all columns.
func disagreeIn(r *Row, cols []FoldCol) bool {
	var cells []Cell
	for _, fc := range cols {
		for _, c := range fc.Members {
			cells = append(cells, r.Cells[c])
		}
	}
	return disagree(cells)
}

// Portability sums up in one line how a scenario's platforms differ within
// one view: per step that disagrees, which columns saw which behaviour —
// "peer.recv: eof on Linux, macOS · reset on Windows; peer.send: …". A
// split column names its members ("Linux arm64"). "" when they all agree.
func Portability(rows []Row, cols []FoldCol) string {
	var steps []string
	for i := range rows {
		r := &rows[i]
		if !disagreeIn(r, cols) {
			continue
		}
		var order []string
		who := map[string][]string{}
		for _, fc := range cols {
			for _, p := range fc.Fold(r) {
				if p.Cell.Status != CellObserved {
					continue
				}
				b := behaviourText(p.Cell)
				if _, ok := who[b]; !ok {
					order = append(order, b)
				}
				name := fc.Title
				if p.Who != "" {
					name += " " + p.Who
				}
				who[b] = append(who[b], name)
			}
		}
		parts := make([]string, len(order))
		for j, b := range order {
			parts[j] = b + " on " + strings.Join(who[b], ", ")
		}
		steps = append(steps, r.Step+": "+strings.Join(parts, " · "))
	}
	return strings.Join(steps, "; ")
}

// behaviourText is the behaviour a disagreement is about, readably: the
// class, with the byte count for data, variants joined by "/".
func behaviourText(c Cell) string {
	outs := c.outcomes()
	parts := make([]string, len(outs))
	for i, o := range outs {
		parts[i] = string(o.Class)
		if o.Class == schema.ClassData && !c.Observation {
			parts[i] = fmt.Sprintf("data %d", o.N)
		}
	}
	return strings.Join(parts, "/")
}
