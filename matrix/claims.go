package matrix

import (
	"fmt"
	"slices"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// Verdict is a claim's three-valued result on one platform (DESIGN §6,
// borrowed from MDN browser-compat-data: yes / no / unknown with a message).
type Verdict string

// Verdicts.
const (
	Holds       Verdict = "holds"
	DoesNotHold Verdict = "does not hold"
	Unknown     Verdict = "unknown"
	// NotApplicable is a claim in a view none of its checks is about (an
	// asynchronous recv exists only in the raw view): not a gap in the
	// data, so not unknown.
	NotApplicable Verdict = "n/a"
)

// Claim is one statement from folklore or documentation, as data: its text,
// where it comes from, and the cells that decide it.
type Claim struct {
	ID     int
	Text   string
	Source string
	Note   string  // how the claim's Windows terms map to classes, and what is checked
	Checks []Check // all must pass for the claim to hold
}

// Check is one cell a claim makes a statement about. It is looked up in every
// family (v4/…, v6/…); one failing cell is enough to refute the claim.
type Check struct {
	Scenario string // the ID without its family: "shutdown-wr/idle"
	Step     string
	Want     Want
	If       *Cond // the check applies only where the condition holds
	// Views are the views whose API has the check's posture (an
	// asynchronous recv is the raw view's alone: the runtime views' event
	// loops hold their reads themselves); nil for every view. In another
	// view the check is not evaluated, and a claim with no check left is
	// n/a there.
	Views []string
}

// appliesTo reports whether the check is about a column of this view.
func (ch *Check) appliesTo(view string) bool {
	return ch.Views == nil || slices.Contains(ch.Views, view)
}

// Cond limits a check to runs where another step of the same scenario shows
// the claim's precondition (e.g. "the peer saw a reset").
type Cond struct {
	Step string
	Want Want
}

// Want is a predicate over a class.
type Want struct {
	Classes []schema.Class
	Not     bool // the class must be none of Classes
	// Segments matches a wire step's class piece by piece: "data+FIN,RST"
	// is segments joined by "," whose flags are joined by "+" (see
	// schema.Step), and one piece in Classes is enough.
	Segments bool
	// ThreeSegmentClose, on a wire.peer step, wants the close exchange that
	// the scenario's two wire steps recorded (their Segments, in wire
	// order) to have the peer's FIN as its first segment after the actor's
	// FIN: no pure ACK of the actor's FIN went out before it (claim 14).
	ThreeSegmentClose bool
}

// OneOf wants one of the classes.
func OneOf(cs ...schema.Class) Want { return Want{Classes: cs} }

// NoneOf wants none of the classes.
func NoneOf(cs ...schema.Class) Want { return Want{Classes: cs, Not: true} }

// HasSegment wants a wire step that shows one of the segments (RST, FIN).
func HasSegment(cs ...schema.Class) Want { return Want{Classes: cs, Segments: true} }

// NoSegment wants a wire step that shows none of the segments ("none" counts).
func NoSegment(cs ...schema.Class) Want { return Want{Classes: cs, Segments: true, Not: true} }

// ThreeSegments wants the passive closer's FIN to ride on its ACK.
func ThreeSegments() Want { return Want{ThreeSegmentClose: true} }

func (w Want) match(c schema.Class) bool {
	if !w.Segments {
		return slices.Contains(w.Classes, c) != w.Not
	}
	pieces := strings.FieldsFunc(string(c), func(r rune) bool { return r == ',' || r == '+' })
	found := slices.ContainsFunc(pieces, func(p string) bool { return slices.Contains(w.Classes, schema.Class(p)) })
	return found != w.Not
}

// String reads as the expectation: "shutdown", "FIN_WAIT_1 or FIN_WAIT_2",
// "not data", "a RST segment".
func (w Want) String() string {
	if w.ThreeSegmentClose {
		return "the peer's FIN as its first segment after the actor's FIN (FIN, FIN+ACK, ACK)"
	}
	names := make([]string, len(w.Classes))
	for i, c := range w.Classes {
		names[i] = string(c)
	}
	s := strings.Join(names, " or ")
	if w.Not {
		s = strings.Join(names, " nor ")
	}
	if w.Segments {
		s = "a " + s + " segment"
	}
	if w.Not {
		s = "not " + s
	}
	return s
}

// claimFamilies are the families a check is looked up in.
var claimFamilies = []string{"v4", "v6"}

// Results of one evidence cell.
const (
	ResultPass = "pass"
	ResultFail = "fail"
	ResultNA   = "n/a" // the check's condition did not hold here
)

// Evidence is one cell that took part in a verdict.
type Evidence struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step"`
	Outcome  string `json:"outcome"` // the cell's text
	Want     string `json:"want"`
	Result   string `json:"result"` // pass, fail, n/a
	Why      string `json:"why,omitempty"`
	// By says which evidence decided a check of the wire: "wire" (a
	// capture's segments) or "counter" (the system's RSTs-sent counter,
	// where no capture ran); "" for checks of calls and states.
	By string `json:"by,omitempty"`
}

