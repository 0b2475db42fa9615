package gonet

import (
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/closematrix/closematrix/schema"
)

// What net's Read and Write wrap on Windows: net/fd_windows.go's
// readSyscallName and writeSyscallName; Winsock has no EPIPE, a send on an
// aborted connection fails with WSAECONNABORTED (Windows Sockets Error
// Codes).
var osErrnos = errnoCase{
	readCall: "wsarecv", writeCall: "wsasend",
	reset: syscall.WSAECONNRESET, resetName: "WSAECONNRESET",
	write: syscall.WSAECONNABORTED, writeName: "WSAECONNABORTED", writeClass: schema.ClassAborted,
}

// underWine is true when ntdll.dll exports wine_get_version, Wine's own
// marker (as harness/platform_windows.go detects it). Wine 8 sends FIN before
// RST on an abortive close (probes/sys_windows.go, closeFD), so the other
// end reads end of stream before it sees a reset.
var underWine = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
