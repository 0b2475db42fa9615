package probes

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/windows"
)

// These tests drive AFD poll and the IOCP recv end to end on loopback. Under
// Wine (wine/run.sh) they show what Wine 8 does; what Windows does is what
// Wine's conformance tests assert (dlls/ws2_32/tests/afd.c and sock.c run on
// Windows by Wine's test bot; a todo_wine there marks where Wine differs).
// They assert only the harness's facts: each read or wait returns within
// its bound, close reaps what was outstanding, nothing is left behind
// (Outstanding, the port and helper handles). What the APIs report is
// logged, with the comparison beside each case.
//
// Observed under Wine 8.0 (Debian 8.0~repack-4), amd64, here (-test.v):
//
//	AFD, registration on a connected pair: AFD_POLL_SEND (Windows, afd.c
//	  test_poll: WRITE|CONNECT; CONNECT is not polled for)
//	AFD, peer's FIN (SD_SEND): AFD_POLL_DISCONNECT (Windows: HUP, the same
//	  bit)
//	AFD, peer's RST (linger 0): AFD_POLL_ABORT, handle status 0 (Windows:
//	  RESET, the same bit, status 0; afd.c expects Wine to set a status,
//	  Wine 8 did not here)
//	AFD, own shutdown(SD_SEND): nothing (Windows: nothing new)
//	AFD, own closesocket: AFD_POLL_LOCAL_CLOSE (Windows: CLOSE, the same
//	  bit)
//	AFD, FIN then a send that met the closed peer: DISCONNECT, then a new
//	  edge AFD_POLL_ABORT
//	AFD routes: the \Device\Afd helper handle and the base handle both
//	  work
//	IOCP, peer's data: 5 bytes; peer's FIN: 0 bytes, no error (eof)
//	IOCP, peer's RST: ERROR_NETNAME_DELETED 64 / WSAECONNRESET 10054,
//	  NTSTATUS STATUS_CONNECTION_RESET (Windows: ERROR_NETNAME_DELETED,
//	  sock.c test_completion_port)
//	IOCP, CancelIoEx: ERROR_OPERATION_ABORTED 995 / WSA 995
//	IOCP, own closesocket with the recv pending: ERROR_HANDLES_CLOSED 676
//	  (STATUS_HANDLES_CLOSED), no WSA code (not asked of the closed
//	  handle, which answered WSAENOTSOCK 10038); the peer reads eof, eof:
//	  a FIN, not an RST (Windows completes an operation pending on a closed
//	  socket with ERROR_OPERATION_ABORTED, sock.c test_completion_port's
//	  AcceptEx cases; libuv#3034 reports an RST reaching the peer)
//	IOCP, CancelIoEx then closesocket: ERROR_OPERATION_ABORTED 995; the
//	  peer reads eof (FIN)
//	IOCP, own shutdown(SD_SEND): nothing completes (blocked)
//	IOCP, a WSARecv posted after the peer's linger-0 close: accepted, and
//	  completes with 0 bytes (eof) (Windows: fails at once with
//	  WSAECONNRESET and queues no packet, sock.c test_completion_port,
//	  "hard shutdown")
//	IOCP, Cancel while another goroutine Waits: the Wait returns
//	  ERROR_OPERATION_ABORTED within microseconds
//	IOCP, the issuing thread exits: the recv still completes (5 bytes)
//	IOCP, a second StartRecv on the same socket: ERROR_INVALID_PARAMETER
//	  from CreateIoCompletionPort

// eventBound bounds each wait for an event or a completion in these tests.
const eventBound = 2 * time.Second

// procNtQueryObject is ntdll's NtQueryObject (winternl.h;
// learn.microsoft.com, "NtQueryObject function"), which x/sys does not
// wrap.
var procNtQueryObject = modntdll.NewProc("NtQueryObject")

// objectTypeInformation is OBJECT_INFORMATION_CLASS ObjectTypeInformation
// (winternl.h: ObjectBasicInformation 0, ObjectTypeInformation 2), whose
// answer is PUBLIC_OBJECT_TYPE_INFORMATION {UNICODE_STRING TypeName; ULONG
// Reserved[22];} (ntifs.h).
const objectTypeInformation = 2

