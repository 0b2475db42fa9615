package probes

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/windows"
)

// Completion: overlapped WSARecv on an I/O completion port.

// recvOp is the memory an outstanding overlapped WSARecv holds, followed in
// the same allocation by the receive buffer. WSARecv copies the WSABUF
// array before it returns ("it is the Winsock service provider's
// responsibility to capture the WSABUF structures before returning"), but
// the OVERLAPPED, the flags and the buffer are the kernel's until the
// completion is dequeued.
type recvOp struct {
	ov     windows.Overlapped
	flags  uint32
	wsabuf windows.WSABuf
}

// iocpRecv is one overlapped WSARecv whose completion goes to a port of its
// own.
//
// The socket must have been created with WSA_FLAG_OVERLAPPED (WSASocket:
// "Create a socket that supports overlapped I/O operations"); newSocket
// creates every socket so, as socket() does by default, and accept gives the
// accepted socket the listener's attributes. Blocking calls with a NULL
// OVERLAPPED still block on such a socket (WSARecv: "If both lpOverlapped
// and lpCompletionRoutine are NULL, the socket in this function will be
// treated as a non-overlapped socket").
//
// A handle joins one completion port for good (CreateIoCompletionPort:
// "a handle can be associated with only one I/O completion port"), so a
// socket takes StartRecv once; a second StartRecv fails with
// ERROR_INVALID_PARAMETER. After close the socket stays associated with a
// closed port, which only matters for another overlapped operation.
type iocpRecv struct {
	reapMu sync.Mutex // one GetQueuedCompletionStatus at a time; close waits for it
	mu     sync.Mutex // the state fields below (pending, reaped, result, closed)
	fd     windows.Handle
	owner  *Socket // set by Socket.StartRecv: whether fd is still the socket's (reap)
	port   windows.Handle
	mem    uintptr // recvOp + buffer, LocalAlloc'd
	// pending: the WSARecv's completion packet has not been dequeued.
	pending bool
	reaped  bool
	result  Completion
	closed  bool
}

func (r *iocpRecv) op() *recvOp { return (*recvOp)(cmem(r.mem)) }

// startRecv associates the socket with a new completion port and posts an
// overlapped WSARecv of up to max bytes. It returns once the recv is
// pending (WSA_IO_PENDING) or has completed at once; either way its packet
// comes through the port. A WSARecv that fails at once queues no packet
// (sock.c test_completion_port, "hard shutdown": WSAECONNRESET from
// WSARecv, then WAIT_TIMEOUT): that error is returned.
func startRecv(fd sysfd, max int) (_ asyncRecv, err error) {
	if max < 0 || max > math.MaxInt32 {
		return nil, fmt.Errorf("startRecv: max %d out of range", max)
	}
	r := &iocpRecv{fd: fd}
	defer func() {
		if err != nil {
			r.release()
		}
	}()
	if r.port, err = windows.CreateIoCompletionPort(fd, 0, 0, 0); err != nil {
		r.port = 0
		return nil, wrap("createiocompletionport", err)
	}
	// One byte at least, so that a zero-length recv still has a valid
	// buffer address.
	if r.mem, err = localAlloc(unsafe.Sizeof(recvOp{}) + uintptr(max) + 1); err != nil {
		return nil, err
	}
	op := r.op()
	op.wsabuf = windows.WSABuf{Len: uint32(max), Buf: (*byte)(cmem(r.mem + unsafe.Sizeof(recvOp{})))}
	err = windows.WSARecv(fd, &op.wsabuf, 1, nil, &op.flags, &op.ov, nil)
	if err != nil && !errors.Is(err, windows.ERROR_IO_PENDING) {
		return nil, wrap("wsarecv", err)
	}
	r.pending = true
	return r, nil
}

// wait dequeues the recv's completion, waiting up to bound. GQCS's error is
// the Win32 code of the completion's NTSTATUS (RtlNtStatusToDosError:
// STATUS_CONNECTION_RESET -> ERROR_NETNAME_DELETED 64, STATUS_CANCELLED ->
// ERROR_OPERATION_ABORTED 995); WSAGetOverlappedResult maps the same status
// to a Winsock code (WSAECONNRESET 10054); the NTSTATUS itself is kept too,
// and classifies (ntstatus.go). Once dequeued, the completion is kept and
// returned again. Cancel does not wait for a wait in progress.
func (r *iocpRecv) wait(bound time.Duration) Completion {
	r.reapMu.Lock()
	defer r.reapMu.Unlock()
	r.mu.Lock()
	pending, result := r.pending && !r.closed, r.result
	r.mu.Unlock()
	if !pending {
		return result
	}
	c, _ := r.reap(millis(bound))
	return c
}

