package probes

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/unix"
)

// newEventFD makes a descriptor of ours that is not a socket — an epoll
// instance, an io_uring ring — by create, and moves it above fdFloor like a
// socket (lift). It follows the rules that keep use-after-close probes safe
// (sys_unix.go, fdFloor; probes.go, fdMu):
//   - create runs under fdMu held for reading, as newSocket does. A
//     use-after-close probe (Socket.call on a closed socket) holds fdMu for
//     writing from its staleIsFree check until its call returns, so no epoll
//     or ring descriptor can appear under a stale number while such a probe
//     is in flight; one that took the number earlier makes staleIsFree false,
//     and the probe is not made (errStaleTaken). A probe meant for a closed
//     socket is therefore never handed one of these descriptors.
//   - It sits above fdFloor with the sockets, whose numbers only descriptors
//     created under fdMu may take; below the floor the runtime and the rest
//     of the process keep theirs, unordered by fdMu.
//   - epoll_create1(EPOLL_CLOEXEC) and io_uring_setup (whose descriptor is
//     always O_CLOEXEC) are close-on-exec from the start, and so is lift's
//     F_DUPFD_CLOEXEC copy: no helper process inherits them.
//
// These descriptors are only ever used by the watcher or operation that
// made them, under its own lock, and never after it closed them.
func newEventFD(name string, create func() (int, error)) (int, error) {
	fdMu.RLock()
	defer fdMu.RUnlock()
	fd, err := create()
	if err != nil {
		return -1, wrap(name, err)
	}
	return lift(fd)
}

// epollRegistered is the registration of the lanes' contract: both
// directions, peer half-close (EPOLLRDHUP, epoll_ctl(2): "Stream socket peer
// closed connection, or shut down writing half of connection"),
// edge-triggered (EPOLLET: a read reports what changed since the last read,
// epoll(7)). That is mio's registration of a readable and writable socket
// (src/sys/unix/selector/epoll.rs: EPOLLET | EPOLLIN | EPOLLRDHUP | EPOLLOUT);
// libuv asks for the same bits (POLLIN, POLLOUT, UV__POLLRDHUP) but
// level-triggered, so its first read after an event sees what ours does.
// EPOLLERR and EPOLLHUP are always reported, asked or not (epoll_ctl(2)).
const epollRegistered = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// epollNames are the epoll_event.events bits by their C names
// (<sys/epoll.h>, epoll_ctl(2)). EPOLLRDNORM, EPOLLWRNORM and the band bits
// come from a socket's poll (tcp_poll) but epoll only passes bits that were
// registered plus EPOLLERR and EPOLLHUP; they are named should that change.
var epollNames = []struct {
	bit  uint32
	name string
}{
	{unix.EPOLLIN, "EPOLLIN"}, {unix.EPOLLPRI, "EPOLLPRI"}, {unix.EPOLLOUT, "EPOLLOUT"},
	{unix.EPOLLERR, "EPOLLERR"}, {unix.EPOLLHUP, "EPOLLHUP"}, {unix.EPOLLRDNORM, "EPOLLRDNORM"},
	{unix.EPOLLRDBAND, "EPOLLRDBAND"}, {unix.EPOLLWRNORM, "EPOLLWRNORM"},
	{unix.EPOLLWRBAND, "EPOLLWRBAND"}, {unix.EPOLLMSG, "EPOLLMSG"}, {unix.EPOLLRDHUP, "EPOLLRDHUP"},
}

// epollEventNames names the bits of ev, sorted; bits without a name are
// kept as one hexadecimal number.
func epollEventNames(ev uint32) []string {
	var names []string
	for _, n := range epollNames {
		if ev&n.bit != 0 {
			names = append(names, n.name)
			ev &^= n.bit
		}
	}
	if ev != 0 {
		names = append(names, fmt.Sprintf("0x%x", ev))
	}
	sort.Strings(names)
	return names
}

// epollWatch is one socket registered with its own epoll instance.
type epollWatch struct {
	mu   sync.Mutex
	epfd int // -1 once closed
}

