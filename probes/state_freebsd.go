package probes

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pollRdHup is POLLRDHUP, 0x4000 in sys/sys/poll.h ("half shut down"),
// added in FreeBSD 14.0; x/sys does not export it for freebsd. An older
// kernel ignores the unknown request bit and never reports it.
const pollRdHup = 0x4000

func stateName(n int32) string {
	if s, ok := freebsdStates[n]; ok {
		return s
	}
	return fmt.Sprintf("STATE_%d", n)
}

// tcpInfoBuf receives getsockopt(IPPROTO_TCP, TCP_INFO): struct tcp_info of
// sys/netinet/tcp.h, whose first member is u_int8_t tcpi_state (the
// connection's t_state; sys/netinet/tcp_usrreq.c, tcp_fill_info). The
// structure is 236 or 240 bytes depending on the release (FreeBSD 15 added
// 64-bit counters); the kernel copies at most the buffer's size
// (sooptcopyout), so a larger buffer fits every release, and only the first
// byte is read. x/sys has no TCPInfo type for freebsd.
type tcpInfoBuf [256]byte

// tcpState reads tcpi_state from TCP_INFO (tcp(4), "TCP_INFO ... struct
// tcp_info").
func tcpState(fd int) (string, error) {
	var buf tcpInfoBuf
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return "", wrap("getsockopt", e)
	}
	if l < 1 {
		return "", errors.New("getsockopt TCP_INFO: empty answer")
	}
	return stateName(int32(buf[0])), nil
}

// pcblistName is the sysctl that netstat(1) and sockstat(1) read for TCP:
// one table for IPv4 and IPv6 (sys/netinet/tcp_subr.c, tcp_pcblist).
const pcblistName = "net.inet.tcp.pcblist"

// lookupState finds the 4-tuple in sysctl net.inet.tcp.pcblist, which lists
// every TCP PCB, those without a socket (FIN_WAIT_2, LAST_ACK, TIME_WAIT)
// included (parsed by parseXtcpcbList, xtcpcb.go).
//
// The table is not available when the sysctl fails or lists no connection
// at all: a jail or security.bsd.see_other_uids=0 can hide others' sockets
// (cr_canseeinpcb), and "none" then would be a guess.
func lookupState(c Conn4) (string, error) {
	st, err := lookupStates(c)
	if err != nil {
		return "", err
	}
	return st[0], nil
}

// lookupStates finds every 4-tuple of cs in one read of the table (see
// lookupState): both ends of a connection, as settle_bsd.go asks.
func lookupStates(cs ...Conn4) ([]string, error) {
	b, err := pcblist()
	if err != nil {
		return nil, err
	}
	conns, err := parseXtcpcbList(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStateUnavailable, err)
	}
	if len(conns) == 0 {
		return nil, fmt.Errorf("%w: sysctl %s lists no TCP connection at all", ErrStateUnavailable, pcblistName)
	}
	states := make([]string, len(cs))
	for i, c := range cs {
		states[i] = StateNone
		if st, ok := findPcb(conns, c); ok {
			states[i] = stateName(st)
		}
	}
	return states, nil
}

// tablePoll and tablePollMax pace settleState's reads of the table: each
// sysctl of net.inet.tcp.pcblist walks every TCP PCB and copies it out
// (tcp_pcblist), as darwin's pcblist_n does; 1 ms doubling to 16 ms, as there.
const (
	tablePoll    = time.Millisecond
	tablePollMax = 16 * time.Millisecond
)

// pcblist reads the sysctl. unix.SysctlRaw asks for the size, then copies;
// the kernel's size estimate leaves room for more PCBs (tcp_pcblist), so
// ENOMEM, a table that outgrew it in between, is rare and retried.
func pcblist() ([]byte, error) {
	for i := 0; ; i++ {
		b, err := unix.SysctlRaw(pcblistName)
		if errors.Is(err, unix.ENOMEM) && i < 4 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: sysctl %s: %w", ErrStateUnavailable, pcblistName, err)
		}
		return b, nil
	}
}
