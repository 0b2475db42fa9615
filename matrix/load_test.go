package matrix

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// minimal is the smallest valid result file; the bad-input cases below each
// break one thing in it.
const minimal = `{"schema":1,"platform":{"label":"linux-amd64","os":"linux"},
"scenarios":[{"id":"v4/close/idle","status":"observed","runs":1,
"steps":[{"name":"peer.recv","outcome":{"class":"eof"}}]}]}`

func TestParseMinimal(t *testing.T) {
	f, err := Parse("min.json", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if f.Platform.Label != "linux-amd64" || f.Scenarios[0].Steps[0].Outcome.Class != "eof" {
		t.Errorf("parsed %+v", f)
	}
}

// TestParseBadInput checks that every kind of damage gives one line that
// names the file and says what is wrong, and never a panic.
func TestParseBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "empty file"},
		{"blank", " \n\t", "empty file"},
		{"truncated", minimal[:len(minimal)/2], "truncated JSON"},
		{"not json", "schema: 1\n", "not valid JSON"},
		{"trailing garbage", minimal + "}", "not valid JSON"},
		{"array", "[1,2]", "top level is a JSON array, want an object"},
		{"null", "null", "no schema field"},
		{"no schema", `{"platform":{"label":"x"}}`, "no schema field, want 1 or 2"},
		{"merged matrix", `{"merged_schema":1,"summary":{}}`, "a merged matrix (render --format json), not a result file"},
		{"schema 3", strings.Replace(minimal, `"schema":1`, `"schema":3`, 1), "schema 3, want 1 or 2"},
		{"schema string", strings.Replace(minimal, `"schema":1`, `"schema":"1"`, 1), `schema "1", want 1 or 2`},
		{"schema 2 without kind", strings.Replace(minimal, `"schema":1`, `"schema":2`, 1), `step peer.recv: kind "" is not one of`},
		// The kind is the writer's (its op table), not re-derived from the
		// step's name: only a kind this reader has no vocabulary for is bad.
		{"schema 2 unknown kind", strings.Replace(strings.Replace(minimal, `"schema":1`, `"schema":2`, 1), `"name":"peer.recv"`, `"name":"peer.recv","kind":"sorcery"`, 1), `kind "sorcery" is not one of`},
		{"events detail on a call", strings.Replace(strings.Replace(minimal, `"schema":1`, `"schema":2`, 1), `"name":"peer.recv"`, `"name":"peer.recv","kind":"call","events":{"api":"epoll","names":[]}`, 1), "events detail on a step that is not of kind events"},
		{"completion detail on a variant", strings.Replace(minimal, `"outcome":{"class":"eof"}`, `"outcome":{"class":"eof"},"variants":[{"class":"eof","count":1,"completion":{"api":"iocp","done":true}}]`, 1), "variants[0]: completion detail"},
		{"wrong type", strings.Replace(minimal, `"runs":1`, `"runs":"one"`, 1), "field scenarios.runs: JSON string, want int"},
		{"no label", strings.Replace(minimal, `"label":"linux-amd64",`, ``, 1), "platform.label is missing"},
		{"label with markup", strings.Replace(minimal, `"label":"linux-amd64"`, `"label":"<b>x</b>"`, 1), `platform.label "<b>x</b>"`},
		{"zero scenarios", `{"schema":1,"platform":{"label":"x"},"scenarios":[]}`, "no scenarios"},
		{"bad id", strings.Replace(minimal, `"v4/close/idle"`, `"close idle"`, 1), `scenarios[0] "close idle": id: want <family>/<action>/<condition>`},
		{"unknown status", strings.Replace(minimal, `"observed"`, `"maybe"`, 1), `unknown status "maybe"`},
		{"negative runs", strings.Replace(minimal, `"runs":1`, `"runs":-1`, 1), "runs -1"},
		{"bad step name", strings.Replace(minimal, `"peer.recv"`, `"Peer Recv"`, 1), `steps[0] name "Peer Recv": want <side>.<what>[#n]`},
		{"step without side", strings.Replace(minimal, `"peer.recv"`, `"recv#2"`, 1), `name "recv#2"`},
		{"empty class", strings.Replace(minimal, `"class":"eof"`, `"class":""`, 1), "outcome.class is empty"},
		{"control char in class", strings.Replace(minimal, `"class":"eof"`, `"class":"e\u0007of"`, 1), "control characters"},
		{"long errno", strings.Replace(minimal, `"class":"eof"`, `"class":"reset","errno":"`+strings.Repeat("E", 300)+`"`, 1), "longer than 256 bytes"},
		{"long events cell", strings.Replace(strings.Replace(minimal, `"name":"peer.recv"`, `"name":"peer.events"`, 1), `"class":"eof"`, `"class":"`+strings.Repeat("EVFILT_READ[EV_EOF] ", 13)+`"`, 1), "longer than 256 bytes"},
		{"zero-count variant", strings.Replace(minimal, `"outcome":{"class":"eof"}`, `"outcome":{"class":"eof"},"variants":[{"class":"eof","count":0}]`, 1), "count 0"},
		{"duplicate step", strings.Replace(minimal, `"steps":[`, `"steps":[{"name":"peer.recv","outcome":{"class":"eof"}},`, 1), "peer.recv: duplicate step name"},
		{"duplicate scenario", strings.Replace(minimal, `"scenarios":[`, `"scenarios":[{"id":"v4/close/idle","status":"skipped"},`, 1), "scenarios[1] v4/close/idle: duplicate id, also scenarios[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("results/x.json", []byte(tc.data))
			if err == nil {
				t.Fatalf("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "results/x.json: ") {
				t.Errorf("error does not start with the file name: %q", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("error is %T, want *FileError", err)
			}
		})
	}
}

