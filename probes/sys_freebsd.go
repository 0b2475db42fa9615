package probes

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FreeBSD's parts of sys_unix.go. References are to the FreeBSD 14 manual
// pages and to sys/ in the FreeBSD source tree (stable/14, releng/14.x).

// sendFlags suppresses SIGPIPE per call: send(2) on FreeBSD documents
// MSG_NOSIGNAL ("do not generate SIGPIPE"), as Linux does, so no socket
// option is needed (FreeBSD also has SO_NOSIGPIPE, setsockopt(2); one of the
// two is enough, and every send of ours passes sendFlags).
const sendFlags = unix.MSG_NOSIGNAL

func noSIGPIPE(int) error { return nil } // per call, see sendFlags

// fionread is FIONREAD = _IOR('f', 127, int) from sys/sys/filio.h (the
// bytes that a read would return, ioctl(2)); x/sys does not export it for
// freebsd. The value is the same as darwin's: both encode _IOR alike
// (sys/sys/ioccom.h).
const fionread = 0x4004667f

// fionwrite is FIONWRITE = _IOR('f', 119, int) (sys/sys/filio.h): the bytes
// in the socket's send buffer. TCP keeps sent data there until it is
// acknowledged (sys/netinet/tcp_input.c drops acknowledged bytes with
// sbdrop), so 0 means nothing unsent or unacknowledged: the settle signal.
const fionwrite = 0x40046677

// sockCloexec makes socket(2) return a close-on-exec descriptor
// (SOCK_CLOEXEC, FreeBSD 10 and later), so no helper process inherits it.
const sockCloexec = unix.SOCK_CLOEXEC

// acceptCloexec wraps accept4(2) (FreeBSD 10 and later) with SOCK_CLOEXEC.
func acceptCloexec(lfd int) (int, error) {
	nfd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	return nfd, err
}

// setLinger: FreeBSD's SO_LINGER counts seconds (setsockopt(2), "l_linger
// ... in seconds"; sys/kern/uipc_socket.c multiplies by hz for the sleep).
func setLinger(fd int, on bool, secs int) error {
	l := unix.Linger{Linger: int32(secs)}
	if on {
		l.Onoff = 1
	}
	return wrap("setsockopt", unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l))
}

// threadID is the calling thread's id from thr_self(2). Nothing consumes it
// yet on FreeBSD (see waitInSyscall); it is the id a per-thread view of
// sysctl kern.proc.pid (KERN_PROC_INC_THREAD, ki_tid) would be matched with.
func threadID() int {
	var id int64
	if _, _, e := unix.RawSyscall(unix.SYS_THR_SELF, uintptr(unsafe.Pointer(&id)), 0, 0); e != 0 {
		return 0
	}
	return int(id)
}

// errNoThreadSignal says why FreeBSD has no thread-state signal here:
// there is no /proc by default (procfs(5) is not mounted), and the
// per-thread run state and sleep channel (ki_stat, ki_wmesg "sbwait" for a
// blocked recv, from sysctl kern.proc.pid with KERN_PROC_INC_THREAD) are in
// struct kinfo_proc (sys/sys/user.h), a large structure not wired up yet.
var errNoThreadSignal = fmt.Errorf("%w: FreeBSD: no thread-state signal wired up (sysctl kern.proc.pid, struct kinfo_proc ki_stat/ki_wmesg)", ErrUnsupported)

// threadSignal: none on FreeBSD yet (errNoThreadSignal).
func threadSignal() error { return errNoThreadSignal }

// waitInSyscall spends PostureGrace and reports false, as darwin does where
// its signal is missing (threadSignal says why).
func waitInSyscall(int, time.Duration) (bool, error) {
	time.Sleep(PostureGrace)
	return false, nil
}

// settle polls FIONWRITE (see fionwrite) until the send buffer is empty:
// everything sent was acknowledged, or a reset purged it. FreeBSD's
// TCP_INFO does not fill tcpi_unacked (it is __tcpi_unacked, unimplemented,
// in sys/netinet/tcp.h).
func settle(fd int, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for {
		n, err := unix.IoctlGetInt(fd, fionwrite)
		if err != nil || n == 0 {
			return err == nil
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
}
