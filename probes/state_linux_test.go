package probes

import (
	"net/netip"
	"testing"
)

func TestProcAddr(t *testing.T) {
	// Values as /proc/net/tcp prints them on a little-endian machine (proc(5)).
	for in, want := range map[string]string{
		"127.0.0.1:80": "0100007F:0050",
		"[::1]:8080":   "00000000000000000000000001000000:1F90",
	} {
		if got := procAddr(netip.MustParseAddrPort(in)); got != want {
			t.Errorf("procAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
