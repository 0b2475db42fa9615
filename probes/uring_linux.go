package probes

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A minimal io_uring over x/sys: one small ring per operation, set up with
// io_uring_setup(2), its rings and SQE array mapped with mmap(2), one SQE
// submitted with io_uring_enter(2), and completions read from the CQ ring.
// No Go io_uring module is served here, and the operations we need (one
// IORING_OP_RECV, one IORING_OP_ASYNC_CANCEL) are a few dozen lines.
//
// x/sys/unix has the syscall numbers (SYS_IO_URING_SETUP, SYS_IO_URING_ENTER)
// and nothing else of io_uring (v0.49.0: no structs, no IORING_* constants),
// so the layouts and constants below are defined here. Each is taken from
// include/uapi/linux/io_uring.h (Linux 6.1's, /usr/include/linux/io_uring.h
// here) and io_uring_setup(2) / io_uring_enter(2); the uapi is stable, and
// the size checks below catch a mistyped layout at compile time.

// uringParams is struct io_uring_params (io_uring.h; io_uring_setup(2)):
// passed to io_uring_setup, filled by the kernel with the ring's sizes,
// features and the offsets of the fields inside the mapped rings.
type uringParams struct {
	sqEntries    uint32
	cqEntries    uint32
	flags        uint32
	sqThreadCPU  uint32
	sqThreadIdle uint32
	features     uint32
	wqFD         uint32
	resv         [3]uint32
	sqOff        uringSQOffsets
	cqOff        uringCQOffsets
}

// uringSQOffsets is struct io_sqring_offsets (io_uring.h): where head, tail,
// ring_mask and the index array sit in the SQ ring mapping.
type uringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64 // resv2 before 6.5
}

// uringCQOffsets is struct io_cqring_offsets (io_uring.h): where head, tail,
// ring_mask and the CQE array sit in the CQ ring mapping.
type uringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64 // resv2 before 6.5
}

// uringSQE is struct io_uring_sqe (io_uring.h), 64 bytes, with the unions
// named by the member this package uses: off (off/addr2), addr
// (addr/splice_off_in), opFlags (msg_flags for RECV, cancel_flags for
// ASYNC_CANCEL), bufIndex (buf_index/buf_group), fileIndex
// (splice_fd_in/file_index), addr3 and its pad.
type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	fileIndex   int32
	addr3       uint64
	pad2        uint64
}

// uringCQE is struct io_uring_cqe (io_uring.h) without IORING_SETUP_CQE32:
// user_data of the SQE, res (bytes, or -errno), flags.
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// The sizes of io_uring.h's structs; a layout typo fails to compile.
var (
	_ [120]byte = [unsafe.Sizeof(uringParams{})]byte{}
	_ [64]byte  = [unsafe.Sizeof(uringSQE{})]byte{}
	_ [16]byte  = [unsafe.Sizeof(uringCQE{})]byte{}
)

// Constants of include/uapi/linux/io_uring.h.
const (
	// mmap(2) offsets of the three mappings ("Magic offsets for the
	// application to mmap the data it needs"; io_uring_setup(2)).
	uringOffSQRing = 0
	uringOffCQRing = 0x8000000
	uringOffSQEs   = 0x10000000

	// io_uring_params.features (io_uring_setup(2)). SINGLE_MMAP (5.4):
	// the SQ and CQ rings share one mapping. FAST_POLL (5.7): a recv on a
	// socket with no data is armed on the socket's wait queue instead of
	// blocking an io-wq worker — what makes our recv "pending" the way an
	// event loop's is.
	uringFeatSingleMmap = 1 << 0
	uringFeatFastPoll   = 1 << 5

	// enum io_uring_op: IORING_OP_NOP does nothing; IORING_OP_ASYNC_CANCEL
	// (5.5) cancels the request whose user_data is in addr; IORING_OP_RECV
	// (5.6) is recv(2).
	uringOpNop         = 0
	uringOpAsyncCancel = 14
	uringOpRecv        = 27
)

// The user_data of our two kinds of SQE, to tell their CQEs apart.
const (
	uringRecvTag   = 1
	uringCancelTag = 2
)

// uringEntries is the SQ size asked for: one recv and a cancel or two. The
// kernel rounds it to a power of two and makes the CQ twice as large
// (io_uring_setup(2)), so completions cannot overflow.
const uringEntries = 4

// uringEnv forces io_uring off when set to "off" (the lanes' contract):
// the harness then records pending-recv steps as skipped, as on a kernel
// that refuses io_uring.
const uringEnv = "CLOSEMATRIX_IO_URING"

// uringSetup is io_uring_setup(2). A variable, so that tests can make it
// fail the way a kernel without io_uring (ENOSYS) or a seccomp profile or
// io_uring_disabled (EPERM, EACCES) does.
var uringSetup = func(entries uint32, p *uringParams) (int, error) {
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// uringEnter is io_uring_enter(2) without a signal mask: submit toSubmit
// SQEs, and with IORING_ENTER_GETEVENTS wait for minComplete completions
// (we never wait in it: wait polls the ring descriptor instead).
func uringEnter(fd int, toSubmit, minComplete, flags uint32) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), 0, 0)
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

