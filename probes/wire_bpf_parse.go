package probes

import (
	"encoding/binary"
	"fmt"
)

// The pure half of the BSD packet capture (wire_bpf.go, darwin and FreeBSD):
// the kernel filter, the walk over what read(2) returns from a BPF device,
// and the loopback framing. No build tag, so that the tests run here on
// Linux with byte fixtures laid out as the headers below say.

// bpfInsn is one classic BPF instruction, struct bpf_insn of net/bpf.h
// (xnu bsd/net/bpf.h; FreeBSD sys/net/bpf.h): u_short code; u_char jt, jf;
// bpf_u_int32 k. x/sys spells it unix.BpfInsn on both; this copy lets the
// program be built and run in a test on any OS.
type bpfInsn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Instruction classes and fields, net/bpf.h (the same numbers in xnu's and
// FreeBSD's headers, and in Linux's linux/filter.h, which took them from
// 4.4BSD's bpf.h): BPF_CLASS, BPF_SIZE, BPF_MODE, BPF_OP, BPF_SRC.
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfH    = 0x08 // half word
	bpfB    = 0x10 // byte
	bpfABS  = 0x20
	bpfIND  = 0x40
	bpfMSH  = 0xa0
	bpfRSH  = 0x70
	bpfJEQ  = 0x10
	bpfK    = 0x00
	bpfKeep = 1 << 18 // the snapshot length a kept packet is captured with: all of it (lo0's MTU is LOMTU 16384: xnu bsd/net/if_loop.c, FreeBSD sys/net/if_loop.c)
)

// Link-level types, net/dlt.h (FreeBSD sys/net/dlt.h; xnu keeps them in
// bsd/net/bpf.h): DLT_NULL 0 "BSD loopback encapsulation", whose 4-byte
// header is the protocol family in host byte order; DLT_LOOP 108, "like
// DLT_NULL, except that the AF_ type in the link-layer header is in network
// byte order" (OpenBSD's loopback). Both lo0s attach as DLT_NULL (xnu
// bsd/net/if_loop.c loopattach: bpfattach(lo_ifp, DLT_NULL,
// sizeof(u_int32_t)); FreeBSD sys/net/if_loop.c likewise); BIOCGDLT says
// which, and DLT_LOOP is taken as well in case a release changes it.
const (
	dltNull     = 0
	dltLoop     = 108
	loopHdrSize = 4 // sizeof(u_int32_t), the family word
)

// Address families as the family word carries them: AF_INET is 2 everywhere;
// AF_INET6 is 30 on darwin (xnu bsd/sys/socket.h) and 28 on FreeBSD
// (sys/sys/socket.h). The caller passes its own AF_INET6.
const (
	afInet        = 2
	afInet6Darwin = 30
	afInet6BSD    = 28
)

// bpfConnProgram is the BSD twin of connFilter (wire_filter_linux.go): keep
// the packets of one TCP connection, either direction, and drop every other
// before it is buffered. The program sees the packet from its link header
// (bpf(4): "the filter is applied to the packet as it appears on the
// interface"), so every offset is shifted by the link header's length,
// linkHdr: 4 on lo0 (DLT_NULL).
//
// The offsets past the link header are the protocols': the IPv4 header's
// version/IHL byte at 0 and protocol at 9 (RFC 791 §3.1), the IPv6 header's
// next header at 6 and its fixed 40 bytes (RFC 8200 §3), and the TCP source
// and destination ports at 0 and 2 of the TCP header (RFC 793 §3.1).
func bpfConnProgram(linkHdr uint32, c Conn4) []bpfInsn {
	l, r := uint32(c.Local.Port()), uint32(c.Remote.Port())
	o := linkHdr
	type ins struct {
		op     uint16
		k      uint32
		jt, jf string // labels for jumps; "" is the next instruction
		label  string
	}
	prog := []ins{
		{op: bpfLD | bpfB | bpfABS, k: o}, // version and IHL
		{op: bpfALU | bpfRSH | bpfK, k: 4},
		{op: bpfJMP | bpfJEQ | bpfK, k: 4, jf: "v6"},
		{op: bpfLD | bpfB | bpfABS, k: o + 9}, // IPv4 protocol
		{op: bpfJMP | bpfJEQ | bpfK, k: ipprotoTCP, jf: "drop"},
		{op: bpfLDX | bpfB | bpfMSH, k: o}, // X = 4*(P[o]&0xf): the IPv4 header's length
		{op: bpfLD | bpfH | bpfIND, k: o},  // source port, at X+o
		{op: bpfJMP | bpfJEQ | bpfK, k: l, jt: "v4r"},
		{op: bpfJMP | bpfJEQ | bpfK, k: r, jt: "v4l", jf: "drop"},
		{label: "v4r", op: bpfLD | bpfH | bpfIND, k: o + 2},
		{op: bpfJMP | bpfJEQ | bpfK, k: r, jt: "keep", jf: "drop"},
		{label: "v4l", op: bpfLD | bpfH | bpfIND, k: o + 2},
		{op: bpfJMP | bpfJEQ | bpfK, k: l, jt: "keep", jf: "drop"},
		{label: "v6", op: bpfJMP | bpfJEQ | bpfK, k: 6, jf: "drop"},
		{op: bpfLD | bpfB | bpfABS, k: o + 6}, // IPv6 next header (no extension headers on our loopback traffic)
		{op: bpfJMP | bpfJEQ | bpfK, k: ipprotoTCP, jf: "drop"},
		{op: bpfLD | bpfH | bpfABS, k: o + 40},
		{op: bpfJMP | bpfJEQ | bpfK, k: l, jt: "v6r"},
		{op: bpfJMP | bpfJEQ | bpfK, k: r, jt: "v6l", jf: "drop"},
		{label: "v6r", op: bpfLD | bpfH | bpfABS, k: o + 42},
		{op: bpfJMP | bpfJEQ | bpfK, k: r, jt: "keep", jf: "drop"},
		{label: "v6l", op: bpfLD | bpfH | bpfABS, k: o + 42},
		{op: bpfJMP | bpfJEQ | bpfK, k: l, jt: "keep", jf: "drop"},
		{label: "keep", op: bpfRET | bpfK, k: bpfKeep},
		{label: "drop", op: bpfRET | bpfK, k: 0},
	}
	at := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
	}
	jump := func(i int, label string) uint8 {
		if label == "" {
			return 0
		}
		return uint8(at[label] - i - 1)
	}
	out := make([]bpfInsn, len(prog))
	for i, in := range prog {
		out[i] = bpfInsn{Code: in.op, K: in.k, Jt: jump(i, in.jt), Jf: jump(i, in.jf)}
	}
	return out
}

