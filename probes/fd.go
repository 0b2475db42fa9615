package probes

import (
	"time"

	"github.com/closematrix/closematrix/schema"
)

// Descriptor-level wrappers for sockets this package did not create: the Go
// net view (probes/gonet) reaches its *net.TCPConn's descriptor through
// syscall.RawConn.Control and observes it with the same per-OS code as the
// raw probes, so that both views read state, pending bytes and SO_ERROR
// alike. fd is the value Control passes: a file descriptor on Unix, a
// SOCKET handle on Windows. The caller owns it and keeps it open for the
// duration of the call (Control does).

// FDPending wraps ioctl(FIONREAD) / ioctlsocket(FIONREAD) on fd: the bytes
// waiting to be read (see Socket.Pending).
func FDPending(fd uintptr) (int, error) { return pending(sysfd(fd)) }

// FDSettle waits, up to bound, until fd has no sent data left
// unacknowledged: TCP_INFO tcpi_unacked (Linux), TCP_CONNECTION_INFO
// (darwin), SIO_TCP_INFO BytesInFlight (Windows); on darwin and FreeBSD
// also both ends' table entries and a loopback barrier, by fd's 4-tuple
// (settle.go). It reports whether that signal said so (see Socket.Settle).
func FDSettle(fd uintptr, bound time.Duration) bool { return settleFD(sysfd(fd), bound) }

// FDState is fd's live TCP state, from TCP_INFO (Linux), TCP_CONNECTION_INFO
// (darwin) or SIO_TCP_INFO (Windows), as an RFC 793 name. For a connection
// whose socket is closed, use LookupState.
func FDState(fd uintptr) (string, error) { return tcpState(sysfd(fd)) }

// FDSoError wraps getsockopt(SO_ERROR) on fd: the pending error, which
// reading clears; class ok means none (see Socket.SoError).
func FDSoError(fd uintptr) Outcome {
	pend, err := soError(sysfd(fd))
	if err != nil {
		return errOutcome(err)
	}
	return okOrErr(pend)
}

// FDConn wraps getsockname and getpeername on fd: the connection's 4-tuple,
// as the raw probes read it for a socket they connected or accepted.
func FDConn(fd uintptr) (Conn4, error) { return sockConn(sysfd(fd)) }

// SettleState waits, up to bound, until the table entry of connection c
// (/proc/net/tcp, pcblist_n, GetTcpTable2) has left the states that await an
// ACK: what Socket.Settle does for a socket already closed (on darwin and
// FreeBSD both ends' entries and a loopback barrier, settle.go). It reports
// whether the table said so.
func SettleState(c Conn4, bound time.Duration) bool { return settleConn(c, bound) }

// ClassifyErrno finds the platform error number inside err (errors.As to
// unix.Errno or windows.Errno, both syscall.Errno) and returns its class, its
// C or SDK constant name and its number, through the per-OS table of
// classify_unix.go / classify_windows.go. Without a number inside it returns
// class other, "" and 0.
func ClassifyErrno(err error) (schema.Class, string, int) { return classify(err) }

// FamilyUnavailable reports whether err says that a loopback family cannot be
// used here (no ::1, IPv6 disabled): EAFNOSUPPORT, EADDRNOTAVAIL,
// EPROTONOSUPPORT and their Winsock counterparts, found by value. A caller
// wraps such an error with ErrFamilyUnavailable.
func FamilyUnavailable(err error) bool { return familyUnavailable(err) }