// watchSocket registers fd with a new epoll instance (epoll_create1(2),
// epoll_ctl(2) EPOLL_CTL_ADD) as epollRegistered says. The registration
// holds the socket's open file description, not its number: it reports for
// that socket until the description is released (epoll(7), Q6).
func watchSocket(fd sysfd) (watcher, error) {
	epfd, err := newEventFD("epoll_create1", func() (int, error) { return unix.EpollCreate1(unix.EPOLL_CLOEXEC) })
	if err != nil {
		return nil, err
	}
	ev := unix.EpollEvent{Events: epollRegistered, Fd: int32(fd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		closeFD(epfd)
		return nil, wrap("epoll_ctl", err)
	}
	return &epollWatch{epfd: epfd}, nil
}

// read is epoll_wait(2) with timeout 0: what the registration delivered
// since it was made or last read. Edge-triggered, an event is delivered
// once per change of the socket's readiness; nothing new reads as no names.
func (w *epollWatch) read() (Ready, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.epfd < 0 {
		return Ready{}, errors.New("epoll: registration closed")
	}
	ev := make([]unix.EpollEvent, 1)
	var n int
	err := retryEINTR(func() (err error) { n, err = unix.EpollWait(w.epfd, ev, 0); return err })
	if err != nil {
		return Ready{}, wrap("epoll_wait", err)
	}
	r := Ready{API: "epoll"}
	if n > 0 {
		r.Names = epollEventNames(ev[0].Events)
	}
	return r, nil
}

// close closes the epoll instance, which removes the registration
// (epoll(7)); idempotent.
func (w *epollWatch) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.epfd < 0 {
		return nil
	}
	err := closeFD(w.epfd)
	w.epfd = -1
	return err
}

// uringReapBound limits how long close waits for the completion of a
// recv it cancelled. Cancelling a recv armed on a socket's wait queue is
// synchronous in the kernel (IORING_OP_ASYNC_CANCEL finds it and completes
// it with -ECANCELED; its CQE is posted by task work on the submitting
// thread within microseconds); the bound only absorbs scheduling delay on a
// loaded machine (2 shared cores here), by two to three orders of magnitude,
// and stays well inside the harness's 2 s teardown bound, which also frees
// blocked threads.
var uringReapBound = 500 * time.Millisecond // a variable for the test of an unreapable recv

// uringCancelOpcode is IORING_OP_ASYNC_CANCEL; a test makes it IORING_OP_NOP
// to leave a recv that close cannot reap.
var uringCancelOpcode uint8 = uringOpAsyncCancel

// uringRecv is one IORING_OP_RECV on its own ring.
type uringRecv struct {
	// life is held for reading while the ring or buffer is used, and for
	// writing by close, which frees them.
	life sync.RWMutex
	// mu orders the SQ, the CQ and the fields below.
	mu        sync.Mutex
	r         *ring
	buf       []byte
	comp      Completion
	cancelled bool
	cancelRes []int32 // res of our IORING_OP_ASYNC_CANCEL CQEs (0, -ENOENT, -EALREADY)
	freed     bool
	closeErr  error
}

// startRecv submits one IORING_OP_RECV of up to max bytes on fd (recv(2)
// semantics, msg_flags 0) on a ring of its own and returns once the kernel
// has consumed the SQE: the recv is then armed on the socket (nothing to
// read yet) or already complete. The kernel takes its own reference to the
// socket's file at submission, so the recv outlives a close of fd
// (axboe/liburing#932).
//
// The buffer the kernel writes into is an anonymous mmap(2), not Go heap
// memory: the kernel writes it whenever the recv completes, which the
// garbage collector cannot know (it could move or free a heap buffer no Go
// pointer refers to). It is unmapped only once the completion has been
// reaped.
func startRecv(fd sysfd, max int) (asyncRecv, error) {
	if v := os.Getenv(uringEnv); v == "off" {
		return nil, fmt.Errorf("%w: io_uring disabled by %s=off", ErrAsyncUnavailable, uringEnv)
	}
	if max <= 0 {
		return nil, fmt.Errorf("io_uring recv of %d bytes", max)
	}
	page := os.Getpagesize()
	buf, err := unix.Mmap(-1, 0, (max+page-1)/page*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, wrap("mmap", err)
	}
	r, err := newRing()
	if err != nil {
		unix.Munmap(buf)
		return nil, err
	}
	sqe := uringSQE{
		opcode:   uringOpRecv,
		fd:       int32(fd),
		addr:     uint64(uintptr(unsafe.Pointer(&buf[0]))),
		len:      uint32(max),
		userData: uringRecvTag,
	}
	if err := r.submit(sqe); err != nil {
		r.free()
		unix.Munmap(buf)
		return nil, err
	}
	return &uringRecv{r: r, buf: buf, comp: Completion{API: "io_uring"}}, nil
}

