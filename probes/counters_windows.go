package probes

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// GetTcpStatisticsEx (iphlpapi.h; learn.microsoft.com/en-us/windows/win32/
// api/iphlpapi/nf-iphlpapi-gettcpstatisticsex): ULONG
// GetTcpStatisticsEx(PMIB_TCPSTATS pStats, ULONG Family), Family AF_INET
// or AF_INET6, NO_ERROR on success. x/sys/windows does not wrap it. No
// privilege is needed.
var procGetTcpStatisticsEx = windows.NewLazySystemDLL("iphlpapi.dll").NewProc("GetTcpStatisticsEx")

// underWine: ntdll.dll exports wine_get_version under Wine only (Wine's
// own marker, dlls/ntdll/ntdll.spec; harness/platform_windows.go detects Wine the same way).
var underWine = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil

func getTcpStatistics(family uint32) ([]byte, error) {
	buf := make([]byte, mibTCPStatsSize)
	r, _, _ := procGetTcpStatisticsEx.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(family))
	if r != 0 {
		return nil, fmt.Errorf("counters: GetTcpStatisticsEx(family %d): %w", family, windows.Errno(r))
	}
	return buf, nil
}

// TCPCounters reads MIB_TCPSTATS for IPv4 and IPv6 and sums them: Windows
// keeps the two families' counters apart. Under Wine both families return
// the same Linux counters ("linux merges tcp4 and tcp6 stats, so simply
// supply that for either family": Wine dlls/nsiproxy.sys/tcp.c,
// tcp_stats_get_all_parameters, which parses /proc/net/snmp), so only
// AF_INET's is read, and the Source says whose counters they are. The
// Windows reading has NEVER RUN on real Windows yet.
func TCPCounters() (Counters, error) {
	if err := procGetTcpStatisticsEx.Find(); err != nil {
		return Counters{}, fmt.Errorf("counters: %w", err)
	}
	v4, err := getTcpStatistics(windows.AF_INET)
	if err != nil {
		return Counters{}, err
	}
	if underWine {
		return parseMibTCPStats(sourceWindowsWine, v4)
	}
	v6, err := getTcpStatistics(windows.AF_INET6)
	if err != nil {
		// No IPv6 stack: nothing of IPv6 to count, and the source says so.
		return parseMibTCPStats(sourceWindowsV4+" ("+err.Error()+")", v4)
	}
	return parseMibTCPStats(sourceWindows, v4, v6)
}
