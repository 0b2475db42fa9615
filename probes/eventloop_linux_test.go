package probes

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/unix"
)

// The Linux event-loop probes on real loopback pairs. Behaviour that the
// kernel documents (epoll_ctl(2), tcp_poll in net/ipv4/tcp.c, io_uring_enter(2))
// is asserted; what may differ between kernels is logged, so that `go test
// -v -run 'Epoll|Uring' ./probes` shows what this kernel does.

// noLeaks fails the test at its end if a Watch or AsyncRecv is still open
// (Outstanding), or if descriptors or io_uring mappings are left behind.
func noLeaks(t *testing.T) {
	t.Helper()
	// The runtime opens its netpoller's epoll instance and eventfd when
	// os first opens a file it may poll (uringMappings' read of
	// /proc/self/maps); in a fresh process (TestUringSeccomp's child) that
	// must happen before the count.
	maps := uringMappings(t)
	fds := openFDs(t)
	t.Cleanup(func() {
		if got := Outstanding(); got != 0 {
			t.Errorf("Outstanding() = %d at the end, want 0", got)
		}
		if got := openFDs(t); got != fds {
			t.Errorf("%d descriptors open at the end, %d at the start: %v", got, fds, fdLinks())
		}
		if got := uringMappings(t); got != maps {
			t.Errorf("%d io_uring mappings at the end, %d at the start", got, maps)
		}
	})
}

// openFDs counts /proc/self/fd (proc(5)); the listing's own descriptor is
// counted both times.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// fdLinks lists the open descriptors with what they refer to, for a
// failure message.
func fdLinks() []string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var l []string
	for _, e := range ents {
		to, _ := os.Readlink("/proc/self/fd/" + e.Name())
		l = append(l, e.Name()+"->"+to)
	}
	return l
}

// uringMappings counts the mappings of io_uring rings in /proc/self/maps
// (they show as anon_inode:[io_uring] or [io_uring]).
func uringMappings(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "io_uring")
}

// families runs f as a subtest per family.
func families(t *testing.T, f func(t *testing.T, fam Family)) {
	for _, fam := range []Family{V4, V6} {
		t.Run(string(fam), func(t *testing.T) { f(t, fam) })
	}
}

func watch(t *testing.T, s *Socket) *Watch {
	t.Helper()
	w, err := s.Watch()
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	closeAtEnd(t, "Watch", w)
	return w
}

func read(t *testing.T, w *Watch, what string) Ready {
	t.Helper()
	r, err := w.Read()
	if err != nil {
		t.Fatalf("%s: Read: %v", what, err)
	}
	if r.API != "epoll" {
		t.Errorf("%s: API %q", what, r.API)
	}
	if !slices.IsSorted(r.Names) {
		t.Errorf("%s: names not sorted: %v", what, r.Names)
	}
	t.Logf("%-34s %s", what, r)
	return r
}

// has fails unless r holds every name of want.
func has(t *testing.T, what string, r Ready, want ...string) {
	t.Helper()
	for _, n := range want {
		if !slices.Contains(r.Names, n) {
			t.Errorf("%s: %s lacks %s", what, r, n)
		}
	}
}

func TestEpollEventNames(t *testing.T) {
	for _, tc := range []struct {
		ev   uint32
		want []string
	}{
		{0, nil},
		{unix.EPOLLOUT, []string{"EPOLLOUT"}},
		{unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP, []string{"EPOLLIN", "EPOLLOUT", "EPOLLRDHUP"}},
		{unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLIN, []string{"EPOLLERR", "EPOLLHUP", "EPOLLIN"}},
		{unix.EPOLLRDNORM | unix.EPOLLWRNORM | unix.EPOLLPRI, []string{"EPOLLPRI", "EPOLLRDNORM", "EPOLLWRNORM"}},
		{unix.EPOLLIN | 0x1000000, []string{"0x1000000", "EPOLLIN"}}, // not a known bit: hex
	} {
		if got := epollEventNames(tc.ev); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("epollEventNames(%#x) = %v, want %v", tc.ev, got, tc.want)
		}
	}
}