// objectType is the type name of the object h refers to ("IoCompletion",
// "File", "Thread", "Event"), or "" when h is no open handle. A closed
// handle's value is taken again at once by whatever the process opens next
// (the runtime starts threads and makes events at any time), so a test
// that a handle was closed asks what the value is now, not whether it is
// open.
func objectType(h windows.Handle) string {
	buf := make([]uint64, 128) // 1 KiB, 8-aligned for the UNICODE_STRING
	var n uint32
	r, _, _ := syscall.SyscallN(procNtQueryObject.Addr(), uintptr(h), objectTypeInformation,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(8*len(buf)), uintptr(unsafe.Pointer(&n)))
	if windows.NTStatus(uint32(r)) != windows.STATUS_SUCCESS {
		return ""
	}
	return (*windows.NTUnicodeString)(unsafe.Pointer(&buf[0])).String()
}

// portOpen reports whether h is (still, or again) an I/O completion port.
func portOpen(h windows.Handle) bool { return objectType(h) == "IoCompletion" }

// afdOpen reports whether h is (still, or again) a file object, as the
// \Device\Afd helper handle is.
func afdOpen(h windows.Handle) bool { return objectType(h) == "File" }

// TestObjectType: the check the close tests rest on tells a port and an
// AFD handle from a thread, an event, and a closed handle.
func TestObjectType(t *testing.T) {
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
	if err != nil {
		t.Fatalf("CreateIoCompletionPort: %v", err)
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	defer windows.CloseHandle(ev)
	afd, err := openAFD(afdDevice)
	if err != nil {
		t.Fatalf("openAFD: %v", err)
	}
	t.Logf("types: port %q, event %q, AFD %q, this thread %q", objectType(port), objectType(ev), objectType(afd),
		objectType(windows.CurrentThread()))
	if !portOpen(port) || portOpen(ev) || !afdOpen(afd) || afdOpen(ev) || afdOpen(port) {
		t.Errorf("portOpen/afdOpen do not tell the objects apart: port %q, event %q, AFD %q", objectType(port), objectType(ev), objectType(afd))
	}
	windows.CloseHandle(afd)
	windows.CloseHandle(port)
	t.Logf("after CloseHandle: port's value %q, AFD's value %q", objectType(port), objectType(afd))
}

// checkNoLeak fails the test if Outstanding is not back at before.
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	if got := Outstanding(); got != before {
		t.Errorf("Outstanding() = %d after close; want %d", got, before)
	}
}

// closeWatch closes w and checks that its port and helper handle are gone.
func closeWatch(t *testing.T, w *Watch) {
	t.Helper()
	aw := w.impl.(*afdWatch)
	port, dev, owns := aw.port, aw.dev, aw.ownsDev
	// Windows reports status 0 with AFD_POLL_RESET; Wine's afd.c expects
	// Wine to differ (check_poll_).
	t.Logf("last AFD_POLL_HANDLE_INFO.Status: %#x", aw.status)
	if err := w.Close(); err != nil {
		t.Errorf("Watch.Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Watch.Close: %v", err)
	}
	if portOpen(port) {
		t.Errorf("AFD port handle %#x still open after Close", port)
	}
	if owns && afdOpen(dev) {
		t.Errorf("AFD helper handle %#x still open after Close", dev)
	}
}

