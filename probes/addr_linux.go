package probes

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// sockaddr is ap as a socket address; addrFamily has checked it (no zone,
// IPv4 unmapped).
func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// bindListenAddr is bindListen (sys_unix.go) on address a instead of
// loopback: bind(2) to a, port 0; listen(2); getsockname(2) for the port.
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

// connectAddr is connect (sys_unix.go) to ap instead of loopback.
func connectAddr(fd int, ap netip.AddrPort) error {
	return wrap("connect", retryEINTR(func() error { return unix.Connect(fd, sockaddr(ap)) }))
}

// setUserTimeout sets TCP_USER_TIMEOUT in milliseconds (tcp(7)).
func setUserTimeout(fd int, ms int) error {
	return wrap("setsockopt", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms))
}
