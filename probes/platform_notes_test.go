package probes

import (
	"runtime"
	"testing"
)

// PlatformNotes answers every name it knows on FreeBSD (a value or why not),
// and nothing where it knows none.
func TestPlatformNotes(t *testing.T) {
	notes := PlatformNotes()
	if runtime.GOOS != "freebsd" {
		if len(notes) != 0 {
			t.Errorf("PlatformNotes on %s = %v, want none", runtime.GOOS, notes)
		}
		return
	}
	for _, name := range []string{"net.inet.tcp.nolocaltimewait", "net.isr.numthreads"} {
		if notes[name] == "" {
			t.Errorf("PlatformNotes()[%q] is empty", name)
		}
	}
	t.Logf("PlatformNotes: %v", notes)
}
