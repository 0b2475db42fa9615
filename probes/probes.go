// Package probes is the only code in closematrix that touches sockets. It opens
// raw, blocking TCP sockets through golang.org/x/sys (never the net package,
// whose netpoller makes sockets non-blocking and answers a concurrent Close
// with its own error), performs one call at a time and turns every result into
// a schema.Outcome: a class from a fixed vocabulary plus the platform's own
// error name and number.
//
// The portable core lives here; each OS supplies the same unexported functions
// in sibling files (sys_unix.go, sys_linux.go, sys_darwin.go, sys_windows.go),
// in the style of the standard library's internal/poll.
package probes

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// Outcome is what one call returned; see schema.Outcome.
type Outcome = schema.Outcome

// Family is an address family on loopback.
type Family string

// The families. Both listen and connect on loopback only, never a wildcard.
const (
	V4 Family = "v4" // 127.0.0.1
	V6 Family = "v6" // ::1
)

// How says which direction shutdown closes.
type How int

// The directions of shutdown(2) / shutdown (Winsock).
const (
	ShutRD   How = iota // SHUT_RD / SD_RECEIVE
	ShutWR              // SHUT_WR / SD_SEND
	ShutRDWR            // SHUT_RDWR / SD_BOTH
)

// ErrUnsupported is returned on a platform that has no probe implementation.
var ErrUnsupported = fmt.Errorf("closematrix/probes: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)

// ErrFamilyUnavailable wraps the error of a family that cannot bind its
// loopback address here (no ::1 in a container, IPv6 disabled). A scenario that
// meets it is skipped with the reason, not failed.
var ErrFamilyUnavailable = errors.New("address family not available on loopback")

// fdMu orders descriptor creation against use-after-close probes: creating a
// socket takes it for reading, a call on a closed descriptor takes it for
// writing, so no socket of ours can be handed the stale number while such a
// call is in flight. Descriptors made by anything else in the process are kept
// away from ours by the per-OS allocation (see newSocketFD).
var fdMu sync.RWMutex

var (
	startOnce sync.Once
	startErr  error
)

// Start prepares the socket layer once (WSAStartup on Windows: Go only calls
// it from the net package's init, which closematrix does not use).
func Start() error {
	startOnce.Do(func() { startErr = startup() })
	return startErr
}

// Listener is a listening TCP socket bound to a loopback address.
type Listener struct {
	fd     sysfd
	family Family
	port   int
	mu     sync.Mutex
	closed bool
}

// Listen wraps socket(2), bind(2) to 127.0.0.1 or ::1 on an ephemeral port, and
// listen(2).
func Listen(f Family) (*Listener, error) {
	if err := Start(); err != nil {
		return nil, err
	}
	fd, err := newSocket(f)
	if err == nil {
		var port int
		if port, err = bindListen(fd, f); err == nil {
			return &Listener{fd: fd, family: f, port: port}, nil
		}
		closeFD(fd)
	}
	if familyUnavailable(err) {
		return nil, fmt.Errorf("%w: %w", ErrFamilyUnavailable, err)
	}
	return nil, err
}

// Port is the port the listener is bound to.
func (l *Listener) Port() int { return l.port }

// Family is the listener's address family.
func (l *Listener) Family() Family { return l.family }

// Accept wraps accept(2). The caller bounds it (it blocks until a connection
// arrives).
func (l *Listener) Accept() (*Socket, error) {
	if l.isClosed() {
		return nil, errStaleTaken // after Close the number may be another's
	}
	fd, err := accept(l.fd)
	if err != nil {
		return nil, err
	}
	return newConnected(fd)
}

// Close wraps close(2) / closesocket on the listening socket. Only the first
// call closes: a second would close a number that may belong to someone else.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return closeSocket(l.fd)
}

// Dial wraps socket(2) and a blocking connect(2) to the loopback address of f.
func Dial(f Family, port int) (*Socket, error) {
	if err := Start(); err != nil {
		return nil, err
	}
	fd, err := newSocket(f)
	if err != nil {
		return nil, err
	}
	if err := connect(fd, f, port); err != nil {
		closeFD(fd)
		return nil, err
	}
	return newConnected(fd)
}

// newConnected wraps a connected descriptor, reading its 4-tuple
// (getsockname, getpeername) so that its state can be found after close.
func newConnected(fd sysfd) (*Socket, error) {
	c, err := sockConn(fd)
	if err != nil {
		closeFD(fd)
		return nil, err
	}
	return &Socket{fd: fd, conn: c}, nil
}

// Socket is one end of a connected TCP socket. Its methods are safe to call
// from several goroutines at once: that is the point of the own-blocked
// postures. Each blocking call blocks its OS thread; the caller bounds it.
type Socket struct {
	fd     sysfd
	conn   Conn4
	mu     sync.Mutex
	closed bool
}

