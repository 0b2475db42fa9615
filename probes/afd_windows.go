package probes

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Readiness: AFD poll.

// Constants and structures that golang.org/x/sys/windows does not define.
const (
	// SIO_BASE_HANDLE = _WSAIOR(IOC_WS2, 34) (mswsock.h;
	// learn.microsoft.com, "Winsock IOCTLs"): the handle of the base
	// service provider beneath any layered providers, which is the AFD
	// handle that IOCTL_AFD_POLL accepts.
	sioBaseHandle = 0x48000022

	// IOCTL_AFD_POLL = _AFD_CONTROL_CODE(AFD_POLL, METHOD_BUFFERED) =
	// FILE_DEVICE_NETWORK (0x12) << 12 | 9 << 2 | 0 (ReactOS
	// sdk/include/reactos/drivers/afd/shared.h; wepoll src/afd.h; Wine
	// include/wine/afd.h spells the same value CTL_CODE(FILE_DEVICE_BEEP,
	// 0x809, METHOD_BUFFERED, FILE_ANY_ACCESS)).
	ioctlAFDPoll = 0x00012024

	// The AFD_POLL_* event bits (ReactOS afd/shared.h, wepoll src/afd.h,
	// mio src/sys/windows/afd.rs; Wine include/wine/afd.h names the same
	// bits AFD_POLL_READ, _OOB, _WRITE, _HUP, _RESET, _CLOSE, _CONNECT,
	// _ACCEPT, _CONNECT_ERR).
	afdPollReceive          = 0x0001
	afdPollReceiveExpedited = 0x0002
	afdPollSend             = 0x0004
	afdPollDisconnect       = 0x0008
	afdPollAbort            = 0x0010
	afdPollLocalClose       = 0x0020
	afdPollConnect          = 0x0040
	afdPollAccept           = 0x0080
	afdPollConnectFail      = 0x0100

	// afdPollAll is what watchSocket polls for: every event mio and
	// wepoll poll for. AFD_POLL_CONNECT is left out as they leave it out:
	// a connected socket reports it on every poll (Wine afd.c test_poll:
	// "AFD_POLL_WRITE | AFD_POLL_CONNECT" on a connected pair), so it
	// carries no news. LOCAL_CLOSE is reported whether polled for or not
	// (afd.c test_poll: "AFD_POLL_CLOSE is always returned").
	afdPollAll = afdPollReceive | afdPollReceiveExpedited | afdPollSend | afdPollDisconnect |
		afdPollAbort | afdPollLocalClose | afdPollAccept | afdPollConnectFail
)

// afdDevice is the name opened for the AFD helper handle. Any name under
// \Device\Afd opens a new AFD endpoint (Wine afd.c test_open_device opens
// \Device\Afd, \Device\Afd\ and \Device\Afd\foobar); wepoll opens
// \Device\Afd\Wepoll, mio \Device\Afd\Mio. A variable so that a test can
// name a device that does not exist and see the unavailable path.
var afdDevice = `\Device\Afd\closematrix`

// afdPollHandleInfo is AFD_POLL_HANDLE_INFO {HANDLE Handle; ULONG Events;
// NTSTATUS Status;} (ReactOS afd/shared.h; mio afd.rs AfdPollHandleInfo;
// Wine afd.h struct afd_poll_params.sockets[]). Go lays it out as C does:
// 16 bytes on 64-bit Windows (TestAFDLayout).
type afdPollHandleInfo struct {
	Handle windows.Handle
	Events uint32
	Status uint32 // NTSTATUS
}

// afdPollInfo is AFD_POLL_INFO {LARGE_INTEGER Timeout; ULONG
// NumberOfHandles; ULONG Exclusive; AFD_POLL_HANDLE_INFO Handles[1];} with
// one handle: 32 bytes on 64-bit Windows. Timeout is absolute (positive,
// FILETIME) or relative (negative, 100 ns units); math.MaxInt64 never
// expires, as mio and wepoll set it.
type afdPollInfo struct {
	Timeout         int64
	NumberOfHandles uint32
	Exclusive       uint32
	Handles         [1]afdPollHandleInfo
}

