package harness

import (
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
// (state, poll, wire), which only look, are set aside; and that the wired
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
			if !observational[st.Op] {
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
	for name, mutate := range map[string]func(*Scenario){
		"id mismatch":        func(s *Scenario) { s.ID = "v4/close/other" },
		"abort without":      func(s *Scenario) { s.Action = Abort; s.ID = "v4/abort/idle" },
		"steps out of order": func(s *Scenario) { s.Steps = mustSteps("peer.recv#2 peer.recv") },
		"blocked-recv idle":  func(s *Scenario) { s.Steps = mustSteps("peer.blocked-recv") },
		"posture no step":    func(s *Scenario) { s.Posture = PeerBlockedRecv },
	} {
		s := good
		mutate(&s)
		if s.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, sc := range Catalogue() {
		if sc.ID == "v6/abort/unread-at-peer" {
			if got := strings.Join(sc.Labels(), ","); got != "abort,core,idle,linger0,state,unread-at-peer,v6" {
				t.Errorf("labels %s", got)
			}
		}
	}
}
