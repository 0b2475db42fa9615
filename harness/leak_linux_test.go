package harness

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// TestNoLeaks plays the whole catalogue once, concurrently as RunAll does,
// and checks that it leaves no descriptor, thread, child process, listening
// socket, network namespace, readiness registration or asynchronous recv behind: the
// descriptor count returns to where it was, every thread a call ran on has
// exited, the thread count has not grown beyond the runtime's own idle
// threads, no helper process is left, the system has no more listening
// sockets than before, and probes.Outstanding is back to where it was.
func TestNoLeaks(t *testing.T) {
	// Warm up the runtime's thread pool (GC workers, sysmon, the idle Ms
	// that concurrent blocking syscalls leave parked) so that it does not
	// count as ours: a concurrent pass over a slice of the catalogue.
	workers := DefaultWorkers()
	RunAll(Catalogue()[:min(2*workers, len(Catalogue()))], Config{Repeat: 1}, RunOptions{Workers: workers})
	runtime.GC()
	fds, threads := count(t, "fd"), count(t, "task")
	listeningBefore := listening(t)
	netnsBefore := namedNetns()
	outstandingBefore := probes.Outstanding()

	_, stats := RunAll(Catalogue(), Config{Repeat: 1}, RunOptions{Workers: workers})
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
	// Every readiness registration and asynchronous recv was closed (and
	// so cancelled and reaped) by its run's teardown.
	if got := probes.Outstanding(); got != outstandingBefore {
		t.Errorf("registrations and asynchronous recvs outstanding: %d before, %d after", outstandingBefore, got)
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
	// The runtime may start idle threads of its own for blocking calls (up
	// to one per worker beyond the warm-up's, and GOMAXPROCS); more would be
	// ours. Every call's own thread was checked by id above.
	if got := count(t, "task"); got > threads+runtime.GOMAXPROCS(0)+workers {
		t.Errorf("threads: %d before, %d after", threads, got)
	}
	t.Logf("%d call threads, all exited; %d descriptors; %d→%d threads; %d outstanding async operations", len(stats.Threads), fds, threads, count(t, "task"), probes.Outstanding())
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

// listening counts this process's listening TCP sockets: entries in LISTEN
// (state 0A) in /proc/net/tcp and tcp6 whose inode is one of our descriptors'
// sockets (/proc/self/fd links read "socket:[INODE]"). Other processes'
// listeners are not ours to count.
func listening(t *testing.T) int {
	t.Helper()
	ours := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			ours[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // no IPv6 here
		}
		for _, line := range strings.Split(string(b), "\n") {
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
			if f := strings.Fields(line); len(f) > 9 && f[3] == "0A" && ours[f[9]] {
				n++
			}
		}
	}
	return n
}

// namedNetns counts this process's named network namespaces
// (network_linux.go names them cm-PID-N-a, cm-PID-N-b; ip-netns(8) keeps
// them in /run/netns). Other processes' are not ours to count.
func namedNetns() int {
	ents, _ := os.ReadDir("/run/netns")
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("cm-%d-", os.Getpid())) {
			n++
		}
	}
	return n
}
