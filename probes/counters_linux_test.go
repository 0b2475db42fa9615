package probes

import (
	"errors"
	"runtime"
	"testing"
	"time"

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

// TestCountersAgreeWithCapture: in a network namespace of its own, where
// nothing else sends, the RSTs-sent counter's delta around a close equals
// the RST segments the capture saw: one for an abortive close (SO_LINGER 0),
// none for an orderly one (closematrix issue 21: Linux agrees with itself).
// Needs root (a namespace and an AF_PACKET socket).
func TestCountersAgreeWithCapture(t *testing.T) {
	for _, c := range []struct {
		name  string
		abort bool
	}{{"abort", true}, {"close", false}} {
		t.Run(c.name, func(t *testing.T) {
			var r rstReading
			throwawayThread(func() { r = rstsAroundClose(c.abort) })
			if errors.Is(r.err, unix.EPERM) || errors.Is(r.err, ErrCaptureNeedsRoot) {
				t.Skip(r.err)
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			t.Logf("peer's recv %s; capture: %s; counter delta: %+v", r.recv, r.flags, r.delta)
			if r.delta.RstsSent != uint64(r.rsts) {
				t.Errorf("the counter says %d RSTs sent, the capture saw %d (%s)", r.delta.RstsSent, r.rsts, r.flags)
			}
			// Linux counts every segment it sends in OutSegs (RSTs too:
			// tcp_v4_send_reset), retransmissions aside, and none happen here.
			if r.delta.OutSegs != uint64(len(r.flags)) {
				t.Errorf("the counter says %d segments sent, the capture saw %d (%s)", r.delta.OutSegs, len(r.flags), r.flags)
			}
			if want := map[bool]int{true: 1, false: 0}[c.abort]; r.rsts != want {
				t.Errorf("the capture saw %d RSTs (%s), want %d", r.rsts, r.flags, want)
			}
		})
	}
}

type rstReading struct {
	rsts  int
	flags []string
	recv  Outcome
	delta Counters
	err   error
}

// rstsAroundClose plays one close in a fresh network namespace on the
// calling (locked, throwaway) thread, capturing the connection and reading
// the counters around the close.
func rstsAroundClose(abort bool) (r rstReading) {
	if r.err = unix.Unshare(unix.CLONE_NEWNET); r.err != nil {
		return
	}
	// A new namespace's lo is down (network_namespaces(7)).
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		r.err = err
		return
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr)
	}
	if err == nil {
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		err = unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	}
	if err != nil {
		r.err = err
		return
	}
	l, err := Listen(V4)
	if err != nil {
		r.err = err
		return
	}
	defer l.Close()
	a, err := Dial(V4, l.Port())
	if err != nil {
		r.err = err
		return
	}
	defer a.Close()
	p, err := l.Accept()
	if err != nil {
		r.err = err
		return
	}
	defer p.Close()
	capt, err := StartCapture(a.Conn())
	if err != nil {
		r.err = err
		return
	}
	defer capt.Close()
	before, err := QuietCounters(time.Millisecond, 100)
	if err != nil {
		r.err = err
		return
	}
	if abort {
		if r.err = a.SetLinger(true, 0); r.err != nil {
			return
		}
	}
	a.Close()
	a.Settle(2 * time.Second) // the RST or the FIN's ACK has crossed
	r.recv = p.Recv(16)
	after, err := TCPCounters()
	if err != nil {
		r.err = err
		return
	}
	if r.delta, r.err = CounterDelta(before, after); r.err != nil {
		return
	}
	pk, err := capt.Packets()
	if err != nil {
		r.err = err
		return
	}
	for _, s := range pk {
		side := "peer"
		if s.FromLocal {
			side = "actor"
		}
		r.flags = append(r.flags, side+" "+s.Flags())
		if s.RST {
			r.rsts++
		}
	}
	return
}
