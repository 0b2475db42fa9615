//go:build !linux

package agent

import (
	"fmt"
	"runtime"
)

// threadInCall has no signal here: darwin's proc_info and Windows'
// NtQuerySystemInformation would serve (probes/threadstate_*.go reads them
// for our own threads), not wired up for another process yet.
func threadInCall(pid, tid int) (bool, error) {
	return false, fmt.Errorf("%w: no view of another process's threads on %s", ErrNoThreadState, runtime.GOOS)
}

// mirror has nothing to mirror into here: the caller waits on done itself.
func mirror(done <-chan struct{}) error { return ErrNoThreadState }