// FD is the descriptor's number, for diagnostics and the system's TCP table.
func (s *Socket) FD() uintptr { return uintptr(s.fd) }

// Closed reports whether Close was called.
func (s *Socket) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// call runs op on the descriptor. Once the socket is closed the number is
// stale: the call then holds fdMu for writing so no socket of ours can take
// the number meanwhile, and the result is what the OS says of a closed
// descriptor (EBADF, WSAENOTSOCK, …).
func (s *Socket) call(op func(fd sysfd) (int, error)) (int, error) {
	if s.Closed() {
		if !lockWithin(staleLockBound) {
			return 0, errStaleTaken
		}
		defer fdMu.Unlock()
		if !staleIsFree(s.fd) {
			return 0, errStaleTaken
		}
	}
	return op(s.fd)
}

// staleLockBound limits the wait for fdMu: socket creation holds it only
// for microseconds (Windows' accept holds it while it blocks), so a probe that
// cannot have it in time is not made, rather than wait unbounded.
const staleLockBound = 2 * time.Second

// lockWithin takes fdMu for writing within d, or reports false.
func lockWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !fdMu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// errStaleTaken is reported when a closed descriptor's number belongs to
// something else again, or could not be checked in time, so that a
// use-after-close probe never touches a descriptor it does not own. It
// becomes an empty Outcome: not an observation (Observed).
var errStaleTaken = errors.New("closed descriptor number was reused; use-after-close not probed")

// Observed reports whether o is an observation. It is false only when a call
// on a closed descriptor was not made because the number had been handed out
// again; the harness then reports an error instead of a behaviour.
func Observed(o Outcome) bool { return o.Class != "" }

// Send wraps a blocking send(2) (WSASend on Windows) of p, with SIGPIPE
// suppressed so that EPIPE is an error return and not a signal.
func (s *Socket) Send(p []byte) Outcome { return s.SendEntering(p, nil) }

// SendEntering is Send that calls entering, when not nil, on the calling
// thread right before the system call itself: after the closed-descriptor
// check and everything else Send does first. A caller that watches the
// thread for a sign that it sleeps in the call (a posture) starts watching
// only then, so a thread that the Go runtime parks before the call (a GC
// assist, a preemption) is not taken for one asleep in it (closematrix
// issue 20.2: darwin's TH_STATE_WAITING reads the same for both).
func (s *Socket) SendEntering(p []byte, entering func()) Outcome {
	n, err := s.call(func(fd sysfd) (int, error) {
		if entering != nil {
			entering()
		}
		return send(fd, p)
	})
	if err != nil {
		return errOutcome(err)
	}
	return Outcome{Class: schema.ClassOK, N: n}
}

// Recv wraps a blocking recv(2) (WSARecv on Windows) of up to max bytes.
func (s *Socket) Recv(max int) Outcome { return s.RecvEntering(max, nil) }

// RecvEntering is Recv that calls entering, when not nil, right before the
// system call itself (see SendEntering).
func (s *Socket) RecvEntering(max int, entering func()) Outcome {
	buf := make([]byte, max)
	n, err := s.call(func(fd sysfd) (int, error) {
		if entering != nil {
			entering()
		}
		return recv(fd, buf)
	})
	switch {
	case err != nil:
		return errOutcome(err)
	case n == 0:
		return Outcome{Class: schema.ClassEOF}
	default:
		return Outcome{Class: schema.ClassData, N: n}
	}
}

// Shutdown wraps shutdown(2) / shutdown (Winsock).
func (s *Socket) Shutdown(how How) Outcome {
	_, err := s.call(func(fd sysfd) (int, error) { return 0, shutdown(fd, how) })
	return okOrErr(err)
}

// Close wraps close(2) / closesocket. After it, the socket's calls probe the
// closed descriptor.
func (s *Socket) Close() Outcome {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_, err := s.call(func(fd sysfd) (int, error) { return 0, closeFD(fd) })
		return okOrErr(err)
	}
	s.closed = true
	s.mu.Unlock()
	return okOrErr(closeSocket(s.fd))
}

// SetLinger wraps setsockopt(SO_LINGER). SetLinger(true, 0) makes close abortive:
// RFC 793 §3.5 ABORT, an RST instead of a FIN (socket(7); Winsock "Graceful
// Shutdown, Linger Options, and Socket Closure").
func (s *Socket) SetLinger(on bool, secs int) error {
	_, err := s.call(func(fd sysfd) (int, error) { return 0, setLinger(fd, on, secs) })
	return err
}

