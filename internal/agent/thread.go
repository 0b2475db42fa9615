package agent

import (
	"errors"
	"time"
)

// ErrNoThreadState says this system offers no view of an agent thread's
// state: a posture then rests on a grace period.
var ErrNoThreadState = errors.New("no thread state")

// ThreadInCall reports whether thread tid of process pid is, right now,
// asleep in a blocking socket call (Linux: /proc/PID/task/TID/syscall and
// stat). It wraps ErrNoThreadState where the system shows no such thing.
func ThreadInCall(pid, tid int) (bool, error) { return threadInCall(pid, tid) }

// WaitThreadInCall polls ThreadInCall until it holds or bound passes.
func WaitThreadInCall(pid, tid int, bound time.Duration) (bool, error) {
	deadline := time.Now().Add(bound)
	for {
		in, err := threadInCall(pid, tid)
		if err != nil || in {
			return in, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// Mirror blocks the calling OS thread (locked to its goroutine) inside a
// socket call of its own until done is closed, so that the harness's
// signals for its own threads (probes.InSyscall, AsleepInCall) read it as
// asleep in a call. Linux only; elsewhere it returns ErrNoThreadState at
// once.
func Mirror(done <-chan struct{}) error { return mirror(done) }
