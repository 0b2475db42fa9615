package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// uringWitnessed are the scenarios with a pending recv that
// testdata/uring_witness.c plays through liburing, in both families.
var uringWitnessed = []string{
	"close/own-pending-recv", "abort/own-pending-recv", "shutdown-wr/own-pending-recv",
	"shutdown-rd/own-pending-recv", "shutdown-rdwr/own-pending-recv",
	"close/peer-pending-recv", "abort/peer-pending-recv", "cancel-then-close/own-pending-recv",
}

// TestWitnessUring checks the io_uring cells against an independent program:
// testdata/uring_witness.c, built here with gcc against liburing (Debian
// liburing-dev), plays the same scenarios on its own sockets and ring (its
// own setup, submission and timed waits, from a C thread of its own), and
// every *.pending-recv and peer.recv step must agree in class, errno and byte
// count. Without gcc or liburing the test skips, unless REQUIRE_LIBURING=1
// (CI): then it fails, so that CI cannot pass by skipping.
func TestWitnessUring(t *testing.T) {
	require := os.Getenv("REQUIRE_LIBURING") == "1"
	unmet := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf("REQUIRE_LIBURING=1: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	if os.Getenv("CLOSEMATRIX_IO_URING") == "off" {
		t.Skip("CLOSEMATRIX_IO_URING=off: the harness skips the pending-recv steps")
	}
	byID := map[string]Scenario{}
	for _, sc := range Catalogue() {
		byID[sc.ID] = sc
	}
	var ids, missing []string
	for _, f := range Families {
		for _, w := range uringWitnessed {
			id := string(f) + "/" + w
			ids = append(ids, id)
			if _, ok := byID[id]; !ok {
				missing = append(missing, id)
			}
		}
	}
	if len(missing) > 0 {
		t.Skipf("the catalogue lacks the pending-recv scenarios (lane h10-core's): %v", missing)
	}

	gcc, err := exec.LookPath("gcc")
	if err != nil {
		unmet("gcc not found: the io_uring witness is a C program built at test time")
	}
	bin := filepath.Join(t.TempDir(), "uring_witness")
	if out, err := exec.Command(gcc, "-O2", "-Wall", "-o", bin, "testdata/uring_witness.c", "-luring").CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("liburing.h")) || bytes.Contains(out, []byte("-luring")) {
			unmet("liburing not installed (Debian/Ubuntu: liburing-dev): %s", bytes.TrimSpace(out))
		}
		t.Fatalf("building testdata/uring_witness.c: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, ids...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		// The witness's io_uring_queue_init was refused: then the harness
		// must have skipped too, or they disagree.
		rec, _ := Run(byID[ids[0]], Config{Repeat: 1})
		if rec.Status == schema.StatusSkipped {
			t.Skipf("io_uring refused here, to the witness (%s) and to the harness (%s)", bytes.TrimSpace(ee.Stderr), rec.Reason)
		}
		t.Fatalf("the witness cannot use io_uring (%s), the harness says %s", bytes.TrimSpace(ee.Stderr), rec.Status)
	}
	if err != nil {
		t.Fatalf("uring_witness: %v\n%s", err, errText(err))
	}
	var seen map[string]map[string]json.RawMessage
	if err := json.Unmarshal(out, &seen); err != nil {
		t.Fatalf("witness output: %v\n%s", err, out)
	}
	type result struct {
		Class schema.Class `json:"class"`
		Errno string       `json:"errno"`
		N     int          `json:"n"`
	}
	compared := 0
	for _, id := range ids {
		w, ok := seen[id]
		if !ok {
			t.Errorf("%s: the witness printed nothing", id)
			continue
		}
		rec, _ := Run(byID[id], Config{Repeat: 1})
		if why, skipped := w["skipped"]; skipped {
			if rec.Status != schema.StatusSkipped {
				t.Errorf("%s: the witness skipped it (%s), the harness %s", id, why, rec.Status)
			}
			continue
		}
		if rec.Status != schema.StatusObserved {
			t.Errorf("%s: %s %s", id, rec.Status, rec.Reason)
			continue
		}
		steps := 0
		for _, st := range rec.Steps {
			if !strings.HasSuffix(st.Name, ".pending-recv") && st.Name != "peer.recv" {
				continue
			}
			var want result
			if err := json.Unmarshal(w[st.Name], &want); err != nil {
				t.Errorf("%s %s: the witness has no result: %v", id, st.Name, err)
				continue
			}
			got := st.Outcome
			if got.Class != want.Class || got.Errno != want.Errno || got.N != want.N {
				t.Errorf("%s %s: harness %s, witness %s %s n=%d", id, st.Name, got, want.Class, want.Errno, want.N)
			}
			steps++
		}
		if steps != 2 {
			t.Errorf("%s: %d of its pending-recv and peer.recv steps compared, want 2", id, steps)
		}
		compared += steps
	}
	t.Logf("%d steps of %d scenarios agree with liburing", compared, len(ids))
}