// watchedPair is a pair on a listener of its own whose accepted end is
// watched; at the end the sockets are closed, then the watch (closeWatch),
// and nothing may be left outstanding.
func watchedPair(t *testing.T) (client, server *Socket, w *Watch) {
	t.Helper()
	l, c, a := statePair(t, V4)
	l.Close()
	before := Outstanding()
	w, err := a.Watch()
	if err != nil {
		c.Close()
		a.Close()
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(func() {
		for _, x := range []*Socket{c, a} {
			if !x.Closed() {
				x.Close()
			}
		}
		closeWatch(t, w)
		checkNoLeak(t, before)
	})
	return c, a, w
}

// TestAFDEvents: which AFD_POLL_* events a FIN, an RST, an own
// shutdown(SD_SEND) and an own closesocket raise on a registration made as
// mio and wepoll make it.
//
// What Windows does, per Wine's afd.c (test_poll, test_poll_reset), which
// polls with the full mask each time (level), where this Watch reports
// each event once (edge, mio's emulation):
//   - connected pair: AFD_POLL_WRITE|AFD_POLL_CONNECT (= SEND|CONNECT; we
//     do not poll CONNECT) — expect AFD_POLL_SEND at registration.
//   - peer's shutdown(SD_SEND): AFD_POLL_HUP (= DISCONNECT), with
//     WRITE|CONNECT; with unread data READ|HUP on Windows, but Wine leaves
//     HUP out there (check_poll_todo, "Test shutdown with data in the
//     pipe").
//   - peer's linger-0 close: AFD_POLL_RESET (= ABORT) alone for a mask
//     without WRITE|CONNECT, then WRITE|CONNECT|RESET; Windows reports
//     status 0 in AFD_POLL_HANDLE_INFO, Wine a non-zero status
//     (todo_wine_if (expect & AFD_POLL_RESET) in check_poll_).
//   - own shutdown(SD_SEND): nothing new on the shutting socket
//     (check_poll(client, …WRITE|CONNECT) after shutdown(client,
//     SD_SEND)).
//   - own closesocket while a poll is pending: AFD_POLL_CLOSE (=
//     LOCAL_CLOSE) alone, "regardless of whether it's polled for", with
//     io.Status 0 (test_poll, "Test closing a socket while polling on
//     it"). Wine's test issues the ioctl on the closed socket itself; this
//     Watch issues it on a \Device\Afd helper handle.
func TestAFDEvents(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	playWatch(t, l, "afd", []eventAction{actPeerFIN, actPeerRST, actOwnShutdown, actOwnClose}, closeWatch)
}

// TestAFDSecondEdge: a registration that delivered the peer's FIN
// (DISCONNECT) gets a new edge when an RST follows: the actor sends, the
// peer, closed, answers with RST. libuv/libuv#3449 asks this of epoll.
func TestAFDSecondEdge(t *testing.T) {
	c, a, w := watchedPair(t)
	t.Logf("events at registration: %v", readUntil(t, w, eventBound))
	expect(t, "peer.close", c.Close(), schema.ClassOK, 0)
	t.Logf("events after peer's close (FIN): %v", readUntil(t, w, eventBound))
	t.Logf("actor.send to the closed peer: %v", a.Send([]byte("x")))
	t.Logf("events#2 after the send met the closed peer: %v", readUntil(t, w, eventBound))
}

// TestAFDCloseBeforeRead: the socket is closed while the event poll is
// idle (it completed at registration with SEND and nobody has read it
// since). The close sentinel still sees AFD_POLL_LOCAL_CLOSE, and Read
// does not re-arm on the closed handle, whose value may be another
// socket's by then.
func TestAFDCloseBeforeRead(t *testing.T) {
	_, a, w := watchedPair(t)
	expect(t, "own.close", a.Close(), schema.ClassOK, 0)
	got := readUntil(t, w, eventBound)
	t.Logf("events after own close, first read: %v", got)
	if !slices.Contains(got.Names, "AFD_POLL_LOCAL_CLOSE") {
		t.Errorf("Read after close = %v; the close sentinel saw no AFD_POLL_LOCAL_CLOSE", got)
	}
	if aw := w.impl.(*afdWatch); aw.pending[afdEventOp] {
		t.Error("event poll re-armed after LOCAL_CLOSE")
	}
	again, err := w.Read()
	if err != nil {
		t.Errorf("second Read: %v", err)
	}
	t.Logf("events#2: %v", again)
}

// TestAFDRoutes: IOCTL_AFD_POLL issued on an \Device\Afd helper handle
// (wepoll, mio; what watchSocket uses) and on the socket's base handle
// itself (libuv's uv_poll). Both are what afd.c test_poll does on Windows.
func TestAFDRoutes(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	for _, helper := range []bool{true, false} {
		name := map[bool]string{true: "helper", false: "base-handle"}[helper]
		t.Run(name, func(t *testing.T) {
			c, a := pair(t, l)
			defer c.Close()
			defer a.Close()
			aw, err := newAFDWatch(a.fd, helper)
			if err != nil {
				t.Fatalf("newAFDWatch(%s): %v", name, err)
			}
			outstanding.Add(1) // as Socket.Watch counts it
			w := &Watch{impl: aw}
			before := Outstanding() - 1
			defer checkNoLeak(t, before)
			defer closeWatch(t, w)
			t.Logf("%s route, registration: %v", name, readUntil(t, w, eventBound))
			expect(t, "peer.send", c.Send([]byte("hello")), schema.ClassOK, 5)
			t.Logf("%s route, after peer's send: %v", name, readUntil(t, w, eventBound))
		})
	}
}

// TestAFDUnavailable: a route that cannot be had (here: a device name that
// does not exist) is ErrAsyncUnavailable with the NTSTATUS, not a crash,
// and leaves nothing behind.
func TestAFDUnavailable(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	c, a := pair(t, l)
	defer c.Close()
	defer a.Close()
	saved := afdDevice
	afdDevice = `\Device\closematrix-no-such-device`
	defer func() { afdDevice = saved }()
	before := Outstanding()
	w, err := a.Watch()
	if err == nil {
		w.Close()
		t.Fatal("Watch on a missing AFD device succeeded")
	}
	t.Logf("Watch: %v", err)
	if !errors.Is(err, ErrAsyncUnavailable) {
		t.Errorf("Watch error %v does not wrap ErrAsyncUnavailable", err)
	}
	var nt *ntError
	if !errors.As(err, &nt) || !strings.Contains(err.Error(), "NTSTATUS 0x") {
		t.Errorf("Watch error %v carries no NTSTATUS", err)
	}
	checkNoLeak(t, before)
}

// TestAFDLayout checks the AFD structures against their C layout on this
// architecture: AFD_POLL_HANDLE_INFO is a HANDLE and two 32-bit fields,
// AFD_POLL_INFO a LARGE_INTEGER, two ULONGs and the array (mio afd.rs;
// Wine afd.h struct afd_poll_params, whose BOOLEAN exclusive and 3 bytes
// of padding occupy the ULONG).
func TestAFDLayout(t *testing.T) {
	ptr := unsafe.Sizeof(uintptr(0))
	var info afdPollInfo
	for _, c := range []struct {
		field     string
		got, want uintptr
	}{
		{"sizeof(AFD_POLL_HANDLE_INFO)", unsafe.Sizeof(afdPollHandleInfo{}), ptr + 8},
		{"AFD_POLL_HANDLE_INFO.Events", unsafe.Offsetof(info.Handles[0].Events), ptr},
		{"AFD_POLL_INFO.NumberOfHandles", unsafe.Offsetof(info.NumberOfHandles), 8},
		{"AFD_POLL_INFO.Exclusive", unsafe.Offsetof(info.Exclusive), 12},
		{"AFD_POLL_INFO.Handles", unsafe.Offsetof(info.Handles), 16},
		{"sizeof(AFD_POLL_INFO)", unsafe.Sizeof(info), 16 + ptr + 8},
		{"OVERLAPPED.Internal (IO_STATUS_BLOCK.Status)", unsafe.Offsetof(windows.Overlapped{}.Internal), 0},
		{"OVERLAPPED.InternalHigh (IO_STATUS_BLOCK.Information)", unsafe.Offsetof(windows.Overlapped{}.InternalHigh), ptr},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d; want %d", c.field, c.got, c.want)
		}
	}
}

