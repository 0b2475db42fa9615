package matrix

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strings"
)

// pageTemplate is the whole HTML page: inline CSS, JS and SVG, no fetches, so
// the file works from disk, from an artifact and offline.
//
//go:embed page.html.tmpl
var pageTemplate string

// page is parsed once; html/template does all escaping by context (the
// detail table is a Go value it writes as JSON inside a script element), so
// no string below is ever trusted as markup.
var page = template.Must(template.New("page").Parse(pageTemplate))

// The view model: the page needs strings ready to show, not the Matrix's
// structure, and computing them here keeps logic out of the template.
type (
	htmlPage struct {
		Summary    Summary
		Views      []htmlView
		Legend     []htmlLegend
		LegendNote string
		Source     string
		Actions    []string
		// Across is set when an OS was recorded through several views:
		// the page then marks the rows where its views differ and offers
		// the claims of every view side by side.
		Across       bool
		ClaimViews   []htmlClaimView // the header of the claims across views
		ClaimsAcross []htmlClaimAcross
		// Details is every distinct full outcome on the page; a cell names
		// its entry by index (data-d), so that 30 columns of cells stay
		// small and the panel still shows everything.
		Details []htmlDetail
	}
	htmlLegend struct {
		Class, Mark, Meaning string
	}
	htmlView struct {
		Name    string
		Runtime string // the view's runtimes, for the switch's tooltip
		First   bool
		Single  bool // one platform: nothing in the view to compare
		Cols    []htmlCol
		Groups  []htmlGroup
		Claims  []htmlClaim
		Width   int // columns of the matrix table, for colspan
	}
	htmlCol struct {
		Heading, Members, Tooltip, Labels string
	}
	htmlGroup struct {
		Action    string
		Scenarios []htmlScenario
		Rows      int
		Disagreed int
	}
	htmlScenario struct {
		ID, Title, Labels, Summary string
		Views                      string       // where the views of one OS differ (ViewPortability)
		Link                       template.URL // #v4/abort/idle: the permalink, slashes kept
		Anchor                     bool         // the first view carries the permalink target
		Rows                       []htmlRow
	}
	htmlRow struct {
		Step     string
		Disagree bool
		Views    bool       // the views of one OS differ on this row
		Cells    []htmlCell // per folded column
	}
	// htmlCell is One part where the column's platforms agree, Parts where
	// they split; HTML is the cell as the page's "one" or "split" template
	// rendered it (see fragments).
	htmlCell struct {
		One   *htmlPart
		Parts []htmlPart
		HTML  template.HTML
	}
	htmlPart struct {
		Who, Mark, Short, Class string
		NotObserved             string // the status of a cell that is not observed, "" otherwise
		D                       int
		Varies                  bool
	}
	htmlDetail struct {
		Text     string   `json:"t"`
		Short    string   `json:"k"`
		Class    string   `json:"c,omitempty"`
		Status   string   `json:"s"`
		Errno    string   `json:"e,omitempty"`
		Code     int      `json:"n,omitempty"`
		Bytes    int      `json:"b,omitempty"`
		Variants []string `json:"v,omitempty"`
		Note     string   `json:"note,omitempty"`
		Reason   string   `json:"r,omitempty"`
		Segments [][]any  `json:"g,omitempty"` // [seq, flags, len]
	}
	htmlClaim struct {
		ID         int
		Text, Note string
		Source     string          // when the claim has its own, not ClaimsSource
		Verdicts   [][]htmlVerdict // per folded column
		Agree      bool            // every platform has the same verdict
	}
	// htmlClaimView is one view's OS columns in the claims across views.
	htmlClaimView struct {
		Name string
		OSes []string
	}
	htmlClaimAcross struct {
		ID       int
		Text     string
		Verdicts []htmlVerdictCell // per view and folded column, in ClaimViews order
	}
	htmlVerdictCell struct {
		Key, Verdict, Mark string
		Title              string // each platform's verdict and what decided it
	}
	htmlVerdict struct {
		Who, Verdict, Key string
		Hint              string // one line under the verdict: what decided it, or what would
		Lines             []string
	}
)

// detailIndex hands out one index per distinct detail.
type detailIndex struct {
	list []htmlDetail
	at   map[string]int
}

