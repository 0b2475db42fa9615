package matrix

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// CellStatus says what a cell holds. It extends the scenario statuses with
// "missing", for a scenario or step that one platform did not record at all.
type CellStatus string

// Cell statuses.
const (
	CellObserved CellStatus = schema.StatusObserved
	CellSkipped  CellStatus = schema.StatusSkipped
	CellError    CellStatus = schema.StatusError
	CellMissing  CellStatus = "missing"
)

// Reasons given for missing cells.
const (
	reasonNoScenario = "no such scenario in this run"
	reasonNoStep     = "step not recorded"
)

// Cell is one platform's record of one step.
type Cell struct {
	Status   CellStatus
	Outcome  schema.Outcome   // the most frequent outcome (observed cells)
	Variants []schema.Variant // every outcome seen, most frequent first; nil when stable
	Reason   string           // why a cell is skipped, error or missing
	Note     string           // the step's note, if the harness wrote one
	Segments []schema.Segment // a wire step's segments, when recorded
	// Observation marks a step that looks rather than calls (a state, poll
	// events, the wire): its class holds the observation's own words, even
	// where a word is also a class ("data", a wire step's data segment).
	Observation bool
	// Kind is the step's kind (schema 2; the loader fills it for schema 1),
	// Events and Completion the stable outcome's typed detail, if any.
	Kind       schema.Kind
	Events     *schema.Events
	Completion *schema.Completion
	Counters   *schema.Counters // a counter step's readings (tcp.rsts-sent)
}

// observationStep tells the steps whose class is their own words from the
// calls: wire.<side>, a counter (tcp.rsts-sent), and <side>.state, .poll
// and .events (#n or not).
func observationStep(name string) bool {
	if strings.HasPrefix(name, "wire.") || schema.KindOf(name) == schema.KindCounter {
		return true
	}
	_, what, _ := strings.Cut(name, ".")
	what, _, _ = strings.Cut(what, "#")
	return what == "state" || what == "poll" || what == "events"
}

// stepCell builds a cell from a recorded step: skipped when the platform
// offers no view of it (Step.Skipped), observed otherwise. Variants are
// sorted (count descending, then text) because the harness may list them in
// any order and output must be deterministic; a single variant is no
// variation.
func stepCell(st *schema.Step) Cell {
	if st.Skipped != "" {
		return Cell{Status: CellSkipped, Reason: st.Skipped, Note: st.Note, Kind: st.Kind}
	}
	c := Cell{Status: CellObserved, Outcome: st.Outcome, Note: st.Note, Segments: st.Segments, Observation: observationStep(st.Name),
		Kind: st.Kind, Events: st.Events, Completion: st.Completion, Counters: st.Counters}
	if len(st.Variants) > 1 {
		c.Variants = slices.Clone(st.Variants)
		slices.SortStableFunc(c.Variants, func(a, b schema.Variant) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(variantText(a), variantText(b)))
		})
	}
	return c
}

// variantText is a variant as a cell shows it: its outcome, and an IOCP
// completion's second code.
func variantText(v schema.Variant) string { return v.Outcome.String() + v.Completion.Text() }

// Text is the cell as every renderer shows it: "reset · WSAECONNRESET 10054",
// "eof ×2 / reset · ECONNRESET 104 ×1", "skipped: no IPv6"; an events cell
// is its flags ("EPOLLIN|EPOLLRDHUP"), a completion adds IOCP's second code
// ("reset · ERROR_NETNAME_DELETED 64 (WSA: WSAECONNRESET 10054)").
func (c Cell) Text() string {
	switch c.Status {
	case CellObserved:
		if len(c.Variants) == 0 {
			return c.Outcome.String() + c.Completion.Text()
		}
		parts := make([]string, len(c.Variants))
		for i, v := range c.Variants {
			parts[i] = fmt.Sprintf("%s ×%d", variantText(v), v.Count)
		}
		return strings.Join(parts, " / ")
	case CellMissing:
		return "— " + c.Reason
	default:
		if c.Reason == "" {
			return string(c.Status)
		}
		return string(c.Status) + ": " + c.Reason
	}
}

// Class is the class to colour the cell by: the stable outcome's class, or
// "" for cells that are not observed.
func (c Cell) Class() schema.Class {
	if c.Status != CellObserved {
		return ""
	}
	return c.Outcome.Class
}

// texts lists the text of every distinct outcome the cell saw, typed detail
// included.
func (c Cell) texts() []string {
	if len(c.Variants) == 0 {
		return []string{c.Outcome.String() + c.Completion.Text()}
	}
	out := make([]string, len(c.Variants))
	for i, v := range c.Variants {
		out[i] = variantText(v)
	}
	return out
}

// outcomes lists every distinct outcome the cell saw.
func (c Cell) outcomes() []schema.Outcome {
	if len(c.Variants) == 0 {
		return []schema.Outcome{c.Outcome}
	}
	out := make([]schema.Outcome, len(c.Variants))
	for i, v := range c.Variants {
		out[i] = v.Outcome
	}
	return out
}

// behaviour is the key that cross-platform comparison uses: the sorted set of
// classes seen, with the byte count for data. Native names and codes differ
// between OSes for the same behaviour, so they are left out (see the package
// doc); counts of variants are noise, so they are left out too. An events
// cell's class is the readiness API's own flag names, so only cells of the
// same API compare (api, see disagree).
func (c Cell) behaviour() string {
	return outcomeSetKey(c.outcomes(), func(o schema.Outcome) string {
		if o.Class == schema.ClassData {
			return fmt.Sprintf("%s %d", o.Class, o.N)
		}
		return string(o.Class)
	})
}