// afdOp is the memory an outstanding AFD poll holds. The OVERLAPPED comes
// first: its Internal and InternalHigh fields are the IO_STATUS_BLOCK
// (Status, Information) that NtDeviceIoControlFile fills, exactly as
// kernel32 passes &overlapped as the IO_STATUS_BLOCK of its own calls
// (winbase.h: "Internal: the status code for the I/O request"). Its
// address is also the ApcContext, which GetQueuedCompletionStatus returns
// as lpOverlapped, and what CancelIoEx matches.
type afdOp struct {
	ov   windows.Overlapped
	info afdPollInfo
}

// afdWatch is one socket polled through IOCTL_AFD_POLL, its completions
// delivered to a port of its own.
//
// Route: like wepoll and mio, the ioctl is issued on a helper handle opened
// on \Device\Afd (NtCreateFile) and names the socket's base handle
// (SIO_BASE_HANDLE) in AFD_POLL_HANDLE_INFO; the helper handle, not the
// socket, is associated with the port. A socket can be associated with one
// completion port only, ever (CreateIoCompletionPort), so polling on the
// socket's own handle, as libuv's uv_poll does, would take the association
// that StartRecv's port needs on the same socket. Both routes work under
// Wine 8 (TestAFDRoutes): Wine's dlls/ntdll/unix/socket.c hands
// IOCTL_AFD_POLL on any socket handle to the server (server/sock.c,
// poll_socket), and a handle opened on \Device\Afd is a socket there.
// Wine's afd.c test_poll shows both on Windows: polling "a socket other
// than the one passed to NtDeviceIoControlFile()", and through an
// \Device\Afd\deadbeef handle.
//
// Edges: AFD poll is one-shot and level-triggered: a poll completes at once
// when any polled event holds. mio emulates edge-triggered readiness by
// dropping each delivered event from the next poll's mask (selector.rs,
// SockState::feed_event: user_evts &= !afd_events) until its user meets
// WouldBlock. Read does the same: an event is reported once, and only
// events not reported yet can complete the re-armed poll, so a second Read
// shows what is new (an ABORT after a DISCONNECT).
//
// Close sentinel: besides that event poll, a second poll asks for
// AFD_POLL_LOCAL_CLOSE alone and stays outstanding until the socket's
// handle is closed, which completes it. wepoll
// (sock__epoll_events_to_afd_events) and mio (afd.rs, KNOWN_EVENTS; "always
// monitor LOCAL_CLOSE") ask for the bit explicitly; Wine's afd.c test_poll
// shows it returned even to a mask of 0 ("AFD_POLL_CLOSE is always
// returned, regardless of whether it's polled for"), but asserts that on a
// poll issued on the socket itself, not through a helper handle as here, so
// the sentinel does not rely on it. The event poll is idle between its
// completion and the next Read; without the sentinel a close in that gap
// would go unseen, and the next Read would re-arm on a handle value that
// may by then be another socket's. Read drains every queued packet before
// it re-arms, and never re-arms once LOCAL_CLOSE has come (non-exclusive
// polls on one socket coexist: afd.c test_poll_exclusive).
//
// Delivery: on Windows a poll's completion packet is queued asynchronously
// (afd.sys completes the IRP from the transport's indication), where
// Wine's wineserver completes it before the event's call returns. A Read
// right after an action can therefore find nothing queued for an event
// that holds already. So a Read whose drain is empty asks for the level
// state too (a zero-timeout IOCTL_AFD_POLL with the events not delivered
// yet, which completes at once and queues no packet: afd.c test_poll,
// "Basic semantics of the ioctl", timeout 0; test_poll_completion_port,
// a NULL ApcContext queues nothing), and where a bit holds that no packet
// has delivered, waits for its packet within afdDeliverBound.
type afdWatch struct {
	mu       sync.Mutex
	io       afdIO          // the kernel: (*afdNT)(w); the tests' fakes
	event    windows.Handle // signalled by the level poll (levelNT)
	dev      windows.Handle // the handle the ioctls are issued on
	ownsDev  bool           // dev is the \Device\Afd helper, closed by close
	port     windows.Handle
	base     windows.Handle // the socket's base handle, polled
	mem      uintptr        // [2]afdOp (afdEventOp, afdCloseOp), LocalAlloc'd
	pending  [2]bool        // the op's packet has not been dequeued
	interest uint32         // events not delivered yet
	gone     bool           // LOCAL_CLOSE delivered: never re-arm
	closed   bool
	// status is the last delivered AFD_POLL_HANDLE_INFO.Status, for the
	// tests' logs (afd.c check_poll_: Windows reports 0 with
	// AFD_POLL_RESET, Wine's tests expect Wine to differ).
	status uint32
}