func (x *detailIndex) of(c Cell) int {
	k := c.exact() + "\x00" + string(c.Status) + "\x00" + c.Note + "\x00" + c.Reason
	if len(c.Segments) > 0 {
		k += fmt.Sprint(c.Segments)
	}
	if i, ok := x.at[k]; ok {
		return i
	}
	d := htmlDetail{Text: oneLine(c.Text()), Short: oneLine(c.Short()), Class: string(c.Class()), Status: string(c.Status), Note: oneLine(c.Note), Reason: oneLine(c.Reason)}
	if c.Status == CellObserved {
		d.Errno, d.Code, d.Bytes = oneLine(c.Outcome.Errno), c.Outcome.Code, c.Outcome.N
		for _, v := range c.Variants {
			d.Variants = append(d.Variants, fmt.Sprintf("%s ×%d", oneLine(v.Outcome.String()), v.Count))
		}
		for _, s := range c.Segments {
			d.Segments = append(d.Segments, []any{s.Seq, oneLine(s.Flags), s.Len})
		}
	}
	x.at[k] = len(x.list)
	x.list = append(x.list, d)
	return len(x.list) - 1
}

// WriteHTML writes the matrix as one self-contained HTML page: a table per
// view (switched, not side by side) with one column per OS family, compact
// cells whose full outcome opens in a panel, a portability line and a
// permalink per scenario, a ladder diagram drawn from the scenario's wire,
// state and call steps, the claims and a legend.
func WriteHTML(w io.Writer, m *Matrix) error {
	p := htmlPage{Summary: m.Summary, LegendNote: LegendNote, Source: ClaimsSource}
	for _, e := range Legend() {
		p.Legend = append(p.Legend, htmlLegend{Class: string(e.Class), Mark: MarkOf(e.Class), Meaning: e.Meaning})
	}
	for _, g := range m.Groups {
		p.Actions = append(p.Actions, g.Action)
	}
	idx := &detailIndex{at: map[string]int{}}
	frag := &fragments{done: map[htmlPart]template.HTML{}}
	var err error
	layout := m.Layout()
	oses := AcrossViews(layout)
	p.Across = len(oses) > 0
	across := map[string]string{} // scenario → ViewPortability, the same in every view
	for _, g := range m.Groups {
		for _, rows := range scenarioRuns(g.Rows) {
			across[rows[0].Scenario] = oneLine(ViewPortability(rows, oses))
		}
	}
	if p.Across {
		p.ClaimViews, p.ClaimsAcross = htmlClaimsAcross(m, layout)
	}
	for vi, v := range layout {
		hv := htmlView{Name: v.Name, First: vi == 0, Width: 2 + len(v.Cols), Single: len(v.Cols) == 1 && len(v.Cols[0].Members) == 1}
		var runtimes []string
		for j := range v.Cols {
			fc := &v.Cols[j]
			var tips, labels []string
			for _, c := range fc.Members {
				tips = append(tips, m.Columns[c].tooltip())
				labels = append(labels, m.Columns[c].Platform.Label)
				if rt := oneLine(m.Columns[c].Platform.Runtime); rt != "" && !slices.Contains(runtimes, rt) {
					runtimes = append(runtimes, rt)
				}
			}
			hv.Cols = append(hv.Cols, htmlCol{Heading: fc.Title, Members: fc.Small(),
				Tooltip: strings.Join(tips, "\n\n"), Labels: strings.Join(labels, " ")})
		}
		hv.Runtime = v.Name + " view"
		if len(runtimes) > 0 {
			hv.Runtime += ": " + strings.Join(runtimes, "; ")
		}
		for _, g := range m.Groups {
			hg := htmlGroup{Action: g.Action}
			for _, rows := range scenarioRuns(g.Rows) {
				hs := htmlScenario{ID: rows[0].Scenario, Title: oneLine(rows[0].Title), Labels: strings.Join(rows[0].Labels, " "),
					Summary: oneLine(Portability(rows, v.Cols)), Views: across[rows[0].Scenario], Anchor: vi == 0, Link: permalink(rows[0].Scenario)}
				for i := range rows {
					r := &rows[i]
					hr := htmlRow{Step: r.Step, Disagree: disagreeIn(r, v.Cols), Views: slices.ContainsFunc(oses, func(o OSViews) bool { return o.ViewsDiffer(r) })}
					if hr.Disagree {
						hg.Disagreed++
					}
					hg.Rows++
					for j := range v.Cols {
						var hc htmlCell
						for _, fp := range v.Cols[j].Fold(r) {
							c := fp.Cell
							class := "" // only the vocabulary's classes have a colour; a state's words do not
							if MarkOf(c.Class()) != "" && !c.Observation {
								class = string(c.Class())
							}
							hp := htmlPart{Who: fp.Who, Mark: c.Mark(), Short: oneLine(c.Short()), Class: class,
								D: idx.of(c), Varies: len(c.Variants) > 0}
							if c.Status != CellObserved {
								hp.NotObserved = string(c.Status)
							}
							hc.Parts = append(hc.Parts, hp)
						}
						if len(hc.Parts) == 1 {
							hc.One, hc.Parts = &hc.Parts[0], nil
						}
						if hc.HTML, err = frag.cell(&hc); err != nil {
							return err
						}
						hr.Cells = append(hr.Cells, hc)
					}
					hs.Rows = append(hs.Rows, hr)
				}
				hg.Scenarios = append(hg.Scenarios, hs)
			}
			hv.Groups = append(hv.Groups, hg)
		}
		hv.Claims = htmlClaims(m, v.Cols)
		p.Views = append(p.Views, hv)
	}
	p.Details = idx.list
	return page.ExecuteTemplate(w, "page", p)
}