// TestAFDNames: sorted C names; an unnamed bit by its value.
func TestAFDNames(t *testing.T) {
	for _, c := range []struct {
		ev   uint32
		want []string
	}{
		{0, nil},
		{afdPollSend, []string{"AFD_POLL_SEND"}},
		{afdPollSend | afdPollDisconnect | afdPollReceive,
			[]string{"AFD_POLL_DISCONNECT", "AFD_POLL_RECEIVE", "AFD_POLL_SEND"}},
		{afdPollAbort | afdPollLocalClose | 0x200, []string{"AFD_POLL_0x200", "AFD_POLL_ABORT", "AFD_POLL_LOCAL_CLOSE"}},
	} {
		if got := afdNames(c.ev); !slices.Equal(got, c.want) {
			t.Errorf("afdNames(%#x) = %v; want %v", c.ev, got, c.want)
		}
	}
	if got := (Ready{API: "afd"}).String(); got != PollNone {
		t.Errorf("empty Ready = %q; want %q", got, PollNone)
	}
}

// TestCompletionClassWindows checks the IOCP table against x/sys constants:
// class, SDK name (errnoName) and number.
func TestCompletionClassWindows(t *testing.T) {
	for _, c := range []struct {
		errno windows.Errno
		class schema.Class
		name  string
		code  int
	}{
		{windows.ERROR_NETNAME_DELETED, schema.ClassReset, "ERROR_NETNAME_DELETED", 64},
		{windows.ERROR_CONNECTION_ABORTED, schema.ClassAborted, "ERROR_CONNECTION_ABORTED", 1236},
		{windows.ERROR_OPERATION_ABORTED, schema.ClassCancelled, "ERROR_OPERATION_ABORTED", 995},
		{windows.ERROR_SEM_TIMEOUT, schema.ClassTimedOut, "ERROR_SEM_TIMEOUT", 121},
		{windows.ERROR_NETWORK_UNREACHABLE, schema.ClassUnreachable, "ERROR_NETWORK_UNREACHABLE", 1231},
		{windows.ERROR_HOST_UNREACHABLE, schema.ClassUnreachable, "ERROR_HOST_UNREACHABLE", 1232},
		{windows.ERROR_INVALID_HANDLE, schema.ClassBadDescriptor, "ERROR_INVALID_HANDLE", 6},
		// Documented choice: other, as WSAEDISCON is.
		{windows.ERROR_GRACEFUL_DISCONNECT, schema.ClassOther, "ERROR_GRACEFUL_DISCONNECT", 1226},
		// WSAE codes classify as the blocking calls classify them.
		{windows.WSAECONNRESET, schema.ClassReset, "WSAECONNRESET", 10054},
		{windows.WSAECONNABORTED, schema.ClassAborted, "WSAECONNABORTED", 10053},
		{windows.Errno(1234567), schema.ClassOther, "WSA_ERROR_1234567", 1234567},
	} {
		if got := completionClass(int(c.errno)); got != c.class {
			t.Errorf("completionClass(%s) = %s; want %s", c.name, got, c.class)
		}
		if got := errnoName(c.errno); got != c.name || int(c.errno) != c.code {
			t.Errorf("errnoName(%d) = %s; want %s (%d)", int(c.errno), got, c.name, c.code)
		}
		o := Completion{API: "iocp", Done: true, Errno: c.name, Code: c.code}.Outcome()
		if o.Class != c.class || o.Errno != c.name || o.Code != c.code {
			t.Errorf("Outcome of %s = %+v", c.name, o)
		}
	}
	for _, c := range []struct {
		c    Completion
		want schema.Class
	}{
		{Completion{API: "iocp"}, schema.ClassBlocked},
		{Completion{API: "iocp", Done: true}, schema.ClassEOF},
		{Completion{API: "iocp", Done: true, N: 5}, schema.ClassData},
	} {
		if got := c.c.Outcome().Class; got != c.want {
			t.Errorf("%+v.Outcome() = %s; want %s", c.c, got, c.want)
		}
	}
}

