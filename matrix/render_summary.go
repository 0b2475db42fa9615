package matrix

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/closematrix/closematrix/schema"
)

// The summary's page: what a terminal shows without scrolling much. The
// line budget is the whole output's; rows are dropped, most informative
// last, until it fits.
const (
	summaryWidth    = 100
	summaryMaxLines = 145
)

// WriteSummary writes what a person reads first after a run (`make matrix`
// prints it), within summaryMaxLines lines of at most summaryWidth columns:
// the counts; per view, the rows where that view's platforms disagree, with
// the columns folded as the page folds them (Layout); per OS that was
// recorded through more than one view, the rows where the views disagree;
// the claims' verdicts per view and folded column; where the full table is.
// Rows that v4 and v6 record alike are shown once ("v4,v6 close/idle").
// When the rows do not fit, calls are kept before observations (a state,
// the wire, poll and readiness events, whose words differ by OS even where
// the behaviour does not), and a line says how many more there are.
func WriteSummary(w io.Writer, m *Matrix) error {
	views := m.Layout()
	s := summary{m: m, views: views}
	tables := s.tables()
	head, claims := s.head(), s.claims()
	allot := make([]int, len(tables))
	rows := 0
	for i, t := range tables {
		allot[i] = len(t.rows)
		rows += len(t.rows)
	}
	var body, tail []string
	for {
		body = body[:0]
		marks := map[string]bool{} // the marks of the cells shown, for the legend
		for i := range tables {
			body = append(body, tables[i].lines(allot[i], marks)...)
		}
		tail = s.tail(claims, marks, rows == 0)
		if len(head)+len(body)+len(tail) <= summaryMaxLines {
			break
		}
		big := 0 // take a row from the table that shows the most
		for i := range allot {
			if allot[i] > allot[big] {
				big = i
			}
		}
		if allot[big] == 0 {
			break // the fixed parts alone are over: print them whole
		}
		allot[big]--
	}
	bw := bufio.NewWriter(w)
	for _, l := range slices.Concat(head, body, tail) {
		fmt.Fprintln(bw, l)
	}
	return bw.Flush()
}

type summary struct {
	m     *Matrix
	views []View
}

// head is the counts and what each view's folded columns are.
func (s *summary) head() []string {
	l := []string{fmt.Sprintf("closematrix: %s, %s", plural(len(s.m.Columns), "result file"), plural(len(s.views), "view"))}
	l = append(l, strings.Split(wrap(s.m.Summary.String(), summaryWidth), "\n")...)
	for _, v := range s.views {
		cols := make([]string, len(v.Cols))
		for i, fc := range v.Cols {
			cols[i] = fc.Title + " (" + fc.Small() + ")"
		}
		l = append(l, strings.Split(wrap(v.Name+" view: "+strings.Join(cols, ", "), summaryWidth), "\n")...)
	}
	return l
}

// sumTable is one section of disagreeing rows: its heading, its column
// headers and its rows, most informative first by rank.
type sumTable struct {
	title  string
	header []string
	rows   []sumRow
	total  int // disagreeing rows before v4 and v6 were folded
	ids    int // scenarios they are in
}

type sumRow struct {
	unit     int    // which folded scenario the row belongs to
	scenario string // "v4,v6 close/idle"
	step     string
	cells    []string
	marks    []string // the marks its cells use
	rank     int
}

// unit is one scenario's disagreeing rows in one table, before folding.
type unit struct {
	family, rest string // v4, close/idle
	rows         []sumRow
}

// tables builds the sections: one per view whose platforms disagree
// somewhere, then one per OS column recorded through several views.
func (s *summary) tables() []sumTable {
	var out []sumTable
	for _, v := range s.views {
		if len(v.Cols) < 2 && (len(v.Cols) == 0 || len(v.Cols[0].Members) < 2) {
			continue // one platform cannot disagree with itself
		}
		header := []string{"scenario", "step"}
		for _, fc := range v.Cols {
			header = append(header, fc.Title)
		}
		t := s.table(header, v.Cols)
		t.title = fmt.Sprintf("Where platforms differ, %s view: %d rows in %d scenarios", v.Name, t.total, t.ids)
		out = append(out, t)
	}
	// The same OS column (Linux; wine) through several views.
	type osCol struct {
		title, emulated string
		views           []string
		cols            []FoldCol
	}
	var oses []*osCol
	for _, v := range s.views {
		for _, fc := range v.Cols {
			i := slices.IndexFunc(oses, func(o *osCol) bool { return o.title == fc.Title && o.emulated == fc.Emulated })
			if i < 0 {
				i = len(oses)
				oses = append(oses, &osCol{title: fc.Title, emulated: fc.Emulated})
			}
			oses[i].views = append(oses[i].views, v.Name)
			oses[i].cols = append(oses[i].cols, fc)
		}
	}
	for _, o := range oses {
		if len(o.views) < 2 {
			continue
		}
		t := s.table(append([]string{"scenario", "step"}, o.views...), o.cols)
		t.title = fmt.Sprintf("Where views differ on %s (%s): %d rows in %d scenarios",
			(&FoldCol{Title: o.title, Emulated: o.emulated}).Heading(), strings.Join(o.views, " vs "), t.total, t.ids)
		out = append(out, t)
	}
	return out
}