// uringRefused turns a refusal of io_uring_setup into an error wrapping
// ErrAsyncUnavailable with the reason; other errors (EMFILE, ENOMEM) are
// returned as they are: they are the harness's trouble, not the platform's
// answer. io_uring_setup(2), ERRORS: ENOSYS "the kernel does not support
// io_uring"; EPERM "io_uring_disabled is set to 2, or it is set to 1 and the
// calling process is not privileged" — and what a seccomp profile returns
// (Docker's and containerd's default profiles refuse io_uring_* with EPERM
// since moby/moby#46762, Docker 25.0);
// EACCES is what SELinux and other LSMs' io_uring hooks answer.
func uringRefused(err error) error {
	var why string
	switch {
	case errors.Is(err, unix.ENOSYS):
		why = "the kernel has no io_uring (io_uring_setup: ENOSYS)"
	case errors.Is(err, unix.EPERM):
		why = "io_uring refused (io_uring_setup: EPERM: seccomp, or kernel.io_uring_disabled=" + ioUringDisabled() + ")"
	case errors.Is(err, unix.EACCES):
		why = "io_uring refused (io_uring_setup: EACCES: a security module)"
	default:
		return wrap("io_uring_setup", err)
	}
	return fmt.Errorf("%w: %s: %w", ErrAsyncUnavailable, why, err)
}

// ioUringDisabled is /proc/sys/kernel/io_uring_disabled (6.6+; absent
// before): 0 allows io_uring, 1 allows it to members of
// kernel.io_uring_group, 2 refuses it to all.
func ioUringDisabled() string {
	b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	if err != nil {
		return "unreadable"
	}
	return strings.TrimSpace(string(b))
}

// ring is one io_uring instance with its three mappings (two where the
// kernel has IORING_FEAT_SINGLE_MMAP: sq and cq are then the same slice).
type ring struct {
	fd      int
	sq, cq  []byte // SQ ring and CQ ring mappings
	sqes    []byte // the SQE array
	params  uringParams
	sqSize  uint32 // SQ entries
	pending uint32 // SQEs written and not yet handed to io_uring_enter
}

// newRing sets up a ring of uringEntries and maps it. The ring descriptor
// is one of ours like an epoll instance: see newEventFD.
func newRing() (*ring, error) {
	r := &ring{fd: -1}
	var setupErr error
	fd, err := newEventFD("io_uring_setup", func() (int, error) {
		fd, err := uringSetup(uringEntries, &r.params)
		setupErr = err
		return fd, err
	})
	if setupErr != nil {
		return nil, uringRefused(setupErr)
	}
	if err != nil {
		return nil, err
	}
	r.fd = fd
	p := &r.params
	if p.features&uringFeatFastPoll == 0 {
		r.free()
		return nil, fmt.Errorf("%w: io_uring without IORING_FEAT_FAST_POLL (kernel before 5.7): a recv would block an io-wq worker instead of pending on the socket", ErrAsyncUnavailable)
	}
	r.sqSize = p.sqEntries
	sqLen := int(p.sqOff.array + p.sqEntries*4)
	cqLen := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	single := p.features&uringFeatSingleMmap != 0
	if single {
		sqLen = max(sqLen, cqLen)
	}
	const prot, flags = unix.PROT_READ | unix.PROT_WRITE, unix.MAP_SHARED | unix.MAP_POPULATE
	if r.sq, err = unix.Mmap(fd, uringOffSQRing, sqLen, prot, flags); err != nil {
		r.free()
		return nil, wrap("mmap", err)
	}
	if single {
		r.cq = r.sq
	} else if r.cq, err = unix.Mmap(fd, uringOffCQRing, cqLen, prot, flags); err != nil {
		r.free()
		return nil, wrap("mmap", err)
	}
	if r.sqes, err = unix.Mmap(fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), prot, flags); err != nil {
		r.free()
		return nil, wrap("mmap", err)
	}
	return r, nil
}

// u32 is the ring field at off in m. The rings are shared with the kernel:
// head and tail are read and written with atomics (acquire/release, as
// io_uring.h's comments and liburing's io_uring_smp_* barriers require).
func u32(m []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&m[off])) }

// push writes sqe into the next free SQ slot and publishes it with the SQ
// tail; io_uring_enter then hands it to the kernel. We are the only
// producer; the kernel advances the head as it consumes.
func (r *ring) push(sqe uringSQE) error {
	o := &r.params.sqOff
	tail := atomic.LoadUint32(u32(r.sq, o.tail))
	if tail-atomic.LoadUint32(u32(r.sq, o.head)) >= r.sqSize {
		return errors.New("io_uring: submission queue full")
	}
	idx := tail & *u32(r.sq, o.ringMask)
	*(*uringSQE)(unsafe.Pointer(&r.sqes[uintptr(idx)*unsafe.Sizeof(sqe)])) = sqe
	*u32(r.sq, o.array+4*idx) = idx
	atomic.StoreUint32(u32(r.sq, o.tail), tail+1)
	r.pending++
	return nil
}

