//go:build linux || darwin || freebsd

package probes

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// The barrier is portable: here it is played for real, in both families.
func TestLoopbackBarrier(t *testing.T) {
	for _, local := range []string{"127.0.0.1:1", "[::1]:1"} {
		c := Conn4{Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(local)}
		err := loopbackBarrier(c, time.Second)
		if err != nil && familyUnavailable(err) {
			t.Logf("%s: %v", local, err)
			continue
		}
		if err != nil {
			t.Errorf("barrier over %s: %v", local, err)
		}
	}
	// A bound already spent: the datagram may still be read at once, but a
	// barrier that has to wait reports errBarrierBound, never blocks.
	start := time.Now()
	if err := loopbackBarrier(Conn4{Local: netip.MustParseAddrPort("127.0.0.1:1")}, 0); err != nil && !errors.Is(err, errBarrierBound) {
		t.Errorf("barrier with no time: %v", err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("barrier with no time took %v", el)
	}
}
