package harness_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// TestIndependentChecks is closematrix issue 18's point 6 (and issue 19's
// point 1 for java and rust): each built-in agent's view must agree with a
// short test written in that runtime's own language
// (agents/python/check_test.py, agents/node/check.test.js,
// agents/java/Check.java, agents/rust/check.rs, which this test builds
// with rustc first; this test lives in harness, the one package whose tests
// may import it), which
// plays close/idle, abort/idle, close/unread-at-actor and
// abort/unread-at-peer on its own sockets, not through the agent. The test
// prints what each step saw; this one plays the same scenarios through the
// view and compares the classes (and the byte count of data). A scenario
// the runtime cannot play (Rust's std has no SO_LINGER, so no abort) is
// {"unsupported": why} in the check's output, and the view must skip it.
//
// A runtime that is not on PATH skips its check with the reason; with
// REQUIRE_AGENTS=1 (CI, where Python and Node are on every image) that
// fails instead.
func TestIndependentChecks(t *testing.T) {
	if runtime.GOOS != "linux" {
		// The checks' own expectations are Linux's only in that the
		// comparison is with this machine's view; they run anywhere, but the
		// harness's table lookups they rely on are exercised here.
		t.Skip("run on Linux here; other OSes run it in CI once their columns exist")
	}
	for _, tc := range []struct {
		view   string
		interp []string
		args   []string
		// compiled: interp is a compiler that builds args into a
		// program (rustc's -o is added), and the check is that program.
		compiled bool
	}{
		{"python", []string{"python3", "python"}, []string{"-m", "unittest", filepath.Join("python", "check_test.py")}, false},
		{"node", []string{"node"}, []string{"--test", filepath.Join("node", "check.test.js")}, false},
		{"java", []string{"java"}, []string{filepath.Join("java", "Check.java")}, false},
		{"rust", []string{"rustc"}, []string{"--edition", "2021", filepath.Join("rust", "check.rs")}, true},
	} {
		t.Run(tc.view, func(t *testing.T) {
			interp := ""
			for _, c := range tc.interp {
				if p, err := exec.LookPath(c); err == nil {
					interp = p
					break
				}
			}
			if interp == "" {
				if os.Getenv("REQUIRE_AGENTS") == "1" {
					t.Fatalf("REQUIRE_AGENTS=1 and none of %v is on PATH", tc.interp)
				}
				t.Skipf("none of %v is on PATH", tc.interp)
			}
			args := tc.args
			if tc.compiled {
				bin := filepath.Join(t.TempDir(), "check")
				build := exec.Command(interp, append(append([]string{}, tc.args...), "-o", bin)...)
				build.Dir = filepath.Join("..", "agents")
				if out, err := build.CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", interp, tc.args, err, out)
				}
				interp, args = bin, nil
			}
			seen := runCheck(t, interp, args)
			view, err := harness.TransportByName(tc.view)
			if err != nil {
				t.Fatal(err)
			}
			defer view.(*harness.AgentView).Close()
			byID := map[string]harness.Scenario{}
			for _, sc := range harness.Catalogue() {
				byID[sc.ID] = sc
			}
			for id, steps := range seen {
				sc, ok := byID["v4/"+id]
				if !ok {
					t.Errorf("the check played %s, which the catalogue does not have", id)
					continue
				}
				rec, _ := harness.Run(sc, harness.Config{Repeat: 1, Transport: view})
				if why, ok := steps["unsupported"]; ok {
					if rec.Status != schema.StatusSkipped {
						t.Errorf("%s: the runtime's own test cannot play it (%s), but the %s view recorded %s", id, why, tc.view, rec.Status)
					} else {
						t.Logf("%s: both unplayable: the check says %s; the view skipped it: %s", id, why, rec.Reason)
					}
					continue
				}
				if rec.Status != schema.StatusObserved {
					t.Errorf("%s through the %s view: %s: %s", id, tc.view, rec.Status, rec.Reason)
					continue
				}
				for step, want := range steps {
					got, ok := stepOutcome(rec, step)
					if !ok {
						t.Errorf("%s: no step %s in the view's record", id, step)
						continue
					}
					if word(got) != want {
						t.Errorf("%s %s: the %s view recorded %s (%s), the runtime's own test saw %s", id, step, tc.view, word(got), got, want)
					} else {
						t.Logf("%s %s: both %s (%s)", id, step, want, got)
					}
				}
			}
		})
	}
}

// runCheck runs an in-language check and parses the JSON object it prints
// last (Node's test runner prefixes a test's output with "# ").
func runCheck(t *testing.T, interp string, args []string) map[string]map[string]string {
	t.Helper()
	cmd := exec.Command(interp, args...)
	cmd.Dir = filepath.Join("..", "agents") // the checks live beside their agents
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s %v: %v\n%s%s", interp, args, err, out.String(), errb.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v: no end within 60 s", interp, args)
	}
	var seen map[string]map[string]string
	for _, line := range strings.Split(out.String()+"\n"+errb.String(), "\n") {
		// Node's TAP output escapes '#' in a comment as "\#".
		line = strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(line), "# "), `\#`, "#")
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &seen); err == nil {
				return seen
			}
		}
	}
	t.Fatalf("%s %v printed no JSON object:\n%s%s", interp, args, out.String(), errb.String())
	return nil
}

func stepOutcome(rec schema.Scenario, name string) (probes.Outcome, bool) {
	for _, st := range rec.Steps {
		if st.Name == name {
			return st.Outcome, true
		}
	}
	return probes.Outcome{}, false
}

// word is an outcome as the checks spell it: the class, with the count for
// data.
func word(o probes.Outcome) string {
	if o.Class == schema.ClassData {
		return fmt.Sprintf("data %d", o.N)
	}
	return string(o.Class)
}
