package harness

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNoLeaks plays the whole catalogue once and checks that it leaves no
// descriptor, thread, child process, listening socket or network namespace
// behind: the
// descriptor count returns to where it was, every thread a call ran on has
// exited, the thread count has not grown beyond the runtime's own idle
// threads, no helper process is left, and the system has no more listening
// sockets than before.
func TestNoLeaks(t *testing.T) {
	// Warm up the runtime's thread pool (GC workers, sysmon, an idle M or
	// two) so that it does not count as ours.
	Run(Catalogue()[0], Config{Repeat: 1})
	runtime.GC()
	fds, threads := count(t, "fd"), count(t, "task")
	listeningBefore := listening(t)
	netnsBefore := namedNetns()

	var stats Stats
	for _, sc := range Catalogue() {
		_, st := Run(sc, Config{Repeat: 1})
		stats.Add(st)
	}
	if len(stats.Threads) == 0 {
		t.Fatal("no call threads recorded: nothing was checked")
	}
	// A locked thread exits right after its goroutine; give the runtime a
	// moment to reap the last ones, checking rather than sleeping blindly.
	deadline := time.Now().Add(2 * time.Second)
	for {
		var alive []int
		for _, tid := range stats.Threads {
			if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); err == nil {
				alive = append(alive, tid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d call threads still alive after the catalogue: %v", len(alive), alive)
		}
		time.Sleep(time.Millisecond)
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("child processes left: %v", kids)
	}
	if got := namedNetns(); got != netnsBefore {
		t.Errorf("network namespaces in /run/netns: %d before, %d after", netnsBefore, got)
	}
	if got := listening(t); got > listeningBefore {
		t.Errorf("listening sockets: %d before, %d after", listeningBefore, got)
	}
	if got := count(t, "fd"); got != fds {
		t.Errorf("descriptors: %d before, %d after", fds, got)
	}
	// The runtime may start an idle thread of its own for the test's own
	// blocking calls; more than GOMAXPROCS new ones would be ours.
	if got := count(t, "task"); got > threads+runtime.GOMAXPROCS(0) {
		t.Errorf("threads: %d before, %d after", threads, got)
	}
	t.Logf("%d call threads, all exited; %d descriptors; %d→%d threads", len(stats.Threads), fds, threads, count(t, "task"))
}

func count(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/" + dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// children lists this process's child processes (proc(5):
// /proc/PID/task/TID/children, one list per thread).
func children(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			continue // the thread exited meanwhile
		}
		kids = append(kids, strings.Fields(string(b))...)
	}
	return kids
}

// listening counts the system's TCP sockets in LISTEN (state 0A in
// /proc/net/tcp and tcp6).
func listening(t *testing.T) int {
	t.Helper()
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // no IPv6 here
		}
		for _, line := range strings.Split(string(b), "\n") {
			if fields := strings.Fields(line); len(fields) > 3 && fields[3] == "0A" {
				n++
			}
		}
	}
	return n
}

// namedNetns counts the named network namespaces (ip-netns(8) keeps them in
// /run/netns); none there is 0.
func namedNetns() int {
	ents, _ := os.ReadDir("/run/netns")
	return len(ents)
}
