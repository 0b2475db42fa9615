package probes

import "golang.org/x/sys/unix"

// setUserTimeout sets TCP_USER_TIMEOUT in milliseconds (tcp(7)).
func setUserTimeout(fd int, ms int) error {
	return wrap("setsockopt", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms))
}
