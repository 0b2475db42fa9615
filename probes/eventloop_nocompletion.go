//go:build !linux && !windows

package probes

import (
	"github.com/closematrix/closematrix/schema"

	"fmt"
	"runtime"
)

// startRecv: darwin and the BSDs have no completion API for sockets (kqueue is
// readiness only; POSIX AIO does not cover sockets on darwin). Linux has
// io_uring (uring_linux.go), Windows IOCP (eventloop_windows.go).
func startRecv(sysfd, int) (asyncRecv, error) {
	return nil, fmt.Errorf("%w: %s has no completion API for sockets", ErrUnsupported, runtime.GOOS)
}

// completionClass: no completions here.
func completionClass(int) schema.Class { return schema.ClassOther }
