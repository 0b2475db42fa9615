package probes

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// TestSystemProcessInformationLayout ties the decoder's offsets to the
// structure x/sys declares (the same winternl.h layout).
func TestSystemProcessInformationLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("decoded for 64-bit Windows only")
	}
	var p windows.SYSTEM_PROCESS_INFORMATION
	if unsafe.Sizeof(p) != spiSize64 || unsafe.Offsetof(p.UniqueProcessID) != spiUniqueProcessID ||
		unsafe.Offsetof(p.NumberOfThreads) != spiNumberOfThreads {
		t.Errorf("SYSTEM_PROCESS_INFORMATION: size %d, UniqueProcessID at %d; the decoder says %d, %d",
			unsafe.Sizeof(p), unsafe.Offsetof(p.UniqueProcessID), spiSize64, spiUniqueProcessID)
	}
}

// TestThreadSignal says whether this system's thread states can tell a
// blocked thread (ThreadSignal), and where they can, that WaitInSyscall sees
// a thread blocked in recv. Under Wine it records what Wine answers.
func TestThreadSignal(t *testing.T) {
	self := make(chan ntThread, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		st, err := ntThreadState(threadID())
		if err != nil {
			t.Errorf("ntThreadState(self): %v", err)
		}
		self <- st
	}()
	t.Logf("the asking thread: ThreadState %+v", <-self)
	if err := ThreadSignal(); err != nil {
		t.Skipf("no thread-state signal here (PostureGrace is used): %v", err)
	}

	l, c, a := statePair(t, V4)
	defer l.Close()
	defer a.Close()
	tid := make(chan int, 1)
	done := make(chan Outcome, 1)
	go func() {
		runtime.LockOSThread()
		tid <- ThreadID()
		done <- a.Recv(16)
	}()
	start := time.Now()
	ok, err := WaitInSyscall(<-tid, 2*time.Second)
	if !ok || err != nil {
		t.Fatalf("WaitInSyscall of a thread blocked in WSARecv = %v, %v", ok, err)
	}
	t.Logf("blocked in WSARecv seen after %v", time.Since(start))
	select {
	case o := <-done:
		t.Fatalf("recv returned %s with nothing sent", o)
	default:
	}
	c.Close()
	<-done
}

// TestThreadSignalControls runs threadSignal's two controls on their own
// (under Wine threadSignal stops before them, at the asking thread's
// state): each returns within its bound and leaves its threads and
// sockets behind it ended. What they say is logged.
func TestThreadSignalControls(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"blocked WSARecv (positive)", controlBlockedRecv},
		{"WaitForSingleObject (negative)", controlParked},
	} {
		start := time.Now()
		err := c.f()
		t.Logf("%s: %v (after %v)", c.name, err, time.Since(start).Round(time.Millisecond))
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s took %v", c.name, took)
		}
	}
}