// The two polls of an afdWatch.
const (
	afdEventOp = 0 // the events not delivered yet
	afdCloseOp = 1 // the close sentinel: completes on LOCAL_CLOSE
)

// afdCloseMask is what the close sentinel polls for (see afdWatch).
const afdCloseMask = afdPollLocalClose

// afdDeliverBound bounds Read's wait for the packet of an event that the
// level poll shows holding: loopback completions are queued within
// microseconds; a second leaves room for a loaded runner. A variable for
// the tests.
var afdDeliverBound = time.Second

// afdIO is what a watch asks of the kernel: arm issues IOCTL_AFD_POLL for
// op i, whose completion is queued to the port; reap dequeues one packet,
// waiting up to ms; level is a zero-timeout poll for events that queues no
// packet, and reports what holds now. afdNT is the live one; the tests
// give fakes, to drive the timing logic that Wine never shows.
type afdIO interface {
	arm(i int, events uint32) error
	reap(ms uint32) (i int, events uint32, done bool, err error)
	level(events uint32) (uint32, error)
}

// afdNT is an afdWatch's kernel side.
type afdNT afdWatch

func (w *afdWatch) op(i int) *afdOp {
	return (*afdOp)(cmem(w.mem + uintptr(i)*unsafe.Sizeof(afdOp{})))
}

// watchSocket polls the socket's base handle through an \Device\Afd helper
// handle (see afdWatch). Any failure of that route (no SIO_BASE_HANDLE, no
// \Device\Afd, IOCTL_AFD_POLL refused) wraps ErrAsyncUnavailable with the
// Winsock error or NTSTATUS.
func watchSocket(fd sysfd) (watcher, error) {
	return newAFDWatch(fd, true)
}

// newAFDWatch registers fd for AFD poll, through an \Device\Afd helper
// handle (helper) or on the socket's base handle itself.
func newAFDWatch(fd windows.Handle, helper bool) (_ *afdWatch, err error) {
	unavailable := func(err error) error { return fmt.Errorf("%w: AFD poll: %w", ErrAsyncUnavailable, err) }
	if err := procNtDeviceIoControlFile.Find(); err != nil {
		return nil, unavailable(err)
	}
	base, err := baseHandle(fd)
	if err != nil {
		return nil, unavailable(err)
	}
	w := &afdWatch{dev: base, base: base, interest: afdPollAll}
	w.io = (*afdNT)(w)
	defer func() {
		if err != nil {
			w.closed = true
			if w.pending != [2]bool{} {
				w.cancelAndReap()
			}
			w.release()
		}
	}()
	if helper {
		if w.dev, err = openAFD(afdDevice); err != nil {
			w.dev = 0
			return nil, unavailable(err)
		}
		w.ownsDev = true
	}
	if w.port, err = windows.CreateIoCompletionPort(w.dev, 0, 0, 0); err != nil {
		w.port = 0
		return nil, wrap("createiocompletionport", err)
	}
	if w.mem, err = localAlloc(2 * unsafe.Sizeof(afdOp{})); err != nil {
		return nil, err
	}
	if w.event, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		w.event = 0
		return nil, wrap("createevent", err)
	}
	if err := w.register(); err != nil {
		return nil, unavailable(err)
	}
	return w, nil
}