func TestParseSchemaIsDetectable(t *testing.T) {
	_, err := Parse("x.json", []byte(`{"schema":3}`))
	if !errors.Is(err, ErrSchema) {
		t.Errorf("errors.Is(%v, ErrSchema) = false", err)
	}
}

// TestParseForeignClasses accepts the classes of state, poll and wire steps,
// which are not in schema.Classes.
func TestParseForeignClasses(t *testing.T) {
	for _, class := range []string{"FIN_WAIT_2", "POLLIN|POLLHUP", "data,FIN", "none", "<b>odd</b>"} {
		data := strings.Replace(minimal, `"class":"eof"`, `"class":"`+class+`"`, 1)
		if _, err := Parse("x.json", []byte(data)); err != nil {
			t.Errorf("class %q: %v", class, err)
		}
	}
}

func TestLoadAll(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.json", minimal)
	b := write("b.json", minimal)

	_, err := LoadAll([]string{a, b})
	if err == nil || !strings.Contains(err.Error(), b+`: platform label "linux-amd64" is also in `+a) {
		t.Errorf("duplicate label: %v", err)
	}

	_, err = LoadAll([]string{filepath.Join(dir, "missing.json")})
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "missing.json")+": ") || strings.Count(err.Error(), "missing.json") != 1 {
		t.Errorf("missing file: %v", err)
	}

	if _, err := LoadAll(nil); err == nil {
		t.Error("no files: accepted")
	}

	// A directory means the *.json files in it, sorted.
	files, err := LoadAll([]string{"testdata"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || files[0].Platform.Label != "darwin-arm64" {
		t.Errorf("testdata/ loaded %d files, first %q", len(files), files[0].Platform.Label)
	}
	empty := t.TempDir()
	if _, err := LoadAll([]string{empty}); err == nil || !strings.Contains(err.Error(), "no *.json") {
		t.Errorf("empty directory: %v", err)
	}
}

// TestParseSkippedStep accepts a step the system offers no view of: its
// outcome is empty by design.
func TestParseSkippedStep(t *testing.T) {
	data := strings.Replace(minimal, `"outcome":{"class":"eof"}`, `"outcome":{"class":""},"skipped":"needs root"`, 1)
	f, err := Parse("x.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	m := mustMerge(t, f)
	if c := m.Groups[0].Rows[0].Cells[0]; c.Status != CellSkipped || c.Text() != "skipped: needs root" {
		t.Errorf("skipped step shows as %q (%s)", c.Text(), c.Status)
	}
	// Drift: a step that became skipped is a change.
	before, _ := Parse("x.json", []byte(minimal))
	if c := Diff(before, f); len(c) != 1 || c[0].After != "skipped: needs root" {
		t.Errorf("diff %v", c)
	}
}

// TestParseSchemas reads a schema 1 file as schema 2: every step gets the
// kind its name implies, so renderers and consumers see one shape.
func TestParseSchemas(t *testing.T) {
	v1 := strings.Replace(minimal, `"name":"peer.recv"`, `"name":"peer.events#2"`, 1)
	f, err := Parse("v1.json", []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Scenarios[0].Steps[0].Kind; got != schema.KindEvents {
		t.Errorf("schema 1 peer.events#2 read as kind %q, want events", got)
	}
	v2 := strings.Replace(strings.Replace(minimal, `"schema":1`, `"schema":2`, 1),
		`"name":"peer.recv","outcome":{"class":"eof"}`,
		`"name":"peer.pending-recv","kind":"completion","outcome":{"class":"reset","errno":"ERROR_NETNAME_DELETED","code":64},`+
			`"completion":{"api":"iocp","done":true,"errno":"ERROR_NETNAME_DELETED","code":64,"wsa":"WSAECONNRESET","wsa_code":10054}`, 1)
	f, err = Parse("v2.json", []byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Scenarios[0].Steps[0].Completion; c == nil || c.WSACode != 10054 {
		t.Errorf("completion %+v, want the WSA code typed", c)
	}
}

// TestSegmentsValidated: a wire step's segments are held to the same rules
// as other words; negative numbers are refused.
// A kqueue read is a sentence of native names, longer than a word: it loads.
func TestKqueueEventsCellLoads(t *testing.T) {
	kq := "EVFILT_READ[EV_EOF fflags=ECONNRESET data=0] EVFILT_WRITE[EV_EOF data=146988]"
	data := strings.Replace(strings.Replace(minimal, `"name":"peer.recv"`, `"name":"peer.events"`, 1), `"class":"eof"`, `"class":"`+kq+`"`, 1)
	f, err := Parse("kq.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Scenarios[0].Steps[0].Outcome.Class; string(got) != kq {
		t.Errorf("class %q", got)
	}
}

func TestSegmentsValidated(t *testing.T) {
	const base = `{"schema":1,"platform":{"label":"l","os":"linux"},"scenarios":[{"id":"v4/close/x","status":"observed","steps":[` +
		`{"name":"wire.peer","outcome":{"class":"FIN"},"segments":[%s]}]}]}`
	if _, err := Parse("ok.json", []byte(fmt.Sprintf(base, `{"seq":1,"flags":"FIN+ACK","len":3}`))); err != nil {
		t.Errorf("valid segments refused: %v", err)
	}
	for _, bad := range []string{`{"seq":-1,"flags":"ACK"}`, `{"seq":1,"flags":"ACK","len":-2}`, `{"seq":1,"flags":"A\u0000"}`} {
		if _, err := Parse("bad.json", []byte(fmt.Sprintf(base, bad))); err == nil {
			t.Errorf("segments %s accepted", bad)
		}
	}
}