// closeRecv closes r and checks that its port is gone.
func closeRecv(t *testing.T, r *AsyncRecv) {
	t.Helper()
	port := r.impl.(*iocpRecv).port
	if err := r.Close(); err != nil {
		t.Errorf("AsyncRecv.Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second AsyncRecv.Close: %v", err)
	}
	if portOpen(port) {
		t.Errorf("IOCP port %#x still open after Close", port)
	}
}

// pendingPair is a pair from l whose accepted end has an overlapped
// WSARecv of 64 bytes pending; at the end the recv is closed
// (closeRecv), then the sockets, and nothing may be left outstanding.
func pendingPair(t *testing.T, l *Listener) (client, server *Socket, r *AsyncRecv) {
	t.Helper()
	before := Outstanding()
	c, a := pair(t, l)
	r, err := a.StartRecv(64)
	if err != nil {
		c.Close()
		a.Close()
		t.Fatalf("StartRecv: %v", err)
	}
	t.Cleanup(func() {
		closeRecv(t, r)
		for _, x := range []*Socket{c, a} {
			if !x.Closed() {
				x.Close()
			}
		}
		checkNoLeak(t, before)
	})
	return c, a, r
}

// TestIOCPPendingRecv: how a pending overlapped WSARecv on a completion
// port completes on the peer's FIN, the peer's RST, CancelIoEx, an own
// closesocket (libuv#3034: what reaches the peer?) and CancelIoEx then
// closesocket (the fix of libuv#3036).
//
// What Windows does, per Wine's sock.c test_completion_port:
//   - peer's RST (close_with_rst) with WSARecv pending: GQCS FALSE,
//     ERROR_NETNAME_DELETED, 0 bytes (no todo_wine: Wine agrees).
//   - closesocket with an operation pending on the socket (AcceptEx there):
//     GQCS FALSE, ERROR_OPERATION_ABORTED, OVERLAPPED.Internal
//     STATUS_CANCELLED.
//   - a graceful close by the peer: WSARecv returns 0 bytes and GQCS TRUE
//     with 0 bytes ("Test IOCP response on graceful shutdown", issued once
//     the FIN is there).
//   - a WSARecv that fails at once (WSAECONNRESET after an RST) queues no
//     packet ("hard shutdown").
//
// libuv#3034 reports that closing a socket with a read pending sends RST
// instead of FIN on Windows; sock.c has no test of what the peer sees.
func TestIOCPPendingRecv(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	shared := func(a eventAction) func(*testing.T, *AsyncRecv, *Socket, *Socket) {
		return func(t *testing.T, _ *AsyncRecv, actor, peer *Socket) { a.act(t, actor, peer) }
	}
	cases := []struct {
		name string
		act  func(t *testing.T, r *AsyncRecv, actor, peer *Socket)
	}{
		{"peer-data", func(t *testing.T, r *AsyncRecv, actor, peer *Socket) {
			expect(t, "peer.send", peer.Send([]byte("hello")), schema.ClassOK, 5)
		}},
		{actPeerFIN.name, shared(actPeerFIN)},
		{actPeerRST.name, shared(actPeerRST)},
		{"cancel", func(t *testing.T, r *AsyncRecv, actor, peer *Socket) {
			if err := r.Cancel(); err != nil {
				t.Errorf("Cancel: %v", err)
			}
		}},
		{actOwnClose.name, shared(actOwnClose)},
		{"cancel-then-close", func(t *testing.T, r *AsyncRecv, actor, peer *Socket) {
			if err := r.Cancel(); err != nil {
				t.Errorf("Cancel: %v", err)
			}
			t.Logf("completion after cancel: %+v", r.Wait(eventBound))
			expect(t, "own.close", actor.Close(), schema.ClassOK, 0)
		}},
		{actOwnShutdown.name, shared(actOwnShutdown)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, a, r := pendingPair(t, l)
			if got := r.Wait(0); got.Done {
				t.Fatalf("recv completed before the action: %+v", got)
			}
			tc.act(t, r, a, c)
			bound := eventBound
			if tc.name == "own-shutdown-send" {
				// Nothing is expected to complete the recv: the
				// harness's blocked bound, not the event bound.
				bound = 100 * time.Millisecond
			}
			start := time.Now()
			got := r.Wait(bound)
			took := time.Since(start)
			t.Logf("completion after %s: %+v -> %v (after %v)", tc.name, got, got.Outcome(), took.Round(time.Microsecond))
			if took > bound+time.Second {
				t.Errorf("Wait(%v) took %v", bound, took)
			}
			if got.API != "iocp" {
				t.Errorf("Completion.API = %q; want iocp", got.API)
			}
			if got.Done && got.NTStatus == "" {
				t.Errorf("completion %+v carries no NTSTATUS", got)
			}
			// Closed before the completion was read: the WSA code is not
			// asked of a closed handle (it would answer WSAENOTSOCK).
			if got.Done && a.Closed() && tc.name == "own-close" && (got.WSA != "" || got.Note == "") {
				t.Errorf("completion after own close = %+v; want no WSA code and a note", got)
			}
			if again := r.Wait(0); again != got {
				t.Errorf("second Wait = %+v; want the same %+v", again, got)
			}
			if a.Closed() && !c.Closed() {
				// What reached the peer: eof for a FIN, reset for an RST.
				t.Logf("peer WSAPoll: %v", waitReadable(t, c, eventBound))
				t.Logf("peer.recv: %v", c.Recv(64))
				t.Logf("peer.recv#2: %v", c.Recv(64))
			}
		})
	}
}

