//go:build !linux

package probes

import "fmt"

// Capture is not implemented here: Linux's AF_PACKET is the only raw view of
// loopback that needs no driver (BPF devices on darwin, Npcap on Windows).
type Capture struct{}

// StartCapture reports ErrUnsupported off Linux.
func StartCapture(Conn4) (*Capture, error) {
	return nil, fmt.Errorf("%w: the wire capture uses Linux's AF_PACKET", ErrUnsupported)
}

// Segments returns nothing off Linux.
func (*Capture) Segments() ([]Segment, error) { return nil, ErrUnsupported }

// Packets returns nothing off Linux.
func (*Capture) Packets() ([]Packet, error) { return nil, ErrUnsupported }

// Close does nothing off Linux.
func (*Capture) Close() error { return nil }
