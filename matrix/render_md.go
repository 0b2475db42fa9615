package matrix

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// mdEscaper neutralises what would change a GitHub table: | ends a cell,
// < > & would start markup or entities, * ` [ ] \ would start formatting or
// links. Underscores stay, because intraword _ is inert on GitHub and state
// names (FIN_WAIT_2) should read well in a terminal too.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"*", `\*`, "`", "\\`", "[", `\[`, "]", `\]`,
)

// md makes any string safe as Markdown inline text on one line.
func md(s string) string { return mdEscaper.Replace(oneLine(s)) }

// mdDoc is a Markdown document as lines, split into a head and tail that are
// always kept and a body (the matrix) that a size cap may cut.
type mdDoc struct {
	head, body, tail []string
	bodyRow          []bool // body[i] is a matrix row
}

// WriteMarkdown writes the matrix as GitHub-flavoured Markdown. maxBytes > 0
// caps the output (see Options.MaxBytes).
func WriteMarkdown(w io.Writer, m *Matrix, maxBytes int) error {
	var d mdDoc
	d.head = mdHead(m)
	d.body, d.bodyRow = mdBody(m)
	d.tail = mdTail(m)
	_, err := io.WriteString(w, d.render(maxBytes))
	return err
}

func mdHead(m *Matrix) []string {
	l := []string{"# closematrix", "", "**" + md(m.Summary.String()) + "**", "", "## Platforms", "",
		"| platform | os | arch | os version | kernel | runner | emulator | go | tool | started |",
		"|---|---|---|---|---|---|---|---|---|---|"}
	for _, c := range m.Columns {
		p := c.Platform
		tool := strings.TrimSpace(c.Tool.Version + " " + shortCommit(c.Tool.Commit))
		l = append(l, mdRow(p.Label, p.OS, p.Arch, p.OSVersion, p.Kernel, p.Runner, p.Emulator, p.Go, tool, c.Started))
	}
	return l
}

func mdBody(m *Matrix) (lines []string, isRow []bool) {
	add := func(row bool, s ...string) {
		for _, x := range s {
			lines = append(lines, x)
			isRow = append(isRow, row)
		}
	}
	views := m.Layout()
	// Where platforms differ comes first: what a reader scans for.
	add(false, "", "## Where platforms differ", "",
		"One line per scenario whose platforms disagree (by class, see the legend), per view.", "",
		mdRow("view", "scenario", "how they differ"), "|---|---|---|")
	n := 0
	for _, v := range views {
		for _, g := range m.Groups {
			for _, rows := range scenarioRuns(g.Rows) {
				if p := Portability(rows, v.Cols); p != "" {
					add(true, mdRow(v.Name, rows[0].Scenario, p))
					n++
				}
			}
		}
	}
	if n == 0 {
		add(false, "| | nowhere | every platform that recorded a step agrees |")
	}
	// Where the runtimes differ on one OS: the views as the second axis.
	if oses := AcrossViews(views); len(oses) > 0 {
		names := make([]string, len(oses))
		for i := range oses {
			names[i] = md(oses[i].Heading()) + " (" + md(strings.Join(oses[i].Views, ", ")) + ")"
		}
		add(false, "", "## Where views differ", "",
			"One line per scenario whose views disagree on the same OS (by class): "+strings.Join(names, "; ")+".", "",
			mdRow("scenario", "how the views differ"), "|---|---|")
		k := 0
		for _, g := range m.Groups {
			for _, rows := range scenarioRuns(g.Rows) {
				if p := ViewPortability(rows, oses); p != "" {
					add(true, mdRow(rows[0].Scenario, p))
					k++
				}
			}
		}
		if k == 0 {
			add(false, "| nowhere | every view that recorded a step agrees |")
		}
	}
	for _, v := range views {
		add(false, "", "## Matrix: "+md(v.Name)+" view", "",
			"One column per OS family; its platforms share a cell where they recorded the same and split it, each part named, where not. Rows marked ≠ are where platforms disagree.")
		header := []string{"≠", "scenario", "step"}
		for _, fc := range v.Cols {
			header = append(header, fc.Heading()+" ("+strings.Join(fc.Names, ", ")+")")
		}
		rule := "|:-:|---|---|" + strings.Repeat("---|", len(v.Cols))
		for _, g := range m.Groups {
			add(false, "", "### "+md(g.Action)+" ("+md(v.Name)+")", "", mdRow(header...), rule)
			for _, r := range g.Rows {
				cells := []string{mark(disagreeIn(&r, v.Cols)), "", r.Step}
				if r.First {
					cells[1] = r.Scenario
				}
				for j := range v.Cols {
					cells = append(cells, foldedText(v.Cols[j].Fold(&r), Cell.Text))
				}
				add(true, mdRow(cells...))
			}
		}
	}
	return lines, isRow
}

