package matrix

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/closematrix/closematrix/schema"
)

// The grammars of DESIGN §3. Labels become file names (results/<label>.json)
// and column headers, IDs are bookmarked and diffed, so both are held to a
// plain character set; that also keeps markup out of them.
var (
	labelRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	viewRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$`) // a view names a table and the page's switch
	segment    = `[A-Za-z0-9][A-Za-z0-9._+-]*`
	scenarioRE = regexp.MustCompile(`^` + segment + `/` + segment + `/` + segment + `$`)
	stepRE     = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*(#[0-9]+)?$`)
)

// maxWord bounds a class or errno name. The vocabulary is short words, but
// state, poll and wire steps bring their own (FIN_WAIT_2, POLLIN|POLLHUP,
// data,FIN), so the check is on shape, not on membership in schema.Classes.
const maxWord = 64

// validate checks what the renderers and Diff rely on, and reports the first
// problem with its place in the file.
func validate(f *schema.File) error {
	if f.Platform.Label == "" {
		return errors.New("platform.label is missing: every file needs the column name it fills")
	}
	if !labelRE.MatchString(f.Platform.Label) {
		return fmt.Errorf("platform.label %q: want letters, digits and . _ + - (it becomes a file name)", shorten(f.Platform.Label, 40))
	}
	if f.Platform.View != "" && !viewRE.MatchString(f.Platform.View) {
		return fmt.Errorf("platform.view %q: want a name of letters, digits and . _ + - (raw, gonet, python)", shorten(f.Platform.View, 40))
	}
	if len(f.Scenarios) == 0 {
		return errors.New("no scenarios: the run recorded nothing")
	}
	ids := make(map[string]int, len(f.Scenarios))
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		if err := validateScenario(sc); err != nil {
			return fmt.Errorf("scenarios[%d] %s: %w", i, quoteID(sc.ID), err)
		}
		if j, dup := ids[sc.ID]; dup {
			return fmt.Errorf("scenarios[%d] %s: duplicate id, also scenarios[%d]", i, sc.ID, j)
		}
		ids[sc.ID] = i
	}
	return nil
}

func validateScenario(sc *schema.Scenario) error {
	if !scenarioRE.MatchString(sc.ID) {
		return errors.New("id: want <family>/<action>/<condition>, e.g. v4/close/idle")
	}
	switch sc.Status {
	case schema.StatusObserved, schema.StatusSkipped, schema.StatusError:
	default:
		return fmt.Errorf("unknown status %q: want %s, %s or %s", shorten(sc.Status, 20),
			schema.StatusObserved, schema.StatusSkipped, schema.StatusError)
	}
	if sc.Runs < 0 {
		return fmt.Errorf("runs %d: want 0 or more", sc.Runs)
	}
	names := make(map[string]bool, len(sc.Steps))
	for j := range sc.Steps {
		st := &sc.Steps[j]
		if !stepRE.MatchString(st.Name) {
			return fmt.Errorf("steps[%d] name %q: want <side>.<what>[#n], e.g. peer.recv#2", j, shorten(st.Name, 40))
		}
		if names[st.Name] {
			return fmt.Errorf("steps[%d] %s: duplicate step name", j, st.Name)
		}
		names[st.Name] = true
		if err := validateKind(st); err != nil {
			return fmt.Errorf("step %s: %w", st.Name, err)
		}
		if st.Skipped != "" {
			continue // no behaviour recorded: Outcome is empty by design
		}
		if err := validateOutcome(st.Kind, st.Outcome); err != nil {
			return fmt.Errorf("step %s: %w", st.Name, err)
		}
		for k, v := range st.Variants {
			if err := validateOutcome(st.Kind, v.Outcome); err != nil {
				return fmt.Errorf("step %s variants[%d]: %w", st.Name, k, err)
			}
			if v.Count < 1 {
				return fmt.Errorf("step %s variants[%d]: count %d, want 1 or more", st.Name, k, v.Count)
			}
		}
		for k, g := range st.Segments {
			if g.Seq < 0 || g.Len < 0 {
				return fmt.Errorf("step %s segments[%d]: seq %d, len %d: want 0 or more", st.Name, k, g.Seq, g.Len)
			}
			if err := checkWord("flags", g.Flags); err != nil {
				return fmt.Errorf("step %s segments[%d]: %w", st.Name, k, err)
			}
		}
	}
	return nil
}

