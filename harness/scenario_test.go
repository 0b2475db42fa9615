package harness

import (
	"errors"
	"strings"
	"testing"
)

// design is the core catalogue as DESIGN.md §3 lists it: ID after the family,
// then the steps in order. The catalogue must match it exactly.
var design = map[string]string{
	"close/idle":                     "peer.recv, peer.send, peer.send#2, peer.recv#2",
	"close/peer-blocked-recv":        "peer.blocked-recv, peer.send, peer.send#2",
	"close/unread-at-actor":          "peer.recv, peer.send, peer.send#2",
	"close/unread-at-peer":           "peer.recv, peer.recv#2, peer.send",
	"close/own-blocked-recv":         "actor.blocked-recv, peer.recv",
	"close/then-use":                 "actor.send, actor.recv",
	"abort/idle":                     "peer.recv, peer.recv#2, peer.send",
	"abort/peer-blocked-recv":        "peer.blocked-recv, peer.send",
	"abort/unread-at-peer":           "peer.recv, peer.recv#2",
	"shutdown-wr/idle":               "peer.recv, actor.send, peer.send, actor.recv",
	"shutdown-wr/peer-blocked-recv":  "peer.blocked-recv, actor.send",
	"shutdown-wr/own-blocked-recv":   "actor.blocked-recv, peer.recv",
	"shutdown-rd/idle":               "actor.recv, peer.send, actor.recv#2, actor.send, peer.recv, peer.send#2",
	"shutdown-rd/unread-at-actor":    "actor.recv, peer.send",
	"shutdown-rd/own-blocked-recv":   "actor.blocked-recv, peer.recv",
	"shutdown-rdwr/idle":             "actor.recv, actor.send, peer.recv, peer.send, peer.send#2",
	"shutdown-rdwr/own-blocked-recv": "actor.blocked-recv, peer.recv",
}

// TestCatalogueMatchesDesign checks every DESIGN §3 scenario is there, in
// both families, with exactly its steps in order once the observation steps
// (state, poll, wire, events), which only look, are set aside; and that the wired
// variants have the same steps as the scenario they capture.
func TestCatalogueMatchesDesign(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range Catalogue() {
		if seen[sc.ID] {
			t.Errorf("%s: duplicate ID", sc.ID)
		}
		seen[sc.ID] = true
		if err := sc.Validate(); err != nil {
			t.Error(err)
		}
		var names []string
		for _, st := range sc.Steps {
			if !st.looks() {
				names = append(names, st.Name())
			}
		}
		rest := strings.TrimSuffix(strings.TrimPrefix(sc.ID, string(sc.Family)+"/"), "-wire")
		want, core := design[rest]
		// A wired variant of a core scenario is core; of a state sequence (orderly-release-wire) it is not.
		if core != (sc.Core || core && strings.HasSuffix(sc.Condition, "-wire")) {
			t.Errorf("%s: labelled core=%v, DESIGN §3 says %v", sc.ID, sc.Core, core)
		}
		if !core {
			continue // beyond DESIGN §3: no row to compare with
		}
		if got := strings.Join(names, ", "); got != want {
			t.Errorf("%s steps:\n got  %s\n want %s", sc.ID, got, want)
		}
		if sc.Title == "" || sc.Doc == "" {
			t.Errorf("%s: needs a title and a doc saying what it shows", sc.ID)
		}
	}
	for rest := range design {
		for _, f := range Families {
			if !seen[string(f)+"/"+rest] {
				t.Errorf("%s/%s missing", f, rest)
			}
		}
	}
}

