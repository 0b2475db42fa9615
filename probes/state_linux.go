package probes

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pollRdHup is POLLRDHUP: the peer closed its writing half (poll(2), Linux 2.6.17).
const pollRdHup = unix.POLLRDHUP

// linuxStates maps Linux's state numbers (include/net/tcp_states.h), used by
// both TCP_INFO's tcpi_state and /proc/net/tcp's st column, to RFC 793 names.
var linuxStates = map[uint8]string{
	1: StateEstablished, 2: StateSynSent, 3: StateSynReceived, 4: StateFinWait1,
	5: StateFinWait2, 6: StateTimeWait, 7: StateClosed, 8: StateCloseWait,
	9: StateLastAck, 10: StateListen, 11: StateClosing, 12: StateSynReceived, // 12: TCP_NEW_SYN_RECV
}

func stateName(n uint8) string {
	if s, ok := linuxStates[n]; ok {
		return s
	}
	return fmt.Sprintf("STATE_%d", n)
}

// tcpState reads tcpi_state from TCP_INFO (tcp(7)).
func tcpState(fd int) (string, error) {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return "", wrap("getsockopt", err)
	}
	return stateName(ti.State), nil
}

// lookupState scans /proc/net/tcp or /proc/net/tcp6 (proc(5)) for the
// 4-tuple. Orphaned and TIME_WAIT connections are listed there too.
func lookupState(c Conn4) (string, error) {
	path := "/proc/net/tcp"
	if c.Local.Addr().Is6() {
		path = "/proc/net/tcp6"
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	local, remote := procAddr(c.Local), procAddr(c.Remote)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[1] != local || fields[2] != remote {
			continue
		}
		st, err := strconv.ParseUint(fields[3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%s: state %q: %w", path, fields[3], err)
		}
		return stateName(uint8(st)), nil
	}
	return StateNone, sc.Err()
}

// procAddr formats an address as /proc/net/tcp does: each 32-bit word of the
// address as it lies in memory (network order), read as a host-order number
// and printed %08X; then ":" and the port, %04X.
func procAddr(ap netip.AddrPort) string {
	raw := ap.Addr().AsSlice()
	var sb strings.Builder
	for i := 0; i+4 <= len(raw); i += 4 {
		fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(raw[i:]))
	}
	fmt.Fprintf(&sb, ":%04X", ap.Port())
	return sb.String()
}

// tablePoll and tablePollMax pace settleState's reads of the table: /proc/net/tcp is read without a global lock worth sparing: a fixed 50 µs.
const (
	tablePoll    = 50 * time.Microsecond
	tablePollMax = 50 * time.Microsecond
)
