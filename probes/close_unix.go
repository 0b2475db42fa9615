//go:build linux || darwin || freebsd

package probes

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// closeSocket closes one of our sockets while no process is being started.
// A child between fork and exec holds a copy of the parent's descriptor
// table (fork(2); Go's vfork on Linux shares memory, not the table), and
// close(2) only drops this table's reference: the socket would stay open,
// its FIN or RST unsent, until that child execs and its close-on-exec copy
// goes — while the scenario already observes the close. Another scenario's
// helper process or ip command (RunAll plays them side by side) must not
// delay ours, so the close holds syscall.ForkLock for reading, which every
// fork holds for writing until its child has exec'd
// (syscall/exec_unix.go, forkExec) — almost: a vfork parent is let go when
// the child replaces its memory, a moment before the child closes its
// close-on-exec descriptors (fs/exec.c, begin_new_exec: exec_mmap, then
// do_close_on_exec), so the close also waits, under the lock, until no
// child still holds a copy (waitChildCopies). Where processes start with
// fork, not vfork (darwin, FreeBSD), the lock is let go when fork returns,
// before the exec, and no child's table can be read: the close is ordered
// against the fork only (close_noproc.go says what remains). A close that may
// block for its linger time (SO_LINGER on, seconds > 0) takes no lock: it
// would hold up every process start meanwhile.
func closeSocket(fd int) error {
	if l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER); err == nil && l.Onoff != 0 && l.Linger > 0 {
		return closeFD(fd)
	}
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	waitChildCopies(fd)
	return closeFD(fd)
}
