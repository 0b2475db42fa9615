//go:build darwin || freebsd

package probes

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// These tests have not run here (Linux): they compile and vet for darwin
// and FreeBSD (GOOS=darwin go test -c), and run on a macOS runner and in
// the matrix's FreeBSD VM.
//
// What the man pages and mio's history lead one to look for (not asserted:
// the cells record what the OS does):
//   - the peer's FIN: EVFILT_READ with EV_EOF, fflags 0, data 0.
//   - the peer's RST: EVFILT_READ with EV_EOF and fflags ECONNRESET
//     (kevent(2): with EV_EOF, fflags holds the socket error).
//   - an own shutdown(SHUT_WR): EVFILT_WRITE with EV_EOF
//     (tokio-rs/mio#1091).

// TestKqReady: the conversion of delivered kevents to the cell's terms.
func TestKqReady(t *testing.T) {
	var rd, wr unix.Kevent_t
	unix.SetKevent(&wr, 7, unix.EVFILT_WRITE, unix.EV_ADD|unix.EV_CLEAR|unix.EV_EOF)
	wr.Data = 8192
	unix.SetKevent(&rd, 7, unix.EVFILT_READ, unix.EV_ADD|unix.EV_CLEAR|unix.EV_EOF|unix.EV_ERROR)
	rd.Fflags = uint32(unix.ECONNRESET)
	got := kqReady([]unix.Kevent_t{wr, rd})
	want := Ready{API: "kqueue", Filters: []KEvent{
		{Filter: "EVFILT_READ", Flags: []string{"EV_EOF", "EV_ERROR"}, Fflags: "ECONNRESET"},
		{Filter: "EVFILT_WRITE", Flags: []string{"EV_EOF"}, Data: 8192},
	}}
	if got.API != want.API || !slices.EqualFunc(got.Filters, want.Filters, func(a, b KEvent) bool {
		return a.Filter == b.Filter && slices.Equal(a.Flags, b.Flags) && a.Fflags == b.Fflags && a.Data == b.Data
	}) {
		t.Errorf("kqReady = %+v; want %+v", got, want)
	}
	if s, w := got.String(), "EVFILT_READ[EV_EOF EV_ERROR fflags=ECONNRESET data=0] EVFILT_WRITE[EV_EOF data>0]"; s != w {
		t.Errorf("String() = %q; want %q", s, w)
	}
	if got := kqReady(nil).String(); got != PollNone {
		t.Errorf("empty = %q; want %q", got, PollNone)
	}
	if got := kqErrnoName(99999); got != "errno 99999" {
		t.Errorf("kqErrnoName(99999) = %q", got)
	}
}

// TestKqueueEvents: what a registration made as mio makes it delivers
// after the peer's FIN, the peer's RST and an own shutdown(SHUT_WR). Only
// the harness's facts are asserted: reads return, close releases, nothing
// is left outstanding.
func TestKqueueEvents(t *testing.T) {
	l := listen(t, V4)
	defer l.Close()
	playWatch(t, l, "kqueue", []eventAction{actPeerFIN, actPeerRST, actOwnShutdown}, func(t *testing.T, w *Watch) {
		for i := range 2 {
			if err := w.Close(); err != nil {
				t.Errorf("Watch.Close #%d: %v", i+1, err)
			}
		}
	})
}

// TestKqErrnoName: fflags take the steps' errno names, so that one number has
// one name in every cell (FreeBSD's 35 is EAGAIN there, not EWOULDBLOCK).
func TestKqErrnoName(t *testing.T) {
	for _, c := range []struct {
		v    uint32
		want string
	}{
		{uint32(unix.EAGAIN), "EAGAIN"}, {uint32(unix.EWOULDBLOCK), "EAGAIN"}, // one number (<sys/errno.h>)
		{uint32(unix.ECONNRESET), "ECONNRESET"}, {4096, "errno 4096"},
	} {
		if got := kqErrnoName(c.v); got != c.want {
			t.Errorf("kqErrnoName(%d) = %q, want %q", c.v, got, c.want)
		}
	}
}