// Pending wraps ioctl(FIONREAD) / ioctlsocket(FIONREAD): the bytes that are
// waiting to be read. The harness waits on it instead of sleeping.
func (s *Socket) Pending() (int, error) {
	return s.call(func(fd sysfd) (int, error) { return pending(fd) })
}

// Settle waits, up to bound, until the socket has no sent data left
// unacknowledged, so that the reaction of the other end (ACK or RST) has been
// processed before the next observation. For a closed socket it waits until
// the connection's table entry leaves the states that await an ACK. On
// darwin and FreeBSD, where loopback delivery is asynchronous, it then also
// waits until neither end's entry is in such a state and a loopback barrier
// has passed (settle.go). It reports whether a signal said so (true) or the
// platform has none and a grace period was spent, or the bound ran out
// (false).
func (s *Socket) Settle(bound time.Duration) bool {
	if s.Closed() {
		return settleConn(s.conn, bound)
	}
	return settleOpen(s.fd, s.conn, bound)
}

// ThreadID is the calling OS thread's id, for WaitInSyscall. The caller must
// have locked its goroutine to the thread.
func ThreadID() int { return threadID() }

// WaitInSyscall waits, up to bound, until thread tid is blocked in the
// kernel. Where the OS shows that it polls the signal and reports true:
// Linux, /proc/self/task/TID/syscall and stat (in a socket call, asleep);
// darwin, proc_info(PROC_PIDTHREADID64INFO) pth_run_state TH_STATE_WAITING;
// Windows, NtQuerySystemInformation(SystemProcessInformation) ThreadState
// Waiting, not Suspended, with GetThreadIOPendingFlag TRUE. Where ThreadSignal says the signal cannot be had, it spends
// PostureGrace and reports false.
func WaitInSyscall(tid int, bound time.Duration) (bool, error) { return waitInSyscall(tid, bound) }

// ThreadSignal is nil where WaitInSyscall has a real signal here, else why
// not (Wine's thread states, say): a posture then rests on PostureGrace, and
// the harness notes it on the steps that depend on it.
func ThreadSignal() error { return threadSignal() }

// PostureGrace is how long the harness waits for a thread to enter a blocking
// call where the OS offers no way to see it (ThreadSignal). Loopback calls
// enter the kernel within microseconds of the goroutine starting; 20 ms leaves
// room for a descheduled thread on a loaded 2-core runner.
const PostureGrace = 20 * time.Millisecond

// SettleGrace is what Settle spends where it has no signal.
const SettleGrace = 5 * time.Millisecond

func okOrErr(err error) Outcome {
	if err != nil {
		return errOutcome(err)
	}
	return Outcome{Class: schema.ClassOK}
}

// errOutcome classifies err by value through the per-OS table.
func errOutcome(err error) Outcome {
	if errors.Is(err, errStaleTaken) {
		return Outcome{} // not observed: see Observed
	}
	class, name, code := classify(err)
	return Outcome{Class: class, Errno: name, Code: code}
}

// FillSendBuffer sends zero bytes without blocking until the socket's send
// buffer (and the peer's receive buffer behind it) are full, and reports how
// many bytes it queued: the state "unsent data at this end". It uses
// MSG_DONTWAIT on Unix and a non-blocking window (FIONBIO) on Windows, and
// leaves the socket blocking.
func (s *Socket) FillSendBuffer() (int, error) {
	return s.call(func(fd sysfd) (int, error) { return fillSendBuffer(fd) })
}

// Shutdown wraps shutdown(2) / shutdown (Winsock) on the listening socket.
// After Close it probes nothing (the number may be another's): the empty
// Outcome is no observation.
func (l *Listener) Shutdown(how How) Outcome {
	if l.isClosed() {
		return Outcome{}
	}
	return okOrErr(shutdown(l.fd, how))
}

func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// AcceptOutcome wraps accept(2) like Accept, and also classifies its error.
func (l *Listener) AcceptOutcome() (*Socket, Outcome) {
	s, err := l.Accept()
	if err != nil {
		return nil, errOutcome(err)
	}
	return s, Outcome{Class: schema.ClassOK}
}

// CloseOutcome wraps close(2) / closesocket on the listening socket and
// classifies its result.
func (l *Listener) CloseOutcome() Outcome { return okOrErr(l.Close()) }

// PlatformNotes are this system's settings that change what some cells show,
// by name (a sysctl name on FreeBSD) with their value as read, or
// "unreadable: why". Empty where none is known. On FreeBSD:
// net.inet.tcp.nolocaltimewait (1, the default since 14.0: no TIME_WAIT on
// loopback, so the orderly-release cells read none) and net.isr.numthreads
// (Settle's loopback barrier assumes one netisr workstream).
func PlatformNotes() map[string]string { return platformNotes() }