// collect reads the CQEs that arrived: the recv's sets the completion; a
// cancel's is kept for diagnostics. Caller holds life.
func (u *uringRecv) collect() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.r.reap(func(c uringCQE) {
		switch c.userData {
		case uringRecvTag:
			u.comp.Done = true
			if c.res >= 0 {
				u.comp.N = int(c.res)
				return
			}
			e := unix.Errno(-c.res)
			u.comp.Errno, u.comp.Code = unix.ErrnoName(e), int(e)
			if u.comp.Errno == "" {
				u.comp.Errno = fmt.Sprintf("errno %d", int(e))
			}
		case uringCancelTag:
			u.cancelRes = append(u.cancelRes, c.res)
		}
	})
}

func (u *uringRecv) completion() Completion {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.comp
}

// wait waits up to bound for the recv's CQE. Once reaped, the completion is
// returned again by later waits.
func (u *uringRecv) wait(bound time.Duration) Completion {
	u.life.RLock()
	defer u.life.RUnlock()
	if u.freed {
		return u.completion()
	}
	return u.waitHeld(bound)
}

// waitHeld is wait with life held.
func (u *uringRecv) waitHeld(bound time.Duration) Completion {
	deadline := time.Now().Add(bound)
	for {
		u.collect()
		c := u.completion()
		left := time.Until(deadline)
		if c.Done || left <= 0 {
			return c
		}
		if err := u.r.await(left); err != nil {
			c.Err = err // not seen; the caller must not take it for blocked
			return c
		}
	}
}

// cancel submits IORING_OP_ASYNC_CANCEL for the recv's user_data
// (io_uring_enter(2): "attempt to cancel an already issued request"; addr
// holds the user_data to match) and returns without waiting: the recv's
// CQE (-ECANCELED, or its result if it completed first) comes to wait.
func (u *uringRecv) cancel() error {
	u.life.RLock()
	defer u.life.RUnlock()
	if u.freed {
		return errors.New("io_uring: recv already closed")
	}
	u.collect()
	return u.cancelHeld()
}

// cancelHeld is cancel with life held; nothing to do once complete.
func (u *uringRecv) cancelHeld() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.comp.Done {
		return nil
	}
	u.cancelled = true
	return u.r.submit(uringSQE{opcode: uringCancelOpcode, fd: -1, addr: uringRecvTag, userData: uringCancelTag})
}

// close cancels the recv if it is still pending and reaps its completion
// within uringReapBound, then unmaps the rings and the buffer and closes
// the ring descriptor. A recv that cannot be reaped in time is an error:
// the ring is closed all the same (the kernel cancels what it still holds
// when its last reference goes), but the buffer stays mapped — the kernel
// may still write into it, and unmapping would let another mapping take
// its addresses. Idempotent: later calls return the first one's error.
func (u *uringRecv) close() error {
	u.life.Lock()
	defer u.life.Unlock()
	if u.freed {
		return u.closeErr
	}
	u.freed = true
	u.collect()
	var errs []error
	if !u.completion().Done {
		if err := u.cancelHeld(); err != nil {
			errs = append(errs, err)
		}
		u.waitHeld(uringReapBound)
	}
	if c := u.completion(); c.Done {
		errs = append(errs, wrap("munmap", unix.Munmap(u.buf)))
	} else {
		errs = append(errs, fmt.Errorf("io_uring recv not reaped %v after IORING_OP_ASYNC_CANCEL (cancel results %v); its %d-byte buffer stays mapped", uringReapBound, u.cancelRes, len(u.buf)))
	}
	u.buf = nil
	errs = append(errs, u.r.free())
	u.closeErr = errors.Join(errs...)
	return u.closeErr
}

// completionClass classifies an io_uring CQE's -res through the errno
// table of classify_unix.go; ECANCELED, what a recv cancelled by
// IORING_OP_ASYNC_CANCEL completes with (io_uring_enter(2)), is the class
// cancelled.
func completionClass(code int) schema.Class {
	e := unix.Errno(code)
	if e == unix.ECANCELED {
		return schema.ClassCancelled
	}
	if c, ok := classes[e]; ok {
		return c
	}
	return schema.ClassOther
}
