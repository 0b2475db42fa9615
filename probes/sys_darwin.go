package probes

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendFlags is 0. darwin has MSG_NOSIGNAL too (<sys/socket.h>, 0x80000,
// honoured by xnu's sosend), but SO_NOSIGPIPE is set on every socket instead
// (noSIGPIPE): it also covers calls that take no flags, and it is the option
// Apple's own socket(2) man pages document.
const sendFlags = 0

// fionread is FIONREAD = _IOR('f', 127, int) from <sys/filio.h>; x/sys does
// not export it for darwin.
const fionread = 0x4004667f

// noSIGPIPE sets SO_NOSIGPIPE (setsockopt(2) on macOS), so that a send on a
// broken connection returns EPIPE instead of raising SIGPIPE. It also sets
// SO_NP_EXTENSIONS {SONPX_SETOPTSHUT}: xnu refuses every setsockopt with
// EINVAL once a socket is shut down in both directions unless that flag is
// set (bsd/kern/uipc_socket.c, sosetoptlock: "the socket has been shutdown,
// no more sockopt's"; bsd/sys/socket.h, struct so_np_extensions), and
// teardown sets linger 0 on such sockets. The flag changes nothing else.
func noSIGPIPE(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1); err != nil {
		return err
	}
	return setOptShut(fd)
}

// soNPExtensions is struct so_np_extensions {u_int32_t npx_flags; u_int32_t
// npx_mask;} (bsd/sys/socket.h); sonpxSetOptShut is SONPX_SETOPTSHUT, "flag
// for allowing setsockopt after shutdown". x/sys has SO_NP_EXTENSIONS but
// neither of these.
type soNPExtensions struct {
	flags, mask uint32
}

const sonpxSetOptShut = 0x1

func setOptShut(fd int) error {
	npx := soNPExtensions{flags: sonpxSetOptShut, mask: sonpxSetOptShut}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_NP_EXTENSIONS,
		uintptr(unsafe.Pointer(&npx)), unsafe.Sizeof(npx), 0)
	if e != 0 {
		return e
	}
	return nil
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
		time.Sleep(50 * time.Microsecond) // a getsockopt on our own socket: no global lock
	}
}
