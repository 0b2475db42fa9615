//go:build linux || darwin || freebsd

package probes

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeBlockedThread starts positiveControl's thread: a goroutine locked to
// its OS thread, blocked in read(2) on the empty end of a pipe of its own.
// The pipe is a raw pipe(2), blocking, not an *os.File (whose reads go
// through the runtime's poller and never block the thread). release writes a
// byte, waits for the thread to return, and closes both ends. The ends are
// made close-on-exec under syscall.ForkLock, and sit below fdFloor, where no
// closed socket of ours has its number (sys_unix.go).
func pipeBlockedThread() (int, func(), error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return 0, nil, wrap("pipe", err)
	}
	tid, done := make(chan int, 1), make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- threadID()
		var b [1]byte
		retryEINTR(func() error { _, err := unix.Read(p[0], b[:]); return err })
	}()
	release := func() {
		unix.Write(p[1], []byte{0})
		<-done
		unix.Close(p[0])
		unix.Close(p[1])
	}
	return <-tid, release, nil
}