// register arms the close sentinel (afdCloseMask) and the event poll.
func (w *afdWatch) register() error {
	if err := w.arm(afdCloseOp, afdCloseMask); err != nil {
		return err
	}
	return w.arm(afdEventOp, w.interest)
}

// baseHandle wraps WSAIoctl(SIO_BASE_HANDLE).
func baseHandle(fd windows.Handle) (windows.Handle, error) {
	var (
		base windows.Handle
		n    uint32
	)
	err := windows.WSAIoctl(fd, sioBaseHandle, nil, 0,
		(*byte)(unsafe.Pointer(&base)), uint32(unsafe.Sizeof(base)), &n, nil, 0)
	if err != nil {
		return 0, wrap("wsaioctl(SIO_BASE_HANDLE)", err)
	}
	return base, nil
}

// openAFD wraps NtCreateFile on name with SYNCHRONIZE access, shared
// read/write, FILE_OPEN, as wepoll (afd.c, afd_create_device_handle) and mio
// (afd.rs, Afd::new) open their helper handle. No OBJ_INHERIT: child
// processes do not get it.
func openAFD(name string) (windows.Handle, error) {
	uname, err := windows.NewNTUnicodeString(name)
	if err != nil {
		return 0, err
	}
	oa := windows.OBJECT_ATTRIBUTES{ObjectName: uname}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var (
		h    windows.Handle
		iosb windows.IO_STATUS_BLOCK
	)
	err = windows.NtCreateFile(&h, windows.SYNCHRONIZE, &oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, windows.FILE_OPEN, 0, 0, 0)
	if err != nil {
		var st windows.NTStatus
		if errors.As(err, &st) {
			return 0, &ntError{op: "NtCreateFile(" + name + ")", status: st}
		}
		return 0, err
	}
	return h, nil
}

// arm issues op i's poll and marks it pending.
func (w *afdWatch) arm(i int, events uint32) error {
	if err := w.io.arm(i, events); err != nil {
		return err
	}
	w.pending[i] = true
	return nil
}

// reap dequeues one packet, waiting up to ms, and marks its op done.
func (w *afdWatch) reap(ms uint32) (int, uint32, bool, error) {
	i, ev, done, err := w.io.reap(ms)
	if done {
		w.pending[i] = false
	}
	return i, ev, done, err
}

// arm issues IOCTL_AFD_POLL for op i with the event mask events.
// STATUS_PENDING and a synchronous STATUS_SUCCESS both queue a completion
// packet, because ApcContext is non-NULL (afd.c test_poll_completion_port:
// with a NULL ApcContext no packet is queued; with one, a poll that
// succeeds at once is dequeued with a zero timeout). Any other status is a
// synchronous failure, which queues nothing.
func (n *afdNT) arm(i int, events uint32) error {
	w := (*afdWatch)(n)
	op := w.op(i)
	*op = afdOp{}
	op.ov.Internal = uintptr(windows.STATUS_PENDING)
	op.info = afdPollInfo{
		Timeout:         math.MaxInt64,
		NumberOfHandles: 1,
		Handles:         [1]afdPollHandleInfo{{Handle: w.base, Events: events}},
	}
	ov := uintptr(unsafe.Pointer(&op.ov))
	info := uintptr(unsafe.Pointer(&op.info))
	size := unsafe.Sizeof(op.info)
	r, _, _ := syscall.SyscallN(procNtDeviceIoControlFile.Addr(),
		uintptr(w.dev), 0, 0, ov, ov, ioctlAFDPoll, info, size, info, size)
	st := windows.NTStatus(uint32(r))
	if st != windows.STATUS_SUCCESS && st != windows.STATUS_PENDING {
		return &ntError{op: "NtDeviceIoControlFile(IOCTL_AFD_POLL)", status: st}
	}
	return nil
}