// reap dequeues the packet, waiting up to ms, and records the completion.
// Callers hold reapMu, which keeps close from freeing the memory meanwhile.
func (r *iocpRecv) reap(ms uint32) (Completion, bool) {
	ov, n, err := dequeue(r.port, ms)
	if ov == nil {
		c := Completion{API: "iocp"}
		if err != nil && !errors.Is(err, windows.WAIT_TIMEOUT) {
			c.Err = wrap("getqueuedcompletionstatus", err) // the port failed: nothing known of the recv
		}
		return c, false
	}
	written := iosbWritten(&r.op().ov, iosbBound)
	c := completionOf(&r.op().ov, n, err)
	// WSAGetOverlappedResult of a completed operation does not wait, and
	// is asked only while the socket is open: on a closed handle ws2_32
	// finds no socket and answers WSAENOTSOCK whatever the operation did,
	// and a handle value that another socket has taken by then answers for
	// that socket's provider. The owner's lock is held across the call, so
	// Close cannot run closesocket meanwhile (it marks the socket closed
	// under that lock first). Nor is it asked of an OVERLAPPED whose
	// status is not written yet: it would answer WSA_IO_INCOMPLETE.
	var e windows.Errno
	asked := written && r.owner.ifOpen(func() {
		var got, flags uint32
		if werr := windows.WSAGetOverlappedResult(r.fd, &r.op().ov, &got, false, &flags); werr != nil && errors.As(werr, &e) {
			c.WSA, c.WSACode = errnoName(e), int(e)
		}
	})
	switch {
	case !written:
		c.Note = fmt.Sprintf("no NTSTATUS or WSA code: OVERLAPPED.Internal still read STATUS_PENDING %v after the completion packet was dequeued", iosbBound)
	case !asked:
		c.Note = "WSAGetOverlappedResult not asked: the socket was closed before the completion was read (on a closed handle it answers WSAENOTSOCK for any operation)"
	}
	r.mu.Lock()
	r.pending, r.reaped, r.result = false, true, c
	r.mu.Unlock()
	return c, true
}

// completionOf records a dequeued completion: the byte count, GQCS's
// Win32 error, and the raw NTSTATUS from the OVERLAPPED's Internal (the
// IO_STATUS_BLOCK Status, ntstatus.go), which the class comes from.
func completionOf(ov *windows.Overlapped, n uint32, gqcsErr error) Completion {
	c := Completion{API: "iocp", Done: true, N: int(n)}
	var e windows.Errno
	if gqcsErr != nil && errors.As(gqcsErr, &e) {
		c.Errno, c.Code = completionErrnoName(e), int(e)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(ov)), unsafe.Sizeof(*ov))
	if st, err := overlappedStatus(b, int(unsafe.Sizeof(uintptr(0)))); err == nil && st != uint32(windows.STATUS_PENDING) {
		c.NTStatus, c.NTStatusCode = ntStatusName(st), st
	}
	return c
}

// iosbBound bounds iosbWritten's wait. A variable for the tests.
var iosbBound = 100 * time.Millisecond

// iosbWritten waits, up to bound, until the OVERLAPPED's Internal no
// longer reads STATUS_PENDING, which WSARecv put there. Windows writes the
// IO_STATUS_BLOCK before it queues the completion packet (the I/O manager
// completes the IRP, then posts to the port), so there it never waits.
// Wine 8 was seen, on a loaded machine, to queue the packet first: a
// pending recv completed by the peer's FIN or RST was dequeued with
// Internal still STATUS_PENDING, and WSAGetOverlappedResult then answered
// WSA_IO_INCOMPLETE (996) in one run of three. The kernel (or Wine's
// completing thread) writes that memory, so it is read atomically.
func iosbWritten(ov *windows.Overlapped, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for uint32(atomic.LoadUintptr(&ov.Internal)) == uint32(windows.STATUS_PENDING) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
	return true
}

// setOwner gives the recv its socket (socketOwned), for reap's open check.
func (r *iocpRecv) setOwner(s *Socket) { r.owner = s }

// ifOpen runs f with the socket's lock held if the socket is not closed,
// and reports whether it ran. A nil Socket (a recv made without one, as
// the tests' direct calls make it) counts as open.
func (s *Socket) ifOpen(f func()) bool {
	if s == nil {
		f()
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	f()
	return true
}

// cancel wraps CancelIoEx on the socket with the recv's OVERLAPPED, which
// cancels that operation only. ERROR_NOT_FOUND means it had completed
// already. The completion still comes through the port (wait).
func (r *iocpRecv) cancel() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || !r.pending {
		return nil
	}
	return wrap("cancelioex", windows.CancelIoEx(r.fd, &r.op().ov))
}

