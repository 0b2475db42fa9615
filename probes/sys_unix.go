//go:build linux || darwin || freebsd

package probes

import (
	"errors"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysfd is a file descriptor.
type sysfd = int

func startup() error { return nil }

// fdFloor is the lowest number our sockets take. The kernel hands out the
// lowest free descriptor (open(2), "the lowest-numbered file descriptor not
// currently open"), so the runtime, the /proc reads of the harness and
// anything else in the process stay below it unless the process has this many
// descriptors open. That is what makes a use-after-close probe safe: the stale
// number can only be taken again by one of our own sockets, and those wait on
// fdMu.
var fdFloor = func() int {
	var rl unix.Rlimit
	floor := 1000
	// Go raises the soft limit to the hard one at start-up (os package);
	// stay in the upper half of whatever we got.
	// rl.Cur is uint64 on Linux and darwin, int64 on FreeBSD (rlim_t).
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && uint64(rl.Cur) < 2*uint64(floor) {
		floor = int(rl.Cur / 2)
	}
	return floor
}()

// lift moves fd to the lowest free number at or above fdFloor, close-on-exec
// (fcntl(2) F_DUPFD_CLOEXEC), and closes the original. The original is a fresh
// socket nobody else refers to, so closing it has no TCP effect.
func lift(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, fdFloor)
	unix.Close(fd)
	if err != nil {
		return -1, wrap("fcntl", err)
	}
	return nfd, nil
}

// newSocket wraps socket(2) and moves the descriptor above fdFloor. It holds
// syscall.ForkLock for reading meanwhile, as package net does, so that a
// helper process started at that moment cannot inherit the socket before it
// is close-on-exec where socket(2) cannot say so itself (darwin: sockCloexec).
func newSocket(f Family) (int, error) {
	fdMu.RLock()
	defer fdMu.RUnlock()
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(domain(f), unix.SOCK_STREAM|sockCloexec, unix.IPPROTO_TCP)
	if err != nil {
		return -1, wrap("socket", err)
	}
	if err := noSIGPIPE(fd); err != nil {
		unix.Close(fd)
		return -1, wrap("setsockopt", err)
	}
	return lift(fd)
}

func domain(f Family) int {
	if f == V6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// loopback is the address of f: 127.0.0.1 or ::1 (RFC 1122 §3.2.1.3, RFC 4291
// §2.5.3). closematrix never binds a wildcard address.
func loopback(f Family) netip.Addr {
	if f == V6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// sockaddr is ap as a socket address (IPv4 unmapped, no zone).
func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// listenBacklog is small: a scenario has one connection in flight.
const listenBacklog = 8

func bindListen(fd int, f Family) (int, error) { return bindListenAddr(fd, loopback(f)) }

// bindListenAddr wraps bind(2) to a, port 0; listen(2); getsockname(2) for
// the port the system chose.
func bindListenAddr(fd int, a netip.Addr) (int, error) {
	if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(a, 0))); err != nil {
		return 0, wrap("bind", err)
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		return 0, wrap("listen", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, wrap("getsockname", err)
	}
	if ap := addrPort(sa); ap.IsValid() {
		return int(ap.Port()), nil
	}
	return 0, errors.New("getsockname: not an inet address")
}

func connect(fd int, f Family, port int) error {
	return connectAddr(fd, netip.AddrPortFrom(loopback(f), uint16(port)))
}

// connectAddr wraps a blocking connect(2) to ap.
func connectAddr(fd int, ap netip.AddrPort) error {
	return wrap("connect", retryEINTR(func() error { return unix.Connect(fd, sockaddr(ap)) }))
}

// accept wraps a blocking accept(2). fdMu is taken only once a connection
// has been accepted, to move it above fdFloor: holding it across the wait
// would hold up every use-after-close probe for as long as accept blocks.
// The new descriptor is below fdFloor until then, where no stale number of
// ours lives. It is close-on-exec from the start where the OS can
// (acceptCloexec).
func accept(lfd int) (int, error) {
	var nfd int
	err := retryEINTR(func() (err error) { nfd, err = acceptCloexec(lfd); return err })
	if err != nil {
		return -1, wrap("accept", err)
	}
	if err := noSIGPIPE(nfd); err != nil {
		unix.Close(nfd)
		return -1, wrap("setsockopt", err)
	}
	fdMu.RLock()
	defer fdMu.RUnlock()
	return lift(nfd)
}

func send(fd int, p []byte) (n int, err error) {
	err = retryEINTR(func() (err error) { n, err = unix.SendmsgN(fd, p, nil, nil, sendFlags); return err })
	return n, wrap("sendmsg", err)
}

func recv(fd int, p []byte) (n int, err error) {
	err = retryEINTR(func() (err error) { n, _, err = unix.Recvfrom(fd, p, 0); return err })
	return n, wrap("recvfrom", err)
}

func shutdown(fd int, how How) error {
	h := map[How]int{ShutRD: unix.SHUT_RD, ShutWR: unix.SHUT_WR, ShutRDWR: unix.SHUT_RDWR}[how]
	return wrap("shutdown", unix.Shutdown(fd, h))
}

// closeFD is not retried on EINTR: close(2) says the descriptor is released
// even then, and a retry could close a number someone else was just given.
func closeFD(fd int) error { return wrap("close", unix.Close(fd)) }

func pending(fd int) (int, error) {
	n, err := unix.IoctlGetInt(fd, fionread)
	return n, wrap("ioctl", err)
}

// staleIsFree reports whether a closed descriptor number is still unused:
// fcntl(F_GETFD) fails with EBADF on a number that is not open.
func staleIsFree(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return errors.Is(err, unix.EBADF)
}

// retryEINTR repeats a call that a signal interrupted. Such signals are the Go
// runtime's own (SIGURG preemption, profiling), not the scenario's, so EINTR
// is never an observation here (signal(7): sockets calls are restartable).
func retryEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func familyUnavailable(err error) bool {
	return errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EADDRNOTAVAIL) ||
		errors.Is(err, unix.EPROTONOSUPPORT)
}

// fillSendBuffer sends with MSG_DONTWAIT (send(2)) until EAGAIN.
func fillSendBuffer(fd int) (int, error) {
	chunk := make([]byte, 64<<10)
	total := 0
	for {
		n, err := unix.SendmsgN(fd, chunk, nil, nil, sendFlags|unix.MSG_DONTWAIT)
		total += max(n, 0)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return total, nil
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return total, wrap("sendmsg", err)
		}
	}
}
