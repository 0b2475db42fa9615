package harness

import "fmt"

// RuleError is a Validate failure: which rule rejected the scenario, and why.
type RuleError struct {
	Rule string // a name of rules
	Msg  string
}

func (e *RuleError) Error() string { return e.Msg }

// rule is one of Validate's checks: it returns the reason the scenario
// breaks it, or "".
type rule struct {
	name  string
	check func(s Scenario, seen map[string]int) string
}

// rules are Validate's checks, in order: the first that fails is reported.
// The pending-recv rules come before the listener and process rules, which
// would otherwise reject the same scenarios for their actor.pending-recv
// step and leave "needs a connection the runner holds" unreachable.
var rules = []rule{
	{"id", func(s Scenario, _ map[string]int) string {
		if want := fmt.Sprintf("%s/%s/%s", s.Family, s.Action, s.Condition); s.ID != want {
			return fmt.Sprintf("ID does not match fields (%s)", want)
		}
		return ""
	}},
	{"action", func(s Scenario, _ map[string]int) string {
		if _, ok := actions[s.Action]; !ok {
			return fmt.Sprintf("unknown action %s", s.Action)
		}
		return ""
	}},
	{"grammar", func(s Scenario, _ map[string]int) string {
		for _, st := range s.Steps {
			if _, err := ParseStep(st.Name()); err != nil || st.N < 1 {
				return fmt.Sprintf("step %s is not in the grammar", st.Name())
			}
		}
		return ""
	}},
	{"order", func(s Scenario, seen map[string]int) string {
		for _, st := range s.Steps {
			key := string(st.Side) + "." + string(st.Op)
			if st.N != seen[key]+1 {
				return fmt.Sprintf("step %s out of order", st.Name())
			}
			seen[key] = st.N
		}
		return ""
	}},
	{"action-setup", func(s Scenario, _ map[string]int) string {
		for a, sp := range actions {
			if sp.setup != "" && (s.Action == a) != s.Has(sp.setup) {
				return fmt.Sprintf("%s and the %s setup go together", a, sp.setup)
			}
		}
		return ""
	}},
	{"action-posture", func(s Scenario, _ map[string]int) string {
		if need := s.Action.spec().posture; need != "" && s.Posture != need {
			return fmt.Sprintf("%s needs the posture %s", s.Action, need)
		}
		return ""
	}},
	{"posture", func(s Scenario, seen map[string]int) string {
		if side, ok := posturePending[s.Posture]; ok {
			if seen[string(side)+"."+string(PendingRecv)] != 1 {
				return fmt.Sprintf("posture %s without its %s.%s step", s.Posture, side, PendingRecv)
			}
		} else if pc, ok := postureCall[s.Posture]; ok {
			if seen[string(pc.Side)+"."+string(pc.Op)] != 1 {
				return fmt.Sprintf("posture %s without its %s step", s.Posture, pc.Name())
			}
		} else if s.Posture != Idle {
			return fmt.Sprintf("unknown posture %s", s.Posture)
		}
		return ""
	}},
	{"posture-step", func(s Scenario, _ map[string]int) string {
		for _, st := range s.Steps {
			switch st.Op {
			case BlockedRecv, BlockedSend, BlockedAccept:
				if postureCall[s.Posture] != st {
					return fmt.Sprintf("%s does not match posture %s", st.Name(), s.Posture)
				}
			case PendingRecv:
				if side, ok := posturePending[s.Posture]; !ok || side != st.Side {
					return fmt.Sprintf("%s needs the posture %s-pending-recv", st.Name(), ownOrPeer(st.Side))
				}
			}
		}
		return ""
	}},
	{"pending-holder", func(s Scenario, _ map[string]int) string {
		a := s.Action.spec()
		if posturePending[s.Posture] == Actor && (a.listener || a.process) {
			return fmt.Sprintf("posture %s needs an actor connection the runner holds", s.Posture)
		}
		return ""
	}},
	{"accept-posture", func(s Scenario, _ map[string]int) string {
		if s.Posture == OwnBlockedAccept && !s.Action.spec().listener {
			return fmt.Sprintf("%s needs a listener action", OwnBlockedAccept)
		}
		return ""
	}},
	{"listener-actor", func(s Scenario, _ map[string]int) string {
		for _, st := range s.Steps {
			if s.Action.spec().listener && st.Side == Actor && st.Op != BlockedAccept && st.Op != ActionOp {
				return fmt.Sprintf("%s: a listener actor only accepts and acts", st.Name())
			}
		}
		return ""
	}},
	{"process-actor", func(s Scenario, _ map[string]int) string {
		if !s.Action.spec().process {
			return ""
		}
		if s.Posture == OwnBlockedRecv {
			return "a process scenario's actor has no thread here"
		}
		for _, st := range s.Steps {
			if st.Side == Actor && st.Op != State {
				return fmt.Sprintf("%s: the actor of a process scenario is only seen through its state", st.Name())
			}
		}
		return ""
	}},
	{"events-closed", func(s Scenario, _ map[string]int) string {
		for _, st := range s.Steps {
			// The registration would outlive the descriptor it watches
			// (epoll drops it on the last close; AFD on a closed handle).
			if st.Op == Events && st.Side == Actor && s.Action.closesActor() {
				return fmt.Sprintf("%s: the action closes the actor's socket", st.Name())
			}
		}
		return ""
	}},
	{"unconnected", func(s Scenario, _ map[string]int) string {
		if !s.Has(Unconnected) {
			return ""
		}
		if a := s.Action.spec(); a.listener || a.process || a.network || s.Posture != Idle {
			return "an unconnected actor is a socket of this process, idle"
		}
		for _, st := range s.Steps {
			if st.Side != Actor || st.Op != ActionOp && st.Op != State {
				return fmt.Sprintf("%s: an unconnected actor has no peer and is only seen through the action", st.Name())
			}
		}
		return ""
	}},
	{"net-up", func(s Scenario, _ map[string]int) string {
		if s.hasOp(Up) && !s.Action.spec().network {
			return "net.up needs a network action"
		}
		return ""
	}},
}

// Validate checks that the scenario is well formed: its ID matches its
// fields, its steps are in the grammar, unique, numbered in order, and
// possible. A failure is a *RuleError naming the rule.
func (s Scenario) Validate() error {
	seen := map[string]int{} // filled by "order", read by the rules after it
	for _, r := range rules {
		if msg := r.check(s, seen); msg != "" {
			return &RuleError{Rule: r.name, Msg: s.ID + ": " + msg}
		}
	}
	return nil
}
