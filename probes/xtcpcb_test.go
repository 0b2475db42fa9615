package probes

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// The fixtures of this test are built from the member lists of FreeBSD 14's
// headers, laid out here under the C rules for LP64 (each member at the next
// multiple of its alignment, the structure padded to its largest alignment),
// independently of the offsets xtcpcb.go hard-codes.

// cmember is one member of a C structure: name, size and alignment.
type cmember struct {
	name        string
	size, align int
}

// clayout places members under the C rules and returns each one's offset and
// the structure's size; minAlign is an __aligned() attribute (or 1).
func clayout(ms []cmember, minAlign int) (map[string]int, int) {
	off, maxAlign := 0, minAlign
	at := map[string]int{}
	for _, m := range ms {
		off = (off + m.align - 1) / m.align * m.align
		at[m.name] = off
		off += m.size
		maxAlign = max(maxAlign, m.align)
	}
	return at, (off + maxAlign - 1) / maxAlign * maxAlign
}

func u8(n string) cmember   { return cmember{n, 1, 1} }
func u16(n string) cmember  { return cmember{n, 2, 2} }
func cU32(n string) cmember { return cmember{n, 4, 4} }
func u64(n string) cmember  { return cmember{n, 8, 8} }
func arr(n string, m cmember, count int) cmember {
	return cmember{n, m.size * count, m.align}
}

// fbsdLayouts lays out the structures of xtcpcb.go's comment.
func fbsdLayouts(t *testing.T) (xinpgen, xtcpcb, xinpcb, inc map[string]int, sizes map[string]int) {
	t.Helper()
	sizes = map[string]int{}
	// sys/sys/socketvar.h
	_, xsockbuf := clayout([]cmember{cU32("sb_cc"), cU32("sb_hiwat"), cU32("sb_mbcnt"), cU32("sb_mcnt"),
		cU32("sb_ccnt"), cU32("sb_mbmax"), cU32("sb_lowat"), cU32("sb_timeo"), u16("sb_flags")}, 1)
	_, xsocket := clayout([]cmember{u64("xso_len"), u64("xso_so"), u64("so_pcb"), u64("so_oobmark"),
		arr("so_spare64", u64(""), 8), cU32("xso_protocol"), cU32("xso_family"), cU32("so_qlen"),
		cU32("so_incqlen"), cU32("so_qlimit"), cU32("so_pgid"), cU32("so_uid"), arr("so_spare32", cU32(""), 8),
		u16("so_type"), u16("so_options"), u16("so_linger"), u16("so_state"), u16("so_timeo"), u16("so_error"),
		{"so_rcv", xsockbuf, 4}, {"so_snd", xsockbuf, 4}}, 1)
	sizes["xsocket"] = xsocket
	// sys/netinet/in_pcb.h: in_conninfo with in_endpoints inlined; the
	// address unions hold u_int32_t arrays (in_addr_4in6, in6_addr).
	inc, incSize := clayout([]cmember{u8("inc_flags"), u8("inc_len"), u16("inc_fibnum"),
		u16("ie_fport"), u16("ie_lport"), {"ie_dependfaddr", 16, 4}, {"ie_dependladdr", 16, 4}, cU32("ie6_zoneid")}, 1)
	sizes["in_conninfo"] = incSize
	xinpcb, sizes["xinpcb"] = clayout([]cmember{u64("xi_len"), {"xi_socket", xsocket, 8}, {"inp_inc", incSize, 4},
		u64("inp_gencnt"), u64("inp_ppcb"), arr("inp_spare64", u64(""), 4), cU32("inp_flow"), cU32("inp_flowid"),
		cU32("inp_flowtype"), cU32("inp_flags"), cU32("inp_flags2"), cU32("inp_rss_listen_bucket"), cU32("in6p_cksum"),
		arr("inp_spare32", cU32(""), 4), u16("in6p_hops"), u8("inp_ip_tos"), u8("pad8"), u8("inp_vflag"),
		u8("inp_ip_ttl"), u8("inp_ip_p"), u8("inp_ip_minttl"), arr("inp_spare8", u8(""), 4)}, 8)
	xinpgen, sizes["xinpgen"] = clayout([]cmember{u64("xig_len"), cU32("xig_count"), cU32("_xig_spare32"),
		u64("xig_gen"), u64("xig_sogen"), arr("_xig_spare64", u64(""), 4)}, 8)
	// sys/netinet/tcp_var.h
	xtcpcb, sizes["xtcpcb"] = clayout([]cmember{u64("xt_len"), {"xt_inp", sizes["xinpcb"], 8},
		arr("xt_stack", u8(""), 32), arr("xt_logid", u8(""), 64), arr("xt_cc", u8(""), 16),
		arr("spare64", u64(""), 6), cU32("t_state"), cU32("t_flags"), cU32("t_sndzerowin"), cU32("t_sndrexmitpack"),
		cU32("t_rcvoopack"), cU32("t_rcvtime"), cU32("tt_rexmt"), cU32("tt_persist"), cU32("tt_keep"), cU32("tt_2msl"),
		cU32("tt_delack"), cU32("t_logstate"), cU32("t_snd_cwnd"), cU32("t_snd_ssthresh"), cU32("t_maxseg"),
		cU32("t_rcv_wnd"), cU32("t_snd_wnd"), cU32("xt_ecn"), cU32("t_dsack_bytes"), cU32("t_dsack_tlp_bytes"),
		cU32("t_dsack_pack"), u16("xt_encaps_port"), u16("spare16"), arr("spare32", cU32(""), 22)}, 8)
	return
}

