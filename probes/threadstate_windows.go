package probes

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
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

// threadSignal says, once per process, whether the thread states mean
// anything here: the thread asking must read Running, and a thread of ours
// blocked in WaitForSingleObject must read Waiting. Wine 8 answers the call but
// reports ThreadState 0 (Initialized) for every thread, blocked or running
// (observed with TestThreadSignal); its GetThreadIOPendingFlag, the other
// documented view, says FALSE for a thread blocked in WSARecv. Under Wine
// the posture therefore rests on PostureGrace.
var threadSignal = sync.OnceValue(func() error {
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

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := ntThreadState(threadID())
	if err != nil {
		return err
	}
	if self.State != kThreadRunning {
		// It is running this very code. (Wine: 0, Initialized.)
		return fmt.Errorf("the asking thread itself reads ThreadState %d, not Running (%d)", self.State, kThreadRunning)
	}
	deadline := time.Now().Add(time.Second)
	for {
		t, err := ntThreadState(waiter)
		if err != nil {
			return err
		}
		if t.State == kThreadWaiting {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a thread blocked in WaitForSingleObject reads ThreadState %d, not Waiting (%d)", t.State, kThreadWaiting)
		}
		time.Sleep(time.Millisecond)
	}
})

// waitInSyscall polls thread tid's state until it is Waiting (KTHREAD_STATE
// 5), as a thread blocked in WSARecv, WSASend or accept is: afd.sys pends
// the request and the thread waits on it. The wait reason is not used: a
// blocking Winsock call and a parked Go thread both wait as UserRequest.
// Where the signal does not work (threadSignal), it spends PostureGrace and
// reports false. Polling backs off from 100 µs to 2 ms: each call copies
// the whole system's process list.
func waitInSyscall(tid int, bound time.Duration) (bool, error) {
	if threadSignal() != nil {
		time.Sleep(PostureGrace)
		return false, nil
	}
	deadline := time.Now().Add(bound)
	pause := 100 * time.Microsecond
	for {
		t, err := ntThreadState(tid)
		if err != nil {
			return false, err
		}
		if t.State == kThreadWaiting {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("thread %d not waiting after %v: ThreadState %d", tid, bound, t.State)
		}
		time.Sleep(pause)
		pause = min(2*pause, 2*time.Millisecond)
	}
}
