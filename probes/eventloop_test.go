package probes

import (
	"errors"
	"testing"
)

// A Watch read or an AsyncRecv cancelled after Close asks nothing of the OS.
func TestReleasedEventLoopValues(t *testing.T) {
	w := &Watch{}
	if _, err := w.Read(); !errors.Is(err, errReleased) {
		t.Errorf("Read after Close: %v, want errReleased", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close twice: %v", err)
	}
	a := &AsyncRecv{}
	if err := a.Cancel(); !errors.Is(err, errReleased) {
		t.Errorf("Cancel after Close: %v, want errReleased", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close twice: %v", err)
	}
}
