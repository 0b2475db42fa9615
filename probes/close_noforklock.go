//go:build !linux && !darwin && !freebsd

package probes

// closeSocket is closeFD, with no syscall.ForkLock: Windows handles are not
// inherited unless a process is started with them (Go's os/exec passes an
// explicit list), and where closematrix has no probes (sys_noprobes.go)
// there is no socket to close.
func closeSocket(fd sysfd) error { return closeFD(fd) }
