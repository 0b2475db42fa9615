//go:build darwin || freebsd

package probes

// waitChildCopies cannot see a child's descriptors on darwin or FreeBSD:
// there is no /proc (FreeBSD's procfs(5) is not mounted by default and has
// no fd directory; darwin has none), and the per-process file tables of
// sysctl kern.proc.filedesc (FreeBSD) and proc_pidinfo(PROC_PIDLISTFDS)
// (darwin) are not wired up.
//
// Both systems start processes with fork(2), not vfork (syscall/
// exec_freebsd.go: SYS_FORK; exec_libc2.go: libc fork), and Go's forkExec
// releases syscall.ForkLock as soon as fork returns in the parent, before the
// child execs (syscall/exec_unix.go). So the ForkLock that closeSocket holds
// (close_unix.go) orders a close against the fork's copy of the descriptor
// table, not against the child's exec: a child forked just before the close
// still holds the socket until its exec closes its close-on-exec copy, a
// matter of microseconds. The harness plays one scenario at a time on these
// systems by default (DefaultWorkers: no thread-state signal), so no other
// scenario forks beside a close unless -workers says otherwise.
func waitChildCopies(int) {}