// submit pushes sqe and enters the kernel to submit it. When it returns
// nil the kernel has consumed the SQE: io_uring_enter(2) returns "the
// number of I/O requests successfully consumed", and the request is then
// issued (a recv on a socket with nothing to read is armed on the socket's
// wait queue, IORING_FEAT_FAST_POLL) or already completed (its CQE posted).
func (r *ring) submit(sqe uringSQE) error {
	if err := r.push(sqe); err != nil {
		return err
	}
	var err error
	onUringThread(func() {
		for r.pending > 0 {
			n, e := uringEnter(r.fd, r.pending, 0, 0)
			if errors.Is(e, unix.EINTR) {
				continue
			}
			if e != nil {
				err = wrap("io_uring_enter", e)
				return
			}
			if n == 0 {
				err = errors.New("io_uring_enter: submitted nothing")
				return
			}
			r.pending -= uint32(n)
		}
	})
	return err
}

// uringJobs feeds the one OS thread that submits every io_uring request of
// this package (onUringThread).
var (
	uringJobs     chan func()
	uringJobsOnce sync.Once
)

// onUringThread runs f on a goroutine locked to its OS thread for the life
// of the process, and waits for it. A request belongs to the thread that
// submitted it: its completion runs as that thread's task work, and when the
// thread exits the kernel cancels what it still has in flight (do_exit ->
// io_uring_files_cancel; task work that can no longer run there ends a
// poll-armed request with -ECANCELED in io_poll_check_events,
// io_uring/poll.c). Measured here (Linux 6.18) with the submission on the
// caller's thread, as the harness calls it from call threads that end with
// their goroutine (harness/calls.go): every pending recv of the catalogue
// completed with ECANCELED, even after a shutdown(SHUT_WR) that does not
// touch the receive side, where liburing's witness saw it stay pending, or
// complete with 0 or ECONNRESET. See also axboe/liburing#1595. One thread for
// the process, started on first use: not one per scenario, so the leak
// tests' thread counts settle.
func onUringThread(f func()) {
	uringJobsOnce.Do(func() {
		uringJobs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked, and the goroutine never returns
			for job := range uringJobs {
				job()
			}
		}()
	})
	done := make(chan struct{})
	uringJobs <- func() { f(); close(done) }
	<-done
}

// reap reads every CQE waiting in the CQ ring, hands each to f, and frees
// its slot (advances the CQ head).
func (r *ring) reap(f func(uringCQE)) {
	o := &r.params.cqOff
	head := atomic.LoadUint32(u32(r.cq, o.head))
	tail := atomic.LoadUint32(u32(r.cq, o.tail))
	mask := *u32(r.cq, o.ringMask)
	for ; head != tail; head++ {
		off := o.cqes + (head&mask)*uint32(unsafe.Sizeof(uringCQE{}))
		f(*(*uringCQE)(unsafe.Pointer(&r.cq[off])))
	}
	atomic.StoreUint32(u32(r.cq, o.head), head)
}

// await waits up to d for the ring descriptor to be readable: the CQ ring
// holds a completion (io_uring's poll reports EPOLLIN then). ppoll(2) keeps
// the nanoseconds of d that poll(2)'s milliseconds would round away.
// Running the completion's task work does not need this thread: the kernel
// interrupts the submitting thread for it (TWA_SIGNAL, the default without
// IORING_SETUP_COOP_TASKRUN or DEFER_TASKRUN), which is our io_uring thread
// (onUringThread) and lives as long as the process.
func (r *ring) await(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		ts := unix.NsecToTimespec(left.Nanoseconds())
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
		n, err := unix.Ppoll(fds, &ts, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return wrap("ppoll", err)
		case n > 0:
			return nil
		}
	}
}

// free unmaps the rings and closes the ring descriptor; closing the last
// reference makes the kernel cancel whatever is still in flight
// (io_uring_setup(2): the ring lives until its descriptor and mappings are
// gone). Idempotent.
func (r *ring) free() error {
	var errs []error
	unmap := func(m []byte) {
		if m != nil {
			errs = append(errs, wrap("munmap", unix.Munmap(m)))
		}
	}
	unmap(r.sqes)
	if r.cq != nil && (r.sq == nil || &r.cq[0] != &r.sq[0]) {
		unmap(r.cq) // a mapping of its own only without IORING_FEAT_SINGLE_MMAP
	}
	unmap(r.sq)
	r.sq, r.cq, r.sqes = nil, nil, nil
	if r.fd >= 0 {
		errs = append(errs, closeFD(r.fd))
		r.fd = -1
	}
	return errors.Join(errs...)
}
