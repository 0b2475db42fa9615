//go:build linux || darwin || freebsd

package probes

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// loopbackBarrier sends one UDP datagram from a socket of its own to itself
// over loopback in c's family (127.0.0.1 or ::1) and waits, up to bound,
// until that datagram is received: the barrier of endsSettler (settle.go).
// A datagram sent to itself carries a random token, so nothing else that
// reaches the port counts. Only darwin and FreeBSD settle with it; it is
// portable, and Linux's tests play it for real.
//
// The socket is made close-on-exec under syscall.ForkLock (darwin's socket(2)
// has no SOCK_CLOEXEC: xnu bsd/sys/socket.h defines no such type flag), and is not lifted above fdFloor: a number below the
// floor is never one of our closed sockets' (sys_unix.go).
func loopbackBarrier(c Conn4, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	f := V4
	if !c.Local.Addr().Unmap().Is4() {
		f = V6
	}
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(domain(f), unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return wrap("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		return wrap("fcntl", err)
	}
	if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(loopback(f), 0))); err != nil {
		return wrap("bind", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return wrap("getsockname", err)
	}
	var token [16]byte
	rand.Read(token[:])
	if err := retryEINTR(func() error { return unix.Sendto(fd, token[:], 0, sa) }); err != nil {
		return wrap("sendto", err)
	}
	buf := make([]byte, len(token)+1)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		switch {
		case err == nil && n == len(token) && [16]byte(buf[:n]) == token:
			return nil
		case err == nil, errors.Is(err, unix.EINTR):
			continue // not ours
		case !errors.Is(err, unix.EAGAIN):
			return wrap("recvfrom", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errBarrierBound
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		// poll(2) takes milliseconds: round up, so that a bound under 1 ms
		// still waits instead of spinning.
		if _, err := unix.Poll(fds, int((left+time.Millisecond-1)/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("barrier: %w", wrap("poll", err))
		}
	}
}
