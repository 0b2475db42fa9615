package probes

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procInfoCallPidinfo and procPidThreadID64Info are PROC_INFO_CALL_PIDINFO
// (the call number of proc_info(2) behind libproc's proc_pidinfo) and
// PROC_PIDTHREADID64INFO, the flavor that takes a thread_selfid() id (xnu
// bsd/sys/proc_info.h). x/sys has the syscall numbers, not these.
const (
	procInfoCallPidinfo   = 2
	procPidThreadID64Info = 15
)

// threadID wraps thread_selfid(2) (SYS_THREAD_SELFID): the calling thread's
// 64-bit unique id (xnu thread_tid), which PROC_PIDTHREADID64INFO takes. x/sys
// makes the raw trap (syscall.RawSyscall: SYSCALL/SVC, not libSystem), as for
// proc_info below; both are stable xnu BSD calls that libSystem wraps thinly.
func threadID() int {
	r, _, e := unix.RawSyscall(unix.SYS_THREAD_SELFID, 0, 0, 0)
	if e != 0 {
		return 0
	}
	return int(r)
}

// threadRunState wraps proc_info(PROC_INFO_CALL_PIDINFO, getpid(),
// PROC_PIDTHREADID64INFO, tid) and returns pth_run_state. A process may ask
// about its own threads without privileges (bsd/kern/proc_info.c,
// proc_pidinfo: the caller is the target).
func threadRunState(tid int) (int32, error) {
	var buf [procThreadInfoSize]byte
	n, _, e := unix.Syscall6(unix.SYS_PROC_INFO, procInfoCallPidinfo, uintptr(os.Getpid()), procPidThreadID64Info,
		uintptr(tid), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	if e != 0 {
		return 0, wrap("proc_info", e)
	}
	return parseProcThreadInfo(buf[:], int(n))
}

// threadSignal says, once per process, whether proc_info answers for our
// threads here: the asking thread must read as not waiting.
var threadSignal = sync.OnceValue(func() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := threadID()
	if tid == 0 {
		return fmt.Errorf("thread_selfid failed")
	}
	st, err := threadRunState(tid)
	if err != nil {
		return err
	}
	if st == thStateWaiting {
		return fmt.Errorf("the asking thread itself reads TH_STATE_WAITING")
	}
	return nil
})

// waitInSyscall polls the thread's run state until it is TH_STATE_WAITING:
// asleep in the kernel, as a recv, send or accept that blocks is. It reports
// false, having spent PostureGrace, only where proc_info cannot answer
// (threadSignal). Polling backs off from 50 µs to 1 ms: each call
// takes the process's thread list lock.
func waitInSyscall(tid int, bound time.Duration) (bool, error) {
	if tid == 0 || threadSignal() != nil {
		time.Sleep(PostureGrace)
		return false, nil
	}
	deadline := time.Now().Add(bound)
	pause := 50 * time.Microsecond
	for {
		st, err := threadRunState(tid)
		if err != nil {
			return false, err
		}
		if st == thStateWaiting {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("thread %d not waiting after %v: pth_run_state %d", tid, bound, st)
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Millisecond)
	}
}
