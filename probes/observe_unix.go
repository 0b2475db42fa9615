//go:build linux || darwin || freebsd

package probes

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// sockConn reads a connected socket's 4-tuple with getsockname(2) and
// getpeername(2).
func sockConn(fd int) (Conn4, error) {
	l, err := unix.Getsockname(fd)
	if err != nil {
		return Conn4{}, wrap("getsockname", err)
	}
	r, err := unix.Getpeername(fd)
	if err != nil {
		return Conn4{}, wrap("getpeername", err)
	}
	return Conn4{Local: addrPort(l), Remote: addrPort(r)}, nil
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// pollEvents wraps poll(2) with a zero timeout, asking for input, output and
// (where it exists) peer half-close; POLLHUP and POLLERR are always reported.
func pollEvents(fd int) ([]string, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLOUT | pollRdHup}}
	var err error
	for {
		if _, err = unix.Poll(fds, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, wrap("poll", err)
	}
	var ev []string
	for _, e := range []struct {
		bit  int16
		name string
	}{{unix.POLLIN, PollIn}, {unix.POLLOUT, PollOut}, {unix.POLLHUP, PollHup}, {unix.POLLERR, PollErr}, {pollRdHup, PollRdHup}} {
		if e.bit != 0 && fds[0].Revents&e.bit != 0 {
			ev = append(ev, e.name)
		}
	}
	return ev, nil
}

// soError wraps getsockopt(SO_ERROR): the pending error as an errno, or nil.
func soError(fd int) (pending, err error) {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return nil, wrap("getsockopt", err)
	}
	if v != 0 {
		return wrap("SO_ERROR", unix.Errno(v)), nil
	}
	return nil, nil
}
