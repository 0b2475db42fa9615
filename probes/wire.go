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