// TestIOCPBlockingAfter: once the socket is associated with a completion
// port (and the port closed), blocking calls with no OVERLAPPED still work
// on it: the scenarios go on with them after the pending recv.
func TestIOCPBlockingAfter(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	c, a := pair(t, l)
	defer c.Close()
	defer a.Close()
	r, err := a.StartRecv(64)
	if err != nil {
		t.Fatalf("StartRecv: %v", err)
	}
	expect(t, "peer.send", c.Send([]byte("hello")), schema.ClassOK, 5)
	if got := r.Wait(eventBound); !got.Done || got.N != 5 {
		t.Errorf("completion = %+v; want 5 bytes", got)
	}
	closeRecv(t, r)
	expect(t, "peer.send", c.Send([]byte("x")), schema.ClassOK, 1)
	waitPending(t, a, 1)
	expect(t, "actor.recv (blocking)", a.Recv(64), schema.ClassData, 1)
	expect(t, "actor.send (blocking)", a.Send([]byte("yz")), schema.ClassOK, 2)
	waitPending(t, c, 2)
	expect(t, "peer.recv", c.Recv(64), schema.ClassData, 2)
	// A second StartRecv on the same socket: it is bound to the first
	// port for good.
	r2, err := a.StartRecv(64)
	if err == nil {
		t.Log("second StartRecv on the same socket succeeded")
		closeRecv(t, r2)
	} else {
		t.Logf("second StartRecv on the same socket: %v", err)
	}
}

