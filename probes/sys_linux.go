package probes

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// sendFlags suppresses SIGPIPE per call (send(2): MSG_NOSIGNAL), so that a send
// on a broken connection returns EPIPE instead of killing the test binary.
const sendFlags = unix.MSG_NOSIGNAL

// fionread is FIONREAD, which Linux names SIOCINQ for TCP (tcp(7)).
const fionread = unix.SIOCINQ

func noSIGPIPE(int) error { return nil } // per call, see sendFlags

// sockCloexec makes socket(2) return a close-on-exec descriptor, so no helper
// process inherits it (socket(2), SOCK_CLOEXEC).
const sockCloexec = unix.SOCK_CLOEXEC

// acceptCloexec wraps accept4(2) with SOCK_CLOEXEC, for the same reason.
func acceptCloexec(lfd int) (int, error) {
	nfd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	return nfd, err
}

func setLinger(fd int, on bool, secs int) error {
	l := unix.Linger{Linger: int32(secs)}
	if on {
		l.Onoff = 1
	}
	return wrap("setsockopt", unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l))
}

func threadID() int { return unix.Gettid() }

// threadSignal is nil: /proc/self/task/TID is always there to read.
func threadSignal() error { return nil }

// blockingCalls are the syscalls our probes block in (sys_unix.go: recvfrom,
// sendmsg, accept4, connect).
var blockingCalls = map[int]bool{
	unix.SYS_RECVFROM: true, unix.SYS_SENDMSG: true, unix.SYS_ACCEPT4: true, unix.SYS_CONNECT: true,
}

// waitInSyscall polls /proc/self/task/TID/syscall (proc(5)): while the thread
// is in a system call its first field is the call's number; otherwise it
// reads "running" (or the number of whatever else it is in). It also waits
// for the thread to be asleep (state S in /proc/self/task/TID/stat): a send
// is inside sendmsg while it still copies, and blocked only once the buffers
// are full and it sleeps.
func waitInSyscall(tid int, bound time.Duration) (bool, error) {
	path := fmt.Sprintf("/proc/self/task/%d/syscall", tid)
	deadline := time.Now().Add(bound)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			return false, err
		}
		if f := bytes.Fields(b); len(f) > 0 {
			if nr, err := strconv.Atoi(string(f[0])); err == nil && blockingCalls[nr] && asleep(tid) {
				return true, nil
			}
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("thread %d not in a socket call after %v: %q", tid, bound, bytes.TrimSpace(b))
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// settle polls TCP_INFO (tcp(7)) until tcpi_unacked is 0: everything sent was
// acknowledged, or a reset purged it. On loopback that takes microseconds.
func settle(fd int, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for {
		ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil || ti.Unacked == 0 {
			return err == nil
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// asleep reports whether thread tid is in interruptible sleep: the state
// field of /proc/self/task/TID/stat (proc(5)), after the parenthesised name.
func asleep(tid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'S'
}
