//go:build darwin || freebsd

package probes

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// kqWatch is one socket registered with a kqueue of its own for EVFILT_READ
// and EVFILT_WRITE with EV_CLEAR, as mio registers a socket
// (src/sys/unix/selector/kqueue.rs: EV_CLEAR | EV_RECEIPT | EV_ADD): after
// an event is retrieved its state is reset (kqueue(2), EV_CLEAR), so each
// read shows what changed since the last one.
type kqWatch struct {
	mu     sync.Mutex
	kq     int
	closed bool
}

// watchSocket creates a kqueue and registers fd with it.
//
// Descriptors: the kqueue is made close-on-exec while syscall.ForkLock is
// held for reading, as newSocket does on darwin (kqueue(2) takes no
// O_CLOEXEC there; FreeBSD has kqueuex(2) with KQUEUE_CLOEXEC only in its newest releases).
// It is not lifted above fdFloor (sys_unix.go): that floor keeps the
// numbers of our closed sockets from being taken by anything but another
// socket of ours, and a kqueue below it can never take such a number.
func watchSocket(fd sysfd) (watcher, error) {
	kq, err := newKqueue()
	if err != nil {
		return nil, err
	}
	// EV_RECEIPT returns one event per change, with EV_ERROR set and data
	// 0 or the errno of that change, without draining pending events
	// (kevent(2)).
	changes := make([]unix.Kevent_t, 2)
	unix.SetKevent(&changes[0], int(fd), unix.EVFILT_READ, unix.EV_ADD|unix.EV_CLEAR|unix.EV_RECEIPT)
	unix.SetKevent(&changes[1], int(fd), unix.EVFILT_WRITE, unix.EV_ADD|unix.EV_CLEAR|unix.EV_RECEIPT)
	receipts := make([]unix.Kevent_t, len(changes))
	n, err := kevent(kq, changes, receipts)
	if err == nil {
		for _, r := range receipts[:n] {
			if r.Flags&unix.EV_ERROR != 0 && r.Data != 0 {
				err = fmt.Errorf("%s: %w", filterName(r.Filter), unix.Errno(r.Data))
				break
			}
		}
	}
	if err != nil {
		unix.Close(kq)
		return nil, wrap("kevent(EV_ADD)", err)
	}
	return &kqWatch{kq: kq}, nil
}

// newKqueue wraps kqueue(2) and marks the descriptor close-on-exec.
func newKqueue() (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	kq, err := unix.Kqueue()
	if err != nil {
		return -1, wrap("kqueue", err)
	}
	unix.CloseOnExec(kq)
	return kq, nil
}

// kevent wraps kevent(2) with a zero timeout: it never waits. EINTR is
// retried (retryEINTR's reason: the signals are the Go runtime's).
func kevent(kq int, changes, events []unix.Kevent_t) (int, error) {
	var zero unix.Timespec
	for {
		n, err := unix.Kevent(kq, changes, events, &zero)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// read retrieves what was delivered since the last read, without waiting.
// Once the socket's descriptor is closed its knotes are gone ("Calling
// close() on a file descriptor will remove any kevents that reference the
// descriptor", kqueue(2)), so a descriptor number taken again later is not
// watched here: unlike AFD poll (afdWatch's close sentinel), nothing stays
// tied to the old number.
func (w *kqWatch) read() (Ready, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Ready{}, errors.New("kqueue watch: read after close")
	}
	events := make([]unix.Kevent_t, 4)
	n, err := kevent(w.kq, nil, events)
	if err != nil {
		return Ready{API: "kqueue"}, wrap("kevent", err)
	}
	return kqReady(events[:n]), nil
}

// close closes the kqueue, which removes its registrations (kqueue(2):
// closing the descriptor frees the queue and its knotes).
func (w *kqWatch) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return wrap("close", unix.Close(w.kq))
}

// kqReady turns delivered kevents into the cell's terms: per filter,
// EVFILT_READ before EVFILT_WRITE, the flags that matter (EV_EOF,
// EV_ERROR), fflags as an errno name (with EV_EOF it holds the socket's
// pending error: kevent(2), "EVFILT_READ … If the read direction of the
// socket has shutdown, then the filter also sets EV_EOF in flags, and
// returns the socket error (if any) in fflags"), and data (bytes to read;
// space to write).
func kqReady(events []unix.Kevent_t) Ready {
	r := Ready{API: "kqueue"}
	for _, ev := range events {
		k := KEvent{Filter: filterName(ev.Filter), Data: int64(ev.Data)}
		if ev.Flags&unix.EV_EOF != 0 {
			k.Flags = append(k.Flags, "EV_EOF")
		}
		if ev.Flags&unix.EV_ERROR != 0 {
			k.Flags = append(k.Flags, "EV_ERROR")
		}
		sort.Strings(k.Flags)
		if ev.Fflags != 0 {
			k.Fflags = kqErrnoName(ev.Fflags)
		}
		r.Filters = append(r.Filters, k)
	}
	sort.SliceStable(r.Filters, func(i, j int) bool {
		return filterRank(r.Filters[i].Filter) < filterRank(r.Filters[j].Filter)
	})
	return r
}

// filterName is the C name of a kqueue filter (<sys/event.h>).
func filterName(f int16) string {
	switch f {
	case unix.EVFILT_READ:
		return "EVFILT_READ"
	case unix.EVFILT_WRITE:
		return "EVFILT_WRITE"
	}
	return "EVFILT_" + strconv.Itoa(int(f))
}

// filterRank orders EVFILT_READ before EVFILT_WRITE before anything else.
func filterRank(name string) int {
	switch name {
	case "EVFILT_READ":
		return 0
	case "EVFILT_WRITE":
		return 1
	}
	return 2
}

// kqErrnoName names fflags as an errno by the steps' own naming (errnoName,
// classify_unix.go: EAGAIN for FreeBSD's 35, which x/sys calls EWOULDBLOCK),
// or by its number where the table has no name.
func kqErrnoName(v uint32) string {
	if name := errnoName(unix.Errno(v)); name != "" {
		return name
	}
	return "errno " + strconv.FormatUint(uint64(v), 10)
}