// TestEpollRegistration: the first read after EPOLL_CTL_ADD reports the
// socket's readiness at that moment (a connected, idle socket is writable),
// a second read with nothing new reports nothing, and data raises a new
// edge. After Close, Read fails and Close again is a no-op.
func TestEpollRegistration(t *testing.T) {
	families(t, func(t *testing.T, f Family) {
		noLeaks(t)
		c, s := loopPair(t, f)
		w := watch(t, s)
		r := read(t, w, "registered")
		if r.String() != "EPOLLOUT" {
			t.Errorf("first read %s, want EPOLLOUT (epoll(7): ET reports readiness at EPOLL_CTL_ADD)", r)
		}
		if r := read(t, w, "again, nothing new"); len(r.Names) != 0 || r.String() != PollNone {
			t.Errorf("second read %v, want nothing", r.Names)
		}
		c.Send([]byte("hello"))
		waitReadable(t, s, 2*time.Second)
		has(t, "data", read(t, w, "after the peer's send"), "EPOLLIN")
		ew := w.impl.(*epollWatch)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ew.close(); err != nil {
			t.Errorf("second close: %v", err)
		}
		if _, err := ew.read(); err == nil {
			t.Error("read after close: no error")
		}
	})
}

// TestEpollPeerFINThenRST: the peer closes (FIN), then our send meets its
// RST. tcp_poll (net/ipv4/tcp.c) reports EPOLLIN|EPOLLRDNORM|EPOLLRDHUP once
// RCV_SHUTDOWN is set, and EPOLLHUP once the socket is CLOSE or shut down both
// ways; the reset is an error (EPOLLERR). Whether the registration that
// delivered the FIN's edge gets a new one for the RST (libuv/libuv#3449) is
// the question of the second read.
func TestEpollPeerFINThenRST(t *testing.T) {
	families(t, func(t *testing.T, f Family) {
		noLeaks(t)
		c, s := loopPair(t, f)
		w := watch(t, s)
		read(t, w, "registered")
		c.Close()
		waitState(t, "server", s, StateCloseWait)
		has(t, "FIN", read(t, w, "after the peer's FIN"), "EPOLLIN", "EPOLLRDHUP", "EPOLLOUT")
		if o := s.Send([]byte("x")); o.Class != schema.ClassOK {
			t.Fatalf("send after FIN: %s", o)
		}
		waitState(t, "server", s, StateClosed)
		r := read(t, w, "after our send met the RST (#2)")
		has(t, "RST after FIN", r, "EPOLLHUP", "EPOLLERR")
		t.Logf("new edge after the RST: %v", len(r.Names) > 0)
	})
}

// TestEpollPeerRST: the peer aborts (linger 0 close sends RST).
func TestEpollPeerRST(t *testing.T) {
	families(t, func(t *testing.T, f Family) {
		noLeaks(t)
		c, s := loopPair(t, f)
		w := watch(t, s)
		read(t, w, "registered")
		c.SetLinger(true, 0)
		c.Close()
		waitState(t, "server", s, StateClosed)
		has(t, "RST", read(t, w, "after the peer's RST"), "EPOLLERR", "EPOLLHUP")
		// Edge-triggered: the RST's edge was read, and nothing came since.
		if r := read(t, w, "again, nothing new (#2)"); len(r.Names) != 0 || r.String() != PollNone {
			t.Errorf("read after the RST's edge = %s, want nothing new", r)
		}
	})
}

// TestEpollOwnShutdown: our own shutdowns. tcp_poll: SHUT_RD sets
// RCV_SHUTDOWN (EPOLLIN|EPOLLRDHUP); SHUT_RDWR also SEND_SHUTDOWN, which
// with RCV_SHUTDOWN is SHUTDOWN_MASK (EPOLLHUP). SHUT_WR alone raises no
// read bits until the peer answers; the peer's FIN afterwards is a new edge.
func TestEpollOwnShutdown(t *testing.T) {
	families(t, func(t *testing.T, f Family) {
		t.Run("wr", func(t *testing.T) {
			noLeaks(t)
			c, s := loopPair(t, f)
			w := watch(t, c)
			read(t, w, "registered")
			c.Shutdown(ShutWR)
			waitState(t, "server", s, StateCloseWait)
			r := read(t, w, "after own SHUT_WR")
			if slices.Contains(r.Names, "EPOLLIN") || slices.Contains(r.Names, "EPOLLHUP") {
				t.Errorf("own SHUT_WR raised %s: no read-side bit expected before the peer's FIN", r)
			}
			s.Shutdown(ShutWR)
			waitState(t, "client", c, StateClosed) // an open socket leaves the connection to a timewait sock and reads CLOSED (tcp_time_wait, tcp_done)
			has(t, "peer FIN after own SHUT_WR", read(t, w, "after the peer's FIN too (#2)"), "EPOLLIN", "EPOLLRDHUP", "EPOLLHUP")
		})
		t.Run("rd", func(t *testing.T) {
			noLeaks(t)
			c, _ := loopPair(t, f)
			w := watch(t, c)
			read(t, w, "registered")
			c.Shutdown(ShutRD)
			has(t, "own SHUT_RD", read(t, w, "after own SHUT_RD"), "EPOLLIN", "EPOLLRDHUP")
		})
		t.Run("rdwr", func(t *testing.T) {
			noLeaks(t)
			c, s := loopPair(t, f)
			w := watch(t, c)
			read(t, w, "registered")
			c.Shutdown(ShutRDWR)
			has(t, "own SHUT_RDWR", read(t, w, "after own SHUT_RDWR"), "EPOLLIN", "EPOLLRDHUP", "EPOLLHUP")
			s.Close()
			waitState(t, "client", c, StateClosed) // an open socket leaves the connection to a timewait sock and reads CLOSED (tcp_time_wait, tcp_done)
			read(t, w, "after the peer's FIN (#2)")
		})
	})
}

