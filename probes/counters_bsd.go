//go:build darwin || freebsd

package probes

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// TCPCounters reads struct tcpstat with sysctl net.inet.tcp.stats (sysctl(3);
// xnu bsd/netinet/tcp_subr.c and FreeBSD sys/netinet/tcp_subr.c export it
// read-only to anyone). It holds segments sent and control segments sent,
// but no RSTs-sent counter: the reading's Has lacks HasRstsSent and NoRsts
// says why. NEVER RUN on a real darwin or FreeBSD machine yet; the layouts
// are tested with byte fixtures (counters_test.go).
func TCPCounters() (Counters, error) {
	b, err := unix.SysctlRaw("net.inet.tcp.stats")
	if err != nil {
		return Counters{}, fmt.Errorf("counters: sysctl net.inet.tcp.stats: %w", err)
	}
	if runtime.GOOS == "darwin" {
		return parseTcpstat(sourceSysctlDarwin, b, tcpstatDarwin)
	}
	return parseTcpstat(sourceSysctlBSD, b, tcpstatFreeBSD)
}
