package probes

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// TestNTStatusTable checks ntstatus.go's numbers against x/sys's
// (zerrors_windows.go, from ntstatus.h), each Winsock column against
// winerror.h's name and number, and that a row's class is the class of
// its Winsock code, so a completion and a blocking call classify alike.
func TestNTStatusTable(t *testing.T) {
	for _, c := range []struct {
		st   windows.NTStatus
		name string
	}{
		{windows.STATUS_SUCCESS, "STATUS_SUCCESS"},
		{windows.STATUS_TIMEOUT, "STATUS_TIMEOUT"},
		{windows.STATUS_HANDLES_CLOSED, "STATUS_HANDLES_CLOSED"},
		{windows.STATUS_INVALID_HANDLE, "STATUS_INVALID_HANDLE"},
		{windows.STATUS_OBJECT_TYPE_MISMATCH, "STATUS_OBJECT_TYPE_MISMATCH"},
		{windows.STATUS_IO_TIMEOUT, "STATUS_IO_TIMEOUT"},
		{windows.STATUS_CANCELLED, "STATUS_CANCELLED"},
		{windows.STATUS_LOCAL_DISCONNECT, "STATUS_LOCAL_DISCONNECT"},
		{windows.STATUS_REMOTE_DISCONNECT, "STATUS_REMOTE_DISCONNECT"},
		{windows.STATUS_LINK_FAILED, "STATUS_LINK_FAILED"},
		{windows.STATUS_LINK_TIMEOUT, "STATUS_LINK_TIMEOUT"},
		{windows.STATUS_CONNECTION_DISCONNECTED, "STATUS_CONNECTION_DISCONNECTED"},
		{windows.STATUS_CONNECTION_RESET, "STATUS_CONNECTION_RESET"},
		{windows.STATUS_TRANSACTION_ABORTED, "STATUS_TRANSACTION_ABORTED"},
		{windows.STATUS_CONNECTION_REFUSED, "STATUS_CONNECTION_REFUSED"},
		{windows.STATUS_GRACEFUL_DISCONNECT, "STATUS_GRACEFUL_DISCONNECT"},
		{windows.STATUS_NETWORK_UNREACHABLE, "STATUS_NETWORK_UNREACHABLE"},
		{windows.STATUS_HOST_UNREACHABLE, "STATUS_HOST_UNREACHABLE"},
		{windows.STATUS_PROTOCOL_UNREACHABLE, "STATUS_PROTOCOL_UNREACHABLE"},
		{windows.STATUS_PORT_UNREACHABLE, "STATUS_PORT_UNREACHABLE"},
		{windows.STATUS_REQUEST_ABORTED, "STATUS_REQUEST_ABORTED"},
		{windows.STATUS_CONNECTION_ABORTED, "STATUS_CONNECTION_ABORTED"},
		{windows.STATUS_HOPLIMIT_EXCEEDED, "STATUS_HOPLIMIT_EXCEEDED"},
	} {
		if got := ntStatusName(uint32(c.st)); got != c.name {
			t.Errorf("ntStatusName(%#x) = %s; want %s (x/sys)", uint32(c.st), got, c.name)
		}
	}
	if len(ntStatuses) != 23 {
		t.Errorf("ntStatuses has %d rows; this test checks 23", len(ntStatuses))
	}
	for st, i := range ntStatuses {
		if i.wsa == 0 {
			continue
		}
		if got := errnoName(windows.Errno(i.wsa)); got != i.wsaName {
			t.Errorf("%s: Winsock %d is %s; the table says %s", i.name, i.wsa, got, i.wsaName)
		}
		if got := completionClass(i.wsa); got != i.class {
			t.Errorf("%s (%#x): class %s; its Winsock code %s classifies %s", i.name, st, i.class, i.wsaName, got)
		}
	}
}

// TestCompletionOf: the live path reads the NTSTATUS from a
// windows.Overlapped's Internal beside GQCS's Win32 code.
func TestCompletionOf(t *testing.T) {
	ov := windows.Overlapped{Internal: uintptr(windows.STATUS_LOCAL_DISCONNECT)}
	c := completionOf(&ov, 0, windows.ERROR_NETNAME_DELETED)
	if c.NTStatus != "STATUS_LOCAL_DISCONNECT" || c.NTStatusCode != uint32(windows.STATUS_LOCAL_DISCONNECT) ||
		c.Errno != "ERROR_NETNAME_DELETED" || c.Code != 64 {
		t.Errorf("completionOf = %+v", c)
	}
	if o := c.Outcome(); o.Class != "aborted" {
		t.Errorf("Outcome = %+v; want aborted (a local disconnect, whatever GQCS's 64 says)", o)
	}
}

// TestIOSBWritten: a completion dequeued while the OVERLAPPED still reads
// STATUS_PENDING (Wine, loaded) is read once the status is written, and
// records no NTSTATUS while it is not.
func TestIOSBWritten(t *testing.T) {
	ov := windows.Overlapped{Internal: uintptr(windows.STATUS_PENDING)}
	if c := completionOf(&ov, 0, nil); c.NTStatus != "" {
		t.Errorf("completionOf(STATUS_PENDING) = %+v; want no NTSTATUS", c)
	}
	if iosbWritten(&ov, time.Millisecond) {
		t.Error("iosbWritten = true while Internal reads STATUS_PENDING")
	}
	go func() {
		time.Sleep(5 * time.Millisecond)
		atomic.StoreUintptr(&ov.Internal, uintptr(windows.STATUS_CONNECTION_RESET))
	}()
	if !iosbWritten(&ov, 2*time.Second) {
		t.Fatal("iosbWritten = false after the status was written")
	}
	if c := completionOf(&ov, 0, windows.ERROR_NETNAME_DELETED); c.NTStatus != "STATUS_CONNECTION_RESET" {
		t.Errorf("completionOf = %+v", c)
	}
}
