//go:build linux || darwin || freebsd

package probes

import (
	"testing"
	"time"
)

// pipeBlockedThread's thread is blocked in read(2) until released, and the
// release returns it (here on Linux, and wherever the package's tests run).
func TestPipeBlockedThread(t *testing.T) {
	tid, release, err := pipeBlockedThread()
	if err != nil {
		t.Fatal(err)
	}
	if tid == 0 {
		t.Error("thread id 0")
	}
	done := make(chan struct{})
	go func() { release(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("release did not return the blocked thread within 5 s")
	}
}