// close cancels the recv if it is still pending, reaps its completion
// within reapBound, frees its memory and closes the port. On a socket
// already closed, CancelIoEx fails (ERROR_INVALID_HANDLE, or
// ERROR_NOT_FOUND if the handle value is another socket's by now: the
// OVERLAPPED is ours alone, so nothing else is cancelled), but closesocket
// has completed the recv already. A recv not reaped keeps its memory.
func (r *iocpRecv) close() error {
	r.reapMu.Lock()
	defer r.reapMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	pending := r.pending
	r.mu.Unlock()
	var errs []error
	if pending {
		windows.CancelIoEx(r.fd, &r.op().ov)
		if _, ok := r.reap(millis(reapBound)); !ok {
			errs = append(errs, fmt.Errorf("iocp recv: completion not reaped within %v (its memory stays allocated)", reapBound))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	errs = append(errs, r.release())
	return errors.Join(errs...)
}

// release frees what the recv holds; memory only when no completion is
// outstanding.
func (r *iocpRecv) release() error {
	if r.mem != 0 && !r.pending {
		windows.LocalFree(windows.Handle(r.mem))
		r.mem = 0
	}
	if r.port != 0 {
		err := windows.CloseHandle(r.port)
		r.port = 0
		return wrap("closehandle", err)
	}
	return nil
}

// completionClasses maps the Win32 errors that GetQueuedCompletionStatus
// reports for a socket operation, RtlNtStatusToDosError of its NTSTATUS
// (ntstatus.h -> winerror.h, as documented in "Mapping NT Status Error
// Codes to Win32 Error Codes", KB113996), to the class vocabulary:
//
//   - ERROR_NETNAME_DELETED (64): STATUS_CONNECTION_RESET, and also
//     STATUS_LOCAL_DISCONNECT / STATUS_REMOTE_DISCONNECT. Microsoft's
//     sock.c-tested behaviour for a peer's RST on a pending WSARecv
//     (Wine sock.c test_completion_port, close_with_rst). Class reset
//     only where no NTSTATUS was read: a completion classifies by its
//     NTSTATUS (ntstatus.go), which tells a local disconnect (aborted)
//     from a reset.
//   - ERROR_CONNECTION_ABORTED (1236): STATUS_CONNECTION_ABORTED. Aborted.
//   - ERROR_OPERATION_ABORTED (995): STATUS_CANCELLED, from CancelIoEx or
//     from closesocket with the operation pending (sock.c
//     test_completion_port: "Internal status is STATUS_CANCELLED").
//     Cancelled.
//   - ERROR_SEM_TIMEOUT (121): STATUS_IO_TIMEOUT, a connection that timed
//     out (keepalive, retransmission). Timed out.
//   - ERROR_NETWORK_UNREACHABLE (1231), ERROR_HOST_UNREACHABLE (1232):
//     unreachable, as their WSAE twins are.
//   - ERROR_INVALID_HANDLE (6): bad descriptor, as in classify.
//
// winerror.h has no ERROR_CONNECTION_RESET: a reset reaches IOCP as
// ERROR_NETNAME_DELETED. ERROR_GRACEFUL_DISCONNECT (1226) stays other, as
// WSAEDISCON does in classify: TCP reports the end of stream as 0 bytes.
// A code not here is looked up in the blocking calls' table (classes), so
// a WSAE code classifies the same either way.
var completionClasses = map[windows.Errno]schema.Class{
	windows.ERROR_NETNAME_DELETED:     schema.ClassReset,
	windows.ERROR_CONNECTION_ABORTED:  schema.ClassAborted,
	windows.ERROR_OPERATION_ABORTED:   schema.ClassCancelled,
	windows.ERROR_SEM_TIMEOUT:         schema.ClassTimedOut,
	windows.ERROR_NETWORK_UNREACHABLE: schema.ClassUnreachable,
	windows.ERROR_HOST_UNREACHABLE:    schema.ClassUnreachable,
	windows.ERROR_INVALID_HANDLE:      schema.ClassBadDescriptor,
}

// completionNames names Win32 codes that only completions have shown here,
// beside classify's errnoNames (winerror.h names).
//
//   - ERROR_HANDLES_CLOSED (676), from STATUS_HANDLES_CLOSED (0x8000000A,
//     a warning, which GQCS still reports as a failure): what Wine 8
//     completes a pending WSARecv with when its socket is closed
//     (TestIOCPPendingRecv, own-close). Windows completes an operation
//     pending on a closed socket with STATUS_CANCELLED,
//     ERROR_OPERATION_ABORTED (sock.c test_completion_port, AcceptEx
//     cases). It stays class other: a Wine finding, shown by its name.
var completionNames = map[windows.Errno]string{
	windows.ERROR_HANDLES_CLOSED: "ERROR_HANDLES_CLOSED",
}

// completionErrnoName is the winerror.h name of a completion's Win32 error.
func completionErrnoName(e windows.Errno) string {
	if name, ok := completionNames[e]; ok {
		return name
	}
	return errnoName(e)
}

// completionClass classifies GetQueuedCompletionStatus's Win32 error.
func completionClass(code int) schema.Class {
	e := windows.Errno(code)
	if c, ok := completionClasses[e]; ok {
		return c
	}
	if c, ok := classes[e]; ok {
		return c
	}
	return schema.ClassOther
}