// startRecv starts an io_uring recv on s, skipping the test where io_uring
// is refused here.
func startRecvT(t *testing.T, s *Socket) *AsyncRecv {
	t.Helper()
	a, err := s.StartRecv(64)
	if errors.Is(err, ErrAsyncUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("StartRecv: %v", err)
	}
	closeAtEnd(t, "AsyncRecv", a)
	return a
}

// waitDone waits up to 2 s for the completion, failing if none came.
func waitDone(t *testing.T, a *AsyncRecv, what string) Completion {
	t.Helper()
	c := a.Wait(2 * time.Second)
	t.Logf("%-34s %+v -> %s", what, c, c.Outcome())
	if !c.Done || c.API != "io_uring" {
		t.Fatalf("%s: %+v, want a completion within 2s", what, c)
	}
	return c
}

// pendingBound is how long a recv must stay pending to count as armed.
const pendingBound = 20 * time.Millisecond

func wantPending(t *testing.T, a *AsyncRecv) {
	t.Helper()
	if c := a.Wait(pendingBound); c.Done {
		t.Fatalf("recv completed with nothing to read: %+v", c)
	}
}

// TestUringRecv: how a pending recv completes on the peer's data, FIN and
// RST and on IORING_OP_ASYNC_CANCEL, with the completion's outcome
// asserted: data 5, eof (res 0), -ECONNRESET, -ECANCELED.
func TestUringRecv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   func(t *testing.T, a *AsyncRecv, peer *Socket)
		want  Outcome
		check func(t *testing.T, a *AsyncRecv, got Completion) // after the completion
	}{
		{"the peer's send", func(t *testing.T, a *AsyncRecv, peer *Socket) { peer.Send([]byte("hello")) },
			Outcome{Class: schema.ClassData, N: 5},
			func(t *testing.T, a *AsyncRecv, got Completion) {
				if again := a.Wait(0); again != got {
					t.Errorf("second Wait %+v, first %+v", again, got)
				}
				if err := a.Cancel(); err != nil {
					t.Errorf("Cancel after completion: %v", err)
				}
			}},
		{"the peer's FIN", func(t *testing.T, a *AsyncRecv, peer *Socket) { peer.Close() },
			Outcome{Class: schema.ClassEOF}, nil},
		{"the peer's RST", func(t *testing.T, a *AsyncRecv, peer *Socket) {
			peer.SetLinger(true, 0)
			peer.Close()
		}, Outcome{Class: schema.ClassReset, Errno: "ECONNRESET", Code: int(unix.ECONNRESET)}, nil},
		{"IORING_OP_ASYNC_CANCEL", func(t *testing.T, a *AsyncRecv, peer *Socket) {
			if err := a.Cancel(); err != nil {
				t.Fatal(err)
			}
		}, Outcome{Class: schema.ClassCancelled, Errno: "ECANCELED", Code: int(unix.ECANCELED)},
			func(t *testing.T, a *AsyncRecv, got Completion) {
				if r := a.impl.(*uringRecv); len(r.cancelRes) != 1 || r.cancelRes[0] != 0 {
					t.Errorf("cancel CQE res %v, want [0] (found and cancelled)", r.cancelRes)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			families(t, func(t *testing.T, f Family) {
				noLeaks(t)
				c, s := loopPair(t, f)
				a := startRecvT(t, s)
				wantPending(t, a)
				tc.act(t, a, c)
				got := waitDone(t, a, "after "+tc.name)
				if got.Outcome() != tc.want {
					t.Errorf("completion %s, want %s", got.Outcome(), tc.want)
				}
				if tc.check != nil {
					tc.check(t, a, got)
				}
			})
		})
	}
}