// level issues a zero-timeout IOCTL_AFD_POLL for events on the base
// handle, with the watch's event and a NULL ApcContext, so that no packet
// reaches the port (afd.c test_poll_completion_port), and reports the
// events that hold. A zero timeout completes at once (afd.c test_poll,
// "Basic semantics of the ioctl": STATUS_SUCCESS, Information
// offsetof(sockets[0]) when nothing holds); should the call pend anyway,
// the event is waited for within reapBound, then the poll is cancelled.
// Its memory is its own LocalAlloc, freed once the kernel is done with it
// (kept, with an error, if it never is).
func (n *afdNT) level(events uint32) (uint32, error) {
	w := (*afdWatch)(n)
	mem, err := localAlloc(unsafe.Sizeof(afdOp{}))
	if err != nil {
		return 0, err
	}
	op := (*afdOp)(cmem(mem))
	op.ov.Internal = uintptr(windows.STATUS_PENDING)
	op.info = afdPollInfo{
		NumberOfHandles: 1, // Timeout 0: already expired
		Handles:         [1]afdPollHandleInfo{{Handle: w.base, Events: events}},
	}
	if err := windows.ResetEvent(w.event); err != nil {
		windows.LocalFree(windows.Handle(mem))
		return 0, wrap("resetevent", err)
	}
	ov := uintptr(unsafe.Pointer(&op.ov))
	info := uintptr(unsafe.Pointer(&op.info))
	size := unsafe.Sizeof(op.info)
	r, _, _ := syscall.SyscallN(procNtDeviceIoControlFile.Addr(),
		uintptr(w.dev), uintptr(w.event), 0, 0, ov, ioctlAFDPoll, info, size, info, size)
	st := windows.NTStatus(uint32(r))
	if st == windows.STATUS_PENDING {
		ev, _ := windows.WaitForSingleObject(w.event, millis(reapBound))
		if ev != windows.WAIT_OBJECT_0 {
			windows.CancelIoEx(w.dev, &op.ov)
			if ev, _ = windows.WaitForSingleObject(w.event, millis(reapBound)); ev != windows.WAIT_OBJECT_0 {
				return 0, fmt.Errorf("afd watch: zero-timeout poll not completed within %v (its memory stays allocated)", 2*reapBound)
			}
		}
		st = windows.NTStatus(uint32(op.ov.Internal))
	}
	defer windows.LocalFree(windows.Handle(mem))
	if st != windows.STATUS_SUCCESS {
		return 0, &ntError{op: "IOCTL_AFD_POLL (zero timeout)", status: st}
	}
	if op.info.NumberOfHandles >= 1 && op.ov.InternalHigh >= unsafe.Offsetof(op.info.Handles)+unsafe.Sizeof(op.info.Handles[0]) {
		return op.info.Handles[0].Events, nil
	}
	return 0, nil
}

// reap dequeues one packet, waiting up to ms. It reports which poll it
// completed, its events and whether a packet came. A cancelled poll
// (STATUS_CANCELLED) delivers nothing.
func (n *afdNT) reap(ms uint32) (i int, events uint32, done bool, err error) {
	w := (*afdWatch)(n)
	ov, _, gerr := dequeue(w.port, ms)
	if ov == nil {
		if errors.Is(gerr, windows.WAIT_TIMEOUT) {
			return 0, 0, false, nil
		}
		return 0, 0, false, wrap("getqueuedcompletionstatus", gerr)
	}
	switch ov {
	case &w.op(afdEventOp).ov:
		i = afdEventOp
	case &w.op(afdCloseOp).ov:
		i = afdCloseOp
	default:
		return 0, 0, false, fmt.Errorf("afd watch: a packet for an unknown OVERLAPPED %p", ov)
	}
	op := w.op(i)
	switch st := windows.NTStatus(uint32(op.ov.Internal)); {
	case st == windows.STATUS_CANCELLED:
		return i, 0, true, nil
	case st >= 0xC0000000: // NT_ERROR (ntdef.h): severity error
		return i, 0, true, &ntError{op: "IOCTL_AFD_POLL completion", status: st}
	}
	// The output shares the input's buffer (wepoll, mio): only what the
	// driver wrote (the IO_STATUS_BLOCK's Information, InternalHigh here)
	// is an answer. A completion that wrote no handle entry leaves the
	// requested mask in place, which must not read as delivered events.
	written := op.ov.InternalHigh
	if op.info.NumberOfHandles >= 1 && written >= unsafe.Offsetof(op.info.Handles)+unsafe.Sizeof(op.info.Handles[0]) {
		w.status = op.info.Handles[0].Status
		return i, op.info.Handles[0].Events, true, nil
	}
	return i, 0, true, nil
}

