package probes

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
)

// pcbFixture builds a synthetic net.inet.tcp.pcblist_n answer laid out as xnu's
// get_pcblist_n writes it (bsd/netinet/in_pcblist.c): an xinpgen, groups of
// records padded to 8 bytes, a closing xinpgen. The record sizes are those of
// current xnu where the parser does not care (xsocket_n, xsockbuf_n,
// xsockstat_n); xtcpcb_n is given a length that is not a multiple of 8, so the
// walk must skip its padding.
type pcbFixture struct{ b []byte }

func newPcbFixture() *pcbFixture {
	f := &pcbFixture{}
	f.xinpgen(3)
	return f
}

func (f *pcbFixture) xinpgen(count uint32) {
	h := make([]byte, xinpgenSize)
	binary.LittleEndian.PutUint32(h, xinpgenSize)
	binary.LittleEndian.PutUint32(h[4:], count)
	binary.LittleEndian.PutUint64(h[8:], 42) // xig_gen
	f.b = append(f.b, h...)
}

// record appends one record of kind with n bytes, filled by fill, padded to 8.
func (f *pcbFixture) record(kind uint32, n int, fill func(rec []byte)) {
	rec := make([]byte, roundup64(uint64(n)))
	binary.LittleEndian.PutUint32(rec, uint32(n))
	binary.LittleEndian.PutUint32(rec[4:], kind)
	// Padding that is not zero would be read as a header by a walk that
	// forgets ROUNDUP64.
	for i := n; i < len(rec); i++ {
		rec[i] = 0xEE
	}
	if fill != nil {
		fill(rec[:n])
	}
	f.b = append(f.b, rec...)
}

func (f *pcbFixture) inpcb(vflag byte, local, remote netip.AddrPort) {
	f.record(xsoInpcb, 104, func(rec []byte) {
		binary.BigEndian.PutUint16(rec[xinpLport:], local.Port())
		binary.BigEndian.PutUint16(rec[xinpFport:], remote.Port())
		rec[xinpVflag] = vflag
		put := func(at int, a netip.Addr) {
			if a.Is4() {
				a4 := a.As4()
				copy(rec[at+ia46Addr4:], a4[:])
			} else {
				a16 := a.As16()
				copy(rec[at:], a16[:])
			}
		}
		put(xinpLaddr, local.Addr())
		put(xinpFaddr, remote.Addr())
	})
}

func (f *pcbFixture) others() {
	f.record(xsoSocket, 104, nil)
	f.record(xsoRcvbuf, 32, nil)
	f.record(xsoSndbuf, 32, nil)
	f.record(xsoStats, 136, nil)
}

func (f *pcbFixture) tcpcb(state int32) {
	f.record(xsoTcpcb, 204, func(rec []byte) {
		binary.LittleEndian.PutUint32(rec[xtState:], uint32(state))
	})
}

// conn appends a complete group in the kernel's order.
func (f *pcbFixture) conn(vflag byte, local, remote string, state int32) {
	f.inpcb(vflag, netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote))
	f.others()
	f.tcpcb(state)
}

func (f *pcbFixture) bytes() []byte {
	f.xinpgen(3)
	return f.b
}

func conn4(local, remote string) Conn4 {
	return Conn4{Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote)}
}

func TestParsePcblistN(t *testing.T) {
	f := newPcbFixture()
	f.conn(inpIPv4, "127.0.0.1:50000", "127.0.0.1:8080", 4)            // ESTABLISHED
	f.record(0x040, 44, nil)                                           // XSO_KCREG: not a TCP kind, skipped
	f.conn(inpIPv6, "[::1]:50001", "[::1]:8081", 10)                   // TIME_WAIT
	f.conn(inpIPv4|inpIPv6, "[::]:9000", "[::]:0", 1)                  // a tcp46 listener
	f.conn(inpIPv4, "127.0.0.1:8080", "127.0.0.1:50000", 5)            // CLOSE_WAIT, the reverse tuple
	f.conn(0, "127.0.0.1:1", "127.0.0.1:2", 4)                         // neither flag: not listed
	f.conn(inpIPv6, "[::ffff:127.0.0.1]:7", "[::ffff:127.0.0.1]:8", 9) // v4-mapped
	conns, err := parsePcblistN(f.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 5 {
		t.Fatalf("parsePcblistN: %d connections, want 5: %v", len(conns), conns)
	}
	for _, tc := range []struct {
		c     Conn4
		state int32
		found bool
	}{
		{conn4("127.0.0.1:50000", "127.0.0.1:8080"), 4, true},
		{conn4("127.0.0.1:8080", "127.0.0.1:50000"), 5, true},
		{conn4("[::1]:50001", "[::1]:8081"), 10, true},
		{conn4("[::]:9000", "[::]:0"), 1, true},
		{conn4("127.0.0.1:7", "127.0.0.1:8"), 9, true}, // v4-mapped matches IPv4
		{conn4("127.0.0.1:50000", "127.0.0.1:8081"), 0, false},
		{conn4("[::1]:50000", "[::1]:8080"), 0, false}, // right ports, wrong family
		{conn4("127.0.0.1:1", "127.0.0.1:2"), 0, false},
	} {
		st, ok := findPcb(conns, tc.c)
		if st != tc.state || ok != tc.found {
			t.Errorf("findPcb(%v) = %d, %v; want %d, %v", tc.c, st, ok, tc.state, tc.found)
		}
	}
}

// A group that lacks its xtcpcb_n (the kernel skips a PCB whose inp_ppcb is
// NULL only before writing it, but a reader must not pair one PCB's address
// with the next one's state).
func TestParsePcblistNIncompleteGroup(t *testing.T) {
	f := newPcbFixture()
	f.inpcb(inpIPv4, netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"))
	f.others()
	f.conn(inpIPv4, "127.0.0.1:3", "127.0.0.1:4", 9)
	conns, err := parsePcblistN(f.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := findPcb(conns, conn4("127.0.0.1:1", "127.0.0.1:2")); ok {
		t.Errorf("incomplete group listed: %v", conns)
	}
	if st, ok := findPcb(conns, conn4("127.0.0.1:3", "127.0.0.1:4")); !ok || st != 9 {
		t.Errorf("findPcb after incomplete group = %d, %v; want 9, true", st, ok)
	}
}

func TestParsePcblistNEmpty(t *testing.T) {
	conns, err := parsePcblistN(newPcbFixture().bytes())
	if err != nil || len(conns) != 0 {
		t.Errorf("parsePcblistN(headers only) = %v, %v; want none, nil", conns, err)
	}
}

func TestParsePcblistNMalformed(t *testing.T) {
	good := newPcbFixture()
	good.conn(inpIPv4, "127.0.0.1:1", "127.0.0.1:2", 4)
	full := good.bytes()

	short := newPcbFixture()
	short.record(xsoInpcb, 60, nil) // too short to hold the addresses
	badHeader := append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(badHeader, 32)

	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"tiny":      {full[:10], "shorter than struct xinpgen"},
		"header":    {badHeader, "xig_len 32"},
		"truncated": {full[:xinpgenSize+50], "claims 104 bytes"},
		"short":     {short.bytes(), "xinpcb_n of 60 bytes"},
	} {
		_, err := parsePcblistN(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want it to mention %q", name, err, tc.want)
		}
	}
}