// TestIOCPImmediateError: a WSARecv that fails at once (the connection was
// reset before it was posted) is StartRecv's error, with nothing left
// outstanding.
func TestIOCPImmediateError(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	c, a := pair(t, l)
	defer a.Close()
	before := Outstanding()
	if err := c.SetLinger(true, 0); err != nil {
		t.Fatalf("SetLinger: %v", err)
	}
	c.Close()
	t.Logf("actor WSAPoll after the peer's RST: %v", waitReadable(t, a, eventBound))
	r, err := a.StartRecv(64)
	if err != nil {
		t.Logf("StartRecv after RST: %v (%v)", err, errOutcome(err))
	} else {
		got := r.Wait(eventBound)
		t.Logf("StartRecv after RST was accepted; completion %+v", got)
		closeRecv(t, r)
	}
	checkNoLeak(t, before)
}

// TestIOCPIssuerThreadExit: the recv survives the exit of the OS thread
// that posted it. Since Windows Vista, I/O on a handle associated with a
// completion port is not cancelled when the issuing thread exits
// ("thread-agnostic I/O"); the harness posts from locked threads that may
// end before the recv completes.
func TestIOCPIssuerThreadExit(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	c, a := pair(t, l)
	defer c.Close()
	defer a.Close()
	type started struct {
		r   *AsyncRecv
		err error
	}
	ch := make(chan started)
	go func() {
		// Locked and never unlocked: the thread exits with the goroutine.
		runtime.LockOSThread()
		r, err := a.StartRecv(64)
		ch <- started{r, err}
	}()
	s := <-ch
	if s.err != nil {
		t.Fatalf("StartRecv: %v", s.err)
	}
	defer closeRecv(t, s.r)
	time.Sleep(20 * time.Millisecond) // grace: nothing signals a thread's exit here
	expect(t, "peer.send", c.Send([]byte("hello")), schema.ClassOK, 5)
	got := s.r.Wait(eventBound)
	t.Logf("completion after the issuing thread exited: %+v -> %v", got, got.Outcome())
}

// TestIOCPCancelDuringWait: Cancel from another goroutine while a Wait is
// in progress is not held up by it, and the Wait returns the cancellation.
func TestIOCPCancelDuringWait(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	_, _, r := pendingPair(t, l)
	done := make(chan Completion)
	go func() { done <- r.Wait(eventBound) }()
	time.Sleep(10 * time.Millisecond) // grace: let the Wait start; nothing signals it
	start := time.Now()
	if err := r.Cancel(); err != nil {
		t.Errorf("Cancel: %v", err)
	}
	got := <-done
	t.Logf("Wait during Cancel: %+v -> %v (%v after Cancel)", got, got.Outcome(), time.Since(start).Round(time.Microsecond))
	if time.Since(start) > eventBound/2 {
		t.Errorf("Cancel and the Wait took %v: Cancel waited for the Wait", time.Since(start))
	}
}

// fakeAFD is an afdIO whose packets come when the test says: queued ones
// are dequeued at once, late ones only by a reap that waits (ms > 0), as
// on Windows, where a poll's completion is queued asynchronously; Wine
// queues every completion before the call that caused it returns, so it
// never shows the late case.
type fakeAFD struct {
	arms   []fakeArm
	queued []fakePacket
	late   []fakePacket
	lv     uint32 // what the level poll says holds
	lvErr  error
	levels int
}

type fakeArm struct {
	op     int
	events uint32
}

type fakePacket struct {
	op     int
	events uint32
}

