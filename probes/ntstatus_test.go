package probes

import (
	"encoding/binary"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// overlappedFixture is an OVERLAPPED as the kernel leaves it on 64-bit
// Windows (minwinbase.h: ULONG_PTR Internal, InternalHigh; a union of
// Offset/OffsetHigh and Pointer; HANDLE hEvent: 32 bytes): Internal holds
// the NTSTATUS in its low half. The high half is filled with garbage, which
// a sign-extending or 64-bit read would carry into the status.
func overlappedFixture(status uint32, n uint64) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b[0:], status)
	binary.LittleEndian.PutUint32(b[4:], 0xDEADBEEF)
	binary.LittleEndian.PutUint64(b[8:], n)
	return b
}

// TestNTStatusClass: a pending recv classifies by its NTSTATUS, not by
// GetQueuedCompletionStatus's Win32 code, which is ERROR_NETNAME_DELETED
// (64) for a local disconnect, a remote disconnect and a reset alike
// (RtlNtStatusToDosError). Winsock (libuv uv_ntstatus_to_winsock_error,
// Wine NtStatusToWSAError) makes the first WSAECONNABORTED and the others
// WSAECONNRESET.
func TestNTStatusClass(t *testing.T) {
	for _, c := range []struct {
		status uint32
		win32  string
		code   int
		name   string
		class  schema.Class
	}{
		{0xC000013B, "ERROR_NETNAME_DELETED", 64, "STATUS_LOCAL_DISCONNECT", schema.ClassAborted},
		{0xC000013C, "ERROR_NETNAME_DELETED", 64, "STATUS_REMOTE_DISCONNECT", schema.ClassReset},
		{0xC000020D, "ERROR_NETNAME_DELETED", 64, "STATUS_CONNECTION_RESET", schema.ClassReset},
		{0xC0000241, "ERROR_CONNECTION_ABORTED", 1236, "STATUS_CONNECTION_ABORTED", schema.ClassAborted},
		{0xC0000120, "ERROR_OPERATION_ABORTED", 995, "STATUS_CANCELLED", schema.ClassCancelled},
		{0x8000000A, "ERROR_HANDLES_CLOSED", 676, "STATUS_HANDLES_CLOSED", schema.ClassOther},
		{0xC00000B5, "ERROR_SEM_TIMEOUT", 121, "STATUS_IO_TIMEOUT", schema.ClassTimedOut},
	} {
		st, err := overlappedStatus(overlappedFixture(c.status, 0), 8)
		if err != nil || st != c.status {
			t.Fatalf("overlappedStatus(%#x fixture) = %#x, %v", c.status, st, err)
		}
		if got := ntStatusName(st); got != c.name {
			t.Errorf("ntStatusName(%#x) = %s; want %s", st, got, c.name)
		}
		comp := Completion{API: "iocp", Done: true, Errno: c.win32, Code: c.code, NTStatus: ntStatusName(st), NTStatusCode: st}
		o := comp.Outcome()
		if o.Class != c.class || o.Errno != c.win32 || o.Code != c.code {
			t.Errorf("%s with GQCS %s: Outcome %+v; want class %s, the Win32 code kept", c.name, c.win32, o, c.class)
		}
		typed := comp.Typed()
		if typed.NTStatus != c.name || typed.NTStatusCode != c.status {
			t.Errorf("Typed() = %+v; want NTSTATUS %s %#x", typed, c.name, c.status)
		}
	}
	// 32-bit Windows: Internal is 4 bytes.
	if st, err := overlappedStatus([]byte{0x0D, 0x02, 0x00, 0xC0}, 4); err != nil || st != 0xC000020D {
		t.Errorf("overlappedStatus(32-bit) = %#x, %v", st, err)
	}
	if _, err := overlappedStatus([]byte{1, 2, 3}, 8); err == nil {
		t.Error("overlappedStatus of 3 bytes succeeded")
	}
	// An unknown status has a name from its number and leaves the class
	// to the Win32 code; so does a completion with no NTSTATUS recorded.
	if got := ntStatusName(0xC0FFEE01); got != "NTSTATUS_0xC0FFEE01" {
		t.Errorf("ntStatusName(unknown) = %s", got)
	}
	for _, st := range []struct {
		name string
		code uint32
	}{{"NTSTATUS_0xC0FFEE01", 0xC0FFEE01}, {"", 0xC000013B}, {"STATUS_SUCCESS", 0}} {
		if k, ok := ntStatusClass(st.name, st.code); ok {
			t.Errorf("ntStatusClass(%q, %#x) = %s; want none", st.name, st.code, k)
		}
	}
	// Data and end of stream still come from the byte count.
	for _, c := range []struct {
		c    Completion
		want schema.Class
	}{
		{Completion{API: "iocp", Done: true, N: 5, NTStatus: "STATUS_SUCCESS"}, schema.ClassData},
		{Completion{API: "iocp", Done: true, NTStatus: "STATUS_SUCCESS"}, schema.ClassEOF},
	} {
		if got := c.c.Outcome().Class; got != c.want {
			t.Errorf("%+v.Outcome() = %s; want %s", c.c, got, c.want)
		}
	}
}
