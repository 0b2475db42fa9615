package probes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows numbers TCP states twice, so there are two tables: TCPSTATE for
// SIO_TCP_INFO and MIB_TCP_STATE for the IP Helper tables.

// tcpStates maps TCPSTATE (mstcpip.h; learn.microsoft.com, "TCPSTATE
// enumeration"), TCP_INFO_v0's State, to RFC 793 names.
var tcpStates = map[int32]string{
	0: StateClosed, 1: StateListen, 2: StateSynSent, 3: StateSynReceived,
	4: StateEstablished, 5: StateFinWait1, 6: StateFinWait2, 7: StateCloseWait,
	8: StateClosing, 9: StateLastAck, 10: StateTimeWait,
}

// mibStates maps MIB_TCP_STATE (tcpmib.h; learn.microsoft.com, "MIB_TCPROW2
// structure", and MS-RRASM 2.2.1.1.11), the State of a GetTcpTable2 row, to
// RFC 793 names. MIB_TCP_STATE_DELETE_TCB (12), a TCB being deleted, is
// RFC 793's CLOSED: "no connection state at all".
var mibStates = map[uint32]string{
	1: StateClosed, 2: StateListen, 3: StateSynSent, 4: StateSynReceived,
	5: StateEstablished, 6: StateFinWait1, 7: StateFinWait2, 8: StateCloseWait,
	9: StateClosing, 10: StateLastAck, 11: StateTimeWait, 12: StateClosed,
}

func tcpStateName(n int32) string {
	if s, ok := tcpStates[n]; ok {
		return s
	}
	return fmt.Sprintf("TCPSTATE_%d", n)
}

func mibStateName(n uint32) string {
	if s, ok := mibStates[n]; ok {
		return s
	}
	return fmt.Sprintf("MIB_TCP_STATE_%d", n)
}

// tcpState reads TCP_INFO_v0's State through WSAIoctl(SIO_TCP_INFO), which
// Windows has since 10 1703. Systems without it refuse the ioctl: the WSAIoctl
// function documents WSAEINVAL for an unknown code and WSAEOPNOTSUPP for one
// that "cannot be realized"; Wine 8 answers WSAEOPNOTSUPP. State then looks
// the connection up with GetTcpTable2 instead.
//
// After a reset a still-open socket's connection is gone. Whether Windows
// then answers TCPSTATE_CLOSED or fails the ioctl is not documented; either
// way the word is CLOSED: TCPSTATE_CLOSED maps to it, and a failed ioctl
// falls back to the table, where no row for an open socket reads CLOSED
// too (Socket.State).
func tcpState(fd windows.Handle) (string, error) {
	ti, err := tcpInfo(fd)
	if err != nil {
		if errors.Is(err, windows.WSAEOPNOTSUPP) || errors.Is(err, windows.WSAEINVAL) {
			return "", fmt.Errorf("%w: %w", ErrStateUnavailable, err)
		}
		return "", err
	}
	return tcpStateName(ti.State), nil
}

// GetTcpTable2 and GetTcp6Table2 (iphlpapi.dll, Windows Vista and later) are
// not wrapped by x/sys.
var (
	modiphlpapi       = windows.NewLazySystemDLL("iphlpapi.dll")
	procGetTcpTable2  = modiphlpapi.NewProc("GetTcpTable2")
	procGetTcp6Table2 = modiphlpapi.NewProc("GetTcp6Table2")
)

// lookupState finds the 4-tuple in the IPv4 or IPv6 TCP table, which lists
// connections that no socket holds any more (FIN_WAIT_2, LAST_ACK,
// TIME_WAIT) as netstat shows them. A connection of an IPv6 socket is in the
// IPv6 table even when its addresses are v4-mapped.
func lookupState(c Conn4) (string, error) {
	proc, parse := procGetTcpTable2, parseTcpTable2
	if !c.Local.Addr().Is4() {
		proc, parse = procGetTcp6Table2, parseTcp6Table2
	}
	b, err := tcpTable(proc)
	if err != nil {
		return "", err
	}
	rows, err := parse(b)
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		if sameAddrPort(r.local, c.Local) && sameAddrPort(r.remote, c.Remote) {
			return mibStateName(r.state), nil
		}
	}
	return StateNone, nil
}

// tcpTable calls GetTcpTable2 or GetTcp6Table2 with Order FALSE: first with
// no buffer, which answers ERROR_INSUFFICIENT_BUFFER and the size, then with
// a buffer of that size, again if the table grew in between.
func tcpTable(proc *windows.LazyProc) ([]byte, error) {
	if err := proc.Find(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStateUnavailable, err)
	}
	var (
		size uint32
		buf  []uint32 // DWORD-aligned, as the table's DWORDs need
	)
	for i := 0; ; i++ {
		var p unsafe.Pointer
		if len(buf) > 0 {
			p = unsafe.Pointer(&buf[0])
		}
		r, _, _ := syscall.SyscallN(proc.Addr(), uintptr(p), uintptr(unsafe.Pointer(&size)), 0)
		switch e := windows.Errno(ret32(r)); { // a DWORD
		case e == windows.ERROR_SUCCESS && len(buf) > 0:
			return unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 4*len(buf)), nil
		case e == windows.ERROR_SUCCESS || e == windows.ERROR_INSUFFICIENT_BUFFER:
			// Success without a buffer is not documented; ask again
			// with one, as for ERROR_INSUFFICIENT_BUFFER.
			if i == 5 {
				return nil, fmt.Errorf("%s: no table after %d calls (last answer %d, size %d)", proc.Name, i+1, uint32(e), size)
			}
			buf = make([]uint32, max(1, (size+3)/4))
		case e == windows.ERROR_NOT_SUPPORTED || e == windows.ERROR_CALL_NOT_IMPLEMENTED:
			return nil, fmt.Errorf("%w: %w", ErrStateUnavailable, wrap(proc.Name, e))
		default:
			return nil, wrap(proc.Name, e)
		}
	}
}