// fragments renders cells through the page's own "one" and "split"
// templates, each distinct cell once: a page of 30 columns has tens of
// thousands of cells but a few thousand distinct ones, and html/template's
// per-value escaper calls were most of the render time. The fragments are
// html/template's output, inserted where a cell goes (element content), so
// every value in them is still escaped by html/template, by context.
type fragments struct {
	done map[htmlPart]template.HTML
	buf  strings.Builder
}

func (f *fragments) cell(c *htmlCell) (template.HTML, error) {
	if c.One != nil {
		if h, ok := f.done[*c.One]; ok {
			return h, nil
		}
	}
	f.buf.Reset()
	name, data := "split", any(c)
	if c.One != nil {
		name, data = "one", c.One
	}
	if err := page.ExecuteTemplate(&f.buf, name, data); err != nil {
		return "", err
	}
	h := template.HTML(f.buf.String())
	if c.One != nil {
		f.done[*c.One] = h
	}
	return h, nil
}

// permalink is a scenario's fragment link with its slashes kept
// (#v4/abort/idle), as people write and read it. Only an ID that validation
// accepts (letters, digits, . _ + - and two slashes) is passed as a URL;
// anything else goes through html/template's own URL escaping.
func permalink(id string) template.URL {
	if scenarioRE.MatchString(id) {
		return template.URL("#" + id)
	}
	return template.URL("#" + url.PathEscape(id))
}

