package matrix

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes the matrix as one rectangular CSV table, so that a
// spreadsheet opens it as it is. The first column names the section:
//
//	platform  one row per metadata field (os, kernel, …), one value per platform
//	matrix    one row per scenario × step, one cell text per platform
//	claim     one row per claim, "verdict: reason" per platform
//
// Columns: section, action, scenario, step, kind, title, disagree,
// views_differ, then one column per platform label. A column's view is its
// platform rows' view (raw, gonet, python, …); views_differ says, for a
// matrix row, where the views of one OS disagree ("on Linux: reset raw,
// python · eof node"), "" where they agree. kind says which vocabulary the cells of a
// matrix row are in (call, state, poll, wire, events, completion: schema.Kind).
// Every row carries the full scenario ID (no blanks for repeated IDs), so
// rows can be sorted and filtered.
func WriteCSV(w io.Writer, m *Matrix) error {
	cw := csv.NewWriter(w)
	header := []string{"section", "action", "scenario", "step", "kind", "title", "disagree", "views_differ"}
	for _, c := range m.Columns {
		header = append(header, c.Platform.Label)
	}
	rows := [][]string{header}
	meta := []struct {
		name string
		get  func(c *Column) string
	}{
		{"os", func(c *Column) string { return c.Platform.OS }},
		{"arch", func(c *Column) string { return c.Platform.Arch }},
		{"os_version", func(c *Column) string { return c.Platform.OSVersion }},
		{"kernel", func(c *Column) string { return c.Platform.Kernel }},
		{"runner", func(c *Column) string { return c.Platform.Runner }},
		{"emulator", func(c *Column) string { return c.Platform.Emulator }},
		{"go", func(c *Column) string { return c.Platform.Go }},
		{"view", func(c *Column) string { return c.Platform.View }},
		{"runtime", func(c *Column) string { return c.Platform.Runtime }},
		{"tool", func(c *Column) string { return c.toolText() }},
		{"started", func(c *Column) string { return c.Started }},
	}
	for _, f := range meta {
		row := []string{"platform", "", f.name, "", "", "", "", ""}
		for i := range m.Columns {
			row = append(row, oneLine(f.get(&m.Columns[i])))
		}
		rows = append(rows, row)
	}
	oses := AcrossViews(m.Layout())
	for _, g := range m.Groups {
		for _, r := range g.Rows {
			row := []string{"matrix", g.Action, r.Scenario, r.Step, string(r.Kind), oneLine(r.Title), strconv.FormatBool(r.Disagree),
				RowAcross(&r, oses)}
			for _, c := range r.Cells {
				row = append(row, c.Text())
			}
			rows = append(rows, row)
		}
	}
	for _, cr := range m.Claims {
		row := []string{"claim", "", fmt.Sprintf("claim %d", cr.Claim.ID), "", "", cr.Claim.Text, "", ""}
		for i := range cr.Verdicts {
			pv := &cr.Verdicts[i]
			row = append(row, string(pv.Verdict)+": "+pv.verdictDetail())
		}
		rows = append(rows, row)
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}
