package harness

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// The runner checks itself while it plays: what it records must hang
// together, or the run is an error (never a cell that is silently wrong).
// None of these checks needs an outside tool, so they run on every OS:
//
//   - a posture held: its call was still in flight when the action began,
//     and did not begin after the action had closed its socket
//     (checkPosture);
//   - a live socket's own view of its TCP state and the system table's agree
//     (checkStates, with probes.StatesAgree's rule for a connection that is
//     gone);
//   - a side never receives more bytes than the other side's calls sent,
//     and at the other side's end of stream has received all of them
//     (byteCount);
//   - readiness that says readable is followed by a recv that does not
//     block (checkReadable).

// errSelfCheck marks a failed self-check in a run's error.
var errSelfCheck = errors.New("self-check")

// checkPosture reports a posture that did not hold: its call returned before
// the action began, or began on a socket the action had already closed; or,
// where no thread-state signal said the call was blocked (PostureGrace), it
// returned not-socket or bad-descriptor on the actor's own socket, which is
// what a call that the close overtook returns. With a signal, such an
// answer came from a call seen waiting in the kernel: it is the OS's.
func (p *play) checkPosture(c *call) error {
	if c == nil {
		return nil
	}
	pc := postureCall[p.sc.Posture]
	if p.postureLate.Load() {
		return fmt.Errorf("posture %s did not hold: its %s began after the action had closed the socket", p.sc.Posture, pc.Op)
	}
	if !c.finished() {
		return nil
	}
	if !p.actStart.IsZero() && c.end.Before(p.actStart) {
		return fmt.Errorf("posture %s did not hold: the %s returned %s before the action", p.sc.Posture, pc.Op, *c.res)
	}
	if pc.Side == Actor && p.postureGrace != "" &&
		(c.res.Class == schema.ClassNotSocket || c.res.Class == schema.ClassBadDescriptor) {
		return fmt.Errorf("posture %s did not hold: the %s on the actor's own socket returned %s, as a call the close overtook does (no thread-state signal here said it was blocked)",
			p.sc.Posture, pc.Op, *c.res)
	}
	return nil
}

// checkTableSees proves, before the action, that the system's table shows a
// side whose state only the table can give (the actor of a process scenario
// lives in another process): its connection must be listed ESTABLISHED.
// Otherwise its state steps are skipped with the reason: a table that hides
// other processes' connections (macOS 27 is reported to filter pcblist_n for
// unprivileged callers) would make every later "none" a guess.
//
// Windows' GetTcpTable2 lists every process's connections with its owner's
// PID by design, and is not checked: under Wine one read can take a second.
func (p *play) checkTableSees(side Side) {
	a, ok := p.sock[side].(processEnd)
	if !ok || runtime.GOOS == "windows" {
		return
	}
	st, err := probes.LookupState(a.Conn())
	switch {
	case err != nil:
		p.stateSkip[side] = fmt.Sprintf("the system's TCP table could not be read before the action: %v", err)
	case st != probes.StateEstablished:
		p.stateSkip[side] = fmt.Sprintf("the system's TCP table showed the helper process's live connection as %s, not ESTABLISHED, before the action: it does not show other processes' connections faithfully here", st)
	}
}

