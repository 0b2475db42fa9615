//go:build !linux && !darwin && !freebsd

package probes

import "fmt"

// Capture is not implemented here: Linux's AF_PACKET and the BSDs' BPF
// devices (wire_bpf.go) are the raw views of loopback that need no driver;
// Windows has none built in that a program can read (Npcap is a driver).
type Capture struct{}

// StartCapture reports ErrUnsupported here.
func StartCapture(Conn4) (*Capture, error) {
	return nil, fmt.Errorf("%w: the wire capture uses Linux's AF_PACKET or a BSD's BPF device", ErrUnsupported)
}

// Packets returns nothing here.
func (*Capture) Packets() ([]Packet, error) { return nil, ErrUnsupported }

// Close does nothing here.
func (*Capture) Close() error { return nil }
