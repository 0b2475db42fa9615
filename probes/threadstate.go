package probes

import (
	"encoding/binary"
	"fmt"
)

// This file decodes the two answers that say whether a thread is waiting:
// darwin's proc_info(PROC_PIDTHREADID64INFO) and Windows'
// NtQuerySystemInformation(SystemProcessInformation). It has no build tag, so
// that the decoders are tested with byte fixtures on every OS
// (threadstate_test.go); threadstate_darwin.go and threadstate_windows.go call
// them on a live system.
//
// Neither signal says which call the thread waits in (Linux's
// /proc/self/task/TID/syscall does): a thread of ours locked to a goroutine
// that the Go scheduler has not run yet also waits (the runtime parks it).
// A posture that the signal declared held but whose call had not begun is
// caught afterwards: the call then returns before the action, or meets the
// closed descriptor, and the runner makes the run an error (runner.go,
// checkPosture).

// struct proc_threadinfo (xnu bsd/sys/proc_info.h), the answer to
// proc_info(PROC_INFO_CALL_PIDINFO, pid, PROC_PIDTHREADID64INFO, thread_id):
//
//	uint64_t pth_user_time;      0
//	uint64_t pth_system_time;    8
//	int32_t  pth_cpu_usage;     16
//	int32_t  pth_policy;        20
//	int32_t  pth_run_state;     24
//	int32_t  pth_flags;         28
//	int32_t  pth_sleep_time;    32
//	int32_t  pth_curpri;        36
//	int32_t  pth_priority;      40
//	int32_t  pth_maxpriority;   44
//	char     pth_name[MAXTHREADNAMESIZE (64)];  48
//
// 112 bytes, naturally aligned on both darwin architectures. The run states
// are osfmk/mach/thread_info.h's TH_STATE_* (also in proc_info.h).
const (
	procThreadInfoSize = 112
	pthRunState        = 24

	thStateRunning         = 1
	thStateStopped         = 2
	thStateWaiting         = 3 // "thread is waiting normally"
	thStateUninterruptible = 4
	thStateHalted          = 5
)

// parseProcThreadInfo returns pth_run_state from a proc_threadinfo. n is what
// proc_info returned: the bytes it wrote, which must be the whole structure.
func parseProcThreadInfo(b []byte, n int) (int32, error) {
	if n != procThreadInfoSize || len(b) < procThreadInfoSize {
		return 0, fmt.Errorf("proc_info(PROC_PIDTHREADID64INFO): %d bytes, want %d (struct proc_threadinfo)", n, procThreadInfoSize)
	}
	return int32(binary.LittleEndian.Uint32(b[pthRunState:])), nil
}

// The answer to NtQuerySystemInformation(SystemProcessInformation) on 64-bit
// Windows: one SYSTEM_PROCESS_INFORMATION per process (winternl.h;
// learn.microsoft.com, "NtQuerySystemInformation function",
// SystemProcessInformation), each followed by NumberOfThreads
// SYSTEM_THREAD_INFORMATION records; NextEntryOffset leads to the next
// process, 0 ends the list. The layouts, for pointers of 8 bytes:
//
//	SYSTEM_PROCESS_INFORMATION: ULONG NextEntryOffset 0; ULONG
//	NumberOfThreads 4; …; HANDLE UniqueProcessId 80; … 256 bytes (the
//	structure x/sys/windows declares, whose size is also 256).
//	SYSTEM_THREAD_INFORMATION: LARGE_INTEGER KernelTime, UserTime,
//	CreateTime 0–23; ULONG WaitTime 24; PVOID StartAddress 32; CLIENT_ID
//	ClientId {HANDLE UniqueProcess 40; HANDLE UniqueThread 48}; KPRIORITY
//	Priority 56; LONG BasePriority 60; ULONG ContextSwitches 64; ULONG
//	ThreadState 68; ULONG WaitReason 72. 80 bytes.
//
// ThreadState and WaitReason are the kernel's KTHREAD_STATE and KWAIT_REASON,
// which .NET documents as System.Diagnostics.ThreadState (Wait = 5) and
// ThreadWaitReason (learn.microsoft.com), read from this same call.
const (
	spiNextEntryOffset = 0
	spiNumberOfThreads = 4
	spiUniqueProcessID = 80
	spiSize64          = 256

	stiUniqueThread = 48
	stiThreadState  = 68
	stiWaitReason   = 72
	stiSize64       = 80

	// KTHREAD_STATE Waiting (System.Diagnostics.ThreadState.Wait).
	kThreadWaiting = 5
	// KTHREAD_STATE Running.
	kThreadRunning = 2
	// KWAIT_REASON Suspended (System.Diagnostics.ThreadWaitReason.Suspended
	// = 5): a thread stopped by SuspendThread, as the Go runtime stops a
	// thread to preempt it (runtime/os_windows.go, preemptM), whatever it
	// was doing.
	kWaitSuspended = 5
)

// ntInCall reports whether a thread's state says it is blocked in an I/O
// call: Waiting, not for a suspension, with an I/O request pending
// (GetThreadIOPendingFlag). Waiting alone cannot tell the call from a
// thread the Go runtime parks: both wait as UserRequest (6).
func ntInCall(t ntThread, ioPending bool) bool {
	return t.State == kThreadWaiting && t.WaitReason != kWaitSuspended && ioPending
}

// ntThread is one thread's state in a SystemProcessInformation answer.
type ntThread struct {
	State, WaitReason uint32
}

// findNtThread walks a 64-bit SystemProcessInformation answer for thread tid
// of process pid.
func findNtThread(b []byte, pid, tid uint64) (ntThread, bool, error) {
	for off := uint64(0); ; {
		if off+spiSize64 > uint64(len(b)) {
			return ntThread{}, false, fmt.Errorf("SystemProcessInformation: process record at %d past the %d bytes returned", off, len(b))
		}
		p := b[off:]
		next := uint64(binary.LittleEndian.Uint32(p[spiNextEntryOffset:]))
		nthreads := uint64(binary.LittleEndian.Uint32(p[spiNumberOfThreads:]))
		if binary.LittleEndian.Uint64(p[spiUniqueProcessID:]) == pid {
			if spiSize64+nthreads*stiSize64 > uint64(len(p)) {
				return ntThread{}, false, fmt.Errorf("SystemProcessInformation: %d threads of process %d past the end", nthreads, pid)
			}
			for i := range nthreads {
				t := p[spiSize64+i*stiSize64:]
				if binary.LittleEndian.Uint64(t[stiUniqueThread:]) == tid {
					return ntThread{
						State:      binary.LittleEndian.Uint32(t[stiThreadState:]),
						WaitReason: binary.LittleEndian.Uint32(t[stiWaitReason:]),
					}, true, nil
				}
			}
			return ntThread{}, false, nil
		}
		if next == 0 {
			return ntThread{}, false, nil
		}
		off += next
	}
}
