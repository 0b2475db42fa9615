package probes

import (
	"encoding/binary"
	"net/netip"
)

// ipprotoTCP is TCP's IP protocol number (RFC 9293 §3.1; IANA "Assigned
// Internet Protocol Numbers"), as in the IPv4 protocol and IPv6 next header
// fields. Spelled here rather than taken from x/sys so that the parsers below
// build, and are tested, on every OS: the BSD capture shares them.
const ipprotoTCP = 6

// parseTCP reads an IPv4 (RFC 791) or IPv6 (RFC 8200) packet carrying TCP
// (RFC 793 §3.1) and returns its endpoints, flags and payload size. IPv6
// extension headers do not occur on our loopback traffic and are not parsed.
func parseTCP(p []byte) (src, dst netip.AddrPort, seg Segment, ok bool) {
	if len(p) < 1 {
		return
	}
	var sa, da netip.Addr
	var tcp []byte
	switch p[0] >> 4 {
	case 4:
		ihl := int(p[0]&0x0f) * 4
		if len(p) < 20 || ihl < 20 || len(p) < ihl || p[9] != ipprotoTCP {
			return
		}
		total := int(binary.BigEndian.Uint16(p[2:4]))
		if total > len(p) || total < ihl {
			return
		}
		sa, da = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
		tcp = p[ihl:total]
	case 6:
		if len(p) < 40 || p[6] != ipprotoTCP {
			return
		}
		plen := int(binary.BigEndian.Uint16(p[4:6]))
		if 40+plen > len(p) {
			return
		}
		sa, da = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
		tcp = p[40 : 40+plen]
	default:
		return
	}
	if len(tcp) < 20 {
		return
	}
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) {
		return
	}
	flags := tcp[13]
	seg = Segment{Data: len(tcp) - off, FIN: flags&0x01 != 0, RST: flags&0x04 != 0, PSH: flags&0x08 != 0, ACK: flags&0x10 != 0}
	src = netip.AddrPortFrom(sa, binary.BigEndian.Uint16(tcp[0:2]))
	dst = netip.AddrPortFrom(da, binary.BigEndian.Uint16(tcp[2:4]))
	return src, dst, seg, true
}
