package matrix

import (
	"encoding/json"
	"io"

	"github.com/closematrix/closematrix/schema"
)

// MergedSchema is the version of the merged JSON that WriteJSON produces.
// It is a separate document from a result file (schema.Version): it has
// columns, rows and claims instead of one platform's scenarios.
const MergedSchema = 1

// The merged JSON document. Field names are part of the product, like the
// result file's: add fields, never rename them.
type (
	jsonMatrix struct {
		MergedSchema int            `json:"merged_schema"`
		Summary      Summary        `json:"summary"`
		Platforms    []jsonPlatform `json:"platforms"`
		Groups       []jsonGroup    `json:"groups"`
		Claims       []jsonClaim    `json:"claims"`
		Legend       []LegendEntry  `json:"legend"`
		Kinds        []KindEntry    `json:"kinds"`
	}
	jsonPlatform struct {
		schema.Platform
		Tool       schema.Tool `json:"tool"`
		Started    string      `json:"started"`
		DurationMS int64       `json:"duration_ms"`
	}
	jsonGroup struct {
		Action string    `json:"action"`
		Rows   []jsonRow `json:"rows"`
	}
	jsonRow struct {
		Scenario string      `json:"scenario"`
		Title    string      `json:"title"`
		Labels   []string    `json:"labels"`
		Step     string      `json:"step"`
		Kind     schema.Kind `json:"kind,omitempty"` // which vocabulary the cells' classes are in
		Disagree bool        `json:"disagree"`
		Cells    []jsonCell  `json:"cells"` // in platforms order
	}
	jsonCell struct {
		Platform string           `json:"platform"`
		Status   CellStatus       `json:"status"`
		Outcome  *schema.Outcome  `json:"outcome,omitempty"`
		Variants []schema.Variant `json:"variants,omitempty"`
		Reason   string           `json:"reason,omitempty"`
		Note     string           `json:"note,omitempty"`
		Text     string           `json:"text"`
		// The stable outcome's typed detail (result file schema 2).
		Events     *schema.Events     `json:"events,omitempty"`
		Completion *schema.Completion `json:"completion,omitempty"`
		Counters   *schema.Counters   `json:"counters,omitempty"`
	}
	jsonClaim struct {
		ID       int           `json:"id"`
		Text     string        `json:"text"`
		Source   string        `json:"source"`
		Note     string        `json:"note"`
		Verdicts []jsonVerdict `json:"verdicts"` // in platforms order
	}
	jsonVerdict struct {
		Platform string     `json:"platform"`
		View     string     `json:"view"` // the column's view: claims are evaluated per view and OS
		Verdict  Verdict    `json:"verdict"`
		Evidence []Evidence `json:"evidence"`
		Needs    []string   `json:"needs,omitempty"`
		Why      string     `json:"why,omitempty"` // why a claim is n/a in this view
	}
)

// WriteJSON writes the merged matrix as one indented JSON document.
func WriteJSON(w io.Writer, m *Matrix) error {
	doc := jsonMatrix{MergedSchema: MergedSchema, Summary: m.Summary, Legend: Legend(), Kinds: KindLegend(),
		Platforms: make([]jsonPlatform, len(m.Columns)), Groups: make([]jsonGroup, len(m.Groups)),
		Claims: make([]jsonClaim, len(m.Claims))}
	for i, c := range m.Columns {
		doc.Platforms[i] = jsonPlatform{Platform: c.Platform, Tool: c.Tool, Started: c.Started, DurationMS: c.DurationMS}
	}
	for i, g := range m.Groups {
		jg := jsonGroup{Action: g.Action, Rows: make([]jsonRow, len(g.Rows))}
		for j, r := range g.Rows {
			jr := jsonRow{Scenario: r.Scenario, Title: r.Title, Labels: nonNil(r.Labels), Step: r.Step, Kind: r.Kind,
				Disagree: r.Disagree, Cells: make([]jsonCell, len(r.Cells))}
			for k, c := range r.Cells {
				jc := jsonCell{Platform: m.Columns[k].Platform.Label, Status: c.Status, Variants: c.Variants,
					Reason: c.Reason, Note: c.Note, Text: c.Text()}
				if c.Status == CellObserved {
					jc.Outcome = &c.Outcome
					jc.Events, jc.Completion, jc.Counters = c.Events, c.Completion, c.Counters
				}
				jr.Cells[k] = jc
			}
			jg.Rows[j] = jr
		}
		doc.Groups[i] = jg
	}
	for i, cr := range m.Claims {
		jc := jsonClaim{ID: cr.Claim.ID, Text: cr.Claim.Text, Source: cr.Claim.Source, Note: cr.Claim.Note,
			Verdicts: make([]jsonVerdict, len(cr.Verdicts))}
		for j, pv := range cr.Verdicts {
			jc.Verdicts[j] = jsonVerdict{Platform: pv.Platform, View: pv.View, Verdict: pv.Verdict, Evidence: nonNil(pv.Evidence), Needs: pv.Needs, Why: pv.Why}
		}
		doc.Claims[i] = jc
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// nonNil makes an empty list encode as [] rather than null, so that readers
// need not tell the two apart.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
