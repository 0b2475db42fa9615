package probes

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// What event loops see (DESIGN §3, "Event loops"): a readiness registration
// read the way epoll, kqueue and AFD poll users read it, and an asynchronous
// recv outstanding on a completion API (io_uring, IOCP). The portable types
// live here; each OS supplies watchSocket and startRecv in sibling files
// (eventloop_linux.go and uring_linux.go; afd_windows.go and iocp_windows.go,
// on nt_windows.go; eventloop_kqueue.go; where they are missing,
// eventloop_nowatch.go and eventloop_nocompletion.go report ErrUnsupported).

// ErrAsyncUnavailable wraps the reason an OS that has the API refused it
// here (a kernel without io_uring, a seccomp profile that blocks it, an AFD
// ioctl an emulator lacks): the step is skipped with that reason.
var ErrAsyncUnavailable = errors.New("asynchronous API unavailable here")

// Ready is what a readiness registration delivered in one read.
type Ready struct {
	// API is the readiness API: "epoll", "kqueue" or "afd".
	API string
	// Names are the delivered flags by their native C names, sorted
	// (EPOLLIN, EPOLLRDHUP; AFD_POLL_DISCONNECT). Empty: nothing delivered.
	// kqueue fills Filters instead.
	Names []string
	// Filters are kqueue's delivered events, EVFILT_READ before EVFILT_WRITE.
	Filters []KEvent
}

// KEvent is one delivered kqueue event: the filter, the flags that matter
// (EV_EOF, EV_ERROR), fflags as an errno name when non-zero, and data
// (kevent(2)).
type KEvent struct {
	Filter string   // EVFILT_READ, EVFILT_WRITE
	Flags  []string // EV_EOF, EV_ERROR, sorted
	Fflags string   // errno name of fflags, "" when zero
	// Data is the number the kernel delivered. The cell (Ready.String)
	// writes EVFILT_WRITE's only as data>0 or data=0: it is the send
	// buffer's free space (FreeBSD sys/kern/uipc_socket.c, filt_sowrite:
	// kn_data = sbspace(&so->so_snd); xnu bsd/kern/uipc_socket.c,
	// filt_sowrite_common: sbspace), which autosized buffers make differ
	// between images and runs, while what a loop does with it — write or
	// wait — is whether it is 0. EVFILT_READ's data, the bytes a read
	// would return, is the scenario's own and stays a number.
	Data int64
}

// dataField is k's data as the cell writes it (see KEvent.Data).
func (k KEvent) dataField() string {
	if k.Filter == "EVFILT_WRITE" && k.Data > 0 {
		return "data>0"
	}
	return fmt.Sprintf("data=%d", k.Data)
}

// String is the cell text: "EPOLLIN|EPOLLOUT", "EVFILT_READ[EV_EOF fflags=ECONNRESET data=0] EVFILT_WRITE[data>0]",
// or "none" when nothing was delivered.
func (r Ready) String() string {
	if len(r.Filters) > 0 {
		parts := make([]string, 0, len(r.Filters))
		for _, f := range r.Filters {
			fields := append([]string{}, f.Flags...)
			if f.Fflags != "" {
				fields = append(fields, "fflags="+f.Fflags)
			}
			fields = append(fields, f.dataField())
			parts = append(parts, f.Filter+"["+strings.Join(fields, " ")+"]")
		}
		return strings.Join(parts, " ")
	}
	if len(r.Names) == 0 {
		return PollNone
	}
	return strings.Join(r.Names, "|")
}

// Watch is a socket registered with the platform's readiness API as the big
// event loops register it: epoll EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET (libuv,
// mio), kqueue EVFILT_READ and EVFILT_WRITE with EV_CLEAR (mio), AFD poll on
// the base handle (wepoll, mio, libuv).
type Watch struct {
	mu   sync.Mutex // impl: a Read that overstays its caller's bound may run beside Close
	impl watcher
}

// watcher is the per-OS registration.
type watcher interface {
	// read returns what was delivered since the registration was made or
	// last read, without waiting.
	read() (Ready, error)
	// close removes the registration and frees what it holds; idempotent.
	close() error
}

// Watch registers the socket with the platform's readiness API. It returns
// ErrUnsupported where the OS has none we probe, and an error wrapping
// ErrAsyncUnavailable where the OS has it but refuses it here.
func (s *Socket) Watch() (*Watch, error) {
	if s.Closed() {
		return nil, errClosedSocket
	}
	w, err := watchSocket(s.fd)
	if err != nil {
		return nil, err
	}
	outstanding.Add(1)
	return &Watch{impl: w}, nil
}

// Read returns what the registration delivered since it was made or last
// read, without waiting: a new edge, or nothing.
func (w *Watch) Read() (Ready, error) {
	w.mu.Lock()
	impl := w.impl
	w.mu.Unlock()
	if impl == nil {
		return Ready{}, errReleased
	}
	return impl.read() // after a concurrent close, the impl's own read-after-close error
}

// errReleased is a Watch read, or an AsyncRecv cancelled, after its Close:
// the registration or operation no longer exists, so nothing is asked of the
// OS (the handle or ring may already be another's).
var errReleased = errors.New("the registration or operation was already closed")

// Close removes the registration; idempotent.
func (w *Watch) Close() error {
	w.mu.Lock()
	impl := w.impl
	w.impl = nil
	w.mu.Unlock()
	if impl == nil {
		return nil
	}
	outstanding.Add(-1)
	return impl.close()
}