// foldedText is a folded cell as text: the one cell, or each part after the
// names of the platforms it stands for ("arm64: reset · ECONNRESET 104 /
// amd64: eof").
func foldedText(parts []FoldPart, text func(Cell) string) string {
	if len(parts) == 1 {
		return text(parts[0].Cell)
	}
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = p.Who + ": " + text(p.Cell)
	}
	return strings.Join(s, " / ")
}

func mdTail(m *Matrix) []string {
	l := []string{"", "## Claims", "", "Source: " + md(ClaimsSource) + ", unless a claim names its own. Each claim is evaluated per platform by class (see its note).", ""}
	for _, v := range m.Layout() {
		header := []string{"#", "claim (" + v.Name + " view)"}
		for _, fc := range v.Cols {
			header = append(header, fc.Heading())
		}
		l = append(l, mdRow(header...), "|--:|---|"+strings.Repeat("---|", len(v.Cols)))
		for _, cr := range m.Claims {
			cells := []string{fmt.Sprint(cr.Claim.ID), cr.Claim.Text}
			for j := range v.Cols {
				cells = append(cells, foldedVerdict(&cr, &v.Cols[j]))
			}
			l = append(l, mdRow(cells...))
		}
		l = append(l, "")
	}
	for _, cr := range m.Claims {
		l = append(l, "", fmt.Sprintf("**%d. %s**", cr.Claim.ID, md(cr.Claim.Text)), "", "_"+md(cr.Claim.Note)+"_", "")
		if cr.Claim.Source != ClaimsSource {
			l = append(l, "Source: "+md(cr.Claim.Source)+".", "")
		}
		for _, pv := range cr.Verdicts {
			l = append(l, fmt.Sprintf("- %s: **%s** — %s", md(pv.Platform), pv.Verdict, md(pv.verdictDetail())))
		}
	}
	l = append(l, "", "## Legend", "")
	for _, e := range Legend() {
		l = append(l, fmt.Sprintf("- %s `%s` — %s", MarkOf(e.Class), e.Class, md(e.Meaning)))
	}
	return append(l, "", md(LegendNote))
}

// foldedVerdict is a claim's verdict in a folded column: one verdict where
// its platforms agree, each platform's otherwise.
func foldedVerdict(cr *ClaimResult, fc *FoldCol) string {
	var order []Verdict
	who := map[Verdict][]string{}
	for i, c := range fc.Members {
		v := cr.Verdicts[c].Verdict
		if _, ok := who[v]; !ok {
			order = append(order, v)
		}
		who[v] = append(who[v], fc.Names[i])
	}
	if len(order) == 1 {
		return string(order[0])
	}
	s := make([]string, len(order))
	for i, v := range order {
		s[i] = strings.Join(who[v], " ") + ": " + string(v)
	}
	return strings.Join(s, " / ")
}

// mdRow joins escaped cells into a table row.
func mdRow(cells ...string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(md(c))
		b.WriteString(" |")
	}
	return b.String()
}

// mark is the disagreement marker of a row.
func mark(disagree bool) string {
	if disagree {
		return "≠"
	}
	return ""
}

// shortCommit keeps a commit hash readable in a table.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func size(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	return n
}

func join(parts ...[]string) string {
	var b strings.Builder
	for _, p := range parts {
		for _, l := range p {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// render joins the document, cutting the body (or, if even that is not
// enough, everything) at a line boundary so that the result with its note
// stays within maxBytes.
func (d *mdDoc) render(maxBytes int) string {
	if maxBytes <= 0 || size(d.head)+size(d.body)+size(d.tail) <= maxBytes {
		return join(d.head, d.body, d.tail)
	}
	total := 0
	for _, r := range d.bodyRow {
		if r {
			total++
		}
	}
	note := func(shown int) []string {
		return []string{"", fmt.Sprintf("> **Truncated** to stay within %d bytes: %d of %d matrix rows shown. "+
			"Render without a size cap (closematrix render --format md) for the whole matrix.", maxBytes, shown, total)}
	}
	reserve := size(note(total)) // the widest the note gets
	if budget := maxBytes - size(d.head) - size(d.tail) - reserve; budget >= 0 {
		k, shown := 0, 0
		for used := 0; k < len(d.body) && used+len(d.body[k])+1 <= budget; k++ {
			used += len(d.body[k]) + 1
			if d.bodyRow[k] {
				shown++
			}
		}
		return join(d.head, d.body[:k], note(shown), d.tail)
	}
	all := append(append(append([]string{}, d.head...), d.body...), d.tail...)
	k := 0
	for used := 0; k < len(all) && used+len(all[k])+1 <= maxBytes-reserve; k++ {
		used += len(all[k]) + 1
	}
	shown := 0
	for i := len(d.head); i < k && i < len(d.head)+len(d.body); i++ {
		if d.bodyRow[i-len(d.head)] {
			shown++
		}
	}
	out := join(all[:k], note(shown))
	if len(out) > maxBytes { // a cap smaller than the note itself
		out = out[:maxBytes]
		for len(out) > 0 && !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return out
}
