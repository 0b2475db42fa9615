package matrix

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// ChangeKind says what changed between a baseline and a run.
type ChangeKind string

// Change kinds.
const (
	ScenarioAdded   ChangeKind = "scenario-added"
	ScenarioRemoved ChangeKind = "scenario-removed"
	StatusChanged   ChangeKind = "status" // status, or the reason of a skip or error
	StepAdded       ChangeKind = "step-added"
	StepRemoved     ChangeKind = "step-removed"
	OutcomeChanged  ChangeKind = "outcome"
)

// Change is one difference between a baseline and a current run of the same
// platform. Before and After are what a matrix cell shows ("" for the side
// where the thing does not exist).
type Change struct {
	Kind     ChangeKind
	Scenario string
	Step     string // "" for scenario-level changes
	Before   string
	After    string
}

// String reads as one line of a drift report: "~ id step: before → after",
// "+ id: added (…)", "- id step: removed (was …)".
func (c Change) String() string {
	where := c.Scenario
	if c.Step != "" {
		where += " " + c.Step
	}
	switch c.Kind {
	case ScenarioAdded, StepAdded:
		return fmt.Sprintf("+ %s: added (%s)", where, c.After)
	case ScenarioRemoved, StepRemoved:
		return fmt.Sprintf("- %s: removed (was %s)", where, c.Before)
	}
	return fmt.Sprintf("~ %s: %s → %s", where, c.Before, c.After)
}

// Diff lists what changed from base to cur, in catalogue order. It is meant
// for two files of the same platform, so an outcome is compared in full
// (class, byte count, native name and code). A step that varies is compared
// as the set of outcomes it showed: counts, and which variant happened to be
// the most frequent, are noise between runs and are not reported, but an
// outcome that appears or disappears is. Titles, labels, runs and platform
// metadata are not compared.
func Diff(base, cur *schema.File) []Change {
	var out []Change
	bi, ci := scenarioIndex(base), scenarioIndex(cur)
	for _, id := range mergeOrder([][]string{scenarioIDs(base), scenarioIDs(cur)}) {
		b, c := bi[id], ci[id]
		switch {
		case b == nil:
			out = append(out, Change{Kind: ScenarioAdded, Scenario: id, After: statusText(c)})
		case c == nil:
			out = append(out, Change{Kind: ScenarioRemoved, Scenario: id, Before: statusText(b)})
		case b.Status != c.Status || (c.Status != schema.StatusObserved && b.Reason != c.Reason):
			out = append(out, Change{Kind: StatusChanged, Scenario: id, Before: statusText(b), After: statusText(c)})
		case c.Status == schema.StatusObserved:
			out = append(out, diffSteps(b, c)...)
		}
	}
	return out
}

func diffSteps(b, c *schema.Scenario) []Change {
	var out []Change
	bs, cs := stepIndex(b), stepIndex(c)
	for _, name := range mergeOrder([][]string{stepNames(b), stepNames(c)}) {
		bst, cst := bs[name], cs[name]
		switch {
		case bst == nil:
			out = append(out, Change{Kind: StepAdded, Scenario: c.ID, Step: name, After: stepCell(cst).Text()})
		case cst == nil:
			out = append(out, Change{Kind: StepRemoved, Scenario: c.ID, Step: name, Before: stepCell(bst).Text()})
		default:
			bc, cc := stepCell(bst), stepCell(cst)
			if bc.exact() != cc.exact() {
				out = append(out, Change{Kind: OutcomeChanged, Scenario: c.ID, Step: name, Before: bc.Text(), After: cc.Text()})
			}
		}
	}
	return out
}

// statusText is a scenario's status as a cell would show it.
func statusText(sc *schema.Scenario) string {
	if sc.Status == schema.StatusObserved {
		return fmt.Sprintf("observed, %d steps", len(sc.Steps))
	}
	return Cell{Status: CellStatus(sc.Status), Reason: sc.Reason}.Text()
}

func scenarioIndex(f *schema.File) map[string]*schema.Scenario {
	m := make(map[string]*schema.Scenario, len(f.Scenarios))
	for i := range f.Scenarios {
		m[f.Scenarios[i].ID] = &f.Scenarios[i]
	}
	return m
}

func scenarioIDs(f *schema.File) []string {
	ids := make([]string, len(f.Scenarios))
	for i, sc := range f.Scenarios {
		ids[i] = sc.ID
	}
	return ids
}

func stepIndex(sc *schema.Scenario) map[string]*schema.Step {
	m := make(map[string]*schema.Step, len(sc.Steps))
	for i := range sc.Steps {
		m[sc.Steps[i].Name] = &sc.Steps[i]
	}
	return m
}

func stepNames(sc *schema.Scenario) []string {
	names := make([]string, len(sc.Steps))
	for i, st := range sc.Steps {
		names[i] = st.Name
	}
	return names
}

// WriteDiff writes the changes for a person: a count, then one line each.
func WriteDiff(w io.Writer, label string, changes []Change) error {
	bw := bufio.NewWriter(w)
	if len(changes) == 0 {
		fmt.Fprintf(bw, "%s: no drift\n", label)
		return bw.Flush()
	}
	fmt.Fprintf(bw, "%s: %d changed\n", label, len(changes))
	for _, c := range changes {
		fmt.Fprintf(bw, "  %s\n", oneLine(c.String()))
	}
	return bw.Flush()
}

// WriteDiffGitHub writes each change as a GitHub Actions warning annotation
// on results/<label>.json. Warnings, not errors: a workflow reports drift
// without failing on it.
func WriteDiffGitHub(w io.Writer, label string, changes []Change) error {
	bw := bufio.NewWriter(w)
	file := "results/" + label + ".json"
	for _, c := range changes {
		title := strings.TrimSpace("drift " + c.Scenario + " " + c.Step)
		msg := c.Before + " → " + c.After
		switch c.Kind {
		case ScenarioAdded, StepAdded:
			msg = "added: " + c.After
		case ScenarioRemoved, StepRemoved:
			msg = "removed: was " + c.Before
		}
		fmt.Fprintf(bw, "::warning file=%s,title=%s::%s\n", ghProperty(file), ghProperty(title), ghData(msg))
	}
	return bw.Flush()
}

// GitHub workflow-command escaping (actions/toolkit, command.ts): data
// escapes % CR LF; property values also escape : and ,.
var (
	ghDataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func ghData(s string) string     { return ghDataEscaper.Replace(s) }
func ghProperty(s string) string { return ghPropEscaper.Replace(s) }
