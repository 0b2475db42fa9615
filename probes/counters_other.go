//go:build !linux && !windows && !darwin && !freebsd

package probes

import "fmt"

// TCPCounters reports ErrUnsupported here.
func TCPCounters() (Counters, error) {
	return Counters{}, fmt.Errorf("%w: no TCP counters are read on this OS", ErrUnsupported)
}
