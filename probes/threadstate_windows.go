package probes

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// threadStates reads this process's threads' states from
// NtQuerySystemInformation(SystemProcessInformation), the call behind Task
// Manager's and .NET's ProcessThread.ThreadState. It lists every process, so
// the buffer is grown on STATUS_INFO_LENGTH_MISMATCH and kept for the next
// call; mu serialises the callers that share it.
var threadStates struct {
	mu  sync.Mutex
	buf []uint64 // 8-aligned, as the records' LARGE_INTEGERs need
}

// ntThreadState returns thread tid's KTHREAD_STATE and KWAIT_REASON.
func ntThreadState(tid int) (ntThread, error) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return ntThread{}, fmt.Errorf("%w: SystemProcessInformation is decoded for 64-bit Windows only", ErrUnsupported)
	}
	threadStates.mu.Lock()
	defer threadStates.mu.Unlock()
	if len(threadStates.buf) == 0 {
		threadStates.buf = make([]uint64, 64<<10) // 512 KiB: a few hundred processes
	}
	for range 8 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&threadStates.buf[0])), 8*len(threadStates.buf))
		var n uint32
		err := windows.NtQuerySystemInformation(windows.SystemProcessInformation, unsafe.Pointer(&b[0]), uint32(len(b)), &n)
		if errors.Is(err, windows.STATUS_INFO_LENGTH_MISMATCH) {
			threadStates.buf = make([]uint64, max(2*len(threadStates.buf), int(n)/8+(64<<10)/8))
			continue
		}
		if err != nil {
			return ntThread{}, wrap("NtQuerySystemInformation", err)
		}
		t, ok, err := findNtThread(b[:min(int(n), len(b))], uint64(windows.GetCurrentProcessId()), uint64(tid))
		if err != nil {
			return ntThread{}, err
		}
		if !ok {
			return ntThread{}, fmt.Errorf("SystemProcessInformation lists no thread %d in this process", tid)
		}
		return t, nil
	}
	return ntThread{}, errors.New("SystemProcessInformation: the process list kept outgrowing the buffer")
}

// kernel32's GetThreadIOPendingFlag (processthreadsapi.h;
// learn.microsoft.com, "GetThreadIOPendingFlag function": TRUE "if the
// specified thread has one or more I/O requests pending"), which x/sys does
// not wrap.
var procGetThreadIOPendingFlag = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetThreadIOPendingFlag")

// ioPending wraps GetThreadIOPendingFlag on thread tid, opened with
// THREAD_QUERY_INFORMATION as the function requires.
func ioPending(tid int) (bool, error) {
	h, err := windows.OpenThread(windows.THREAD_QUERY_INFORMATION, false, uint32(tid))
	if err != nil {
		return false, wrap("openthread", err)
	}
	defer windows.CloseHandle(h)
	var pending int32 // BOOL
	r, _, e := syscall.SyscallN(procGetThreadIOPendingFlag.Addr(), uintptr(h), uintptr(unsafe.Pointer(&pending)))
	if ret32(r) == 0 {
		return false, wrap("getthreadiopendingflag", lastError(e))
	}
	return pending != 0, nil
}

// inCall samples thread tid: its state (ntThreadState) and its I/O pending
// flag, read after the state, so that a call that returned between the two
// reads shows as not pending.
func inCall(tid int) (bool, ntThread, error) {
	t, err := ntThreadState(tid)
	if err != nil {
		return false, t, err
	}
	p, err := ioPending(tid)
	if err != nil {
		return false, t, err
	}
	return ntInCall(t, p), t, nil
}

// threadSignal says, once per process, whether the signal means anything
// here, with a positive and a negative control: the thread asking must read
// Running; a thread of ours blocked in a WSARecv on a loopback pair must
// read in a call (ntInCall: Waiting, not Suspended, I/O pending); and a
// thread blocked in WaitForSingleObject, which waits as a parked Go thread
// does, must not (no I/O pending). Wine 8 answers the call but reports
// ThreadState 0 (Initialized) for every thread, blocked or running
// (observed with TestThreadSignal); its GetThreadIOPendingFlag says FALSE
// for a thread blocked in WSARecv. Under Wine the posture therefore rests on
// PostureGrace.
var threadSignal = sync.OnceValue(func() error {
	runtime.LockOSThread()
	self, err := ntThreadState(threadID())
	runtime.UnlockOSThread()
	if err != nil {
		return err
	}
	if self.State != kThreadRunning {
		// It is running this very code. (Wine: 0, Initialized.)
		return fmt.Errorf("the asking thread itself reads ThreadState %d, not Running (%d)", self.State, kThreadRunning)
	}
	if err := controlBlockedRecv(); err != nil {
		return err
	}
	return controlParked()
})

// controlBlockedRecv is the positive control: a thread blocked in WSARecv
// reads in a call within a second.
func controlBlockedRecv() error {
	l, err := Listen(V4)
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := Dial(V4, l.Port())
	if err != nil {
		return err
	}
	a, err := l.Accept()
	if err != nil {
		c.Close()
		return err
	}
	defer a.Close()
	tid := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		tid <- threadID()
		a.Recv(1)
		close(done)
	}()
	waiter := <-tid
	defer func() { c.Close(); <-done }() // the peer's FIN ends the recv
	deadline := time.Now().Add(time.Second)
	for {
		in, t, err := inCall(waiter)
		if err != nil {
			return err
		}
		if in {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a thread blocked in WSARecv does not read in a call: ThreadState %d, WaitReason %d, or no I/O pending", t.State, t.WaitReason)
		}
		time.Sleep(time.Millisecond)
	}
}

// controlParked is the negative control: a thread blocked in
// WaitForSingleObject reads Waiting but not in a call.
func controlParked() error {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(ev)
	tid := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		tid <- threadID()
		windows.WaitForSingleObject(ev, windows.INFINITE)
		close(done)
	}()
	waiter := <-tid
	defer func() { windows.SetEvent(ev); <-done }()
	deadline := time.Now().Add(time.Second)
	for {
		in, t, err := inCall(waiter)
		if err != nil {
			return err
		}
		if t.State == kThreadWaiting {
			if in {
				return errors.New("a thread blocked in WaitForSingleObject reads in a call (I/O pending): the signal cannot tell a parked thread")
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a thread blocked in WaitForSingleObject reads ThreadState %d, not Waiting (%d)", t.State, kThreadWaiting)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitInSyscall polls thread tid until it reads in a call (ntInCall):
// Waiting (KTHREAD_STATE 5), as a thread blocked in WSARecv, WSASend or
// accept is (afd.sys pends the request and the thread waits on it), not
// Suspended, with an I/O request pending. Where the signal does not work
// (threadSignal), it spends PostureGrace and reports false. Polling backs
// off from 100 µs to 2 ms: each call copies the whole system's process
// list.
func waitInSyscall(tid int, bound time.Duration) (bool, error) {
	if threadSignal() != nil {
		time.Sleep(PostureGrace)
		return false, nil
	}
	deadline := time.Now().Add(bound)
	pause := 100 * time.Microsecond
	for {
		in, t, err := inCall(tid)
		if err != nil {
			return false, err
		}
		if in {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("thread %d not in a call after %v: ThreadState %d, WaitReason %d, or no I/O pending", tid, bound, t.State, t.WaitReason)
		}
		time.Sleep(pause)
		pause = min(2*pause, 2*time.Millisecond)
	}
}
