package probes

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Sockets on a given address, for the network scenarios: their two ends live
// in two network namespaces and use the addresses of the link between them
// instead of loopback. The portable part is here; bindListenAddr,
// connectAddr and setUserTimeout are per OS (sys_unix.go and addr_linux.go;
// addr_nobindaddr.go and addr_nousertimeout.go report ErrUnsupported where
// they are missing, as no other OS has a caller for them yet).

// ErrWildcard is returned for an unspecified address (0.0.0.0, ::):
// closematrix binds and connects to one address, never to every address of
// the host.
var ErrWildcard = errors.New("unspecified (wildcard) address")

// addrFamily checks a and returns its family: IPv4 (also when written as
// ::ffff:a.b.c.d) or IPv6 without a zone.
func addrFamily(a netip.Addr) (netip.Addr, Family, error) {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return a, "", errors.New("no address")
	case a.IsUnspecified():
		return a, "", fmt.Errorf("%w: %v", ErrWildcard, a)
	case a.Zone() != "":
		return a, "", fmt.Errorf("%v: scoped addresses are not supported", a)
	case a.Is4():
		return a, V4, nil
	}
	return a, V6, nil
}

// newSocketFor wraps socket(2) for a's family; a family the system lacks
// (no IPv6) is reported as ErrFamilyUnavailable, as Listen does.
func newSocketFor(f Family) (sysfd, error) {
	if err := Start(); err != nil {
		return sysfd(0), err
	}
	fd, err := newSocket(f)
	if err != nil && familyUnavailable(err) {
		return fd, fmt.Errorf("%w: %w", ErrFamilyUnavailable, err)
	}
	return fd, err
}

// ListenAddr wraps socket(2), bind(2) to a on an ephemeral port, and
// listen(2). a must be one address of this host (of the calling thread's
// network namespace on Linux), never a wildcard. Unlike Listen, a bind that
// fails because a is not (yet) an address here is an error, not
// ErrFamilyUnavailable: the caller configured a and expects it to work.
func ListenAddr(a netip.Addr) (*Listener, error) {
	a, f, err := addrFamily(a)
	if err != nil {
		return nil, fmt.Errorf("listen on %v: %w", a, err)
	}
	fd, err := newSocketFor(f)
	if err != nil {
		return nil, err
	}
	port, err := bindListenAddr(fd, a)
	if err != nil {
		closeFD(fd)
		return nil, err
	}
	return &Listener{fd: fd, family: f, port: port}, nil
}

// DialAddr wraps socket(2) and a blocking connect(2) to ap; the system picks
// the local address and port (its route to ap).
func DialAddr(ap netip.AddrPort) (*Socket, error) {
	a, f, err := addrFamily(ap.Addr())
	if err != nil {
		return nil, fmt.Errorf("connect to %v: %w", ap, err)
	}
	if ap.Port() == 0 {
		return nil, fmt.Errorf("connect to %v: no port", ap)
	}
	fd, err := newSocketFor(f)
	if err != nil {
		return nil, err
	}
	if err := connectAddr(fd, netip.AddrPortFrom(a, ap.Port())); err != nil {
		closeFD(fd)
		return nil, err
	}
	return newConnected(fd)
}

// SetUserTimeout wraps setsockopt(TCP_USER_TIMEOUT) (RFC 5482; tcp(7), since
// Linux 2.6.37): how long transmitted data may stay unacknowledged before the
// system gives the connection up and its calls fail (ETIMEDOUT). d is rounded
// down to milliseconds; 0 restores the system default. Where the option does
// not exist it returns an error wrapping ErrUnsupported.
func (s *Socket) SetUserTimeout(d time.Duration) error {
	ms := d.Milliseconds()
	if ms < 0 || ms > maxUserTimeoutMS {
		return fmt.Errorf("TCP_USER_TIMEOUT %v: out of range", d)
	}
	_, err := s.call(func(fd sysfd) (int, error) { return 0, setUserTimeout(fd, int(ms)) })
	return err
}

// maxUserTimeoutMS is the largest TCP_USER_TIMEOUT: the kernel takes an int
// and rejects negative values (net/ipv4/tcp.c, do_tcp_setsockopt).
const maxUserTimeoutMS = 1<<31 - 1
