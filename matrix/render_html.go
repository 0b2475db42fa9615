package matrix

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// pageTemplate is the whole HTML page: inline CSS and JS, no fetches, so the
// file works from disk, from an artifact and offline.
//
//go:embed page.html.tmpl
var pageTemplate string

// page is parsed once; html/template does all escaping by context, so no
// string below is ever trusted as markup.
var page = template.Must(template.New("page").Parse(pageTemplate))

// The view model: the page needs strings ready to show, not the Matrix's
// structure, and computing them here keeps logic out of the template.
type (
	htmlPage struct {
		Summary    Summary
		Columns    []htmlColumn
		Groups     []htmlGroup
		Claims     []htmlClaim
		Legend     []LegendEntry
		LegendNote string
		Source     string
		Width      int // columns of the matrix table, for colspan
	}
	htmlColumn struct {
		Label, Meta, Tooltip string
	}
	htmlGroup struct {
		Action    string
		Anchor    string
		Rows      []htmlRow
		Disagreed int
	}
	htmlRow struct {
		Scenario, Title, Step, Labels string
		First, Disagree               bool
		Cells                         []htmlCell
	}
	htmlCell struct {
		Text, Class, Status, Tooltip string
		Varies                       bool
	}
	htmlClaim struct {
		ID         int
		Text, Note string
		Verdicts   []htmlVerdict
		Agree      bool // every platform has the same verdict
	}
	htmlVerdict struct {
		Platform, Verdict, Key string
		Hint                   string // one line under the verdict: what decided it, or what would
		Lines                  []string
	}
)

// WriteHTML writes the matrix as one self-contained HTML page: grouped by
// action, divergent rows highlighted, a filter box, platform metadata in the
// column headers, the claims and a legend.
func WriteHTML(w io.Writer, m *Matrix) error {
	p := htmlPage{Summary: m.Summary, Legend: Legend(), LegendNote: LegendNote, Source: ClaimsSource,
		Width: 3 + len(m.Columns)}
	for i := range m.Columns {
		c := &m.Columns[i]
		p.Columns = append(p.Columns, htmlColumn{Label: c.Platform.Label, Meta: c.platformMeta(), Tooltip: c.tooltip()})
	}
	for _, g := range m.Groups {
		hg := htmlGroup{Action: g.Action, Anchor: "g-" + g.Action, Rows: make([]htmlRow, len(g.Rows))}
		for j, r := range g.Rows {
			hr := htmlRow{Scenario: r.Scenario, Title: oneLine(r.Title), Step: r.Step, Labels: strings.Join(r.Labels, " "),
				First: r.First, Disagree: r.Disagree, Cells: make([]htmlCell, len(r.Cells))}
			if r.Disagree {
				hg.Disagreed++
			}
			for k, c := range r.Cells {
				tip := c.Reason
				if c.Note != "" {
					tip = c.Note
				}
				hr.Cells[k] = htmlCell{Text: c.Text(), Class: string(c.Class()), Status: string(c.Status),
					Tooltip: oneLine(tip), Varies: len(c.Variants) > 0}
			}
			hg.Rows[j] = hr
		}
		p.Groups = append(p.Groups, hg)
	}
	for _, cr := range m.Claims {
		hc := htmlClaim{ID: cr.Claim.ID, Text: cr.Claim.Text, Note: cr.Claim.Note, Agree: true}
		for i := range cr.Verdicts {
			pv := &cr.Verdicts[i]
			v := htmlVerdict{Platform: pv.Platform, Verdict: string(pv.Verdict), Key: verdictKey(pv.Verdict), Hint: pv.hint()}
			for _, e := range pv.Evidence {
				v.Lines = append(v.Lines, oneLine(e.String()))
			}
			for _, n := range pv.Needs {
				v.Lines = append(v.Lines, "needs "+oneLine(n))
			}
			if i > 0 && pv.Verdict != cr.Verdicts[0].Verdict {
				hc.Agree = false
			}
			hc.Verdicts = append(hc.Verdicts, v)
		}
		p.Claims = append(p.Claims, hc)
	}
	return page.Execute(w, p)
}

// hint sums a verdict up in a few words: the first failing cell, the first
// missing one, or how many cells agreed.
func (pv *PlatformVerdict) hint() string {
	switch pv.Verdict {
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
	return fmt.Sprintf("%d cells", len(pv.Evidence))
}

// verdictKey is a CSS-friendly name for a verdict.
func verdictKey(v Verdict) string {
	switch v {
	case Holds:
		return "holds"
	case DoesNotHold:
		return "fails"
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
