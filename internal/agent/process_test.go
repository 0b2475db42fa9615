package agent

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain lets this test binary be a fake agent (CM_FAKE_AGENT names the
// behaviour), so the fault paths are tested without any runtime installed.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CM_FAKE_AGENT"); mode != "" {
		fakeAgent(mode)
		return
	}
	os.Exit(m.Run())
}

const hello = `{"protocol":1,"runtime":"fake","version":"0","api":"test","ops":["recv"],"thread_ids":false}`

func fakeAgent(mode string) {
	os.Stderr.WriteString("fake agent: " + mode + "\n")
	switch mode {
	case "silent":
		time.Sleep(time.Hour)
	case "garbage-hello":
		os.Stdout.WriteString("hello there\n")
		time.Sleep(time.Hour)
	case "exit":
		os.Stdout.WriteString(hello + "\n")
		os.Exit(3)
	}
	os.Stdout.WriteString(hello + "\n")
	buf := make([]byte, 4096)
	for {
		n, err := os.Stdin.Read(buf)
		if err != nil {
			os.Exit(0)
		}
		line := string(buf[:n])
		switch mode {
		case "echo":
			// {"id":N,...}: answer ok with the id, twice out of order
			// is not needed: one line per command.
			id := line[strings.Index(line, `"id":`)+5:]
			id = id[:strings.IndexAny(id, ",}")]
			os.Stdout.WriteString(`{"id":` + id + `,"status":"ok","n":7}` + "\n")
		case "garbage":
			os.Stdout.WriteString("Traceback (most recent call last):\n")
		case "mute":
		}
	}
}

func start(t *testing.T, mode string) (*Process, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Start([]string{exe}, []string{"CM_FAKE_AGENT=" + mode})
}

func TestAnswersByID(t *testing.T) {
	p, err := start(t, "echo")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if h := p.Hello(); h.Runtime != "fake" || !h.Supports("recv") || h.Supports("send") {
		t.Fatalf("hello %+v", h)
	}
	for i := 0; i < 3; i++ {
		a, err := p.Do(Command{Op: OpRecv, Conn: "c1", Max: 10}, time.Second)
		if err != nil || a.N != 7 || a.Status != StatusOK {
			t.Fatalf("answer %+v, %v", a, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the hello bound")
	}
	for _, tc := range []struct {
		mode string
		send bool
	}{{"garbage-hello", false}, {"exit", true}, {"garbage", true}, {"mute", true}} {
		t.Run(tc.mode, func(t *testing.T) {
			p, err := start(t, tc.mode)
			if !tc.send {
				if !errors.Is(err, ErrFault) || !strings.Contains(err.Error(), "fake agent: "+tc.mode) {
					t.Fatalf("start: %v, want a fault with the agent's stderr", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			_, err = p.Do(Command{Op: OpRecv, Conn: "c1", Max: 1}, 300*time.Millisecond)
			switch tc.mode {
			case "mute":
				if !errors.Is(err, ErrTimeout) {
					t.Fatalf("mute: %v, want ErrTimeout", err)
				}
			default:
				if !errors.Is(err, ErrFault) {
					t.Fatalf("%s: %v, want ErrFault", tc.mode, err)
				}
				if !strings.Contains(err.Error(), "fake agent: "+tc.mode) {
					t.Errorf("%s: %v: the agent's stderr is missing", tc.mode, err)
				}
			}
		})
	}
}

func TestNoHello(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the whole hello bound (10 s)")
	}
	start0 := time.Now()
	_, err := start(t, "silent")
	if !errors.Is(err, ErrFault) || time.Since(start0) > HelloBound+5*time.Second {
		t.Fatalf("silent agent: %v after %v", err, time.Since(start0))
	}
}

// TestNoLeaks starts and closes agents, faulted and not, and checks that no
// child process, goroutine or descriptor is left.
func TestNoLeaks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self")
	}
	fds := countFDs(t)
	goroutines := runtime.NumGoroutine()
	for _, mode := range []string{"echo", "garbage", "exit", "mute", "echo"} {
		p, err := start(t, mode)
		if err != nil {
			t.Fatal(err)
		}
		p.Do(Command{Op: OpRecv, Conn: "c1", Max: 1}, 100*time.Millisecond)
		if mode == "mute" {
			p.Kill()
		} else {
			p.Close()
		}
		if !p.Exited() {
			t.Fatalf("%s: not reaped after Close", mode)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutines {
		t.Errorf("goroutines: %d before, %d after", goroutines, g)
	}
	if got := countFDs(t); got != fds {
		t.Errorf("descriptors: %d before, %d after", fds, got)
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("child processes left: %v", kids)
	}
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func children(t *testing.T) []string {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var kids []string
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err == nil {
			kids = append(kids, strings.Fields(string(b))...)
		}
	}
	return kids
}

var _ = exec.Command