// mibRow is one connection of a MIB_TCPTABLE2 or MIB_TCP6TABLE2.
type mibRow struct {
	local, remote netip.AddrPort
	state         uint32 // MIB_TCP_STATE
}

// Layouts (tcpmib.h; learn.microsoft.com, "MIB_TCPTABLE2", "MIB_TCPROW2",
// "MIB_TCP6TABLE2", "MIB_TCP6ROW2"). A table is DWORD dwNumEntries, then the
// rows, whose DWORDs align them at 4. Addresses are in network byte order;
// a port DWORD holds the port in network byte order in its low 16 bits (its
// first two bytes, Windows being little-endian), and "the upper 16 bits may
// contain uninitialized data".
const (
	mibTableRows = 4 // after DWORD dwNumEntries

	// MIB_TCPROW2: DWORD dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr,
	// dwRemotePort, dwOwningPid; TCP_CONNECTION_OFFLOAD_STATE dwOffloadState.
	tcpRow2Size       = 28
	tcpRow2State      = 0
	tcpRow2LocalAddr  = 4
	tcpRow2LocalPort  = 8
	tcpRow2RemoteAddr = 12
	tcpRow2RemotePort = 16

	// MIB_TCP6ROW2: IN6_ADDR LocalAddr; DWORD dwLocalScopeId, dwLocalPort;
	// IN6_ADDR RemoteAddr; DWORD dwRemoteScopeId, dwRemotePort;
	// MIB_TCP_STATE State; DWORD dwOwningPid; TCP_CONNECTION_OFFLOAD_STATE
	// dwOffloadState.
	tcp6Row2Size       = 60
	tcp6Row2LocalAddr  = 0
	tcp6Row2LocalPort  = 20
	tcp6Row2RemoteAddr = 24
	tcp6Row2RemotePort = 44
	tcp6Row2State      = 48
)

// parseTcpTable2 decodes a MIB_TCPTABLE2.
func parseTcpTable2(b []byte) ([]mibRow, error) {
	return parseMIBTable(b, "MIB_TCPTABLE2", tcpRow2Size, func(r []byte) mibRow {
		return mibRow{
			local:  netip.AddrPortFrom(netip.AddrFrom4([4]byte(r[tcpRow2LocalAddr:])), binary.BigEndian.Uint16(r[tcpRow2LocalPort:])),
			remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte(r[tcpRow2RemoteAddr:])), binary.BigEndian.Uint16(r[tcpRow2RemotePort:])),
			state:  binary.LittleEndian.Uint32(r[tcpRow2State:]),
		}
	})
}

// parseTcp6Table2 decodes a MIB_TCP6TABLE2. Scope IDs are not compared:
// loopback's is 0.
func parseTcp6Table2(b []byte) ([]mibRow, error) {
	return parseMIBTable(b, "MIB_TCP6TABLE2", tcp6Row2Size, func(r []byte) mibRow {
		return mibRow{
			local:  netip.AddrPortFrom(netip.AddrFrom16([16]byte(r[tcp6Row2LocalAddr:])), binary.BigEndian.Uint16(r[tcp6Row2LocalPort:])),
			remote: netip.AddrPortFrom(netip.AddrFrom16([16]byte(r[tcp6Row2RemoteAddr:])), binary.BigEndian.Uint16(r[tcp6Row2RemotePort:])),
			state:  binary.LittleEndian.Uint32(r[tcp6Row2State:]),
		}
	})
}

func parseMIBTable(b []byte, name string, rowSize int, row func([]byte) mibRow) ([]mibRow, error) {
	if len(b) < mibTableRows {
		return nil, fmt.Errorf("%s: %d bytes, no dwNumEntries", name, len(b))
	}
	n := uint64(binary.LittleEndian.Uint32(b))
	if have := uint64(len(b)-mibTableRows) / uint64(rowSize); n > have {
		return nil, fmt.Errorf("%s: dwNumEntries %d, but %d bytes hold %d rows", name, n, len(b), have)
	}
	rows := make([]mibRow, 0, n)
	for i := range int(n) {
		off := mibTableRows + i*rowSize
		rows = append(rows, row(b[off:off+rowSize]))
	}
	return rows, nil
}

// tablePoll and tablePollMax pace settleState's reads of the table: GetTcpTable2 is a copy of the table: a fixed 50 µs, as before.
const (
	tablePoll    = 50 * time.Microsecond
	tablePollMax = 50 * time.Microsecond
)