// table collects the rows where the cells of cols disagree, each folded
// column's cell as folded text, and folds a scenario's v6 rows into its v4
// rows when they are the same.
func (s *summary) table(header []string, cols []FoldCol) sumTable {
	t := sumTable{header: header}
	var units []unit
	ids := map[string]bool{}
	for _, g := range s.m.Groups {
		for i := range g.Rows {
			r := &g.Rows[i]
			if !disagreeIn(r, cols) {
				continue
			}
			row := sumRow{step: r.Step, cells: make([]string, len(cols)), rank: informative(r.Kind)}
			for j := range cols {
				row.cells[j] = folded(cols[j].Fold(r), &row.marks)
			}
			t.total++
			ids[r.Scenario] = true
			family, action, condition := splitID(r.Scenario)
			rest := action + "/" + condition
			if n := len(units); n == 0 || units[n-1].family != family || units[n-1].rest != rest {
				units = append(units, unit{family: family, rest: rest})
			}
			u := &units[len(units)-1]
			u.rows = append(u.rows, row)
		}
	}
	t.ids = len(ids)
	// Fold: a unit whose rows equal an earlier unit's of the same
	// action/condition joins it under both families.
	var kept []unit
	for _, u := range units {
		j := slices.IndexFunc(kept, func(k unit) bool { return k.rest == u.rest && sameRows(k.rows, u.rows) })
		if j >= 0 {
			kept[j].family += "," + u.family
			continue
		}
		kept = append(kept, u)
	}
	for i, u := range kept {
		for _, r := range u.rows {
			r.unit, r.scenario = i, strings.TrimPrefix(u.family+" "+u.rest, " ")
			t.rows = append(t.rows, r)
		}
	}
	return t
}

func sameRows(a, b []sumRow) bool {
	return slices.EqualFunc(a, b, func(x, y sumRow) bool { return x.step == y.step && slices.Equal(x.cells, y.cells) })
}

// informative ranks a row by its kind: a call's result is what a program
// sees; an observation's words (a TCP state, segments, a poll mask, AFD
// flags) differ by OS more often than what they describe does.
func informative(k schema.Kind) int {
	switch k {
	case schema.KindCall, schema.KindCompletion:
		return 0
	case schema.KindState:
		return 1
	case schema.KindWire:
		return 2
	}
	return 3
}

// folded is a folded cell as the text table shows it: mark and short text,
// a split column's parts joined by "/" after a "*". It adds the marks it
// used to marks.
func folded(parts []FoldPart, marks *[]string) string {
	texts := make([]string, len(parts))
	for k, p := range parts {
		mark := p.Cell.Mark()
		*marks = append(*marks, mark)
		if len(p.Cell.Variants) > 0 {
			*marks = append(*marks, "~")
		}
		texts[k] = strings.TrimSpace(mark + " " + p.Cell.Short())
	}
	text := strings.Join(texts, "/")
	if len(parts) > 1 {
		text = "*" + text
		*marks = append(*marks, "*")
	}
	return text
}

