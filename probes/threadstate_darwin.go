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

// threadSignal says, once per process, whether TH_STATE_WAITING can be
// trusted here: proc_info answers for our threads, the asking thread reads
// as not waiting, and the positive control passes — a thread blocked in
// read(2) on a pipe reads WAITING, held (threadwait.go). Otherwise a posture
// rests on PostureGrace, and the harness notes why on the steps that depend
// on it.
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
	return positiveControl(pipeBlockedThread, threadWaiting)
})

// threadWaiting reads whether thread tid is TH_STATE_WAITING, and its
// pth_run_state for the error of a wait that ran out.
func threadWaiting(tid int) (bool, string, error) {
	st, err := threadRunState(tid)
	if err != nil {
		return false, "", err
	}
	return st == thStateWaiting, fmt.Sprintf("thread %d pth_run_state %d", tid, st), nil
}

// waitInSyscall waits until the thread is TH_STATE_WAITING and stays so for
// waitingGap (two reads at least that far apart, awaitSustained): asleep in
// the kernel, as a recv, send or accept that blocks is, and not merely
// parked by the Go runtime for a moment. It reports false, having spent
// PostureGrace, only where the signal cannot be trusted (threadSignal).
func waitInSyscall(tid int, bound time.Duration) (bool, error) {
	if tid == 0 || threadSignal() != nil {
		time.Sleep(PostureGrace)
		return false, nil
	}
	return awaitSustained(func() (bool, string, error) { return threadWaiting(tid) }, waitingGap, bound)
}