// scenarioRuns splits a group's rows into scenarios.
func scenarioRuns(rows []Row) [][]Row {
	var out [][]Row
	for i, r := range rows {
		if r.First || i == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// htmlClaims folds the claims' verdicts like the cells: one verdict per
// column where its platforms agree, one per platform where not.
func htmlClaims(m *Matrix, cols []FoldCol) []htmlClaim {
	var out []htmlClaim
	for _, cr := range m.Claims {
		hc := htmlClaim{ID: cr.Claim.ID, Text: cr.Claim.Text, Note: cr.Claim.Note, Agree: true}
		if cr.Claim.Source != ClaimsSource {
			hc.Source = cr.Claim.Source
		}
		var first Verdict
		for j := range cols {
			fc := &cols[j]
			var vs []htmlVerdict
			var keys []string
			for i, c := range fc.Members {
				pv := &cr.Verdicts[c]
				if first == "" {
					first = pv.Verdict
				} else if pv.Verdict != first {
					hc.Agree = false
				}
				k := pv.verdictDetail()
				if at := indexOf(keys, k); at >= 0 {
					vs[at].Who += " " + fc.Names[i]
					continue
				}
				keys = append(keys, k)
				v := htmlVerdict{Who: fc.Names[i], Verdict: string(pv.Verdict), Key: verdictKey(pv.Verdict), Hint: pv.hint()}
				for _, e := range pv.Evidence {
					v.Lines = append(v.Lines, oneLine(e.String()))
				}
				for _, n := range pv.Needs {
					v.Lines = append(v.Lines, "needs "+oneLine(n))
				}
				if pv.Why != "" {
					v.Lines = append(v.Lines, oneLine(pv.Why))
				}
				vs = append(vs, v)
			}
			if len(vs) == 1 {
				vs[0].Who = ""
			}
			hc.Verdicts = append(hc.Verdicts, vs)
		}
		out = append(out, hc)
	}
	return out
}

// htmlClaimsAcross is every claim's verdict per view and folded column,
// side by side: the claims with the views as their second axis. A column
// whose platforms differ shows the verdict they share least ("fails" before
// "unknown" before "holds"), marked, and every platform's in its title.
func htmlClaimsAcross(m *Matrix, layout []View) ([]htmlClaimView, []htmlClaimAcross) {
	var views []htmlClaimView
	for _, v := range layout {
		hv := htmlClaimView{Name: v.Name}
		for j := range v.Cols {
			hv.OSes = append(hv.OSes, v.Cols[j].Title)
		}
		views = append(views, hv)
	}
	rank := map[Verdict]int{DoesNotHold: 0, Unknown: 1, Holds: 2, NotApplicable: 3}
	marks := map[Verdict]string{Holds: "✓", DoesNotHold: "✗", Unknown: "?", NotApplicable: "–"}
	var out []htmlClaimAcross
	for _, cr := range m.Claims {
		hc := htmlClaimAcross{ID: cr.Claim.ID, Text: cr.Claim.Text}
		for _, v := range layout {
			for j := range v.Cols {
				fc := &v.Cols[j]
				var worst Verdict
				var lines []string
				split := false
				for i, c := range fc.Members {
					pv := &cr.Verdicts[c]
					if worst == "" || rank[pv.Verdict] < rank[worst] {
						split = split || worst != ""
						worst = pv.Verdict
					} else if pv.Verdict != worst {
						split = true
					}
					lines = append(lines, oneLine(fmt.Sprintf("%s %s: %s — %s", v.Name, fc.Names[i], pv.Verdict, pv.hint())))
				}
				cell := htmlVerdictCell{Key: verdictKey(worst), Verdict: string(worst), Mark: marks[worst], Title: strings.Join(lines, "\n")}
				if split {
					cell.Mark += "*"
				}
				hc.Verdicts = append(hc.Verdicts, cell)
			}
		}
		out = append(out, hc)
	}
	return views, out
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// hint sums a verdict up in a few words: the first failing cell, the first
// missing one, or how many cells agreed.
func (pv *PlatformVerdict) hint() string {
	switch pv.Verdict {
	case NotApplicable:
		return "not about the " + pv.View + " view"
	case DoesNotHold:
		for _, e := range pv.Evidence {
			if e.Result == ResultFail {
				return oneLine(e.Scenario + " " + e.Step + " = " + e.Outcome)
			}
		}
	case Unknown:
		if len(pv.Needs) > 0 {
			return "needs " + oneLine(pv.Needs[0])
		}
	}
	for _, e := range pv.Evidence {
		if e.By == ByCounter {
			return fmt.Sprintf("%d cells; the RST from the counter, no capture", len(pv.Evidence))
		}
	}
	return fmt.Sprintf("%d cells", len(pv.Evidence))
}

// verdictKey is a CSS-friendly name for a verdict.
func verdictKey(v Verdict) string {
	switch v {
	case Holds:
		return "holds"
	case DoesNotHold:
		return "fails"
	case NotApplicable:
		return "na"
	}
	return "unknown"
}

// tooltip is every metadata field of a column, one per line.
func (c *Column) tooltip() string {
	p := c.Platform
	var b strings.Builder
	for _, kv := range [][2]string{
		{"label", p.Label}, {"os", p.OS}, {"arch", p.Arch}, {"os version", p.OSVersion},
		{"kernel", p.Kernel}, {"runner", p.Runner}, {"emulator", p.Emulator}, {"go", p.Go},
		{"tool", c.toolText()},
		{"started", c.Started}, {"duration", fmt.Sprintf("%d ms", c.DurationMS)},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s: %s\n", kv[0], oneLine(kv[1]))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
