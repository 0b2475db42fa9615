package probes

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// This file parses FreeBSD's sysctl net.inet.tcp.pcblist. It has no build
// tag, so that the parser is tested on every OS (xtcpcb_test.go); only
// state_freebsd.go calls it on a live system.
//
// The answer (sys/netinet/tcp_subr.c, tcp_pcblist; read the same way by
// usr.bin/netstat/inet.c, protopr, and usr.bin/sockstat) is a struct xinpgen,
// then one struct xtcpcb per TCP PCB, then a closing struct xinpgen; netstat
// steps by each record's length and stops at one no longer than a xinpgen.
// The structures, for FreeBSD 14.x on LP64 (amd64, arm64), with offsets
// computed from the headers under the C rules (natural alignment;
// xtcpcb.xt_inp and xinpcb are __aligned(8)):
//
//   - struct xinpgen (sys/netinet/in_pcb.h): ksize_t xig_len, u_int
//     xig_count, uint32_t _xig_spare32, inp_gen_t xig_gen, so_gen_t
//     xig_sogen, uint64_t _xig_spare64[4]: 64 bytes.
//   - struct xtcpcb (sys/netinet/tcp_var.h): ksize_t xt_len 0, struct xinpcb
//     xt_inp 8, char xt_stack[TCP_FUNCTION_NAME_LEN_MAX = 32] 408, char
//     xt_logid[TCP_LOG_ID_LEN = 64] 440, char xt_cc[TCP_CA_NAME_MAX = 16]
//     504, int64_t spare64[6] 520, int32_t t_state 568, ...: 744 bytes.
//     (FreeBSD 12 had spare64[8] where 13 put xt_cc and spare64[6]: t_state
//     is at 568 in both.)
//   - struct xinpcb (sys/netinet/in_pcb.h): ksize_t xi_len 0, struct xsocket
//     xi_socket 8, struct in_conninfo inp_inc 248, uint64_t inp_gencnt 296,
//     ..., uint8_t inp_vflag 392, ...: 400 bytes.
//   - struct xsocket (sys/sys/socketvar.h): 240 bytes (ksize_t, three
//     kvaddr_t/uint64_t, int64_t so_spare64[8], seven 32-bit fields,
//     int32_t so_spare32[8], six 16-bit fields, two struct xsockbuf of 36).
//     Its own xso_len is 0 for a PCB that has no socket left (in_pcbtoxinpcb
//     fills xi_socket only when there is one), which is exactly the closed
//     socket looked up here: the offsets are fixed, not derived from it.
//   - struct in_conninfo (sys/netinet/in_pcb.h): u_int8_t inc_flags, inc_len,
//     u_int16_t inc_fibnum, then struct in_endpoints: u_int16_t ie_fport 4,
//     ie_lport 6 (network byte order), the foreign address 8 and the local
//     address 24, each a union of struct in_addr_4in6 {u_int32_t
//     ia46_pad32[3]; struct in_addr ia46_addr4} and struct in6_addr: an
//     IPv4 address is the union's last 4 bytes. (FreeBSD 15 renames the
//     union's members; the bytes stay where they are.)
//   - inp_vflag: INP_IPV4 0x1, INP_IPV6 0x2 (in_pcb.h).
//
// The lengths in the answer must be these, or the parser refuses rather than
// misreads: a release that moves the layout changes xt_len or xi_len. One
// exception, as netstat reads it (it never looks at xi_len): tcp_pcblist
// writes the syncache's entries first (syncache_pcblist, called before the
// PCB walk), each a zeroed struct xtcpcb with xt_len, inp_vflag, inp_inc and
// t_state = TCPS_SYN_RECEIVED filled in and xi_len never set
// (sys/netinet/tcp_syncache.c, syncache_pcblist). A record whose xi_len is 0
// is read as such an entry when its t_state is SYN_RECEIVED, and refused
// otherwise.
const (
	xinpgenLen = 64  // sizeof(struct xinpgen)
	xtcpcbLen  = 744 // sizeof(struct xtcpcb)
	xinpcbLen  = 400 // sizeof(struct xinpcb)

	xtInp    = 8   // xtcpcb.xt_inp
	xtTState = 568 // xtcpcb.t_state, int32_t

	xiInc   = 248 // xinpcb.inp_inc
	xiVflag = 392 // xinpcb.inp_vflag

	incFport = 4  // in_conninfo.inc_ie.ie_fport
	incLport = 6  // in_conninfo.inc_ie.ie_lport
	incFaddr = 8  // in_conninfo.inc_ie.ie_dependfaddr
	incLaddr = 24 // in_conninfo.inc_ie.ie_dependladdr

	// tcpsSynReceived is TCPS_SYN_RECEIVED (sys/netinet/tcp_fsm.h), the
	// state of every syncache entry.
	tcpsSynReceived = 3
)