// exact is the key that drift uses: the set of full outcomes, native name and
// code included, since a baseline is the same platform; for a cell that is not
// observed, its status and reason.
func (c Cell) exact() string {
	if c.Status != CellObserved {
		return string(c.Status) + "\x00" + c.Reason
	}
	keys := c.texts()
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), "\x00")
}

// api is the readiness API an events cell was read through (epoll, kqueue,
// afd), or "" for every other cell: cells compare within one API only.
func (c Cell) api() string {
	if c.Kind != schema.KindEvents || c.Events == nil {
		return ""
	}
	return c.Events.API
}

func outcomeSetKey(outs []schema.Outcome, key func(schema.Outcome) string) string {
	keys := make([]string, len(outs))
	for i, o := range outs {
		keys[i] = key(o)
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), "\x00")
}

// Short is the compact text of a cell, what the page and the terminal show
// beside the class mark: the short native code where there is one
// (ECONNRESET, 10054 for WSAECONNRESET, EOF for Go's io.EOF, the last link of
// a Go error chain), otherwise the class or the observation's own words
// (FIN_WAIT_2, IN|OUT, FIN,RST). A step that varied ends in "~". Every kind of
// step, present or future, goes through here, so a new observation kind
// shows up compactly without a renderer knowing about it. The full outcome
// is Text.
func (c Cell) Short() string {
	switch c.Status {
	case CellObserved:
	case CellMissing:
		return "—"
	case CellSkipped:
		return "skip"
	default:
		return string(c.Status)
	}
	s := shortOutcome(c.Outcome, c.Observation)
	if len(c.Variants) > 0 {
		s += " ~"
	}
	return s
}

// shortOutcome is one outcome's compact text; see Cell.Short.
func shortOutcome(o schema.Outcome, observation bool) string {
	if _, call := classMarks[o.Class]; !call || observation {
		// An observation's own words (a state, poll events, segments): a
		// pending SO_ERROR beside them is in the full outcome.
		return shortWords(string(o.Class))
	}
	if e := o.Errno; e != "" {
		if i := strings.LastIndex(e, "→"); i >= 0 { // Go's error chain: the link the OS gave
			e = e[i+len("→"):]
		}
		if o.Code != 0 && (strings.HasPrefix(e, "WSA") || strings.HasPrefix(e, "ERROR_")) {
			return strconv.Itoa(o.Code) // Winsock's names are long, its numbers are what people search for
		}
		if i := strings.LastIndexByte(e, '.'); i >= 0 && o.Code == 0 { // io.EOF, net.ErrClosed
			e = e[i+1:]
		}
		return e
	}
	switch o.Class {
	case schema.ClassEOF:
		return "EOF"
	case schema.ClassData:
		return fmt.Sprintf("%d B", o.N)
	case schema.ClassOK:
		if o.N != 0 {
			return fmt.Sprintf("ok %d", o.N)
		}
		return "ok"
	}
	return string(o.Class)
}

// kqueueData is the data= field of a kqueue filter, which the compact form
// leaves to the full outcome.
var kqueueData = regexp.MustCompile(` ?data(=-?[0-9]+|>0)`)

// shortWords shortens an observation's native names without losing which
// they are: the API's prefix goes, the row's step says which API it was.
// POLLIN|POLLOUT → IN|OUT, EPOLLIN|EPOLLRDHUP → IN|RDHUP,
// AFD_POLL_DISCONNECT → DISCONNECT, EVFILT_READ[EV_EOF fflags=ECONNRESET
// data=0] EVFILT_WRITE[data=8] → R[EOF ECONNRESET] W[].
func shortWords(s string) string {
	switch {
	case strings.HasPrefix(s, "POLL"):
		return strings.ReplaceAll(s, "POLL", "")
	case strings.HasPrefix(s, "EPOLL"):
		return strings.ReplaceAll(s, "EPOLL", "")
	case strings.HasPrefix(s, "AFD_POLL_"):
		return strings.ReplaceAll(s, "AFD_POLL_", "")
	case strings.HasPrefix(s, "EVFILT_"):
		s = kqueueData.ReplaceAllString(s, "")
		return strings.NewReplacer("EVFILT_READ", "R", "EVFILT_WRITE", "W", "EV_", "", "fflags=", "").Replace(s)
	}
	return s
}

// classMarks is each class's symbol: colour is not the only carrier of a
// class, so a reader who cannot tell the colours apart, or a printout, still
// can by the letter.
var classMarks = map[schema.Class]string{
	schema.ClassData: "D", schema.ClassEOF: "E", schema.ClassOK: "✓", schema.ClassReset: "R",
	schema.ClassAborted: "A", schema.ClassBrokenPipe: "P", schema.ClassShutdown: "S",
	schema.ClassNotConnected: "N", schema.ClassBadDescriptor: "B", schema.ClassNotSocket: "K",
	schema.ClassInterrupted: "I", schema.ClassTimedOut: "T", schema.ClassUnreachable: "U",
	schema.ClassWouldBlock: "W", schema.ClassBlocked: "…", schema.ClassOther: "?",
	schema.ClassClosed: "C", schema.ClassCancelled: "X",
}

// Mark is the cell's class symbol: the class's letter for a call, "·" for an
// observation that is no call (a state, poll events, segments), "~" prefixed
// nothing; "–" for a skipped, "!" for an error and "" for a missing cell.
func (c Cell) Mark() string {
	switch c.Status {
	case CellObserved:
		if m, ok := classMarks[c.Outcome.Class]; ok && !c.Observation {
			return m
		}
		return "·"
	case CellSkipped:
		return "–"
	case CellError:
		return "!"
	}
	return ""
}

// MarkOf is a class's symbol, for legends.
func MarkOf(c schema.Class) string { return classMarks[c] }