// lines renders the table with at most n of its rows (the most informative
// n, shown in catalogue order) and a line saying what was left out, and adds
// the marks of the rows shown to marks. The scenario has a column of its own
// where that fits in summaryWidth, a line of its own above its steps
// otherwise, with the cells narrowed as far as the columns need.
func (t *sumTable) lines(n int, marks map[string]bool) []string {
	if len(t.rows) == 0 {
		return nil
	}
	order := make([]int, len(t.rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return t.rows[a].rank - t.rows[b].rank })
	keep := order[:min(n, len(order))]
	slices.Sort(keep)
	for _, i := range keep {
		for _, m := range t.rows[i].marks {
			marks[m] = true
		}
	}

	render := func(own bool, cw int, sep string) []string {
		tab := table{t.header}
		if own {
			tab = table{append([]string{"  " + t.header[1]}, t.header[2:]...)}
		}
		prev := -1
		for _, i := range keep {
			r := t.rows[i]
			cells := make([]string, len(r.cells))
			for j, c := range r.cells {
				cells[j] = shorten(c, cw)
			}
			switch {
			case own && r.unit != prev:
				tab = append(tab, []string{r.scenario})
				fallthrough
			case own:
				tab = append(tab, append([]string{"  " + r.step}, cells...))
			case r.unit != prev:
				tab = append(tab, append([]string{r.scenario, r.step}, cells...))
			default:
				tab = append(tab, append([]string{"", r.step}, cells...))
			}
			prev = r.unit
		}
		var b strings.Builder
		tab.writeSep(&b, sep)
		return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	}
	out := render(false, cellWidth, "  ")
	if tooWide(out) {
		step := utf8.RuneCountInString(t.header[1]) + 2
		for _, i := range keep {
			step = max(step, utf8.RuneCountInString(t.rows[i].step)+2)
		}
		cols := len(t.header) - 2
		// The estimate leaves out the step's indent and an ellipsis: narrow
		// on until the lines fit (many views side by side).
		for cw := min(cellWidth, max(6, (summaryWidth-step)/max(cols, 1)-1)); ; cw-- {
			if out = render(true, cw, " "); !tooWide(out) || cw <= 4 {
				break
			}
		}
	}
	title := t.title
	if folds(t.rows) {
		title += ", v4 and v6 folded where they agree"
	}
	out = append(append([]string{""}, strings.Split(wrap(title, summaryWidth), "\n")...), out...)
	if left := len(t.rows) - len(keep); left > 0 {
		out = append(out, fmt.Sprintf("… %d more such rows (observations left out first) are in the full table", left))
	}
	return out
}

func folds(rows []sumRow) bool {
	return slices.ContainsFunc(rows, func(r sumRow) bool { return strings.Contains(r.scenario, ",") })
}

func tooWide(lines []string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return utf8.RuneCountInString(l) > summaryWidth })
}

// tail is the claims' verdicts, the legend of the marks shown and where
// the rest is.
func (s *summary) tail(claims []string, marks map[string]bool, agree bool) []string {
	l := append([]string{""}, claims...)
	if agree {
		l = append(l, "", "Every platform and view that recorded a step agrees on it.")
	}
	var legend []string
	for _, c := range schema.Classes {
		if m := MarkOf(c); marks[m] {
			legend = append(legend, m+" "+string(c))
		}
	}
	for _, x := range []struct{ mark, text string }{{"·", "· a state, events or segments"}, {"–", "– skipped"},
		{"!", "! harness error"}, {"", "— missing"}, {"~", "~ varied over the runs"},
		{"*", "* the platforms of one OS differ, parts joined by /"}} {
		if marks[x.mark] {
			legend = append(legend, x.text)
		}
	}
	if len(legend) > 0 {
		legend[0] = "Cells: " + legend[0]
		legend[len(legend)-1] += "."
		l = append(l, "")
		l = append(l, wrapItems(legend, ", ", summaryWidth)...)
	}
	l = append(l, strings.Split(wrap("The full table, every row and cell: closematrix render --format text (or md, html) "+
		"of the same files; make matrix writes results/MATRIX.md and results/index.html. "+
		"Each verdict's evidence: closematrix claims.", summaryWidth), "\n")...)
	return l
}