// checkStates compares, for an open socket that can say its own state, that
// state with the system table's entry for its connection. The two reads are
// not atomic: a pair that disagrees is read again a few times (a state in
// passage), and only a lasting disagreement fails.
func (p *play) checkStates(st Step, s Endpoint) error {
	sv, ok := s.(StateChecker)
	if !ok || s.Closed() || p.net != nil {
		// A network scenario's sockets live in namespaces of their own;
		// the table this process reads (/proc/net/tcp) is its own
		// namespace's, which does not list them.
		return nil
	}
	var sock, table string
	for range 5 {
		var err error
		sock, table, err = sv.States()
		if err != nil || sock == "" {
			return nil // only one view here (Wine: no SIO_TCP_INFO)
		}
		if probes.StatesAgree(sock, table) {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%w: %s: the socket says %s, the system's table %s", errSelfCheck, st.Name(), sock, table)
}

// pollReadable reports whether poll's events say a recv will not block:
// POLLIN (data or end of file), or POLLHUP (hang-up: recv returns end of
// stream or the error at once, on every OS; WSAPoll reports a FIN as POLLHUP
// without POLLRDNORM).
func pollReadable(ev string) bool {
	for _, e := range strings.Split(ev, "|") {
		if e == probes.PollIn || e == probes.PollHup {
			return true
		}
	}
	return false
}

// checkReadable is the self-check of a readiness step (peer.poll; the
// event-loop steps call it too): when it said readable, a recv on that side
// must return within the run's bound. It makes that recv, so it may only run
// where nothing observes the side afterwards (an isolated step). A recv that
// blocks is a failed self-check, returned as the run's error.
func (p *play) checkReadable(side Side, step string, readable bool) error {
	if !readable {
		return nil
	}
	s := p.sock[side]
	c := p.start(side, Recv, step+" (self-check recv)", func() probes.Outcome { return p.counted(side, s.Recv)(recvMax) })
	if o, ok := c.await(p.cfg.Bound); !ok {
		return fmt.Errorf("%w: %s said readable, yet a recv then blocked for %v", errSelfCheck, step, p.cfg.Bound)
	} else if !probes.Observed(o) {
		return fmt.Errorf("%w: %s said readable; the recv after it was not made", errSelfCheck, step)
	}
	return nil
}

// byteCount is what each side's calls have sent and received in one run.
type byteCount struct {
	mu    sync.Mutex
	out   map[Side]int
	in    map[Side]int
	vague map[Side]bool // what this side sent is not known exactly
}

func (b *byteCount) init() {
	if b.out == nil {
		b.out, b.in, b.vague = map[Side]int{}, map[Side]int{}, map[Side]bool{}
	}
}

// sent counts n bytes that side's call handed to the stack.
func (b *byteCount) sent(side Side, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	b.out[side] += n
}

// unknown says side's sends can no longer be counted exactly.
func (b *byteCount) unknown(side Side) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	b.vague[side] = true
}

// received counts what a recv on side returned and checks it against what
// the other side sent: never more; and all of it once the other side's end
// of stream arrived, unless side's own receive direction was shut (then end
// of stream is its own doing, not the other end's FIN).
func (b *byteCount) received(side Side, o probes.Outcome, ownShut bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	from := other(side)
	if o.Class == schema.ClassData {
		b.in[side] += o.N
	}
	if b.vague[from] {
		return nil
	}
	switch {
	case b.in[side] > b.out[from]:
		return fmt.Errorf("%w: %s received %d bytes, but the %s sent %d", errSelfCheck, side, b.in[side], from, b.out[from])
	case o.Class == schema.ClassEOF && !ownShut && b.in[side] != b.out[from]:
		return fmt.Errorf("%w: %s read end of stream after %d bytes, but the %s sent %d", errSelfCheck, side, b.in[side], from, b.out[from])
	}
	return nil
}

// ownShut reports whether side shut its own receive direction (the actor
// of a shutdown-rd or shutdown-rdwr scenario).
func (p *play) ownShut(side Side) bool {
	return side == Actor && p.sc.Action.spec().shutsRead
}

// counted wraps a side's recv so that the bytes it returns are counted and
// checked (byteCount.received); a failure makes the run an error. Calls
// freed by teardown are not checked: they return what teardown did.
func (p *play) counted(side Side, recv func(int) probes.Outcome) func(int) probes.Outcome {
	return func(n int) probes.Outcome {
		o := recv(n)
		if !p.tearing.Load() {
			p.fail(p.bytes.received(side, o, p.ownShut(side)))
		}
		return o
	}
}

// countedSend wraps a side's send so that what the stack accepted is
// counted.
func (p *play) countedSend(side Side, send func([]byte) probes.Outcome) func([]byte) probes.Outcome {
	return func(b []byte) probes.Outcome {
		o := send(b)
		if o.Class == schema.ClassOK {
			p.bytes.sent(side, o.N)
		}
		return o
	}
}