// validateKind checks that a step's kind is a known one (the writer's op
// table decides it; decode fills it in from the name for schema 1), and that the typed
// detail of events and completions sits only on steps of those kinds.
func validateKind(st *schema.Step) error {
	if !slices.Contains(schema.Kinds, st.Kind) {
		return fmt.Errorf("kind %q is not one of %v", shorten(string(st.Kind), 20), schema.Kinds)
	}
	typed := func(events *schema.Events, comp *schema.Completion) error {
		if events != nil && st.Kind != schema.KindEvents {
			return errors.New("events detail on a step that is not of kind events")
		}
		if comp != nil && st.Kind != schema.KindCompletion {
			return errors.New("completion detail on a step that is not of kind completion")
		}
		if events != nil {
			for _, n := range events.Names {
				if err := checkWord("events name", n); err != nil {
					return err
				}
			}
		}
		if comp != nil {
			return errors.Join(checkWord("completion errno", comp.Errno), checkWord("completion wsa", comp.WSA))
		}
		return nil
	}
	if err := typed(st.Events, st.Completion); err != nil {
		return err
	}
	if err := validateCounters(st.Kind, st.Outcome, st.Counters, st.Skipped != ""); err != nil {
		return err
	}
	for k, v := range st.Variants {
		if err := typed(v.Events, v.Completion); err != nil {
			return fmt.Errorf("variants[%d]: %w", k, err)
		}
		if err := validateCounters(st.Kind, v.Outcome, v.Counters, false); err != nil {
			return fmt.Errorf("variants[%d]: %w", k, err)
		}
	}
	return nil
}

// validateCounters checks a counter step's outcome (a delta: a decimal
// number, the class of tcp.rsts-sent) and its typed detail, which no other
// kind carries and whose RstsSent must be the class.
func validateCounters(kind schema.Kind, o schema.Outcome, c *schema.Counters, skipped bool) error {
	if kind != schema.KindCounter {
		if c != nil {
			return errors.New("counters detail on a step that is not of kind counter")
		}
		return nil
	}
	if skipped {
		return nil
	}
	n, err := strconv.ParseUint(string(o.Class), 10, 63)
	if err != nil {
		return fmt.Errorf("counter class %q: want a delta in decimal (0, 1, 2)", shorten(string(o.Class), 20))
	}
	if c != nil {
		if c.RstsSent != int64(n) {
			return fmt.Errorf("counters rsts_sent %d, class %d", c.RstsSent, n)
		}
		for _, v := range []*int64{c.EstabResets, c.OutSegs} {
			if v != nil && *v < 0 {
				return fmt.Errorf("counters: a delta of %d", *v)
			}
		}
		return checkWord("counters source", c.Source)
	}
	return nil
}

func validateOutcome(kind schema.Kind, o schema.Outcome) error {
	if o.Class == "" {
		return errors.New("outcome.class is empty")
	}
	if kind == schema.KindEvents {
		// An events cell is a set of native names, not one word: a
		// kqueue read is EVFILT_READ[EV_EOF fflags=ECONNRESET data=0]
		// EVFILT_WRITE[EV_EOF data=146988], an AFD read up to nine
		// AFD_POLL_* names.
		if err := checkText("class", string(o.Class), maxEvents); err != nil {
			return err
		}
	} else if err := checkWord("class", string(o.Class)); err != nil {
		return err
	}
	// A runtime view's errno is the runtime's own words and, for an
	// evented API, its event sequence ("ConnectionResetError ECONNRESET;
	// connection_lost(ConnectionResetError ECONNRESET)"): a sentence, bounded
	// like an events cell's.
	return checkText("errno", o.Errno, maxEvents)
}

// checkWord keeps control characters and essays out of cells; whatever else a
// word holds (even markup) is escaped by each renderer.
func checkWord(field, s string) error { return checkText(field, s, maxWord) }

// maxEvents bounds an events cell (validateOutcome).
const maxEvents = 256

// checkText is checkWord with a bound of max bytes.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s %q: longer than %d bytes", field, shorten(s, 20), max)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%s %q: contains control characters", field, shorten(s, 20))
	}
	return nil
}

// quoteID shows a scenario ID in a message, quoted only when it is odd.
func quoteID(id string) string {
	if scenarioRE.MatchString(id) {
		return id
	}
	return fmt.Sprintf("%q", shorten(id, 40))
}