// Evidence kinds, for Evidence.By.
const (
	ByWire    = "wire"
	ByCounter = "counter"
)

// String reads as one line of a claim's evidence:
// "v4/shutdown-wr/idle actor.send = broken-pipe · EPIPE 32 (want shutdown): fail".
func (e Evidence) String() string {
	s := fmt.Sprintf("%s %s = %s (want %s): %s", e.Scenario, e.Step, e.Outcome, e.Want, e.Result)
	if e.Why != "" {
		s += ", " + e.Why
	}
	if e.By == ByCounter {
		s += " [decided by the counter, no capture]"
	} else if e.By == ByWire {
		s += " [decided by the wire]"
	}
	return s
}

// PlatformVerdict is a claim's result on one column, with the cells that
// decided it and, when it is unknown, the cells that would.
type PlatformVerdict struct {
	Platform string
	Verdict  Verdict
	Evidence []Evidence
	Needs    []string // "v4/state/active-close actor.state (no such scenario in this run)"
	View     string   // the column's view, which the claim was evaluated in
	Why      string   // why a claim is n/a in this view
}

// ClaimResult is one claim evaluated on every column.
type ClaimResult struct {
	Claim    *Claim
	Verdicts []PlatformVerdict // one per column
}

// EvaluateClaims evaluates every claim in Claims on every column of m.
func EvaluateClaims(m *Matrix) []ClaimResult {
	out := make([]ClaimResult, len(Claims))
	for i := range Claims {
		cr := ClaimResult{Claim: &Claims[i], Verdicts: make([]PlatformVerdict, len(m.Columns))}
		for c := range m.Columns {
			cr.Verdicts[c] = m.Columns[c].evaluate(&Claims[i])
		}
		out[i] = cr
	}
	return out
}

// viewlessPosture says why a check names its views: the posture it needs.
const viewlessPosture = "an asynchronous recv, overlapped WSARecv or IORING_OP_RECV, is the raw socket API's; " +
	"a runtime's event loop holds its own read, which close/own-blocked-recv records"

// checkState aggregates a check over the families.
type checkState int

const (
	stateMissing checkState = iota // no family had the cell
	stateNA                        // cells exist, none where the condition held
	statePass
	stateFail
)