func TestParseStep(t *testing.T) {
	for _, name := range []string{"peer.recv", "actor.send#2", "peer.blocked-recv"} {
		st, err := ParseStep(name)
		if err != nil || st.Name() != name {
			t.Errorf("ParseStep(%q) = %v, %v; round trip %q", name, st, err, st.Name())
		}
	}
	for _, name := range []string{"wire.actor", "actor.state#2", "peer.poll", "peer.close"} {
		if st, err := ParseStep(name); err != nil || st.Name() != name {
			t.Errorf("ParseStep(%q) = %v, %v; round trip %q", name, st, err, st.Name())
		}
	}
	for _, bad := range []string{"", "peer", "peer.recv#1", "peer.recv#", "both.recv", "peer.fly", "peer.recv#10", "wire.actor#2", "actor.wire"} {
		if _, err := ParseStep(bad); err == nil {
			t.Errorf("ParseStep(%q) accepted", bad)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := Catalogue()[0]
	for _, c := range []struct {
		name, rule string
		mutate     func(*Scenario)
	}{
		{"id mismatch", "id", func(s *Scenario) { s.ID = "v4/close/other" }},
		{"unknown action", "action", func(s *Scenario) { s.Action, s.ID = "fly", "v4/fly/idle" }},
		{"step outside the grammar", "grammar", func(s *Scenario) { s.Steps = []Step{{Side: Peer, Op: ActionOp, N: 1}} }},
		{"abort without linger0", "action-setup", func(s *Scenario) { s.Action = Abort; s.ID = "v4/abort/idle" }},
		{"linger0 without abort", "action-setup", func(s *Scenario) { s.Setup = []Setup{Linger0} }},
		{"steps out of order", "order", func(s *Scenario) { s.Steps = mustSteps("peer.recv#2 peer.recv") }},
		{"blocked-recv idle", "posture-step", func(s *Scenario) { s.Steps = mustSteps("peer.blocked-recv") }},
		{"posture no step", "posture", func(s *Scenario) { s.Posture = PeerBlockedRecv }},
		{"unknown posture", "posture", func(s *Scenario) { s.Posture = "dancing" }},
		{"accept without listener", "accept-posture", func(s *Scenario) {
			s.Posture, s.Steps = OwnBlockedAccept, mustSteps("actor.blocked-accept")
		}},
		{"listener actor recv", "listener-actor", func(s *Scenario) {
			s.Action, s.ID, s.Steps = ListenerClose, "v4/listener-close/idle", mustSteps("actor.recv")
		}},
		{"process actor recv", "process-actor", func(s *Scenario) { s.Action, s.ID, s.Steps = Kill, "v4/kill/idle", mustSteps("actor.recv") }},
		{"process own-blocked-recv", "process-actor", func(s *Scenario) {
			s.Action, s.ID, s.Posture, s.Steps = Kill, "v4/kill/idle", OwnBlockedRecv, mustSteps("actor.blocked-recv")
		}},
		{"actor events after close", "events-closed", func(s *Scenario) { s.Steps = mustSteps("actor.events") }},
		{"net.up without network", "net-up", func(s *Scenario) { s.Steps = mustSteps("net.up") }},
	} {
		s := good
		c.mutate(&s)
		var re *RuleError
		if err := s.Validate(); !errors.As(err, &re) {
			t.Errorf("%s: accepted (%v)", c.name, err)
		} else if re.Rule != c.rule {
			t.Errorf("%s: rejected by rule %s (%v), want %s", c.name, re.Rule, re, c.rule)
		}
	}
}

func TestLabels(t *testing.T) {
	want := map[string]string{
		"v6/abort/unread-at-peer":       "abort,core,idle,linger0,state,unread-at-peer,v6",
		"v4/link-down/idle":             "idle,link-down,needs-root,network,slow,state,user-timeout,v4",
		"v4/close/orderly-release-wire": "close,counters,idle,needs-root,orderly-release-wire,state,v4,wire",
	}
	found := map[string]bool{}
	for _, sc := range Catalogue() {
		if w, ok := want[sc.ID]; ok {
			found[sc.ID] = true
			if got := strings.Join(sc.Labels(), ","); got != w {
				t.Errorf("%s: labels %s, want %s", sc.ID, got, w)
			}
		}
	}
	for id := range want {
		if !found[id] {
			t.Errorf("%s: not in the catalogue", id)
		}
	}
}

// TestEventLoopGrammar covers issue 10's additions: the step names, the
// rules that tie pending-recv steps and cancel-then-close to their postures,
// and the labels a filter selects them by.
func TestEventLoopGrammar(t *testing.T) {
	for _, name := range []string{"peer.events", "actor.events#2", "peer.events#3", "actor.pending-recv", "peer.pending-recv"} {
		if st, err := ParseStep(name); err != nil || st.Name() != name {
			t.Errorf("ParseStep(%q) = %v, %v; round trip %q", name, st, err, st.Name())
		}
	}
	for _, bad := range []string{"peer.events#1", "wire.events", "peer.pending", "net.events", "actor.pending-recv#10"} {
		if _, err := ParseStep(bad); err == nil {
			t.Errorf("ParseStep(%q) accepted", bad)
		}
	}
	base := Scenario{ID: "v4/close/own-pending-recv", Family: "v4", Action: Close, Condition: "own-pending-recv",
		Posture: OwnPendingRecv, Steps: mustSteps("actor.state actor.pending-recv peer.recv")}
	if err := base.Validate(); err != nil {
		t.Fatalf("a well-formed pending scenario: %v", err)
	}
	for name, c := range map[string]struct {
		rule   string
		mutate func(*Scenario)
	}{
		"pending-recv without posture": {"posture-step", func(s *Scenario) { s.Posture = Idle }},
		"pending-recv of the wrong side": {"posture", func(s *Scenario) {
			s.Steps = mustSteps("peer.pending-recv peer.recv")
		}},
		"posture without pending-recv": {"posture", func(s *Scenario) { s.Steps = mustSteps("peer.recv") }},
		"pending-recv twice": {"grammar", func(s *Scenario) {
			s.Steps = []Step{{Side: Actor, Op: PendingRecv, N: 1}, {Side: Actor, Op: PendingRecv, N: 2}}
		}},
		"peer posture, actor step": {"posture", func(s *Scenario) { s.Posture = PeerPendingRecv }},
		"cancel-then-close idle": {"action-posture", func(s *Scenario) {
			s.Action, s.Posture, s.Condition, s.ID = CancelThenClose, Idle, "idle", "v4/cancel-then-close/idle"
			s.Steps = mustSteps("peer.recv")
		}},
		"cancel-then-close peer posture": {"action-posture", func(s *Scenario) {
			s.Action, s.Posture, s.Condition, s.ID = CancelThenClose, PeerPendingRecv, "peer-pending-recv", "v4/cancel-then-close/peer-pending-recv"
			s.Steps = mustSteps("peer.pending-recv")
		}},
		"actor events after close": {"events-closed", func(s *Scenario) { s.Steps = mustSteps("actor.events actor.pending-recv") }},
		"events out of order":      {"order", func(s *Scenario) { s.Steps = mustSteps("actor.pending-recv peer.events#2 peer.events") }},
		"pending on a listener": {"pending-holder", func(s *Scenario) {
			s.Action, s.ID = ListenerClose, "v4/listener-close/own-pending-recv"
		}},
		"own pending in a process": {"pending-holder", func(s *Scenario) { s.Action, s.ID = Kill, "v4/kill/own-pending-recv" }},
	} {
		s := base
		c.mutate(&s)
		var re *RuleError
		if err := s.Validate(); !errors.As(err, &re) {
			t.Errorf("%s: accepted (%v)", name, err)
		} else if re.Rule != c.rule {
			t.Errorf("%s: rejected by rule %s (%v), want %s", name, re.Rule, re, c.rule)
		}
	}
	shut := Scenario{ID: "v4/shutdown-wr/idle", Family: "v4", Action: ShutdownWR, Condition: "idle", Posture: Idle,
		Steps: mustSteps("actor.events peer.events peer.recv actor.events#2")}
	if err := shut.Validate(); err != nil {
		t.Errorf("events after an own shutdown: %v", err)
	}
	want := map[string]string{
		"v4/close/own-pending-recv":                  "close,own-pending-recv,pending-recv,state,v4",
		"v6/cancel-then-close/own-pending-recv-wire": "cancel-then-close,counters,needs-root,own-pending-recv,own-pending-recv-wire,pending-recv,state,v6,wire",
		"v4/abort/peer-pending-recv":                 "abort,linger0,peer-pending-recv,pending-recv,state,v4",
		"v4/close/idle":                              "close,core,events,idle,state,v4",
	}
	found := 0
	for _, sc := range Catalogue() {
		if w, ok := want[sc.ID]; ok {
			found++
			if got := strings.Join(sc.Labels(), ","); got != w {
				t.Errorf("%s labels %s, want %s", sc.ID, got, w)
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of %d scenarios", found, len(want))
	}
}

// TestEventLoopCatalogue checks issue 10's scenarios are there in both
// families, each with the peer's view and both states, and that the actor's
// pending ones have a wired variant.
func TestEventLoopCatalogue(t *testing.T) {
	ids := map[string]Scenario{}
	for _, sc := range Catalogue() {
		ids[sc.ID] = sc
	}
	for _, rest := range []string{
		"close/own-pending-recv", "abort/own-pending-recv", "shutdown-wr/own-pending-recv", "shutdown-rd/own-pending-recv",
		"shutdown-rdwr/own-pending-recv", "close/peer-pending-recv", "abort/peer-pending-recv", "cancel-then-close/own-pending-recv",
	} {
		for _, f := range Families {
			sc, ok := ids[string(f)+"/"+rest]
			if !ok {
				t.Errorf("%s/%s missing", f, rest)
				continue
			}
			names := map[string]bool{}
			for _, st := range sc.Steps {
				names[st.Name()] = true
			}
			for _, need := range []string{"peer.recv", "actor.state", "peer.state"} {
				if !names[need] {
					t.Errorf("%s: no %s", sc.ID, need)
				}
			}
			if sc.Posture == OwnPendingRecv {
				if _, ok := ids[sc.ID+"-wire"]; !ok {
					t.Errorf("%s: no -wire variant", sc.ID)
				}
			}
		}
	}
}
