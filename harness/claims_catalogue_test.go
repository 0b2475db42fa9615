package harness

import (
	"testing"

	"github.com/closematrix/closematrix/matrix"
)

// TestClaimsNameTheCatalogue checks that every scenario and step a claim
// decides by (matrix.Claims, written by hand) exists in the catalogue, in
// every family: a typo in an ID or step would otherwise leave the claim
// "unknown" on every platform without anyone noticing.
func TestClaimsNameTheCatalogue(t *testing.T) {
	steps := map[string]map[string]bool{}
	for _, sc := range Catalogue() {
		m := map[string]bool{}
		for _, st := range sc.Steps {
			m[st.Name()] = true
		}
		steps[sc.ID] = m
	}
	n := 0
	for _, c := range matrix.Claims {
		for _, ch := range c.Checks {
			names := []string{ch.Step}
			if ch.If != nil {
				names = append(names, ch.If.Step)
			}
			for _, f := range Families {
				id := string(f) + "/" + ch.Scenario
				have, ok := steps[id]
				if !ok {
					t.Errorf("claim %d: scenario %s is not in the catalogue", c.ID, id)
					continue
				}
				for _, name := range names {
					n++
					if !have[name] {
						t.Errorf("claim %d: %s has no step %s", c.ID, id, name)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no claim checks were looked up")
	}
}