// evaluate is three-valued AND over the checks: one failing check refutes,
// otherwise one check without data leaves the claim unknown, otherwise it
// holds (a check whose condition never held does not count against it, but
// a claim with nothing but such checks is unknown).
func (col *Column) evaluate(cl *Claim) PlatformVerdict {
	pv := PlatformVerdict{Platform: col.Platform.Label, View: ViewOf(&col.Platform)}
	var fail, missing, pass bool
	var naNeeds, about []string
	applied := 0
	for _, ch := range cl.Checks {
		if !ch.appliesTo(pv.View) {
			for _, v := range ch.Views {
				if !slices.Contains(about, v) {
					about = append(about, v)
				}
			}
			continue
		}
		applied++
		st, ev, why := col.evalCheck(ch)
		pv.Evidence = append(pv.Evidence, ev...)
		need := fmt.Sprintf("%s/%s %s", claimFamilies[0], ch.Scenario, ch.Step)
		switch st {
		case stateFail:
			fail = true
		case statePass:
			pass = true
		case stateMissing:
			missing = true
			pv.Needs = append(pv.Needs, need+" ("+why+")")
		case stateNA:
			naNeeds = append(naNeeds, need+" (condition not met here)")
		}
	}
	switch {
	case applied == 0:
		pv.Verdict = NotApplicable
		pv.Why = fmt.Sprintf("not about the %s view: the claim's cells are in the %s view (%s)", pv.View,
			strings.Join(about, ", "), viewlessPosture)
	case fail:
		pv.Verdict = DoesNotHold
		pv.Needs = nil
	case missing:
		pv.Verdict = Unknown
	case pass:
		pv.Verdict = Holds
	default:
		pv.Verdict = Unknown
		pv.Needs = naNeeds
	}
	return pv
}

// evalCheck looks the check up in each family. why explains a missing state
// with the first family's reason.
func (col *Column) evalCheck(ch Check) (st checkState, ev []Evidence, why string) {
	for _, fam := range claimFamilies {
		id := fam + "/" + ch.Scenario
		cell := col.cell(id, ch.Step)
		by := ""
		if strings.HasPrefix(ch.Step, "wire.") {
			by = ByWire
		}
		if cell.Status != CellObserved {
			if cc, cstep, w, ok := col.counterFallback(id, ch); ok {
				// No capture here: the RSTs-sent counter decides instead.
				e := Evidence{Scenario: cc, Step: cstep, Outcome: w.cell.Text(), Want: w.want, By: ByCounter,
					Why: "the system-wide RSTs-sent counter stands in for " + ch.Step + " (" + cell.Text() + "); it counts either end's RSTs"}
				n, total := w.matches()
				if n == total {
					e.Result = ResultPass
					st = max(st, statePass)
				} else {
					e.Result = ResultFail
					if n > 0 {
						e.Why = "varies; " + e.Why
					}
					st = stateFail
				}
				ev = append(ev, e)
				continue
			}
			if why == "" {
				why = cell.Text()
				if cell.Status == CellMissing {
					why = cell.Reason
				}
				if by == ByWire {
					why += wireGap(ch)
				}
			}
			continue
		}
		e := Evidence{Scenario: id, Step: ch.Step, Outcome: cell.Text(), Want: ch.Want.String(), By: by}
		if ch.If != nil {
			cond := col.cell(id, ch.If.Step)
			if cond.Status != CellObserved {
				if why == "" {
					why = fmt.Sprintf("condition step %s: %s", ch.If.Step, cond.Reason)
				}
				continue
			}
			if n, _ := matches(cond, ch.If.Want); n != len(cond.outcomes()) {
				e.Result = ResultNA
				e.Why = fmt.Sprintf("applies only when %s is %s; it was %s", ch.If.Step, ch.If.Want, cond.Text())
				ev = append(ev, e)
				st = max(st, stateNA)
				continue
			}
		}
		if ch.Want.ThreeSegmentClose {
			ex, ok, seen := closeExchange(col.cell(id, "wire.actor"), cell)
			if !seen {
				if why == "" {
					why = "no segments recorded (wire steps' segments, written since the ladder diagram)"
				}
				continue
			}
			// Only a capture orders segments: the RSTs-sent counter cannot
			// stand in here.
			e.Outcome = ex
			e.Result = ResultFail
			if ok {
				e.Result = ResultPass
				st = max(st, statePass)
			} else {
				st = stateFail
			}
			ev = append(ev, e)
			continue
		}
		n, total := matches(cell, ch.Want)
		switch {
		case n == total:
			e.Result = ResultPass
			st = max(st, statePass)
		default:
			e.Result = ResultFail
			if n > 0 {
				e.Why = "varies"
			}
			st = stateFail
		}
		ev = append(ev, e)
	}
	return st, ev, why
}