// TestUringOwnShutdown: our own shutdowns with our recv pending. SHUT_RD
// and SHUT_RDWR wake the socket's waiters (sk_state_change); SHUT_WR leaves
// the receive side alone. Logged, plus what the peer saw.
func TestUringOwnShutdown(t *testing.T) {
	families(t, func(t *testing.T, f Family) {
		for _, how := range []How{ShutWR, ShutRD, ShutRDWR} {
			name := map[How]string{ShutWR: "wr", ShutRD: "rd", ShutRDWR: "rdwr"}[how]
			t.Run(name, func(t *testing.T) {
				noLeaks(t)
				c, s := loopPair(t, f)
				a := startRecvT(t, c)
				wantPending(t, a)
				c.Shutdown(how)
				got := a.Wait(100 * time.Millisecond)
				st, _ := s.State()
				t.Logf("own SHUT_%s with recv pending: recv %s; peer %s", strings.ToUpper(name), got.Outcome(), st)
				if how != ShutWR && got.Outcome() != (Outcome{Class: schema.ClassEOF}) {
					t.Errorf("own SHUT_%s: pending recv %s, want eof (tcp_recvmsg returns 0 once RCV_SHUTDOWN is set)", strings.ToUpper(name), got.Outcome())
				}
			})
		}
	})
}

// TestUringOwnClose is axboe/liburing#932: close(2) of the socket while our
// recv is pending. io_uring holds its own reference to the socket's file,
// so close only drops the descriptor: the socket is not released, no FIN
// leaves and the recv stays pending — on the kernels of that report.
// Universal (asserted): closing the AsyncRecv cancels and reaps it, and
// then the socket is released and the FIN reaches the peer. The rest is
// logged.
func TestUringOwnClose(t *testing.T) {
	families(t, func(t *testing.T, f Family) {
		for _, abort := range []bool{false, true} {
			name := map[bool]string{false: "close", true: "abort"}[abort]
			t.Run(name, func(t *testing.T) {
				noLeaks(t)
				c, s := loopPair(t, f)
				a := startRecvT(t, c)
				wantPending(t, a)
				if abort {
					c.SetLinger(true, 0)
				}
				c.Close()
				// close(2) releases a socket synchronously when it drops the
				// last reference (__fput runs before the call returns to user
				// space), so the table says right away whether tcp_close ran.
				own, _ := LookupState(c.Conn())
				got := a.Wait(100 * time.Millisecond)
				peer, _ := s.State()
				t.Logf("%s with recv pending: own connection %s, recv %s after 100ms, peer %s", name, own, got.Outcome(), peer)
				u := a.impl.(*uringRecv)
				if err := a.Close(); err != nil {
					t.Fatalf("AsyncRecv.Close: %v", err)
				}
				t.Logf("after AsyncRecv.Close: recv %s (cancel CQE res %v)", u.completion().Outcome(), u.cancelRes)
				if abort {
					waitState(t, "server", s, StateClosed)
				} else {
					waitState(t, "server", s, StateCloseWait)
				}
			})
		}
	})
}

// TestUringSubmitterExits: the harness runs calls on locked OS threads that
// end with their goroutine. io_uring completes a poll-armed recv by task
// work of the submitting thread; were that the caller's thread, the recv
// would end with ECANCELED once it has exited (measured on 6.18 before
// onUringThread existed). StartRecv from such a thread must still deliver
// the data.
func TestUringSubmitterExits(t *testing.T) {
	noLeaks(t)
	c, s := loopPair(t, V4)
	// A locked goroutine on the main thread wedges it instead of ending
	// it (runtime.LockOSThread), so try until one runs elsewhere; this
	// goroutine holds its own thread meanwhile, which may be the main one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var a *AsyncRecv
	var tid int
	for try := 0; a == nil; try++ {
		if try == 100 {
			t.Skip("every goroutine ran on the main thread")
		}
		ch := make(chan *AsyncRecv, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			if tid = unix.Gettid(); tid == unix.Getpid() {
				runtime.UnlockOSThread()
				ch <- nil
				return
			}
			a, err := s.StartRecv(64)
			if err != nil {
				t.Error(err)
				runtime.UnlockOSThread()
			}
			ch <- a
		}()
		a = <-ch
		if t.Failed() {
			return
		}
	}
	defer a.Close()
	// The thread is gone once /proc/self/task/TID is (proc(5)).
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		if _, err := os.Stat(task); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			st, _ := os.ReadFile(task + "/stat")
			wc, _ := os.ReadFile(task + "/wchan")
			stk, _ := os.ReadFile(task + "/stack")
			t.Fatalf("%s (pid %d) still there after 2s: %s wchan=%s\n%s", task, os.Getpid(), st, wc, stk)
		}
	}
	c.Send([]byte("hi"))
	if got := waitDone(t, a, "submitter thread gone").Outcome(); got != (Outcome{Class: schema.ClassData, N: 2}) {
		t.Errorf("completion %s, want data 2", got)
	}
}

