package probes

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// pollRdHup is 0: darwin's poll(2) has no POLLRDHUP (xnu bsd/sys/poll.h
// defines POLLIN … POLLNVAL and POLLEXTEND, POLLATTRIB, POLLNLINK, POLLWRITE
// only), and pollEvents skips a zero bit.
const pollRdHup = 0

// xnuStates maps xnu's TCPS_* numbers (bsd/netinet/tcp_fsm.h), used by
// TCP_CONNECTION_INFO's tcpi_state and by pcblist_n's t_state, to RFC 793
// names.
var xnuStates = map[int32]string{
	0: StateClosed, 1: StateListen, 2: StateSynSent, 3: StateSynReceived,
	4: StateEstablished, 5: StateCloseWait, 6: StateFinWait1, 7: StateClosing,
	8: StateLastAck, 9: StateFinWait2, 10: StateTimeWait,
}

func stateName(n int32) string {
	if s, ok := xnuStates[n]; ok {
		return s
	}
	return fmt.Sprintf("STATE_%d", n)
}

// tcpState reads tcpi_state from getsockopt(IPPROTO_TCP, TCP_CONNECTION_INFO)
// (<netinet/tcp.h>, struct tcp_connection_info), which xnu fills with the
// connection's t_state (bsd/netinet/tcp_usrreq.c, tcp_connection_fill_info).
func tcpState(fd int) (string, error) {
	ti, err := unix.GetsockoptTCPConnectionInfo(fd, unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	if err != nil {
		return "", wrap("getsockopt", err)
	}
	return stateName(int32(ti.State)), nil
}

// pcblistName is the sysctl that netstat reads for TCP over IPv4 and IPv6
// alike: xnu keeps one PCB table for both (network_cmds netstat.tproj/inet.c).
const pcblistName = "net.inet.tcp.pcblist_n"

// lookupState finds the 4-tuple in sysctl net.inet.tcp.pcblist_n, which
// lists connections with no socket left too (FIN_WAIT_2, LAST_ACK, and
// TIME_WAIT: get_tcp_inp_list includes the time-wait list).
//
// The table is not available when the sysctl fails, or when it lists no
// connection at all. The latter guards against macOS 27, which is reported
// (pymobiledevice3 PR #1952; dotnet/runtime issue #133960) to give
// unprivileged callers only their own sockets, or nothing, from this sysctl;
// "none" then would be a guess, not an observation. Whether a filtered table
// still lists this process's orphaned connections is not known here: on such
// a system a "none" for a closed socket is suspect.
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
	conns, err := parsePcblistN(b)
	if err != nil {
		return nil, err
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

// pcblist reads the sysctl. unix.SysctlRaw asks for the size, then copies;
// the kernel's size estimate leaves room for n/8 more PCBs
// (bsd/netinet/in_pcblist.c), so ENOMEM, a table that outgrew it in between,
// is rare and retried.
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

// tablePoll and tablePollMax pace settleState's reads of the table: each sysctl of pcblist_n takes the TCP PCB list lock (bsd/netinet/in_pcblist.c, get_pcblist_n: lck_rw_lock_shared of the pcbinfo lock) and copies every connection; 1 ms doubling to 16 ms.
const (
	tablePoll    = time.Millisecond
	tablePollMax = 16 * time.Millisecond
)
