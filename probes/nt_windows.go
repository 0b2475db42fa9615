package probes

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// What Windows event loops see: AFD poll for readiness (wepoll, mio, libuv's
// uv_poll) and an overlapped WSARecv on an I/O completion port for
// completion (libuv's uv_read, .NET, Go's runtime poller).
//
// Memory the kernel writes after a call has returned (OVERLAPPED, the
// IO_STATUS_BLOCK inside it, AFD_POLL_INFO, the recv buffer) is allocated
// with LocalAlloc, outside the Go heap: the garbage collector neither moves
// nor frees it, so it stays valid however long the operation is
// outstanding, even if a caller drops the Watch or AsyncRecv without closing
// it (then it leaks, but is never reused while the kernel may write to it).
// It is freed only after the operation's completion packet has been
// dequeued. Go memory would need a runtime.Pinner kept alive for the whole
// operation, and the runtime panics when a Pinner is collected unpinned.
//
// This file holds what the AFD poll (afd_windows.go) and the IOCP recv
// (iocp_windows.go) share: ntdll calls, NTSTATUS errors, memory outside the
// Go heap and the completion-port dequeue.

// ntdll's NtDeviceIoControlFile, which x/sys does not wrap (winternl.h;
// learn.microsoft.com, "NtDeviceIoControlFile function").
var (
	modntdll                  = windows.NewLazySystemDLL("ntdll.dll")
	procNtDeviceIoControlFile = modntdll.NewProc("NtDeviceIoControlFile")
)

// ntError is a failed NTSTATUS, named by its number (NTStatus.Error is
// FormatMessage text, which is localised). errors.Is(err, windows.STATUS_…)
// finds it.
type ntError struct {
	op     string
	status windows.NTStatus
}

func (e *ntError) Error() string {
	return fmt.Sprintf("%s: NTSTATUS 0x%08X", e.op, uint32(e.status))
}

func (e *ntError) Unwrap() error { return e.status }

// cmem turns an address that LocalAlloc returned into a pointer. The memory
// is outside the Go heap, so holding it in an unsafe.Pointer is safe; the
// indirection keeps vet's unsafeptr check, which cannot know where a
// uintptr came from, from flagging the conversion.
func cmem(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// localAlloc wraps LocalAlloc(LPTR, n): fixed, zeroed memory outside the Go
// heap.
func localAlloc(n uintptr) (uintptr, error) {
	p, err := windows.LocalAlloc(windows.LPTR, uint32(n))
	if err != nil {
		return 0, wrap("localalloc", err)
	}
	return p, nil
}

// reapBound bounds the wait for the completion of an operation that close
// has just cancelled (or that the closing of its handle completed). A
// cancelled loopback operation completes within microseconds; 2 s leaves
// room for a loaded runner. If even that passes, the memory stays allocated
// (the kernel may still write to it) and close says so.
const reapBound = 2 * time.Second

// millis converts a bound to GetQueuedCompletionStatus's milliseconds,
// rounding up so that a positive bound never becomes a poll.
func millis(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms >= windows.INFINITE {
		return windows.INFINITE - 1
	}
	return uint32(ms)
}

// dequeue waits up to ms for one packet on port. It reports the
// OVERLAPPED pointer (nil when nothing was dequeued), the byte count and
// GetQueuedCompletionStatus's error: the operation's Win32 error when a
// packet came, WAIT_TIMEOUT or a port error when none did.
func dequeue(port windows.Handle, ms uint32) (*windows.Overlapped, uint32, error) {
	var (
		n   uint32
		key uintptr
		ov  *windows.Overlapped
	)
	err := windows.GetQueuedCompletionStatus(port, &n, &key, &ov, ms)
	return ov, n, err
}
