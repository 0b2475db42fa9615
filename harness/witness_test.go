package harness

import (
	"encoding/json"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// witnessed are the scenarios testdata/witness.py plays independently (Python's
// socket module, its own threads and timeouts), in both families.
var witnessed = []string{
	"close/idle", "close/peer-blocked-recv", "close/unread-at-actor", "close/unread-at-peer",
	"close/then-use", "abort/idle", "abort/unread-at-peer",
	"shutdown-wr/idle", "shutdown-rd/idle", "shutdown-rdwr/idle",
}

// TestWitness checks that the harness tells the truth: for each witnessed
// scenario, every step's class, errno and byte count must equal what an
// independent program sees from the same kernel. The events steps are
// checked against Python's select.epoll, registered and drained the same way;
// a step the harness could not observe here (skipped) has nothing to compare,
// and is logged.
func TestWitness(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the witness reads Linux's struct tcp_info; it runs on Linux only")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: install it to compare the harness with an independent witness")
	}
	byID := map[string]Scenario{}
	for _, sc := range Catalogue() {
		byID[sc.ID] = sc
	}
	var ids []string
	for _, f := range Families {
		for _, w := range witnessed {
			ids = append(ids, string(f)+"/"+w)
		}
	}
	out, err := exec.Command(python, append([]string{"testdata/witness.py"}, ids...)...).Output()
	if err != nil {
		if strings.Contains(string(out)+errText(err), "Address family not supported") ||
			strings.Contains(errText(err), "Cannot assign requested address") {
			t.Skip("the witness cannot use ::1 here")
		}
		t.Fatalf("witness.py: %v\n%s", err, errText(err))
	}
	var seen map[string]map[string]struct {
		Class schema.Class `json:"class"`
		Errno string       `json:"errno"`
		N     int          `json:"n"`
	}
	if err := json.Unmarshal(out, &seen); err != nil {
		t.Fatalf("witness output: %v\n%s", err, out)
	}
	watchWorks := canWatch(t)
	for _, id := range ids {
		rec, _ := Run(byID[id], Config{Repeat: 1})
		if rec.Status != schema.StatusObserved {
			t.Errorf("%s: %s %s", id, rec.Status, rec.Reason)
			continue
		}
		for _, st := range rec.Steps {
			if st.Skipped != "" && schema.KindOf(st.Name) == schema.KindEvents && watchWorks {
				t.Errorf("%s %s: skipped by the harness (%s), but epoll works here", id, st.Name, st.Skipped)
				continue
			}
			if st.Skipped != "" {
				t.Logf("%s %s: skipped by the harness (%s); witness saw %v", id, st.Name, st.Skipped, seen[id][st.Name])
				continue
			}
			w, ok := seen[id][st.Name]
			if !ok {
				t.Errorf("%s %s: the witness does not play this step", id, st.Name)
				continue
			}
			got := st.Outcome
			if got.Class != w.Class || got.Errno != w.Errno || got.N != w.N {
				t.Errorf("%s %s: harness %s, witness %s %s n=%d", id, st.Name, got, w.Class, w.Errno, w.N)
			}
		}
	}
}

func errText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return err.Error()
}

// canWatch reports whether probes.Watch works here, so that the harness
// cannot pass the witness by skipping every events step.
func canWatch(t *testing.T) bool {
	ln, err := probes.Listen(probes.V4)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := probes.Dial(probes.V4, ln.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Watch()
	if err != nil {
		t.Logf("probes.Watch: %v: the events steps are not compared", err)
		return false
	}
	w.Close()
	return true
}
