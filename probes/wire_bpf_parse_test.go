package probes

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

// tcpPacket builds an IPv4 (RFC 791) or IPv6 (RFC 8200) packet carrying a
// TCP segment (RFC 9293 §3.1) with the given flags byte and payload size,
// as the wire has it: checksums are left zero, which no parser here reads.
func tcpPacket(src, dst netip.AddrPort, flags byte, payload int) []byte {
	tcp := make([]byte, 20+payload)
	binary.BigEndian.PutUint16(tcp[0:], src.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	tcp[12] = 5 << 4 // data offset: 5 words
	tcp[13] = flags
	if src.Addr().Is4() {
		ip := make([]byte, 20, 20+len(tcp))
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		ip[8], ip[9] = 64, ipprotoTCP
		a, b := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], a[:])
		copy(ip[16:], b[:])
		return append(ip, tcp...)
	}
	ip := make([]byte, 40, 40+len(tcp))
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
	ip[6], ip[7] = ipprotoTCP, 64
	a, b := src.Addr().As16(), dst.Addr().As16()
	copy(ip[8:], a[:])
	copy(ip[24:], b[:])
	return append(ip, tcp...)
}

// loopFrame prepends lo0's link header: the family word, in host byte order
// for DLT_NULL and network byte order for DLT_LOOP (net/dlt.h).
func loopFrame(dlt, fam uint32, ip []byte) []byte {
	h := make([]byte, 4)
	if dlt == dltLoop {
		binary.BigEndian.PutUint32(h, fam)
	} else {
		binary.NativeEndian.PutUint32(h, fam)
	}
	return append(h, ip...)
}

// bpfBuffer lays frames out as one read(2) of a BPF device returns them
// (bpf(4)): each behind a struct bpf_hdr of layout l whose bh_hdrlen is
// the header's size rounded up with BPF_WORDALIGN, as the kernel's
// catchpacket writes it, the next record at BPF_WORDALIGN(hdrlen+caplen).
// The time stamp bytes are filled with 0xee: nothing may read them.
func bpfBuffer(l bpfHdrLayout, frames ...[]byte) []byte {
	hdrlen := l.wordAlign(l.hdrlen + 2)
	var buf []byte
	for _, f := range frames {
		rec := make([]byte, l.wordAlign(hdrlen+len(f)))
		for i := range l.caplen {
			rec[i] = 0xee
		}
		binary.NativeEndian.PutUint32(rec[l.caplen:], uint32(len(f)))
		binary.NativeEndian.PutUint32(rec[l.datalen:], uint32(len(f)))
		binary.NativeEndian.PutUint16(rec[l.hdrlen:], uint16(hdrlen))
		copy(rec[hdrlen:], f)
		buf = append(buf, rec...)
	}
	return buf
}

var (
	bpfLocal4  = netip.MustParseAddrPort("127.0.0.1:40001")
	bpfRemote4 = netip.MustParseAddrPort("127.0.0.1:40002")
	bpfLocal6  = netip.MustParseAddrPort("[::1]:40001")
	bpfRemote6 = netip.MustParseAddrPort("[::1]:40002")
)

// TestBPFRecords walks a buffer of three records (a FIN+ACK with data, an
// ACK the other way, an IPv6 RST) for each OS's bpf_hdr and each loopback
// link type, and reads back the segments, flags and directions.
func TestBPFRecords(t *testing.T) {
	for _, os := range []struct {
		name string
		l    bpfHdrLayout
		af6  uint32
	}{{"darwin", bpfHdrDarwin, afInet6Darwin}, {"freebsd", bpfHdrFreeBSD, afInet6BSD}} {
		for _, dlt := range []uint32{dltNull, dltLoop} {
			t.Run(fmt.Sprintf("%s/dlt%d", os.name, dlt), func(t *testing.T) {
				buf := bpfBuffer(os.l,
					loopFrame(dlt, afInet, tcpPacket(bpfLocal4, bpfRemote4, 0x19, 5)), // FIN+PSH+ACK, 5 bytes: a 49-byte frame, so the next record is padded
					loopFrame(dlt, afInet, tcpPacket(bpfRemote4, bpfLocal4, 0x10, 0)), // ACK
					loopFrame(dlt, os.af6, tcpPacket(bpfLocal6, bpfRemote6, 0x04, 0)), // RST
				)
				recs, err := bpfRecords(buf, os.l)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != 3 {
					t.Fatalf("%d records, want 3", len(recs))
				}
				want := []struct {
					src   netip.AddrPort
					flags string
					data  int
				}{{bpfLocal4, "FIN+PSH+ACK", 5}, {bpfRemote4, "ACK", 0}, {bpfLocal6, "RST", 0}}
				for i, rec := range recs {
					ip, ok := loopPayload(rec, dlt, os.af6)
					if !ok {
						t.Fatalf("record %d: family word not read as IPv4/IPv6", i)
					}
					src, _, seg, ok := parseTCP(ip)
					if !ok {
						t.Fatalf("record %d: not parsed as TCP", i)
					}
					if src != want[i].src || seg.Flags() != want[i].flags || seg.Data != want[i].data {
						t.Errorf("record %d: %v %s data %d, want %v %s data %d", i, src, seg.Flags(), seg.Data, want[i].src, want[i].flags, want[i].data)
					}
				}
			})
		}
	}
}