// Completion is how an asynchronous recv completed.
type Completion struct {
	// API is the completion API: "io_uring" or "iocp".
	API string
	// Done is false when nothing completed within the bound: blocked.
	Done bool
	// N is the bytes received (0 with no error: end of stream).
	N int
	// Errno and Code are the completion's error: io_uring's -res as an
	// errno name (ECANCELED 125); IOCP's GetQueuedCompletionStatus Win32
	// error (ERROR_NETNAME_DELETED 64). Empty when it succeeded.
	Errno string
	Code  int
	// WSA and WSACode are WSAGetOverlappedResult's WSAGetLastError for the
	// same operation (IOCP only): WSAECONNRESET 10054 where GQCS said 64.
	WSA     string
	WSACode int
	// NTStatus and NTStatusCode are the completion's raw NTSTATUS, read
	// from the OVERLAPPED's Internal (IOCP only; ntstatus.h name): the
	// class comes from it where it is known (ntStatusClass), because
	// GetQueuedCompletionStatus's Win32 code is lossy
	// (RtlNtStatusToDosError folds STATUS_LOCAL_DISCONNECT,
	// STATUS_REMOTE_DISCONNECT and STATUS_CONNECTION_RESET into
	// ERROR_NETNAME_DELETED). Empty for io_uring.
	NTStatus     string
	NTStatusCode uint32
	// Note says why a code is missing: WSA is not asked for once the
	// socket is closed (IOCP; see iocpRecv.reap).
	Note string
	// Err is set when the wait itself failed (ppoll on the ring,
	// GetQueuedCompletionStatus on the port): then nothing is known of the
	// operation, and Done false is no observation of blocked.
	Err error
}

// Outcome is the completion as a cell: blocked when nothing completed,
// data or eof by the byte count, else the class of the completion's error
// (per OS: completionClass) with its native name and number.
func (c Completion) Outcome() Outcome {
	switch {
	case !c.Done:
		return Outcome{Class: schema.ClassBlocked}
	case c.Errno != "":
		class := completionClass(c.Code)
		if k, ok := ntStatusClass(c.NTStatus, c.NTStatusCode); ok {
			class = k
		}
		return Outcome{Class: class, Errno: c.Errno, Code: c.Code}
	case c.N > 0:
		return Outcome{Class: schema.ClassData, N: c.N}
	default:
		return Outcome{Class: schema.ClassEOF}
	}
}

// Typed is the completion as the result file types it.
func (c Completion) Typed() *schema.Completion {
	return &schema.Completion{API: c.API, Done: c.Done, N: c.N, Errno: c.Errno, Code: c.Code,
		WSA: c.WSA, WSACode: c.WSACode, NTStatus: c.NTStatus, NTStatusCode: c.NTStatusCode}
}

// AsyncRecv is one asynchronous recv outstanding on a socket.
type AsyncRecv struct {
	mu     sync.Mutex // closed: a Wait or Cancel that overstays its caller's bound may run beside Close
	impl   asyncRecv  // kept after Close: its wait then returns the reaped completion
	closed bool
}

// asyncRecv is the per-OS operation.
type asyncRecv interface {
	// wait waits up to bound for the completion; Done false when none came.
	wait(bound time.Duration) Completion
	// cancel asks the OS to cancel the operation (CancelIoEx,
	// IORING_OP_ASYNC_CANCEL) without waiting for its completion.
	cancel() error
	// close cancels the operation if it is still pending, reaps its
	// completion within a bound, and frees the ring or port; idempotent.
	close() error
}

// StartRecv submits an asynchronous recv of up to max bytes on the socket:
// IORING_OP_RECV on Linux, an overlapped WSARecv bound to an I/O completion
// port on Windows. It returns once the OS holds the operation. ErrUnsupported
// where the OS has no completion API (darwin); an error wrapping
// ErrAsyncUnavailable where the OS refuses it here.
func (s *Socket) StartRecv(max int) (*AsyncRecv, error) {
	if s.Closed() {
		return nil, errClosedSocket
	}
	a, err := startRecv(s.fd, max)
	if err != nil {
		return nil, err
	}
	if o, ok := a.(socketOwned); ok {
		o.setOwner(s)
	}
	outstanding.Add(1)
	return &AsyncRecv{impl: a}, nil
}

// socketOwned is an operation that must know whether its socket is still
// open when it completes (IOCP: WSAGetOverlappedResult on a closed handle
// answers WSAENOTSOCK, or for another socket that took the value).
type socketOwned interface{ setOwner(*Socket) }

// Wait waits up to bound for the recv to complete. After Close, which reaps
// the completion, it returns what Close reaped without waiting.
func (a *AsyncRecv) Wait(bound time.Duration) Completion {
	if a.impl == nil {
		return Completion{} // the zero AsyncRecv holds no operation
	}
	return a.impl.wait(bound)
}

// released reports whether Close was called.
func (a *AsyncRecv) released() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed || a.impl == nil
}

// Cancel asks the OS to cancel the recv; its completion still comes (Wait).
func (a *AsyncRecv) Cancel() error {
	if a.released() {
		return errReleased
	}
	return a.impl.cancel()
}

// Close cancels the recv if still pending and reaps it; idempotent.
func (a *AsyncRecv) Close() error {
	a.mu.Lock()
	done := a.closed || a.impl == nil
	a.closed = true
	a.mu.Unlock()
	if done {
		return nil
	}
	outstanding.Add(-1)
	return a.impl.close()
}

// outstanding counts registrations and asynchronous operations not yet
// closed, for the leak test.
var outstanding atomic.Int64

// Outstanding is how many Watch and AsyncRecv values are not yet closed.
func Outstanding() int { return int(outstanding.Load()) }