// bpfHdrLayout is where struct bpf_hdr keeps the three fields a reader
// needs, and the alignment of the records (BPF_ALIGNMENT), on one OS.
type bpfHdrLayout struct {
	caplen, datalen, hdrlen int // byte offsets of bh_caplen, bh_datalen (bpf_u_int32), bh_hdrlen (u_short)
	align                   int // BPF_ALIGNMENT
}

// The two layouts, both in host byte order.
//
// darwin, xnu bsd/net/bpf.h: struct bpf_hdr { struct BPF_TIMEVAL bh_tstamp;
// bpf_u_int32 bh_caplen; bpf_u_int32 bh_datalen; u_short bh_hdrlen; }, where
// BPF_TIMEVAL is struct timeval32 (two int32) under __LP64__: caplen at 8,
// datalen at 12, hdrlen at 16 (SIZEOF_BPF_HDR 18); BPF_ALIGNMENT is
// sizeof(int32_t), 4. x/sys: unix.BpfHdr{Tstamp Timeval32; …}, SizeofBpfHdr 0x14.
//
// FreeBSD, sys/net/bpf.h: the same fields after a struct timeval bh_tstamp
// (time_t and suseconds_t, 8 bytes each on amd64 and arm64): caplen at 16,
// datalen at 20, hdrlen at 24; BPF_ALIGNMENT is sizeof(long), 8. This is
// the header of the default time stamp format (BIOCSTSTAMP BPF_T_MICROTIME);
// x/sys: unix.BpfHdr{Tstamp Timeval; …}, SizeofBpfHdr 0x20.
var (
	bpfHdrDarwin  = bpfHdrLayout{caplen: 8, datalen: 12, hdrlen: 16, align: 4}
	bpfHdrFreeBSD = bpfHdrLayout{caplen: 16, datalen: 20, hdrlen: 24, align: 8}
)

// wordAlign is BPF_WORDALIGN(x): x rounded up to a multiple of align.
func (l bpfHdrLayout) wordAlign(x int) int { return (x + l.align - 1) &^ (l.align - 1) }

// bpfRecords splits one read(2) of a BPF device into the packets it holds.
// bpf(4): each packet is preceded by a struct bpf_hdr, bh_hdrlen (the
// header plus padding) after which the bh_caplen bytes of the packet
// start, and the next record begins at BPF_WORDALIGN(bh_hdrlen +
// bh_caplen). A record whose capture is shorter than the packet
// (bh_caplen < bh_datalen) is an error: a segment read from it could lose
// its flags' meaning.
func bpfRecords(buf []byte, l bpfHdrLayout) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(buf); {
		if len(buf)-off < l.hdrlen+2 {
			return out, fmt.Errorf("bpf: %d bytes left at %d, too short for a bpf_hdr", len(buf)-off, off)
		}
		h := buf[off:]
		caplen := int(binary.NativeEndian.Uint32(h[l.caplen:]))
		datalen := int(binary.NativeEndian.Uint32(h[l.datalen:]))
		hdrlen := int(binary.NativeEndian.Uint16(h[l.hdrlen:]))
		if hdrlen < l.hdrlen+2 || hdrlen+caplen > len(h) {
			return out, fmt.Errorf("bpf: record at %d: bh_hdrlen %d, bh_caplen %d, %d bytes left", off, hdrlen, caplen, len(h))
		}
		if caplen < datalen {
			return out, fmt.Errorf("bpf: record at %d truncated: %d of %d bytes captured", off, caplen, datalen)
		}
		out = append(out, h[hdrlen:hdrlen+caplen])
		off += l.wordAlign(hdrlen + caplen)
	}
	return out, nil
}

// loopPayload strips the loopback link header of a DLT_NULL or DLT_LOOP
// frame and returns the IP packet when the family word names IPv4 or IPv6
// (af6 is the OS's AF_INET6); ok is false for any other family or link type.
func loopPayload(frame []byte, dlt uint32, af6 uint32) (ip []byte, ok bool) {
	if len(frame) < loopHdrSize {
		return nil, false
	}
	var fam uint32
	switch dlt {
	case dltNull:
		fam = binary.NativeEndian.Uint32(frame)
	case dltLoop:
		fam = binary.BigEndian.Uint32(frame)
	default:
		return nil, false
	}
	if fam != afInet && fam != af6 {
		return nil, false
	}
	return frame[loopHdrSize:], true
}
