package harness

import (
	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// aggregate folds the runs into one record per step: the most frequent
// outcome (the first seen wins a tie), and every variant when they differ.
func aggregate(sc Scenario, runs [][]observation) []schema.Step {
	steps := make([]schema.Step, 0, len(sc.Steps))
	if len(runs) == 0 {
		return steps
	}
	// key is an outcome with its typed detail (eventloop.go): an IOCP
	// completion's WSA code is not in the outcome.
	type key struct {
		o      probes.Outcome
		detail string
	}
	text := func(k key, first map[key]observation) string { return k.o.String() + first[k].completion.Text() }
	for i, st := range sc.Steps {
		var order []key
		count := map[key]int{}
		first := map[key]observation{}
		note, skipped := "", ""
		for _, run := range runs {
			if run[i].skipped != "" {
				skipped = run[i].skipped
				continue
			}
			k := key{run[i].outcome, run[i].detailKey()}
			if count[k] == 0 {
				order = append(order, k)
				first[k] = run[i]
			}
			count[k]++
			if note == "" {
				note = run[i].note
			}
		}
		kind := st.Kind()
		if skipped != "" && len(order) == 0 {
			steps = append(steps, schema.Step{Name: st.Name(), Kind: kind, Variants: []schema.Variant{}, Skipped: skipped})
			continue
		}
		if skipped != "" {
			// Observed in some runs, not in others: record what was seen,
			// and say so rather than let the skip vanish.
			note = join(note, "not observable in every run: "+skipped)
		}
		best := order[0]
		for _, k := range order {
			// The most frequent; a tie goes to the first in a fixed order
			// (the cell's text), not to whichever run came first.
			if count[k] > count[best] || count[k] == count[best] && text(k, first) < text(best, first) {
				best = k
			}
		}
		step := schema.Step{Name: st.Name(), Kind: kind, Outcome: best.o, Variants: []schema.Variant{}, Note: note,
			Events: first[best].events, Completion: first[best].completion, Counters: first[best].counters}
		for _, run := range runs { // a wire step's segments: the first run that saw the outcome recorded
			if run[i].skipped == "" && run[i].outcome == step.Outcome && len(run[i].segments) > 0 {
				step.Segments = run[i].segments
				break
			}
		}
		if len(order) > 1 {
			for _, k := range order {
				step.Variants = append(step.Variants, schema.Variant{Outcome: k.o, Count: count[k],
					Events: first[k].events, Completion: first[k].completion, Counters: first[k].counters})
			}
		}
		steps = append(steps, step)
	}
	return steps
}
