package harness

import (
	"errors"
	"testing"

	"github.com/closematrix/closematrix/probes"
)

// TestAgentThatDoesNotStartIsSkippedOnce: an agent whose runtime is on PATH
// but exits before its hello is a view this machine does not have (the
// scenarios are skipped with the reason), and it is not started again for
// every scenario of the run: each start waits for a hello, a build, or both.
func TestAgentThatDoesNotStartIsSkippedOnce(t *testing.T) {
	starts := 0
	v := NewAgentView("broken", func() ([]string, error) {
		starts++
		return []string{"sh", "-c", "echo 'no such module' >&2; exit 3"}, nil
	})
	defer v.Close()
	for i := 0; i < 3; i++ {
		_, err := v.Listen(probes.V4)
		if !errors.Is(err, ErrNotInView) || !skipError(err) {
			t.Fatalf("Listen %d: %v, want a skip (ErrNotInView)", i, err)
		}
	}
	if starts != 1 {
		t.Errorf("the agent was started %d times in one run, want 1", starts)
	}
	v.Close() // a new run may try again
	if _, err := v.Listen(probes.V4); !errors.Is(err, ErrNotInView) || starts != 2 {
		t.Errorf("after Close: %v, %d starts; want a fresh try", err, starts)
	}
}
