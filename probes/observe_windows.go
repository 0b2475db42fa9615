package probes

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Constants that golang.org/x/sys/windows does not define, with their
// Windows SDK source.
const (
	// SO_ERROR (winsock2.h: #define SO_ERROR 0x1007): the pending error,
	// cleared by reading it ("SOL_SOCKET Socket Options").
	soErrorOpt = 0x1007

	// WSAPoll event bits (winsock2.h, "Event flag definitions for
	// WSAPoll()"; learn.microsoft.com, "WSAPOLLFD structure"). They are not
	// poll(2)'s values: POLLIN is POLLRDNORM|POLLRDBAND, POLLOUT is
	// POLLWRNORM.
	pollRdNorm = 0x0100
	pollRdBand = 0x0200
	pollWrNorm = 0x0010
	pollErr    = 0x0001
	pollHup    = 0x0002
	pollNval   = 0x0004
)

// pollNvalName is POLLNVAL, which WSAPoll reports for "an invalid socket"
// (WSAPOLLFD structure); poll(2) on Unix has it too, but observe.go names only
// the events the probes expect.
const pollNvalName = "POLLNVAL"

// wsaPollFD is WSAPOLLFD {SOCKET fd; SHORT events; SHORT revents}
// (winsock2.h). Go lays it out as C does: 16 bytes on 64-bit Windows, 8 on
// 32-bit.
type wsaPollFD struct {
	fd      windows.Handle
	events  int16
	revents int16
}

// WSAPoll is not wrapped by x/sys (ws2_32.dll, Windows Vista and later).
var procWSAPoll = modws2_32.NewProc("WSAPoll")

// sockConn reads a connected socket's 4-tuple with getsockname and
// getpeername.
func sockConn(fd windows.Handle) (Conn4, error) {
	l, err := windows.Getsockname(fd)
	if err != nil {
		return Conn4{}, wrap("getsockname", err)
	}
	r, err := windows.Getpeername(fd)
	if err != nil {
		return Conn4{}, wrap("getpeername", err)
	}
	return Conn4{Local: addrPort(l), Remote: addrPort(r)}, nil
}

func addrPort(sa windows.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *windows.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// pollEvents wraps WSAPoll of one socket with a zero timeout, asking for
// POLLRDNORM|POLLWRNORM; POLLERR, POLLHUP and POLLNVAL are reported whatever
// was asked (WSAPOLLFD structure). WSAPoll returns SOCKET_ERROR on failure,
// else the number of sockets with events (WSAPoll function).
func pollEvents(fd windows.Handle) ([]string, error) {
	fds := []wsaPollFD{{fd: fd, events: pollRdNorm | pollWrNorm}}
	r, _, e := syscall.SyscallN(procWSAPoll.Addr(), uintptr(unsafe.Pointer(&fds[0])), 1, 0)
	if ret32(r) == socketError {
		return nil, wrap("wsapoll", lastError(e))
	}
	return pollNames(fds[0].revents), nil
}

// pollNames turns WSAPoll's revents into the names poll(2) uses: POLLIN for
// normal or band data, POLLOUT for POLLWRNORM.
func pollNames(revents int16) []string {
	var ev []string
	for _, e := range []struct {
		bits int16
		name string
	}{
		{pollRdNorm | pollRdBand, PollIn},
		{pollWrNorm, PollOut},
		{pollHup, PollHup},
		{pollErr, PollErr},
		{pollNval, pollNvalName},
	} {
		if revents&e.bits != 0 {
			ev = append(ev, e.name)
		}
	}
	return ev
}

// soError wraps getsockopt(SOL_SOCKET, SO_ERROR): the pending error as a
// windows.Errno, or nil.
func soError(fd windows.Handle) (pending, err error) {
	v, err := windows.GetsockoptInt(fd, windows.SOL_SOCKET, soErrorOpt)
	if err != nil {
		return nil, wrap("getsockopt", err)
	}
	if v != 0 {
		return wrap("SO_ERROR", windows.Errno(v)), nil
	}
	return nil, nil
}