func (f *fakeAFD) arm(i int, events uint32) error {
	f.arms = append(f.arms, fakeArm{i, events})
	return nil
}

func (f *fakeAFD) reap(ms uint32) (int, uint32, bool, error) {
	if len(f.queued) > 0 {
		p := f.queued[0]
		f.queued = f.queued[1:]
		return p.op, p.events, true, nil
	}
	if ms > 0 && len(f.late) > 0 {
		p := f.late[0]
		f.late = f.late[1:]
		return p.op, p.events, true, nil
	}
	if ms > 0 {
		time.Sleep(time.Millisecond) // a wait that ran out
	}
	return 0, 0, false, nil
}

func (f *fakeAFD) level(events uint32) (uint32, error) {
	f.levels++
	return f.lv & events, f.lvErr
}

// fakeWatch is an afdWatch over f, registered (both polls pending) with
// SEND delivered, as a connected socket's registration leaves it.
func fakeWatch(t *testing.T, f *fakeAFD) *afdWatch {
	t.Helper()
	w := &afdWatch{io: f, interest: afdPollAll}
	if err := w.register(); err != nil {
		t.Fatalf("register: %v", err)
	}
	f.queued = append(f.queued, fakePacket{afdEventOp, afdPollSend})
	if got, err := w.read(); err != nil || got.String() != "AFD_POLL_SEND" {
		t.Fatalf("registration read = %v, %v", got, err)
	}
	return w
}

// TestAFDCloseSentinelMask: the close sentinel asks for
// AFD_POLL_LOCAL_CLOSE (wepoll, mio), not for nothing.
func TestAFDCloseSentinelMask(t *testing.T) {
	f := &fakeAFD{}
	fakeWatch(t, f)
	if len(f.arms) < 2 || f.arms[0] != (fakeArm{afdCloseOp, afdPollLocalClose}) {
		t.Errorf("registration armed %+v; want the close sentinel with AFD_POLL_LOCAL_CLOSE first", f.arms)
	}
}

// TestAFDLateDelivery: the timing of real Windows, faked. Each case is
// what the level poll says after an action, and which packets are on
// their way; want is what Read reports, or wantErr for an event that holds
// and is never delivered.
func TestAFDLateDelivery(t *testing.T) {
	saved := afdDeliverBound
	afdDeliverBound = 50 * time.Millisecond
	defer func() { afdDeliverBound = saved }()
	for _, c := range []struct {
		name    string
		lv      uint32
		lvErr   error
		late    []fakePacket
		want    string
		wantErr bool
	}{
		// The peer's FIN: DISCONNECT holds, its packet not queued yet.
		// Without the level poll this read "none".
		{name: "disconnect-late", lv: afdPollDisconnect,
			late: []fakePacket{{afdEventOp, afdPollDisconnect}}, want: "AFD_POLL_DISCONNECT"},
		// An RST: ABORT holds; the packet comes late.
		{name: "abort-late", lv: afdPollAbort | afdPollDisconnect,
			late: []fakePacket{{afdEventOp, afdPollAbort | afdPollDisconnect}}, want: "AFD_POLL_ABORT|AFD_POLL_DISCONNECT"},
		// Nothing holds: nothing is waited for.
		{name: "quiet", want: PollNone},
		// A bit holds and no packet ever delivers it: an error, not none.
		{name: "never-delivered", lv: afdPollAbort, wantErr: true},
		// Our own close: the level poll names a closed handle; the
		// sentinel's LOCAL_CLOSE is on its way.
		{name: "own-close", lvErr: &ntError{op: "test", status: windows.STATUS_INVALID_HANDLE},
			late: []fakePacket{{afdCloseOp, afdPollLocalClose}}, want: "AFD_POLL_LOCAL_CLOSE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeAFD{}
			w := fakeWatch(t, f)
			f.lv, f.lvErr, f.late = c.lv, c.lvErr, c.late
			start := time.Now()
			got, err := w.read()
			if took := time.Since(start); took > afdDeliverBound+time.Second {
				t.Errorf("read took %v", took)
			}
			if c.wantErr {
				if err == nil {
					t.Errorf("read = %v, no error; want an error for an event that holds undelivered", got)
				}
				return
			}
			if err != nil || got.String() != c.want {
				t.Errorf("read = %v, %v; want %s", got, err, c.want)
			}
			if f.levels == 0 {
				t.Error("the level poll was not asked")
			}
		})
	}
}