// wireGap says why no counter stood in for a wire check that had no
// capture.
func wireGap(ch Check) string {
	switch {
	case ch.Want.ThreeSegmentClose:
		return "; only a capture orders segments"
	case ch.Want.Segments && len(ch.Want.Classes) == 1 && ch.Want.Classes[0] == "RST":
		return "; no " + CounterStep + " counter either"
	}
	return "; the system's counters count RSTs, not FINs"
}

// CounterStep is the counter step that stands in for a wire step's RST
// where no capture ran (closematrix issue 21).
const CounterStep = "tcp.rsts-sent"

// counterCheck is a counter cell and what a wire check wants of it.
type counterCheck struct {
	cell Cell
	want string
	rst  bool // the wire check wants an RST (else wants none)
}

// matches counts the counter cell's distinct outcomes that satisfy the
// check: a delta of 1 or more is an RST sent, 0 none.
func (w counterCheck) matches() (n, total int) {
	outs := w.cell.outcomes()
	for _, o := range outs {
		if (o.Class != "0") == w.rst {
			n++
		}
	}
	return n, len(outs)
}

// counterFallback finds the counter that decides a wire check of RST where
// the wire step was not observed: the scenario's tcp.rsts-sent, or its
// twin's without "-wire" (the plain scenario runs without a capture, so
// every platform records it). Only RST checks fall back: the counter counts
// RSTs, not FINs, and cannot order segments. The counter is system-wide and
// both ends are on this host: it says an RST left, not which end sent it.
func (col *Column) counterFallback(id string, ch Check) (scenario, step string, w counterCheck, ok bool) {
	if !strings.HasPrefix(ch.Step, "wire.") || !ch.Want.Segments || len(ch.Want.Classes) != 1 || ch.Want.Classes[0] != "RST" || ch.If != nil {
		return "", "", counterCheck{}, false
	}
	for _, sid := range []string{id, strings.TrimSuffix(id, "-wire")} {
		c := col.cell(sid, CounterStep)
		if c.Status == CellObserved {
			want := "1 or more (an RST sent)"
			if ch.Want.Not {
				want = "0 (no RST sent)"
			}
			return sid, CounterStep, counterCheck{cell: c, want: want, rst: !ch.Want.Not}, true
		}
	}
	return "", "", counterCheck{}, false
}

// matches counts the cell's distinct outcomes that satisfy w. A step that
// varied satisfies a claim only if every variant does: a claim is a
// statement about what always happens.
func matches(c Cell, w Want) (n, total int) {
	outs := c.outcomes()
	for _, o := range outs {
		if w.match(o.Class) {
			n++
		}
	}
	return n, len(outs)
}

// closeExchange reads the close from a scenario's wire.actor and wire.peer
// cells: the segments of both ends in wire order, spelled "actor FIN+ACK,
// peer ACK, peer FIN+ACK, actor ACK (4 segments)", and whether the peer's
// first segment after the actor's FIN was its own FIN. seen is false when
// either cell carries no segments.
func closeExchange(actor, peer Cell) (text string, threeSegments, seen bool) {
	if actor.Status != CellObserved || len(actor.Segments) == 0 || len(peer.Segments) == 0 {
		return "", false, false
	}
	type seg struct {
		side string
		schema.Segment
	}
	var all []seg
	for _, s := range actor.Segments {
		all = append(all, seg{"actor", s})
	}
	for _, s := range peer.Segments {
		all = append(all, seg{"peer", s})
	}
	slices.SortStableFunc(all, func(a, b seg) int { return a.Seq - b.Seq })
	words := make([]string, len(all))
	actorFIN, verdict := false, false
	decided := false
	for i, s := range all {
		words[i] = s.side + " " + s.Flags
		fin := slices.Contains(strings.Split(s.Flags, "+"), "FIN")
		switch {
		case s.side == "actor" && fin:
			actorFIN = true
		case s.side == "peer" && actorFIN && !decided:
			verdict, decided = fin, true
		}
	}
	return fmt.Sprintf("%s (%d segments)", strings.Join(words, ", "), len(all)), verdict, true
}
