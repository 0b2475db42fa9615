package probes

import (
	"time"

	"golang.org/x/sys/unix"
)

// sendFlags is 0: darwin has no MSG_NOSIGNAL; SO_NOSIGPIPE is set on every
// socket instead (noSIGPIPE).
const sendFlags = 0

// fionread is FIONREAD = _IOR('f', 127, int) from <sys/filio.h>; x/sys does
// not export it for darwin.
const fionread = 0x4004667f

// noSIGPIPE sets SO_NOSIGPIPE (setsockopt(2) on macOS), so that a send on a
// broken connection returns EPIPE instead of raising SIGPIPE.
func noSIGPIPE(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
}

// sockCloexec is 0: darwin's socket(2) takes no SOCK_CLOEXEC; newSocket holds
// syscall.ForkLock until lift has made the descriptor close-on-exec.
const sockCloexec = 0

// acceptCloexec wraps accept(2). darwin has no accept4: the new descriptor is
// inheritable for the microseconds until lift makes it close-on-exec. Holding
// ForkLock across a blocking accept would stall every process start, so the
// window stays; helpers start between scenarios, not during an accept.
func acceptCloexec(lfd int) (int, error) {
	nfd, _, err := unix.Accept(lfd)
	return nfd, err
}

// setLinger: darwin's SO_LINGER counts clock ticks, SO_LINGER_SEC seconds
// (<sys/socket.h>). {1, 0} means the same either way; use seconds otherwise.
func setLinger(fd int, on bool, secs int) error {
	l := unix.Linger{Linger: int32(secs)}
	if on {
		l.Onoff = 1
	}
	opt := unix.SO_LINGER
	if secs > 0 {
		opt = unix.SO_LINGER_SEC
	}
	return wrap("setsockopt", unix.SetsockoptLinger(fd, unix.SOL_SOCKET, opt, &l))
}

// threadID is unused on darwin: there is no /proc to watch a thread with.
func threadID() int { return 0 }

// waitInSyscall spends PostureGrace: darwin shows no portable, unprivileged
// view of which call a thread is blocked in.
func waitInSyscall(int, time.Duration) (bool, error) {
	time.Sleep(PostureGrace)
	return false, nil
}

// settle polls TCP_CONNECTION_INFO (<netinet/tcp.h>) until tcpi_snd_sbbytes,
// the bytes in the send buffer (unsent or unacknowledged), is 0.
func settle(fd int, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for {
		ti, err := unix.GetsockoptTCPConnectionInfo(fd, unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
		if err != nil || ti.Snd_sbbytes == 0 {
			return err == nil
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
}
