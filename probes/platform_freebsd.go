package probes

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// platformSysctls are the FreeBSD settings that change what a cell shows,
// each with why:
//
//   - net.inet.tcp.nolocaltimewait: 1 (the default since FreeBSD 14.0,
//     commit 92b3e07229ba, "Do not create compressed TCP TIME_WAIT entries
//     for local connections", sys/netinet/tcp_timewait.c) means that a
//     connection closed over loopback never enters TIME_WAIT: the
//     orderly-release cells read none where Linux reads TIME_WAIT.
//   - net.isr.numthreads: the netisr workstreams. Settle's loopback barrier
//     (settle.go) rests on one FIFO queue per protocol, which holds with one
//     workstream (net.isr.maxthreads defaults to 1, sys/net/netisr.c); with
//     more, flows may be spread over several queues.
var platformSysctls = []string{"net.inet.tcp.nolocaltimewait", "net.isr.numthreads"}

// platformNotes reads platformSysctls; a sysctl that cannot be read says so
// instead of a value.
func platformNotes() map[string]string {
	notes := make(map[string]string, len(platformSysctls))
	for _, name := range platformSysctls {
		if v, err := unix.SysctlUint32(name); err == nil {
			notes[name] = strconv.FormatUint(uint64(v), 10)
		} else {
			notes[name] = "unreadable: " + err.Error()
		}
	}
	return notes
}