// claims is one table of every claim's verdict per view and folded column,
// or one per view when that is too wide.
func (s *summary) claims() []string {
	type col struct {
		view string
		fc   *FoldCol
	}
	var cols []col
	for vi := range s.views {
		for j := range s.views[vi].Cols {
			cols = append(cols, col{s.views[vi].Name, &s.views[vi].Cols[j]})
		}
	}
	verdict := func(cr *ClaimResult, fc *FoldCol) string {
		var words []string
		for _, c := range fc.Members {
			if w := shortVerdict(string(cr.Verdicts[c].Verdict)); !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
		if len(words) > 1 {
			return "*" + strings.Join(words, "/")
		}
		return strings.Join(words, "/")
	}
	render := func(cols []col) []string {
		viewRow, osRow := []string{"", ""}, []string{"#", "claim"}
		width := 4
		for i, c := range cols {
			v := ""
			if i == 0 || cols[i-1].view != c.view {
				v = c.view
			}
			viewRow, osRow = append(viewRow, v), append(osRow, c.fc.Title)
			w := max(utf8.RuneCountInString(v), utf8.RuneCountInString(c.fc.Title), len("fails"))
			for _, cr := range s.m.Claims {
				w = max(w, utf8.RuneCountInString(verdict(&cr, c.fc)))
			}
			width += w + 2
		}
		text := max(summaryWidth-width-2, 24)
		t := table{viewRow, osRow}
		for _, cr := range s.m.Claims {
			row := []string{fmt.Sprint(cr.Claim.ID), shorten(cr.Claim.Text, text)}
			for _, c := range cols {
				row = append(row, verdict(&cr, c.fc))
			}
			t = append(t, row)
		}
		var b strings.Builder
		t.write(&b)
		return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	}
	head := "Claims, per view and OS: holds, fails (does not hold), ? (no data), n/a (not about the view)"
	if l := render(cols); !tooWide(l) || len(s.views) < 2 {
		return append([]string{head}, l...)
	}
	// Too many views side by side: one column per OS, its verdict where
	// every view agrees, one letter per view where they do not.
	type osCol struct{ title, emulated string }
	var oses []osCol
	for _, c := range cols {
		if o := (osCol{c.fc.Title, c.fc.Emulated}); !slices.Contains(oses, o) {
			oses = append(oses, o)
		}
	}
	letter := map[string]string{"holds": "h", "fails": "f", "?": "?", string(NotApplicable): "n"}
	names := make([]string, len(s.views))
	for i, v := range s.views {
		names[i] = v.Name
	}
	t := table{append([]string{"#", "claim"}, func() []string {
		h := make([]string, len(oses))
		for i, o := range oses {
			h[i] = o.title
		}
		return h
	}()...)}
	var rows [][]string
	width := 4
	for oi, o := range oses {
		w := max(utf8.RuneCountInString(o.title), len(s.views), len("fails"))
		for ci := range s.m.Claims {
			cr := &s.m.Claims[ci]
			var words []string
			for _, v := range s.views {
				j := slices.IndexFunc(v.Cols, func(fc FoldCol) bool { return fc.Title == o.title && fc.Emulated == o.emulated })
				if j < 0 {
					words = append(words, "-")
					continue
				}
				words = append(words, verdict(cr, &v.Cols[j]))
			}
			cell := words[0]
			if slices.ContainsFunc(words, func(w string) bool { return w != words[0] || strings.HasPrefix(w, "*") }) {
				var b strings.Builder
				for _, w := range words {
					switch {
					case strings.HasPrefix(w, "*"):
						b.WriteString("*")
					case letter[w] != "":
						b.WriteString(letter[w])
					default:
						b.WriteString(w)
					}
				}
				cell = b.String()
			}
			if oi == 0 {
				rows = append(rows, []string{fmt.Sprint(cr.Claim.ID), ""})
			}
			rows[ci] = append(rows[ci], cell)
			w = max(w, utf8.RuneCountInString(cell))
		}
		width += w + 2
	}
	text := max(summaryWidth-width-2, 24)
	for ci := range rows {
		rows[ci][1] = shorten(s.m.Claims[ci].Claim.Text, text)
	}
	t = append(t, rows...)
	var b strings.Builder
	t.write(&b)
	l := append([]string{head}, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
	return append(l, strings.Split(wrap("Where the views disagree, one letter per view ("+strings.Join(names, ", ")+
		"): h holds, f fails, ? no data, n not about that view, * its platforms differ, - not recorded there.", summaryWidth), "\n")...)
}

// wrapItems joins items with sep into lines of at most n runes, breaking
// between items only ("… blocked" stays on one line).
func wrapItems(items []string, sep string, n int) []string {
	var lines []string
	line := ""
	end := utf8.RuneCountInString(strings.TrimRight(sep, " ")) // what a broken line ends in
	for _, it := range items {
		if line != "" && utf8.RuneCountInString(line+sep+it)+end > n {
			lines = append(lines, line+strings.TrimRight(sep, " "))
			line = ""
		}
		if line != "" {
			line += sep
		}
		line += it
	}
	return append(lines, line)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
