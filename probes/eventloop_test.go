package probes

import (
	"errors"
	"sync"
	"testing"
	"time"
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

// lockedImpl is a watcher and an asyncRecv that count their calls under a
// lock, as the per-OS ones guard their state.
type lockedImpl struct {
	mu     sync.Mutex
	closes int
}

func (f *lockedImpl) read() (Ready, error) { return Ready{API: "fake"}, nil }
func (f *lockedImpl) wait(time.Duration) Completion {
	return Completion{API: "fake", Done: true}
}
func (f *lockedImpl) cancel() error { return nil }
func (f *lockedImpl) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	return nil
}

// A Read, Wait or Cancel that overstays its caller's bound runs beside the
// teardown's Close: no data race on the value (go test -race), no nil
// dereference, one close of the implementation and one count off
// Outstanding however many Closes race.
func TestEventLoopValuesCloseConcurrently(t *testing.T) {
	before := Outstanding()
	fw, fa := &lockedImpl{}, &lockedImpl{}
	outstanding.Add(2)
	w, a := &Watch{impl: fw}, &AsyncRecv{impl: fa}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(4)
		go func() { defer wg.Done(); w.Read() }()
		go func() { defer wg.Done(); w.Close() }()
		go func() { defer wg.Done(); a.Wait(time.Millisecond); a.Cancel() }()
		go func() { defer wg.Done(); a.Close() }()
	}
	wg.Wait()
	if fw.closes != 1 || fa.closes != 1 {
		t.Errorf("closes: watch %d, recv %d, want 1 each", fw.closes, fa.closes)
	}
	if got := Outstanding(); got != before {
		t.Errorf("Outstanding %d, want %d", got, before)
	}
	if c := a.Wait(0); !c.Done {
		t.Errorf("Wait after Close = %+v, want the reaped completion", c)
	}
	if err := a.Cancel(); !errors.Is(err, errReleased) {
		t.Errorf("Cancel after Close: %v, want errReleased", err)
	}
}

// readUntil reads w until it delivers something (AFD or epoll names,
// kqueue filters) or bound passes, and returns what the first non-empty read
// delivered (empty: nothing within bound). The per-OS tests share it.
func readUntil(t *testing.T, w *Watch, bound time.Duration) Ready {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		r, err := w.Read()
		if err != nil {
			t.Errorf("Watch.Read: %v", err)
			return r
		}
		if len(r.Names) > 0 || len(r.Filters) > 0 || time.Now().After(deadline) {
			return r
		}
		time.Sleep(time.Millisecond) // an event loop's own spin; AFD completions land asynchronously
	}
}

// TestReadyStringKqueueData: EVFILT_WRITE's data (sbspace of the send
// buffer, which autosizing varies) is written only as >0 or 0; EVFILT_READ's
// stays a number.
func TestReadyStringKqueueData(t *testing.T) {
	for _, c := range []struct {
		filters []KEvent
		want    string
	}{
		{[]KEvent{{Filter: "EVFILT_WRITE", Data: 146988}}, "EVFILT_WRITE[data>0]"},
		{[]KEvent{{Filter: "EVFILT_WRITE", Data: 8192}}, "EVFILT_WRITE[data>0]"},
		{[]KEvent{{Filter: "EVFILT_WRITE", Flags: []string{"EV_EOF"}}}, "EVFILT_WRITE[EV_EOF data=0]"},
		{[]KEvent{{Filter: "EVFILT_READ", Data: 5}, {Filter: "EVFILT_WRITE", Data: 1}}, "EVFILT_READ[data=5] EVFILT_WRITE[data>0]"},
	} {
		if got := (Ready{API: "kqueue", Filters: c.filters}).String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}