// TestUringConcurrent: Wait, Cancel and Close from several goroutines at
// once (run with -race).
func TestUringConcurrent(t *testing.T) {
	noLeaks(t)
	_, s := loopPair(t, V4)
	a, err := s.StartRecv(64)
	if errors.Is(err, ErrAsyncUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.impl.wait(50 * time.Millisecond)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.impl.cancel()
	}()
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestUringRefused: CLOSEMATRIX_IO_URING=off, and io_uring_setup failing
// the way a kernel without io_uring (ENOSYS), seccomp or io_uring_disabled
// (EPERM) and an LSM (EACCES) make it fail, give an error wrapping
// ErrAsyncUnavailable with the reason, and leave nothing behind. Another
// failure is not a refusal.
func TestUringRefused(t *testing.T) {
	t.Logf("/proc/sys/kernel/io_uring_disabled = %s", ioUringDisabled())
	t.Run("env", func(t *testing.T) {
		noLeaks(t)
		_, s := loopPair(t, V4)
		t.Setenv(uringEnv, "off")
		a, err := s.StartRecv(64)
		if a != nil || !errors.Is(err, ErrAsyncUnavailable) || !strings.Contains(err.Error(), "io_uring disabled by CLOSEMATRIX_IO_URING=off") {
			t.Fatalf("StartRecv with %s=off: %v, %v", uringEnv, a, err)
		}
		t.Log(err)
	})
	for _, tc := range []struct {
		errno   unix.Errno
		refusal bool
	}{{unix.ENOSYS, true}, {unix.EPERM, true}, {unix.EACCES, true}, {unix.EMFILE, false}} {
		t.Run(unix.ErrnoName(tc.errno), func(t *testing.T) {
			noLeaks(t)
			_, s := loopPair(t, V4)
			orig := uringSetup
			uringSetup = func(uint32, *uringParams) (int, error) { return -1, tc.errno }
			defer func() { uringSetup = orig }()
			a, err := s.StartRecv(64)
			if a != nil || err == nil {
				t.Fatalf("StartRecv with setup failing %s: %v, %v", tc.errno, a, err)
			}
			if errors.Is(err, ErrAsyncUnavailable) != tc.refusal || !errors.Is(err, tc.errno) {
				t.Errorf("setup failing %s: %v (refusal %v, want %v)", unix.ErrnoName(tc.errno), err, errors.Is(err, ErrAsyncUnavailable), tc.refusal)
			}
			t.Log(err)
		})
	}
}

// TestUringCompletionClass: the CQE's -res through the Unix errno table,
// plus ECANCELED.
func TestUringCompletionClass(t *testing.T) {
	for _, tc := range []struct {
		errno unix.Errno
		class schema.Class
	}{
		{unix.ECANCELED, schema.ClassCancelled},
		{unix.ECONNRESET, schema.ClassReset},
		{unix.ECONNABORTED, schema.ClassAborted},
		{unix.EPIPE, schema.ClassBrokenPipe},
		{unix.ENOTCONN, schema.ClassNotConnected},
		{unix.EBADF, schema.ClassBadDescriptor},
		{unix.ENOTSOCK, schema.ClassNotSocket},
		{unix.EINTR, schema.ClassInterrupted},
		{unix.ETIMEDOUT, schema.ClassTimedOut},
		{unix.EAGAIN, schema.ClassWouldBlock},
		{unix.EINVAL, schema.ClassOther},
		{unix.ENOENT, schema.ClassOther},
	} {
		if got := completionClass(int(tc.errno)); got != tc.class {
			t.Errorf("completionClass(%s) = %s, want %s", unix.ErrnoName(tc.errno), got, tc.class)
		}
		c := Completion{API: "io_uring", Done: true, Errno: unix.ErrnoName(tc.errno), Code: int(tc.errno)}
		if o := c.Outcome(); o.Class != tc.class || o.Code != int(tc.errno) {
			t.Errorf("Outcome of %+v = %s", c, o)
		}
	}
}

// TestEventFDsAboveFloor: the epoll and ring descriptors follow the sockets'
// rules (newEventFD): above fdFloor and close-on-exec.
func TestEventFDsAboveFloor(t *testing.T) {
	noLeaks(t)
	_, s := loopPair(t, V4)
	w := watch(t, s)
	a := startRecvT(t, s)
	for what, fd := range map[string]int{"epoll": w.impl.(*epollWatch).epfd, "ring": a.impl.(*uringRecv).r.fd} {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if fd < fdFloor || err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s descriptor %d: floor %d, F_GETFD %#x %v; want above the floor, FD_CLOEXEC", what, fd, fdFloor, flags, err)
		}
	}
}