// read drains every queued completion, then re-arms the event poll with
// the events not yet delivered, and drains again (a poll whose events
// already hold completes at once), until a drain finds nothing; see
// afdWatch for why that is an edge. Then it asks for the level state
// (afdWatch, Delivery): a bit that holds and was not delivered has a
// packet on its way, which it waits for within afdDeliverBound; one that
// never comes is an error, not "none".
func (w *afdWatch) read() (Ready, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Ready{}, errors.New("afd watch: read after close")
	}
	var got uint32
	ready := func() Ready { return Ready{API: "afd", Names: afdNames(got)} }
	if err := w.drainAndRearm(&got); err != nil {
		return ready(), err
	}
	if w.gone {
		return ready(), nil
	}
	missing, err := w.undelivered()
	if err != nil {
		return ready(), err
	}
	if missing == 0 {
		return ready(), nil
	}
	deadline := time.Now().Add(afdDeliverBound)
	for missing&^got != 0 && !w.gone {
		left := time.Until(deadline)
		if left <= 0 {
			return ready(), fmt.Errorf("afd watch: %v holds (zero-timeout poll) but no packet delivered it within %v",
				afdNames(missing&^got), afdDeliverBound)
		}
		i, ev, done, err := w.reap(millis(left))
		if err != nil {
			return ready(), err
		}
		if done {
			w.deliver(i, ev, &got)
			if i == afdEventOp && !w.gone && w.interest != 0 {
				if err := w.arm(afdEventOp, w.interest); err != nil {
					return ready(), err
				}
			}
		}
	}
	return ready(), w.drainAndRearm(&got)
}

// deliver records what op i's packet delivered.
func (w *afdWatch) deliver(i int, ev uint32, got *uint32) {
	*got |= ev
	if ev&afdPollLocalClose != 0 {
		w.gone = true
	}
	if i == afdEventOp {
		w.interest &^= ev
	}
}

// drainAndRearm is read's edge loop: drain, re-arm, until a drain finds
// nothing. It ends because each round that delivers something removes it
// from the mask; the cap guards a poll that completes with no event.
func (w *afdWatch) drainAndRearm(got *uint32) error {
	for round := 0; round < 16; round++ {
		n := 0
		for {
			i, ev, done, err := w.reap(0)
			if err != nil {
				return err
			}
			if !done {
				break
			}
			n++
			w.deliver(i, ev, got)
		}
		if n == 0 || w.gone || w.pending[afdEventOp] {
			return nil
		}
		if err := w.arm(afdEventOp, w.interest); err != nil {
			return err
		}
	}
	return nil
}

// undelivered is what holds now (the level poll) that the watch was
// polling for and has not delivered. A level poll that names a closed
// socket fails with STATUS_INVALID_HANDLE: the socket is closed and the
// sentinel's LOCAL_CLOSE is on its way.
func (w *afdWatch) undelivered() (uint32, error) {
	if !w.pending[afdEventOp] && !w.pending[afdCloseOp] {
		return 0, nil // nothing outstanding could deliver it
	}
	lv, err := w.io.level(w.interest)
	if errors.Is(err, windows.STATUS_INVALID_HANDLE) && w.pending[afdCloseOp] {
		return afdPollLocalClose, nil
	}
	if err != nil {
		return 0, err
	}
	if !w.pending[afdEventOp] {
		return 0, nil
	}
	return lv & w.interest, nil
}