// TestBPFRecordsMalformed: a short, overlong or truncated record is an
// error, never a segment.
func TestBPFRecordsMalformed(t *testing.T) {
	l := bpfHdrDarwin
	good := bpfBuffer(l, loopFrame(dltNull, afInet, tcpPacket(bpfLocal4, bpfRemote4, 0x10, 0)))
	if _, err := bpfRecords(good[:10], l); err == nil {
		t.Error("a buffer shorter than a bpf_hdr was accepted")
	}
	over := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(over[l.caplen:], 4000)
	binary.NativeEndian.PutUint32(over[l.datalen:], 4000)
	if _, err := bpfRecords(over, l); err == nil {
		t.Error("a record longer than the buffer was accepted")
	}
	trunc := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(trunc[l.datalen:], 9000)
	if _, err := bpfRecords(trunc, l); err == nil {
		t.Error("a truncated capture (caplen < datalen) was accepted")
	}
	if _, ok := loopPayload(loopFrame(dltNull, 17, nil), dltNull, afInet6Darwin); ok {
		t.Error("a family that is neither AF_INET nor AF_INET6 was accepted")
	}
	if _, ok := loopPayload(loopFrame(dltNull, afInet, nil), 1 /* DLT_EN10MB */, afInet6Darwin); ok {
		t.Error("an Ethernet frame was read as loopback")
	}
}

// runBPF interprets the instructions bpfConnProgram uses, as bpf_filter
// (xnu bsd/net/bpf_filter.c; FreeBSD sys/net/bpf_filter.c) does: loads out
// of the packet reject it (return 0).
func runBPF(t *testing.T, prog []bpfInsn, p []byte) uint32 {
	var a, x uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		load := func(off uint32, size int) (uint32, bool) {
			if int(off)+size > len(p) {
				return 0, false
			}
			if size == 1 {
				return uint32(p[off]), true
			}
			return uint32(binary.BigEndian.Uint16(p[off:])), true
		}
		var ok bool
		switch in.Code {
		case bpfLD | bpfB | bpfABS:
			a, ok = load(in.K, 1)
		case bpfLD | bpfH | bpfABS:
			a, ok = load(in.K, 2)
		case bpfLD | bpfH | bpfIND:
			a, ok = load(x+in.K, 2)
		case bpfLDX | bpfB | bpfMSH:
			x, ok = load(in.K, 1)
			x = (x & 0xf) * 4
		case bpfALU | bpfRSH | bpfK:
			a, ok = a>>in.K, true
		case bpfJMP | bpfJEQ | bpfK:
			if a == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
			ok = true
		case bpfRET | bpfK:
			return in.K
		default:
			t.Fatalf("instruction %d: code %#x not interpreted", pc, in.Code)
		}
		if !ok {
			return 0
		}
	}
	t.Fatal("the program ran off its end")
	return 0
}

// TestBPFConnProgram runs the kernel filter over lo0 frames: the watched
// connection's segments, both directions, v4 and v6, are kept whole; another
// connection's, a UDP datagram and a frame of another family are dropped.
func TestBPFConnProgram(t *testing.T) {
	udp := tcpPacket(bpfLocal4, bpfRemote4, 0, 0)
	udp[9] = 17 // IPPROTO_UDP
	other := netip.MustParseAddrPort("127.0.0.1:40009")
	other6 := netip.MustParseAddrPort("[::1]:40009")
	for _, c := range []struct {
		name  string
		conn  Conn4
		frame []byte
		keep  bool
	}{
		{"v4 out", Conn4{bpfLocal4, bpfRemote4}, tcpPacket(bpfLocal4, bpfRemote4, 0x11, 3), true},
		{"v4 in", Conn4{bpfLocal4, bpfRemote4}, tcpPacket(bpfRemote4, bpfLocal4, 0x04, 0), true},
		{"v6 out", Conn4{bpfLocal6, bpfRemote6}, tcpPacket(bpfLocal6, bpfRemote6, 0x11, 0), true},
		{"v6 in", Conn4{bpfLocal6, bpfRemote6}, tcpPacket(bpfRemote6, bpfLocal6, 0x10, 0), true},
		{"v4 other connection", Conn4{bpfLocal4, bpfRemote4}, tcpPacket(bpfLocal4, other, 0x10, 0), false},
		{"v4 other, same remote", Conn4{bpfLocal4, bpfRemote4}, tcpPacket(other, bpfRemote4, 0x10, 0), false},
		{"v6 other connection", Conn4{bpfLocal6, bpfRemote6}, tcpPacket(other6, bpfLocal6, 0x10, 0), false},
		{"udp", Conn4{bpfLocal4, bpfRemote4}, udp, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fam := uint32(afInet)
			if c.conn.Local.Addr().Is6() {
				fam = afInet6Darwin
			}
			got := runBPF(t, bpfConnProgram(loopHdrSize, c.conn), loopFrame(dltNull, fam, c.frame))
			if (got != 0) != c.keep {
				t.Errorf("filter returned %d, want keep=%v", got, c.keep)
			}
			if c.keep && got != bpfKeep {
				t.Errorf("kept with snapshot length %d, want %d (the whole packet)", got, bpfKeep)
			}
		})
	}
	if got := runBPF(t, bpfConnProgram(loopHdrSize, Conn4{bpfLocal4, bpfRemote4}), []byte{2, 0, 0, 0, 0x45}); got != 0 {
		t.Errorf("a packet cut short was kept (%d)", got)
	}
}
