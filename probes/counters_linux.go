package probes

import (
	"fmt"
	"os"
)

// TCPCounters reads the TCP MIB of the calling thread's network namespace
// from /proc/net/snmp (proc(5); /proc/net is /proc/self/net, the
// namespace's own: net/ipv4/proc.c registers "snmp" per net namespace), so
// that a scenario run in a namespace of its own counts its own segments
// only. Needs no privilege.
func TCPCounters() (Counters, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return Counters{}, fmt.Errorf("counters: %w", err)
	}
	return parseSnmp(string(b))
}