// close cancels the outstanding polls, reaps their completions within
// reapBound, and closes the port and the helper handle. A poll that is not
// reaped keeps its memory.
func (w *afdWatch) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	errs := []error{w.cancelAndReap()}
	errs = append(errs, w.release())
	return errors.Join(errs...)
}

// cancelAndReap cancels each outstanding poll (CancelIoEx on the handle it
// was issued on, matched by its OVERLAPPED; ERROR_NOT_FOUND: it completed
// already; ERROR_INVALID_HANDLE: the socket, polled on itself, is closed,
// which completed the poll) and dequeues the packets within reapBound.
func (w *afdWatch) cancelAndReap() error {
	var errs []error
	for i := range w.pending {
		if !w.pending[i] {
			continue
		}
		err := windows.CancelIoEx(w.dev, &w.op(i).ov)
		if err != nil && !errors.Is(err, windows.ERROR_NOT_FOUND) && !errors.Is(err, windows.ERROR_INVALID_HANDLE) {
			errs = append(errs, wrap("cancelioex", err))
		}
	}
	deadline := time.Now().Add(reapBound)
	for w.pending != [2]bool{} {
		_, _, done, err := w.reap(millis(time.Until(deadline)))
		if !done {
			errs = append(errs, fmt.Errorf("afd watch: poll not reaped within %v (its memory stays allocated): %v", reapBound, err))
			break
		}
	}
	return errors.Join(errs...)
}

// release frees what the watch holds; memory only when no poll is
// outstanding.
func (w *afdWatch) release() error {
	var errs []error
	if w.mem != 0 && w.pending == [2]bool{} {
		windows.LocalFree(windows.Handle(w.mem))
		w.mem = 0
	}
	if w.event != 0 {
		errs = append(errs, wrap("closehandle", windows.CloseHandle(w.event)))
		w.event = 0
	}
	if w.ownsDev && w.dev != 0 {
		errs = append(errs, wrap("closehandle", windows.CloseHandle(w.dev)))
		w.dev = 0
	}
	if w.port != 0 {
		errs = append(errs, wrap("closehandle", windows.CloseHandle(w.port)))
		w.port = 0
	}
	return errors.Join(errs...)
}

// afdEventNames names the AFD_POLL_* bits (sources at the constants).
var afdEventNames = []struct {
	bit  uint32
	name string
}{
	{afdPollReceive, "AFD_POLL_RECEIVE"},
	{afdPollReceiveExpedited, "AFD_POLL_RECEIVE_EXPEDITED"},
	{afdPollSend, "AFD_POLL_SEND"},
	{afdPollDisconnect, "AFD_POLL_DISCONNECT"},
	{afdPollAbort, "AFD_POLL_ABORT"},
	{afdPollLocalClose, "AFD_POLL_LOCAL_CLOSE"},
	{afdPollConnect, "AFD_POLL_CONNECT"},
	{afdPollAccept, "AFD_POLL_ACCEPT"},
	{afdPollConnectFail, "AFD_POLL_CONNECT_FAIL"},
}

// afdNames lists the bits of ev by name, sorted; a bit without a name as
// AFD_POLL_0x<hex>.
func afdNames(ev uint32) []string {
	var names []string
	for _, e := range afdEventNames {
		if ev&e.bit != 0 {
			names = append(names, e.name)
			ev &^= e.bit
		}
	}
	for bit := uint32(1); ev != 0; bit <<= 1 {
		if ev&bit != 0 {
			names = append(names, fmt.Sprintf("AFD_POLL_0x%X", bit))
			ev &^= bit
		}
	}
	sort.Strings(names)
	return names
}