// TestUringUnreapable: a recv that close cannot reap (its cancel made a
// NOP here) gives an error after uringReapBound, not a hang, and still
// frees the ring and its descriptor.
func TestUringUnreapable(t *testing.T) {
	noLeaks(t)
	_, s := loopPair(t, V4)
	a, err := s.StartRecv(64)
	if errors.Is(err, ErrAsyncUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func(op uint8, d time.Duration) { uringCancelOpcode, uringReapBound = op, d }(uringCancelOpcode, uringReapBound)
	uringCancelOpcode, uringReapBound = uringOpNop, 50*time.Millisecond
	u := a.impl.(*uringRecv)
	start := time.Now()
	err = a.Close()
	t.Logf("Close after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("Close of an unreapable recv: %v after %v, want an error after %v", err, time.Since(start), uringReapBound)
	}
	if err2 := u.close(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second close: %v, want the first's error", err2)
	}
}

// TestUringSeparateMappings: the ring mapped as kernels before 5.4 need it,
// SQ and CQ rings apart (IORING_OFF_CQ_RING), which later kernels still
// accept: the features bit IORING_FEAT_SINGLE_MMAP is hidden from newRing.
func TestUringSeparateMappings(t *testing.T) {
	noLeaks(t)
	orig := uringSetup
	defer func() { uringSetup = orig }()
	uringSetup = func(entries uint32, p *uringParams) (int, error) {
		fd, err := orig(entries, p)
		p.features &^= uringFeatSingleMmap
		return fd, err
	}
	c, s := loopPair(t, V4)
	a := startRecvT(t, s)
	if u := a.impl.(*uringRecv); &u.r.cq[0] == &u.r.sq[0] {
		t.Fatal("one mapping for both rings")
	}
	c.Send([]byte("abc"))
	if got := waitDone(t, a, "separate mappings").Outcome(); got != (Outcome{Class: schema.ClassData, N: 3}) {
		t.Errorf("completion %s, want data 3", got)
	}
}

// TestUringSeccomp refuses io_uring_setup for real: a child process (this
// test binary again) installs a seccomp filter on all its threads
// (seccomp(2), SECCOMP_FILTER_FLAG_TSYNC) that answers io_uring_setup with
// EPERM, as Docker's default profile does (moby/moby#46762), and StartRecv
// there must fail with ErrAsyncUnavailable wrapping EPERM, while epoll still
// works.
func TestUringSeccomp(t *testing.T) {
	const child = "CLOSEMATRIX_TEST_SECCOMP_CHILD"
	if os.Getenv(child) != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUringSeccomp$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), child+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		if !strings.Contains(string(out), "--- PASS: TestUringSeccomp") {
			t.Fatal("the child did not pass")
		}
		return
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	// Classic BPF over struct seccomp_data (nr at offset 0): io_uring_setup
	// -> SECCOMP_RET_ERRNO|EPERM, anything else -> SECCOMP_RET_ALLOW.
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); e != 0 {
		t.Skipf("seccomp: %v", e)
	}
	noLeaks(t)
	_, s := loopPair(t, V4)
	a, err := s.StartRecv(64)
	if a != nil || !errors.Is(err, ErrAsyncUnavailable) || !errors.Is(err, unix.EPERM) {
		t.Fatalf("StartRecv under seccomp: %v, %v; want ErrAsyncUnavailable wrapping EPERM", a, err)
	}
	t.Log(err)
	w := watch(t, s)
	read(t, w, "epoll under the same filter")
}
