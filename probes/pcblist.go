package probes

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// This file parses darwin's sysctl net.inet.tcp.pcblist_n. It has no build
// tag, so that the parser is tested on every OS (pcblist_test.go); only
// state_darwin.go calls it on a live system.
//
// The layout comes from xnu (github.com/apple-oss-distributions/xnu):
//
//   - bsd/netinet/in_pcblist.c, get_pcblist_n: the answer is a struct xinpgen,
//     then for every PCB one group of records, each padded to 8 bytes
//     (ROUNDUP64): xinpcb_n, xsocket_n, xsockbuf_n (receive), xsockbuf_n
//     (send), xsockstat_n and, for TCP, xtcpcb_n; then a closing xinpgen.
//     Every record starts with struct xgen_n {u_int32_t xgn_len; u_int32_t
//     xgn_kind}.
//   - Apple's netstat (network_cmds, netstat.tproj/inet.c, protopr) walks it
//     that way: it starts at ROUNDUP64(xig_len), steps by ROUNDUP64(xgn_len),
//     stops at a record no longer than a struct xinpgen (the closing one), and
//     uses a PCB once it has seen one record of every kind.
//
// These structures are PRIVATE in xnu (not in the SDK), so the offsets below
// are transcribed from the headers. xinpcb_n and xinpgen are declared between
// "#pragma pack(4)" and "#pragma pack()" in bsd/netinet/in_pcb.h, so their
// u_int64_t fields are only 4-aligned: that puts inp_vflag at 44, not 48.
// Darwin runs little-endian only (amd64, arm64); the ports are stored in
// network byte order.
const (
	// sizeof(struct xinpgen) under pack(4): u_int32_t xig_len, u_int
	// xig_count, inp_gen_t xig_gen, so_gen_t xig_sogen (in_pcb.h).
	xinpgenSize = 24

	// xgn_kind values (bsd/sys/socketvar.h, XSO_*).
	xsoSocket = 0x001
	xsoRcvbuf = 0x002
	xsoSndbuf = 0x004
	xsoStats  = 0x008
	xsoInpcb  = 0x010
	xsoTcpcb  = 0x020
	// xsoAllTCP is netstat's ALL_XGN_KIND_TCP: one group is complete.
	xsoAllTCP = xsoSocket | xsoRcvbuf | xsoSndbuf | xsoStats | xsoInpcb | xsoTcpcb

	// struct xinpcb_n (in_pcb.h, pack(4)): xi_len 0, xi_kind 4, xi_inpp 8,
	// inp_fport 16, inp_lport 18, inp_ppcb 20, inp_gencnt 28, inp_flags 36,
	// inp_flow 40, inp_vflag 44, inp_ip_ttl 45, inp_ip_p 46,
	// inp_dependfaddr 48, inp_dependladdr 64, inp_depend4 80, inp_depend6 84,
	// inp_flowhash 96, inp_flags2 100: 104 bytes.
	xinpFport = 16 // u_short, network byte order
	xinpLport = 18 // u_short, network byte order
	xinpVflag = 44 // u_char: INP_IPV4, INP_IPV6
	xinpFaddr = 48 // union {struct in_addr_4in6; struct in6_addr}, 16 bytes
	xinpLaddr = 64 // the same union, for the local address
	xinpMin   = xinpLaddr + 16

	// inp_vflag bits (in_pcb.h).
	inpIPv4 = 0x1
	inpIPv6 = 0x2

	// struct in_addr_4in6 {u_int32_t ia46_pad32[3]; struct in_addr
	// ia46_addr4} (in_pcb.h): an IPv4 address is the union's last 4 bytes.
	ia46Addr4 = 12

	// struct xtcpcb_n (bsd/netinet/tcp_var.h): xt_len 0, xt_kind 4,
	// u_int64_t t_segq 8, int t_dupacks 16, int t_timer[TCPT_NTIMERS_EXT]
	// 20 (TCPT_NTIMERS_EXT is 4, bsd/netinet/tcp_timer.h), int t_state 36.
	// Packing does not move these: every field is naturally aligned.
	xtState = 36
	xtMin   = xtState + 4
)

// pcbConn is one TCP connection listed by pcblist_n.
type pcbConn struct {
	Local, Remote netip.AddrPort
	State         int32 // t_state: xnu's TCPS_* numbering (tcp_fsm.h)
}

var xnuLE = binary.LittleEndian