// TestXtcpcbLayout checks xtcpcb.go's constants against the layout of the
// headers' member lists.
func TestXtcpcbLayout(t *testing.T) {
	xinpgen, xtcpcb, xinpcb, inc, sizes := fbsdLayouts(t)
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"sizeof(struct xsocket)", 240, sizes["xsocket"]},
		{"sizeof(struct in_conninfo)", 44, sizes["in_conninfo"]},
		{"sizeof(struct xinpgen)", xinpgenLen, sizes["xinpgen"]},
		{"sizeof(struct xinpcb)", xinpcbLen, sizes["xinpcb"]},
		{"sizeof(struct xtcpcb)", xtcpcbLen, sizes["xtcpcb"]},
		{"xig_len", 0, xinpgen["xig_len"]},
		{"xt_inp", xtInp, xtcpcb["xt_inp"]},
		{"t_state", xtTState, xtcpcb["t_state"]},
		{"inp_inc", xiInc, xinpcb["inp_inc"]},
		{"inp_vflag", xiVflag, xinpcb["inp_vflag"]},
		{"ie_fport", incFport, inc["ie_fport"]},
		{"ie_lport", incLport, inc["ie_lport"]},
		{"ie_dependfaddr", incFaddr, inc["ie_dependfaddr"]},
		{"ie_dependladdr", incLaddr, inc["ie_dependladdr"]},
	} {
		if c.got != c.want {
			t.Errorf("%s: xtcpcb.go has %d, the header's layout %d", c.what, c.got, c.want)
		}
	}
}

// fbsdPCB is one PCB of a fixture.
type fbsdPCB struct {
	vflag         uint8
	local, remote netip.AddrPort
	state         int32
	socketless    bool // xi_socket left zero, as for a PCB without a socket
	syncache      bool // written as syncache_pcblist does: xi_len left 0
}

// fbsdPcblist builds a net.inet.tcp.pcblist answer as tcp_pcblist writes it.
func fbsdPcblist(t *testing.T, pcbs []fbsdPCB) []byte {
	t.Helper()
	xinpgen, xtcpcb, xinpcb, inc, sizes := fbsdLayouts(t)
	le := binary.LittleEndian
	gen := func(count int) []byte {
		g := make([]byte, sizes["xinpgen"])
		le.PutUint64(g[xinpgen["xig_len"]:], uint64(len(g)))
		le.PutUint32(g[xinpgen["xig_count"]:], uint32(count))
		return g
	}
	out := gen(len(pcbs))
	for _, p := range pcbs {
		rec := make([]byte, sizes["xtcpcb"])
		le.PutUint64(rec[xtcpcb["xt_len"]:], uint64(len(rec)))
		copy(rec[xtcpcb["xt_stack"]:], "freebsd")
		le.PutUint32(rec[xtcpcb["t_state"]:], uint32(p.state))
		inp := rec[xtcpcb["xt_inp"]:]
		if !p.syncache {
			le.PutUint64(inp[xinpcb["xi_len"]:], uint64(sizes["xinpcb"]))
		}
		if !p.socketless {
			le.PutUint64(inp[xinpcb["xi_socket"]:], uint64(sizes["xsocket"]))
		}
		inp[xinpcb["inp_vflag"]] = p.vflag
		ic := inp[xinpcb["inp_inc"]:]
		binary.BigEndian.PutUint16(ic[inc["ie_fport"]:], p.remote.Port())
		binary.BigEndian.PutUint16(ic[inc["ie_lport"]:], p.local.Port())
		for _, a := range []struct {
			field string
			addr  netip.Addr
		}{{"ie_dependfaddr", p.remote.Addr()}, {"ie_dependladdr", p.local.Addr()}} {
			if a.addr.Is4() { // struct in_addr_4in6: 12 bytes of padding, then the address
				b := a.addr.As4()
				copy(ic[inc[a.field]+12:], b[:])
			} else if a.addr.IsValid() {
				b := a.addr.As16()
				copy(ic[inc[a.field]:], b[:])
			}
		}
		out = append(out, rec...)
	}
	return append(out, gen(len(pcbs))...)
}

