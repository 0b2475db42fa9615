package probes

import (
	"encoding/binary"
	"fmt"

	"github.com/closematrix/closematrix/schema"
)

// The NTSTATUS of a completed Windows operation, and its class. No build
// tag: the table and the OVERLAPPED decoder are tested with byte fixtures
// on every OS (ntstatus_test.go); iocp_windows.go uses them on a live
// system, and ntstatus_windows_test.go checks the numbers against
// golang.org/x/sys/windows.
//
// Why the NTSTATUS and not GetQueuedCompletionStatus's Win32 code: GQCS
// reports RtlNtStatusToDosError of the status ("Mapping NT Status Error
// Codes to Win32 Error Codes", KB113996), which maps
// STATUS_LOCAL_DISCONNECT, STATUS_REMOTE_DISCONNECT and
// STATUS_CONNECTION_RESET all to ERROR_NETNAME_DELETED (64), while Winsock
// tells them apart: a local disconnect or an abort is WSAECONNABORTED, a
// remote disconnect or a reset WSAECONNRESET.

// ntStatusInfo is one row: the ntstatus.h name, the class, and the Winsock
// code that ws2_32 gives the status (WSAGetOverlappedResult,
// WSAGetLastError after a synchronous failure), by its winerror.h name and
// number. The class is the class of that Winsock code (classify's table),
// so that a completion and a blocking call that fail alike classify alike.
type ntStatusInfo struct {
	name    string
	class   schema.Class
	wsaName string
	wsa     int
}

// ntStatuses: values from ntstatus.h (Windows SDK; golang.org/x/sys/windows
// zerrors_windows.go carries the same numbers). The Winsock column is the
// mapping both reimplementations of msafd agree on: libuv
// src/win/winsock.c, uv_ntstatus_to_winsock_error, and Wine
// dlls/ws2_32/socket.c, NtStatusToWSAError. Where they differ, the row
// says so:
//   - STATUS_CANCELLED: Wine gives ERROR_OPERATION_ABORTED (995, winsock2.h
//     WSA_OPERATION_ABORTED), which WSAGetOverlappedResult documents for an
//     operation cancelled by the socket's closure ("WSAGetOverlappedResult
//     function", Return value); libuv gives WSAEINTR. Under Wine 8 a
//     CancelIoEx'd recv read WSA 995 here. Class cancelled.
//   - STATUS_HANDLES_CLOSED (0x8000000A, a warning): what Wine 8 completes
//     a recv pending on a socket it closes with (TestIOCPPendingRecv,
//     own-close); in neither table (Wine: WSAEINVAL, as for any unlisted
//     failure). Class other: a Wine finding, shown by its name.
//   - STATUS_GRACEFUL_DISCONNECT: both WSAEDISCON, class other as classify
//     keeps WSAEDISCON (TCP reports the end of stream as 0 bytes).
var ntStatuses = map[uint32]ntStatusInfo{
	0x00000000: {"STATUS_SUCCESS", schema.ClassOK, "", 0},
	0x00000102: {"STATUS_TIMEOUT", schema.ClassTimedOut, "WSAETIMEDOUT", 10060},
	0x8000000A: {"STATUS_HANDLES_CLOSED", schema.ClassOther, "", 0},
	0xC0000008: {"STATUS_INVALID_HANDLE", schema.ClassNotSocket, "WSAENOTSOCK", 10038},
	0xC0000024: {"STATUS_OBJECT_TYPE_MISMATCH", schema.ClassNotSocket, "WSAENOTSOCK", 10038},
	0xC00000B5: {"STATUS_IO_TIMEOUT", schema.ClassTimedOut, "WSAETIMEDOUT", 10060},
	0xC0000120: {"STATUS_CANCELLED", schema.ClassCancelled, "ERROR_OPERATION_ABORTED", 995},
	0xC000013B: {"STATUS_LOCAL_DISCONNECT", schema.ClassAborted, "WSAECONNABORTED", 10053},
	0xC000013C: {"STATUS_REMOTE_DISCONNECT", schema.ClassReset, "WSAECONNRESET", 10054},
	0xC000013E: {"STATUS_LINK_FAILED", schema.ClassReset, "WSAECONNRESET", 10054},
	0xC000013F: {"STATUS_LINK_TIMEOUT", schema.ClassTimedOut, "WSAETIMEDOUT", 10060},
	0xC000020C: {"STATUS_CONNECTION_DISCONNECTED", schema.ClassReset, "WSAECONNRESET", 10054},
	0xC000020D: {"STATUS_CONNECTION_RESET", schema.ClassReset, "WSAECONNRESET", 10054},
	0xC000020F: {"STATUS_TRANSACTION_ABORTED", schema.ClassAborted, "WSAECONNABORTED", 10053},
	0xC0000236: {"STATUS_CONNECTION_REFUSED", schema.ClassOther, "WSAECONNREFUSED", 10061},
	0xC0000237: {"STATUS_GRACEFUL_DISCONNECT", schema.ClassOther, "WSAEDISCON", 10101},
	0xC000023C: {"STATUS_NETWORK_UNREACHABLE", schema.ClassUnreachable, "WSAENETUNREACH", 10051},
	0xC000023D: {"STATUS_HOST_UNREACHABLE", schema.ClassUnreachable, "WSAEHOSTUNREACH", 10065},
	0xC000023E: {"STATUS_PROTOCOL_UNREACHABLE", schema.ClassUnreachable, "WSAENETUNREACH", 10051},
	0xC000023F: {"STATUS_PORT_UNREACHABLE", schema.ClassReset, "WSAECONNRESET", 10054},
	0xC0000240: {"STATUS_REQUEST_ABORTED", schema.ClassInterrupted, "WSAEINTR", 10004},
	0xC0000241: {"STATUS_CONNECTION_ABORTED", schema.ClassAborted, "WSAECONNABORTED", 10053},
	0xC000A012: {"STATUS_HOPLIMIT_EXCEEDED", schema.ClassReset, "WSAECONNRESET", 10054},
}

// ntStatusName is the ntstatus.h name of st, or NTSTATUS_0x<hex> for one
// not in the table: a name made from the number, never a message.
func ntStatusName(st uint32) string {
	if i, ok := ntStatuses[st]; ok {
		return i.name
	}
	return fmt.Sprintf("NTSTATUS_0x%08X", st)
}

// ntStatusClass is the class of a completion's NTSTATUS; false when none
// was recorded (name empty: io_uring, or an IOCP completion that was never
// read) or the status is not in the table, where the Win32 code's class
// stands.
func ntStatusClass(name string, st uint32) (schema.Class, bool) {
	if name == "" {
		return "", false
	}
	i, ok := ntStatuses[st]
	if !ok || i.class == schema.ClassOK {
		return "", false
	}
	return i.class, true
}

// overlappedStatus decodes OVERLAPPED.Internal, the IO_STATUS_BLOCK's
// Status that the kernel writes on completion (winbase.h: "Internal: the
// status code for the I/O request"; minwinbase.h: ULONG_PTR Internal at
// offset 0). ptr is the size of a pointer; NTSTATUS is a 32-bit LONG, the
// low half of the little-endian ULONG_PTR on 64-bit Windows.
func overlappedStatus(b []byte, ptr int) (uint32, error) {
	if ptr != 4 && ptr != 8 || len(b) < ptr {
		return 0, fmt.Errorf("OVERLAPPED: %d bytes for a %d-byte Internal", len(b), ptr)
	}
	return binary.LittleEndian.Uint32(b), nil
}
