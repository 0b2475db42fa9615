//go:build !linux && !darwin

package probes

// closeSocket is closeFD: Windows handles are not inherited unless a
// process is started with them (Go's os/exec passes an explicit list).
func closeSocket(fd sysfd) error { return closeFD(fd) }
