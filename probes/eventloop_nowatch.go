//go:build !linux && !windows && !darwin && !freebsd

package probes

import (
	"fmt"
	"runtime"
)

// watchSocket: no readiness API is wired up here. epoll (eventloop_linux.go),
// kqueue on darwin and FreeBSD (eventloop_kqueue.go) and AFD poll
// (eventloop_windows.go) are; OpenBSD's and NetBSD's kqueue would be
// eventloop_kqueue.go's, once their socket probes exist (sys_noprobes.go).
func watchSocket(sysfd) (watcher, error) {
	return nil, fmt.Errorf("%w: no readiness API wired up on %s", ErrUnsupported, runtime.GOOS)
}