func TestParseXtcpcbList(t *testing.T) {
	ap := netip.MustParseAddrPort
	pcbs := []fbsdPCB{
		// The syncache's entries come first (tcp_pcblist), with xi_len 0.
		{1, ap("127.0.0.1:5003"), ap("127.0.0.1:40003"), 3, false, true},
		{2, ap("[::1]:5004"), ap("[::1]:40004"), 3, false, true},
		{1, ap("127.0.0.1:40000"), ap("127.0.0.1:5000"), 4, false, false},                  // ESTABLISHED
		{1, ap("127.0.0.1:5000"), ap("0.0.0.0:0"), 1, false, false},                        // LISTEN
		{2, ap("[::1]:40001"), ap("[::1]:5001"), 10, true, false},                          // TIME_WAIT, no socket
		{3, ap("[::ffff:127.0.0.1]:5002"), ap("[::ffff:127.0.0.1]:40002"), 9, true, false}, // tcp46, FIN_WAIT_2
		{0, ap("127.0.0.2:1"), ap("127.0.0.2:2"), 4, false, false},                         // neither flag: skipped
	}
	conns, err := parseXtcpcbList(fbsdPcblist(t, pcbs))
	if err != nil {
		t.Fatal(err)
	}
	want := []pcbConn{
		{ap("127.0.0.1:5003"), ap("127.0.0.1:40003"), 3},
		{ap("[::1]:5004"), ap("[::1]:40004"), 3},
		{ap("127.0.0.1:40000"), ap("127.0.0.1:5000"), 4},
		{ap("127.0.0.1:5000"), ap("0.0.0.0:0"), 1},
		{ap("[::1]:40001"), ap("[::1]:5001"), 10},
		{ap("[::ffff:127.0.0.1]:5002"), ap("[::ffff:127.0.0.1]:40002"), 9},
	}
	if !slices.Equal(conns, want) {
		t.Fatalf("parsed\n%v\nwant\n%v", conns, want)
	}
	for _, c := range []struct {
		conn  Conn4
		state string
	}{
		{Conn4{ap("127.0.0.1:40000"), ap("127.0.0.1:5000")}, StateEstablished},
		{Conn4{ap("127.0.0.1:5003"), ap("127.0.0.1:40003")}, StateSynReceived}, // a syncache entry
		{Conn4{ap("[::1]:5004"), ap("[::1]:40004")}, StateSynReceived},
		{Conn4{ap("[::1]:40001"), ap("[::1]:5001")}, StateTimeWait},
		{Conn4{ap("127.0.0.1:5002"), ap("127.0.0.1:40002")}, StateFinWait2}, // v4 through the tcp46 PCB
	} {
		st, ok := findPcb(conns, c.conn)
		if !ok || fbsdStateName(st) != c.state {
			t.Errorf("findPcb(%v) = %d (%s), %v; want %s", c.conn, st, fbsdStateName(st), ok, c.state)
		}
	}
	if _, ok := findPcb(conns, Conn4{ap("127.0.0.1:1"), ap("127.0.0.1:2")}); ok {
		t.Error("found a connection that is not listed")
	}

	if conns, err := parseXtcpcbList(fbsdPcblist(t, nil)); err != nil || len(conns) != 0 {
		t.Errorf("empty table: %v, %v", conns, err)
	}
}

// TestParseXtcpcbListRefuses checks that a layout other than the documented
// one, or a truncated answer, is an error rather than a misreading.
func TestParseXtcpcbListRefuses(t *testing.T) {
	ap := netip.MustParseAddrPort
	good := fbsdPcblist(t, []fbsdPCB{{1, ap("127.0.0.1:1"), ap("127.0.0.1:2"), 4, false, false}})
	le := binary.LittleEndian
	for name, c := range map[string]struct {
		mutate func([]byte) []byte
		want   string
	}{
		"short":     {func(b []byte) []byte { return b[:10] }, "shorter than struct xinpgen"},
		"xig_len":   {func(b []byte) []byte { le.PutUint64(b, 72); return b }, "xig_len 72"},
		"xt_len":    {func(b []byte) []byte { le.PutUint64(b[xinpgenLen:], 752); return b }, "xt_len 752"},
		"xi_len":    {func(b []byte) []byte { le.PutUint64(b[xinpgenLen+xtInp:], 408); return b }, "xi_len 408"},
		"truncated": {func(b []byte) []byte { return b[:xinpgenLen+100] }, "claims 744 bytes"},
		// xi_len 0 is a syncache entry only in SYN_RECEIVED: an
		// ESTABLISHED record without it is a layout not understood.
		"xi_len 0 not in SYN_RECEIVED": {func(b []byte) []byte { le.PutUint64(b[xinpgenLen+xtInp:], 0); return b }, "xi_len 0 (t_state 4)"},
	} {
		b := c.mutate(slices.Clone(good))
		if _, err := parseXtcpcbList(b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}

// TestFreeBSDStates checks the TCPS_* table against sys/netinet/tcp_fsm.h.
func TestFreeBSDStates(t *testing.T) {
	for n, want := range []string{
		StateClosed, StateListen, StateSynSent, StateSynReceived, StateEstablished,
		StateCloseWait, StateFinWait1, StateClosing, StateLastAck, StateFinWait2, StateTimeWait,
	} {
		if got := fbsdStateName(int32(n)); got != want {
			t.Errorf("TCPS %d = %s, want %s", n, got, want)
		}
	}
	if _, ok := freebsdStates[11]; ok {
		t.Error("TCP_NSTATES is 11: no state 11")
	}
}

func fbsdStateName(n int32) string { return freebsdStates[n] }
