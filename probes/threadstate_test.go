package probes

import (
	"encoding/binary"
	"strings"
	"testing"
)

// procThreadInfoFixture is a struct proc_threadinfo as xnu's
// fill_taskthreadinfo writes it (bsd/sys/proc_info.h): times, then the
// int32 fields in order, then the name. Every field gets a distinct value so
// that an offset that is off by one field reads the wrong number.
func procThreadInfoFixture(runState int32) []byte {
	b := make([]byte, procThreadInfoSize)
	binary.LittleEndian.PutUint64(b[0:], 111) // pth_user_time
	binary.LittleEndian.PutUint64(b[8:], 222) // pth_system_time
	binary.LittleEndian.PutUint32(b[16:], 16) // pth_cpu_usage
	binary.LittleEndian.PutUint32(b[20:], 20) // pth_policy
	binary.LittleEndian.PutUint32(b[24:], uint32(runState))
	binary.LittleEndian.PutUint32(b[28:], 28) // pth_flags
	binary.LittleEndian.PutUint32(b[32:], 32) // pth_sleep_time
	binary.LittleEndian.PutUint32(b[36:], 31) // pth_curpri
	binary.LittleEndian.PutUint32(b[40:], 31) // pth_priority
	binary.LittleEndian.PutUint32(b[44:], 63) // pth_maxpriority
	copy(b[48:], "closematrix recv")          // pth_name
	return b
}

func TestParseProcThreadInfo(t *testing.T) {
	for _, st := range []int32{thStateRunning, thStateStopped, thStateWaiting, thStateUninterruptible, thStateHalted} {
		got, err := parseProcThreadInfo(procThreadInfoFixture(st), procThreadInfoSize)
		if err != nil || got != st {
			t.Errorf("run state %d: got %d, %v", st, got, err)
		}
	}
	// proc_info returns the bytes it wrote: anything but the whole
	// structure is a layout we do not know.
	for _, n := range []int{0, 96, procThreadInfoSize + 8} {
		if _, err := parseProcThreadInfo(procThreadInfoFixture(thStateWaiting), n); err == nil {
			t.Errorf("n = %d: no error", n)
		}
	}
	if _, err := parseProcThreadInfo(make([]byte, 40), procThreadInfoSize); err == nil {
		t.Error("short buffer: no error")
	}
}

// ntFixture builds a 64-bit SystemProcessInformation answer: for each
// process its SYSTEM_PROCESS_INFORMATION (256 bytes) and threads (80 bytes
// each), NextEntryOffset pointing past them, 0 in the last.
type ntProc struct {
	pid     uint64
	threads []ntFixtureThread
}

type ntFixtureThread struct {
	tid           uint64
	state, reason uint32
}

func ntFixture(procs []ntProc) []byte {
	var b []byte
	for i, p := range procs {
		rec := make([]byte, spiSize64+len(p.threads)*stiSize64)
		if i < len(procs)-1 {
			binary.LittleEndian.PutUint32(rec[spiNextEntryOffset:], uint32(len(rec)))
		}
		binary.LittleEndian.PutUint32(rec[spiNumberOfThreads:], uint32(len(p.threads)))
		binary.LittleEndian.PutUint64(rec[spiUniqueProcessID:], p.pid)
		binary.LittleEndian.PutUint64(rec[spiUniqueProcessID+8:], 4) // InheritedFromUniqueProcessId
		for j, th := range p.threads {
			r := rec[spiSize64+j*stiSize64:]
			binary.LittleEndian.PutUint32(r[24:], 7)     // WaitTime
			binary.LittleEndian.PutUint64(r[40:], p.pid) // ClientId.UniqueProcess
			binary.LittleEndian.PutUint64(r[stiUniqueThread:], th.tid)
			binary.LittleEndian.PutUint32(r[56:], 8)  // Priority
			binary.LittleEndian.PutUint32(r[64:], 99) // ContextSwitches
			binary.LittleEndian.PutUint32(r[stiThreadState:], th.state)
			binary.LittleEndian.PutUint32(r[stiWaitReason:], th.reason)
		}
		b = append(b, rec...)
	}
	return b
}

func TestFindNtThread(t *testing.T) {
	b := ntFixture([]ntProc{
		{pid: 0, threads: []ntFixtureThread{{0, 2, 0}}}, // the idle process
		{pid: 4, threads: []ntFixtureThread{{8, 5, 6}, {12, 2, 0}}},
		{pid: 4242, threads: []ntFixtureThread{{100, kThreadRunning, 0}, {104, kThreadWaiting, 6}, {108, kThreadWaiting, 13}}},
		{pid: 5000, threads: nil},
	})
	for _, c := range []struct {
		pid, tid uint64
		want     ntThread
		found    bool
	}{
		{4242, 104, ntThread{kThreadWaiting, 6}, true},
		{4242, 108, ntThread{kThreadWaiting, 13}, true},
		{4242, 100, ntThread{kThreadRunning, 0}, true},
		{4242, 8, ntThread{}, false}, // another process's thread id
		{4, 12, ntThread{2, 0}, true},
		{7777, 1, ntThread{}, false}, // no such process
	} {
		got, found, err := findNtThread(b, c.pid, c.tid)
		if err != nil || found != c.found || got != c.want {
			t.Errorf("pid %d tid %d: got %+v %v %v, want %+v %v", c.pid, c.tid, got, found, err, c.want, c.found)
		}
	}
	// A process whose threads run past the end, or a NextEntryOffset that
	// leads past it, is an error, not a miss.
	if _, _, err := findNtThread(b[:spiSize64*2+stiSize64], 4, 12); err == nil || !strings.Contains(err.Error(), "past") {
		t.Errorf("truncated threads: %v", err)
	}
	bad := ntFixture([]ntProc{{pid: 1, threads: nil}, {pid: 2, threads: nil}})
	binary.LittleEndian.PutUint32(bad, 1<<20)
	if _, _, err := findNtThread(bad, 2, 1); err == nil {
		t.Error("NextEntryOffset past the end: no error")
	}
}

// TestNtInCall: Windows' posture signal from fixture states. A parked Go
// thread and a thread in the call both read Waiting / UserRequest; only
// the I/O pending flag tells them apart, and a suspended thread (the
// runtime's preemption) is in no call whatever its flag says.
func TestNtInCall(t *testing.T) {
	const userRequest = 6
	for _, c := range []struct {
		name    string
		t       ntThread
		pending bool
		want    bool
	}{
		{"blocked in WSARecv", ntThread{State: kThreadWaiting, WaitReason: userRequest}, true, true},
		{"parked Go thread", ntThread{State: kThreadWaiting, WaitReason: userRequest}, false, false},
		{"suspended by the runtime", ntThread{State: kThreadWaiting, WaitReason: kWaitSuspended}, true, false},
		{"running", ntThread{State: kThreadRunning}, true, false},
		{"Wine's Initialized", ntThread{State: 0}, false, false},
	} {
		if got := ntInCall(c.t, c.pending); got != c.want {
			t.Errorf("%s: ntInCall(%+v, %v) = %v; want %v", c.name, c.t, c.pending, got, c.want)
		}
	}
}
