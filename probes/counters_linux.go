package probes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// TCPCounters reads the TCP MIB of the calling thread's network namespace
// from /proc/thread-self/net/snmp (proc(5): /proc/thread-self, Linux 3.17;
// net/ipv4/proc.c registers "snmp" per network namespace), so that a
// scenario run in a namespace of its own counts its own segments only. The
// thread matters: the harness enters a scenario's namespace on a locked
// thread (setns(2) changes the calling thread only), and /proc/self/net
// would show the main thread's namespace instead (TestCountersOwnNamespace
// fails with it). Call it from that thread. Older kernels without
// /proc/thread-self fall back to /proc/self/net/snmp. Needs no privilege.
func TCPCounters() (Counters, error) {
	b, err := os.ReadFile("/proc/thread-self/net/snmp")
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile("/proc/self/net/snmp")
	}
	if err != nil {
		return Counters{}, fmt.Errorf("counters: %w", err)
	}
	return parseSnmp(string(b))
}
