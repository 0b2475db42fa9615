package probes

import (
	"errors"
	"strings"
)

// ErrCaptureNeedsRoot is returned where capturing segments needs a privilege
// the process lacks (AF_PACKET needs CAP_NET_RAW: packet(7)).
var ErrCaptureNeedsRoot = errors.New("capturing segments needs root (CAP_NET_RAW)")

// Segment is one TCP segment seen on the wire.
type Segment struct {
	Data     int // payload bytes
	FIN, RST bool
	// ACK and PSH are the segment's other flags (RFC 793 §3.1). The wire
	// class leaves them out; the ladder and claim 14 need ACK to tell a
	// pure acknowledgement from a FIN that rides on one.
	ACK, PSH bool
}

// Flags spells the segment's flags as tcpdump orders them, joined by "+":
// "FIN+ACK", "RST", "PSH+ACK", "ACK"; "" for none.
func (s Segment) Flags() string {
	var w []string
	for _, f := range []struct {
		on   bool
		name string
	}{{s.FIN, "FIN"}, {s.RST, "RST"}, {s.PSH, "PSH"}, {s.ACK, "ACK"}} {
		if f.on {
			w = append(w, f.name)
		}
	}
	return strings.Join(w, "+")
}

// Packet is a segment of either direction of a captured connection, in the
// order the capture saw them.
type Packet struct {
	Segment
	FromLocal bool // sent by the capture's Conn4.Local (else by its Remote)
}

// words is the segment as the wire step spells it: "data", "FIN", "RST",
// several joined by "+"; "" for a pure ACK.
func (s Segment) words() string {
	var w []string
	if s.Data > 0 {
		w = append(w, "data")
	}
	if s.FIN {
		w = append(w, "FIN")
	}
	if s.RST {
		w = append(w, "RST")
	}
	return strings.Join(w, "+")
}

// WireClass spells a sequence of segments for a wire step: the segments that
// carry data, FIN or RST, in order, joined by ","; "none" when there are none.
// Pure ACKs and window updates are left out: they say nothing about a close.
func WireClass(segs []Segment) string {
	var out []string
	for _, s := range segs {
		if w := s.words(); w != "" {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

// Segments reads everything captured so far and returns the segments of the
// watched direction (Local to Remote), in order: the Local-to-Remote half of
// Packets, whichever capture this system has.
func (c *Capture) Segments() ([]Segment, error) {
	all, err := c.Packets()
	var segs []Segment
	for _, p := range all {
		if p.FromLocal {
			segs = append(segs, p.Segment)
		}
	}
	return segs, err
}