// fbsdLE: the structures are in the host's byte order, and FreeBSD's
// supported targets here (amd64, arm64) are little-endian.
var fbsdLE = binary.LittleEndian

// parseXtcpcbList decodes a net.inet.tcp.pcblist answer into its
// connections (those with an INP_IPV4 or INP_IPV6 PCB).
func parseXtcpcbList(b []byte) ([]pcbConn, error) {
	if len(b) < xinpgenLen {
		return nil, fmt.Errorf("pcblist: %d bytes, shorter than struct xinpgen", len(b))
	}
	if hl := fbsdLE.Uint64(b); hl != xinpgenLen {
		return nil, fmt.Errorf("pcblist: xig_len %d, want %d", hl, xinpgenLen)
	}
	var conns []pcbConn
	for off := uint64(xinpgenLen); off+8 <= uint64(len(b)); {
		n := fbsdLE.Uint64(b[off:])
		if n <= xinpgenLen {
			break // the closing xinpgen
		}
		if n != xtcpcbLen {
			return nil, fmt.Errorf("pcblist: xt_len %d at %d, want %d", n, off, xtcpcbLen)
		}
		if off+n > uint64(len(b)) {
			return nil, fmt.Errorf("pcblist: xtcpcb at %d claims %d bytes, %d remain", off, n, uint64(len(b))-off)
		}
		rec := b[off : off+n]
		off += n
		inp := rec[xtInp:]
		state := int32(fbsdLE.Uint32(rec[xtTState:]))
		switch il := fbsdLE.Uint64(inp); {
		case il == 0 && state == tcpsSynReceived:
			// A syncache entry (see syncacheEntry).
		case il != xinpcbLen:
			return nil, fmt.Errorf("pcblist: xi_len %d (t_state %d), want %d, or 0 in SYN_RECEIVED", il, state, xinpcbLen)
		}
		local, remote, ok := xinpcbAddrs(inp)
		if !ok {
			continue
		}
		conns = append(conns, pcbConn{Local: local, Remote: remote, State: state})
	}
	return conns, nil
}

// xinpcbAddrs reads the local and foreign address and port of a struct
// xinpcb, checking INP_IPV6 first as netstat does: a PCB with both flags is
// an IPv6 socket that also takes IPv4, and a v4-mapped address still matches
// its IPv4 form in findPcb.
func xinpcbAddrs(inp []byte) (local, remote netip.AddrPort, ok bool) {
	inc := inp[xiInc:]
	lport := binary.BigEndian.Uint16(inc[incLport:])
	fport := binary.BigEndian.Uint16(inc[incFport:])
	var l, f netip.Addr
	switch v := inp[xiVflag]; {
	case v&inpIPv6 != 0:
		l = netip.AddrFrom16([16]byte(inc[incLaddr:]))
		f = netip.AddrFrom16([16]byte(inc[incFaddr:]))
	case v&inpIPv4 != 0:
		l = netip.AddrFrom4([4]byte(inc[incLaddr+ia46Addr4:]))
		f = netip.AddrFrom4([4]byte(inc[incFaddr+ia46Addr4:]))
	default:
		return netip.AddrPort{}, netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(l, lport), netip.AddrPortFrom(f, fport), true
}

// freebsdStates maps FreeBSD's TCPS_* numbers (sys/netinet/tcp_fsm.h), used
// by TCP_INFO's tcpi_state and by struct xtcpcb's t_state, to RFC 793 names.
// They are 4.4BSD's numbering, shared with xnu.
var freebsdStates = map[int32]string{
	0: StateClosed, 1: StateListen, 2: StateSynSent, 3: StateSynReceived,
	4: StateEstablished, 5: StateCloseWait, 6: StateFinWait1, 7: StateClosing,
	8: StateLastAck, 9: StateFinWait2, 10: StateTimeWait,
}
