package probes

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/closematrix/closematrix/schema"
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

// eventAction is one thing the event-loop tests do to a connected pair
// between registering (or posting a recv on) own and reading what it got.
// wait: the action raises an event on own to wait for; false where the
// signal is the peer's (own shutdown), so own is read once.
type eventAction struct {
	name string
	wait bool
	act  func(t *testing.T, own, peer *Socket)
}

// The actions the AFD, kqueue and IOCP tests share.
var (
	actPeerFIN = eventAction{"peer-fin", true, func(t *testing.T, own, peer *Socket) {
		expect(t, "peer.shutdown-wr", peer.Shutdown(ShutWR), schema.ClassOK, 0)
	}}
	actPeerRST = eventAction{"peer-rst", true, func(t *testing.T, own, peer *Socket) {
		if err := peer.SetLinger(true, 0); err != nil {
			t.Fatalf("SetLinger: %v", err)
		}
		expect(t, "peer.close (linger 0)", peer.Close(), schema.ClassOK, 0)
	}}
	actOwnShutdown = eventAction{"own-shutdown-send", false, func(t *testing.T, own, peer *Socket) {
		expect(t, "own.shutdown-wr", own.Shutdown(ShutWR), schema.ClassOK, 0)
		// The signal that the FIN is out: the peer reads its end.
		t.Logf("peer poll after own shutdown: %v", waitReadable(t, peer, 2*time.Second))
		t.Logf("peer.recv after own shutdown: %v", peer.Recv(64))
	}}
	actOwnClose = eventAction{"own-close", true, func(t *testing.T, own, peer *Socket) {
		expect(t, "own.close", own.Close(), schema.ClassOK, 0)
	}}
)

// playWatch plays each action on a fresh pair from l whose accepted end is
// watched, and logs what the registration delivered at registration, after
// the action and right after that. It asserts the harness's facts: the
// reads return within their bound and say api, and closeWatch (per OS:
// the handles it held are gone) releases the registration with nothing
// left outstanding.
func playWatch(t *testing.T, l *Listener, api string, actions []eventAction, closeWatch func(*testing.T, *Watch)) {
	const bound = 2 * time.Second
	before := Outstanding()
	for _, tc := range actions {
		t.Run(tc.name, func(t *testing.T) {
			c, a := pair(t, l)
			defer c.Close()
			defer a.Close()
			w, err := a.Watch()
			if err != nil {
				t.Fatalf("Watch: %v", err)
			}
			defer func() {
				closeWatch(t, w)
				if got := Outstanding(); got != before {
					t.Errorf("Outstanding() = %d after close; want %d", got, before)
				}
			}()
			t.Logf("events at registration: %v", readUntil(t, w, bound))
			tc.act(t, a, c)
			wait := bound
			if !tc.wait {
				wait = 0
			}
			start := time.Now()
			got := readUntil(t, w, wait)
			took := time.Since(start)
			t.Logf("events after %s: %v (after %v)", tc.name, got, took.Round(time.Microsecond))
			if took > wait+time.Second {
				t.Errorf("Read took %v with a bound of %v", took, wait)
			}
			if got.API != api {
				t.Errorf("Ready.API = %q; want %s", got.API, api)
			}
			again, err := w.Read()
			if err != nil {
				t.Errorf("second Read: %v", err)
			}
			t.Logf("events#2 right after: %v", again)
		})
	}
}

// closeAtEnd closes c (a Watch, an AsyncRecv) when the test ends, failing
// the test if Close fails.
func closeAtEnd(t *testing.T, what string, c interface{ Close() error }) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("%s.Close: %v", what, err)
		}
	})
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