// parsePcblistN decodes a net.inet.tcp.pcblist_n answer into its connections.
// A group is used once it holds one record of each of the six kinds, as netstat
// does; a kind seen twice starts a new group (netstat would only complain), and
// kinds this parser does not know are skipped by their length.
func parsePcblistN(b []byte) ([]pcbConn, error) {
	if len(b) < xinpgenSize {
		return nil, fmt.Errorf("pcblist_n: %d bytes, shorter than struct xinpgen", len(b))
	}
	if hl := xnuLE.Uint32(b); hl != xinpgenSize {
		// A different header size means the layout moved: refuse rather
		// than misread.
		return nil, fmt.Errorf("pcblist_n: xig_len %d, want %d", hl, xinpgenSize)
	}
	var (
		conns []pcbConn
		which uint32
		cur   pcbConn
		inet  bool // cur has addresses from an INP_IPV4 or INP_IPV6 xinpcb_n
	)
	for off := uint64(roundup64(xinpgenSize)); off+8 <= uint64(len(b)); {
		n, kind := uint64(xnuLE.Uint32(b[off:])), xnuLE.Uint32(b[off+4:])
		if n <= xinpgenSize {
			break // the closing xinpgen
		}
		if off+n > uint64(len(b)) {
			return nil, fmt.Errorf("pcblist_n: record of kind %#x at %d claims %d bytes, %d remain", kind, off, n, uint64(len(b))-off)
		}
		rec := b[off : off+n]
		off += roundup64(n)

		kind &= xsoAllTCP
		if kind == 0 {
			continue
		}
		if which&kind != 0 {
			which, cur, inet = 0, pcbConn{}, false
		}
		which |= kind
		switch kind {
		case xsoInpcb:
			if len(rec) < xinpMin {
				return nil, fmt.Errorf("pcblist_n: xinpcb_n of %d bytes, want at least %d", len(rec), xinpMin)
			}
			cur.Local, cur.Remote, inet = inpcbAddrs(rec)
		case xsoTcpcb:
			if len(rec) < xtMin {
				return nil, fmt.Errorf("pcblist_n: xtcpcb_n of %d bytes, want at least %d", len(rec), xtMin)
			}
			cur.State = int32(xnuLE.Uint32(rec[xtState:]))
		}
		if which == xsoAllTCP {
			if inet {
				conns = append(conns, cur)
			}
			which, cur, inet = 0, pcbConn{}, false
		}
	}
	return conns, nil
}

// inpcbAddrs reads the local and foreign address and port of an xinpcb_n.
// An INP_IPV6 PCB holds in6_addrs; an INP_IPV4 one (netstat checks that flag
// first) holds in_addr_4in6s. A PCB with both flags is an IPv6 socket that
// also takes IPv4 (netstat's "tcp46"): read as IPv6, and a v4-mapped address
// still matches its IPv4 form in findPcb.
func inpcbAddrs(rec []byte) (local, remote netip.AddrPort, ok bool) {
	lport := binary.BigEndian.Uint16(rec[xinpLport:])
	fport := binary.BigEndian.Uint16(rec[xinpFport:])
	var l, f netip.Addr
	switch v := rec[xinpVflag]; {
	case v&inpIPv6 != 0:
		l = netip.AddrFrom16([16]byte(rec[xinpLaddr:]))
		f = netip.AddrFrom16([16]byte(rec[xinpFaddr:]))
	case v&inpIPv4 != 0:
		l = netip.AddrFrom4([4]byte(rec[xinpLaddr+ia46Addr4:]))
		f = netip.AddrFrom4([4]byte(rec[xinpFaddr+ia46Addr4:]))
	default:
		return netip.AddrPort{}, netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(l, lport), netip.AddrPortFrom(f, fport), true
}

// findPcb returns the state of the first connection with c's 4-tuple.
func findPcb(conns []pcbConn, c Conn4) (int32, bool) {
	for _, p := range conns {
		if sameAddrPort(p.Local, c.Local) && sameAddrPort(p.Remote, c.Remote) {
			return p.State, true
		}
	}
	return 0, false
}

// sameAddrPort compares endpoints ignoring IPv6 zones and the v4-mapped form.
func sameAddrPort(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap().WithZone("") == b.Addr().Unmap().WithZone("")
}

// roundup64 is xnu's ROUNDUP64: n rounded up to a multiple of 8.
func roundup64(n uint64) uint64 { return (n + 7) &^ 7 }
