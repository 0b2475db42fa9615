package harness

import (
	"errors"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// brokenNetwork is a network on plain loopback whose changes fail: what a
// missing nft or a vanished namespace looks like to the runner.
type brokenNetwork struct{ raw }

func (brokenNetwork) Break(Action) error { return errors.New("nft: no such table") }
func (brokenNetwork) Restore() error     { return nil }
func (brokenNetwork) Close() error       { return nil }

// TestHarnessFailureIsNoObservation: when the harness's own part fails (here
// the network change), the run is an error, never a record of an intact
// connection as link-down behaviour.
func TestHarnessFailureIsNoObservation(t *testing.T) {
	saved := newNetwork
	defer func() { newNetwork = saved }()
	newNetwork = func(probes.Family) (network, error) { return brokenNetwork{}, nil }
	for _, sc := range Catalogue() {
		if sc.ID != "v4/link-down/idle" {
			continue
		}
		sc.Setup = nil // TCP_USER_TIMEOUT is Linux's; the failure under test is not
		rec, _ := Run(sc, Config{Repeat: 1})
		if rec.Status != schema.StatusError || !strings.Contains(rec.Reason, "no such table") {
			t.Errorf("status %s (%s), want error naming the failure", rec.Status, rec.Reason)
		}
		return
	}
	t.Fatal("v4/link-down/idle not in the catalogue")
}
