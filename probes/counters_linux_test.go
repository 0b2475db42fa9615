package probes

import (
	"errors"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCountersOwnNamespace: the counters are the calling thread's network
// namespace's. A thread that enters a fresh namespace (root) reads counters
// that started at zero, whatever the host's are; the host's, read from
// another thread meanwhile, are not.
func TestCountersOwnNamespace(t *testing.T) {
	host, err := TCPCounters()
	if err != nil {
		t.Fatal(err)
	}
	type reading struct {
		c   Counters
		err error
	}
	var r reading
	throwawayThread(func() {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			r.err = err
			return
		}
		r.c, r.err = TCPCounters()
	})
	if errors.Is(r.err, unix.EPERM) {
		t.Skip("unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN:", r.err)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.c.RstsSent != 0 || r.c.OutSegs != 0 {
		t.Errorf("a fresh namespace reads RSTs sent %d, segments sent %d; want 0 and 0 (the host has %d, %d)", r.c.RstsSent, r.c.OutSegs, host.RstsSent, host.OutSegs)
	}
	if host.OutSegs == 0 {
		t.Logf("the host namespace has sent no segments yet: the test shows less than it could")
	}
}

// throwawayThread runs f on a goroutine locked to a thread that is never
// unlocked, so that the runtime ends the thread, and the namespace f
// entered with it, when f returns; never the main thread, which the runtime
// cannot end (as harness/network_linux.go does).
func throwawayThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			throwawayThread(f)
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
	<-done
}
