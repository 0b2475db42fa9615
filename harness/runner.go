package harness

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// Config says how scenarios are played.
type Config struct {
	// Repeat is how many times each scenario runs; outcomes that vary are
	// recorded with every variant and its count.
	Repeat int
	// Bound is how long a blocking call may take before it is recorded as
	// blocked. Loopback reactions (FIN, RST, data) arrive within microseconds;
	// the bound only has to cover a descheduled thread.
	Bound time.Duration
	// Transport makes the connections; nil means Raw.
	Transport Transport
	// SlowRepeat is how many times a Slow scenario runs (default 1): such
	// a scenario spends seconds a run waiting out TCP's own timers.
	SlowRepeat int
}

// Defaults.
const (
	DefaultRepeat = 3
	DefaultBound  = 100 * time.Millisecond
	// setupBound limits connect, accept and the wait for unread data to land:
	// their failure is a harness error, not an observation.
	setupBound = 2 * time.Second
	// helperStartBound limits a helper process's start-up, until it has said
	// which connection it made. The first start of a freshly built test
	// binary on a cold Windows runner waits for Defender's on-access scan of
	// the executable, which takes seconds for a binary of this size (tens of
	// MiB), more while the image is still busy after boot. 30 s covers that
	// with room to spare, yet still ends a helper that hangs well inside a
	// job's time limit; later starts of the same binary take milliseconds.
	helperStartBound = 30 * time.Second
	// teardownBound limits how long freeing the calls of a run may take.
	teardownBound = 2 * time.Second
	// recvMax is the buffer a recv step offers.
	recvMax = 64 << 10
)

// Stats measures where a scenario's time went.
type Stats struct {
	Wall       time.Duration  // the whole scenario, all runs
	BoundWait  time.Duration  // bounds that expired: calls recorded as blocked
	SignalWait time.Duration  // waits on a signal (thread in syscall, unacked data, bytes pending, a call concluded blocked) or a grace period in its place
	TimerWait  time.Duration  // calls of slow scenarios that returned: TCP's own timers (linger, user timeout, retransmission)
	Threads    []int          // OS thread ids of the calls, for leak checks
	Conns      []probes.Conn4 // the actor's 4-tuple in each run, for outside witnesses
	WireAt     []time.Time    // when each run's wire step read its capture, for outside witnesses
	CaptureAt  []time.Time    // when each run's capture started, for outside witnesses
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.Wall += o.Wall
	s.BoundWait += o.BoundWait
	s.SignalWait += o.SignalWait
	s.TimerWait += o.TimerWait
	s.Threads = append(s.Threads, o.Threads...)
	s.Conns = append(s.Conns, o.Conns...)
	s.WireAt = append(s.WireAt, o.WireAt...)
	s.CaptureAt = append(s.CaptureAt, o.CaptureAt...)
}

// observation is one step's result in one run.
type observation struct {
	outcome probes.Outcome
	note    string
	skipped string // why the step could not be observed here; outcome is then empty
	// events and completion are the outcome typed, for events and
	// pending-recv steps (eventloop.go).
	events     *schema.Events
	completion *schema.Completion
	// segments, on a wire step, is every segment the side sent, pure ACKs
	// included, numbered in the capture's order of both directions.
	segments []schema.Segment
}

// skipError says a scenario cannot be played here at all (no ::1, no
// capture privilege, not on this OS): it is recorded as skipped, not failed.
func skipError(err error) bool {
	return errors.Is(err, probes.ErrFamilyUnavailable) || errors.Is(err, probes.ErrCaptureNeedsRoot) ||
		errors.Is(err, probes.ErrUnsupported) || errors.Is(err, ErrNeedsRoot) || errors.Is(err, ErrNotInView) ||
		errors.Is(err, probes.ErrAsyncUnavailable)
}

// ErrNotInView says a scenario cannot be played through the chosen view
// (Go's net has no listener shutdown, no non-blocking send).
var ErrNotInView = errors.New("not in this view")

// ErrNeedsRoot says a scenario needs privileges this process lacks (network
// namespaces, nftables).
var ErrNeedsRoot = errors.New("needs root")

// network is two hosts joined by a link that network scenarios break: a
// Transport whose Listen and Dial are on the two hosts' link addresses.
type network interface {
	Transport
	// Break does a network action: LinkDown or Drop.
	Break(a Action) error
	// Restore undoes it (the step net.up).
	Restore() error
	// Close removes the hosts and everything in them.
	Close() error
}

// newNetwork builds the network of a network scenario; it is set where the
// system can (network_linux.go) and nil elsewhere.
var newNetwork func(f probes.Family) (network, error)

// RunsOf is how many times sc runs: Repeat, or SlowRepeat (default 1) for a
// Slow scenario.
func (c Config) RunsOf(sc Scenario) int {
	if c.Repeat < 1 {
		c.Repeat = DefaultRepeat
	}
	if sc.Slow() {
		return min(c.Repeat, max(c.SlowRepeat, 1))
	}
	return c.Repeat
}

// Run plays sc cfg.Repeat times (RunsOf) and returns its record.
func Run(sc Scenario, cfg Config) (schema.Scenario, Stats) {
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultBound
	}
	if cfg.Transport == nil {
		cfg.Transport = Raw
	}
	cfg.Repeat = cfg.RunsOf(sc)
	if sc.Bound > 0 {
		cfg.Bound = sc.Bound
	}
	var stats Stats
	start := time.Now()
	rec := schema.Scenario{ID: sc.ID, Title: sc.Title, Labels: sc.Labels(), Status: schema.StatusObserved, Steps: []schema.Step{}}
	var runs [][]observation
	var errs []error
	for i := 0; i < cfg.Repeat; i++ {
		obs, err := playRepeat(sc, cfg, &stats)
		if skipError(err) {
			rec.Status, rec.Reason = schema.StatusSkipped, err.Error()
			stats.Wall = time.Since(start)
			return rec, stats
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("run %d of %d: %w", i+1, cfg.Repeat, err))
			continue
		}
		runs = append(runs, obs)
	}
	rec.Runs = len(runs)
	rec.Steps = aggregate(sc, runs)
	if len(errs) > 0 {
		rec.Status, rec.Reason = schema.StatusError, errors.Join(errs...).Error()
	}
	stats.Wall = time.Since(start)
	return rec, stats
}

// playRepeat plays one repeat: a main run for every step but the isolated
// ones, and a run of its own for each isolated step.
func playRepeat(sc Scenario, cfg Config, stats *Stats) ([]observation, error) {
	obs, err := runOnce(sc, cfg, stats, -1)
	if err != nil {
		return nil, err
	}
	for i, st := range sc.Steps {
		if !st.Isolated() {
			continue
		}
		iso, err := runOnce(sc, cfg, stats, i)
		if err != nil {
			return nil, fmt.Errorf("the run for %s: %w", st.Name(), err)
		}
		obs[i] = iso[i]
	}
	return obs, nil
}

// aggregate folds the runs into one record per step: the most frequent
// outcome (the first seen wins a tie), and every variant when they differ.
func aggregate(sc Scenario, runs [][]observation) []schema.Step {
	steps := make([]schema.Step, 0, len(sc.Steps))
	if len(runs) == 0 {
		return steps
	}
	// key is an outcome with its typed detail (eventloop.go): an IOCP
	// completion's WSA code is not in the outcome.
	type key struct {
		o      probes.Outcome
		detail string
	}
	text := func(k key, first map[key]observation) string { return k.o.String() + first[k].completion.Text() }
	for i, st := range sc.Steps {
		var order []key
		count := map[key]int{}
		first := map[key]observation{}
		note, skipped := "", ""
		for _, run := range runs {
			if run[i].skipped != "" {
				skipped = run[i].skipped
				continue
			}
			k := key{run[i].outcome, run[i].detailKey()}
			if count[k] == 0 {
				order = append(order, k)
				first[k] = run[i]
			}
			count[k]++
			if note == "" {
				note = run[i].note
			}
		}
		kind := schema.KindOf(st.Name())
		if skipped != "" && len(order) == 0 {
			steps = append(steps, schema.Step{Name: st.Name(), Kind: kind, Variants: []schema.Variant{}, Skipped: skipped})
			continue
		}
		if skipped != "" {
			// Observed in some runs, not in others: record what was seen,
			// and say so rather than let the skip vanish.
			note = join(note, "not observable in every run: "+skipped)
		}
		best := order[0]
		for _, k := range order {
			// The most frequent; a tie goes to the first in a fixed order
			// (the cell's text), not to whichever run came first.
			if count[k] > count[best] || count[k] == count[best] && text(k, first) < text(best, first) {
				best = k
			}
		}
		step := schema.Step{Name: st.Name(), Kind: kind, Outcome: best.o, Variants: []schema.Variant{}, Note: note,
			Events: first[best].events, Completion: first[best].completion}
		for _, run := range runs { // a wire step's segments: the first run that saw the outcome recorded
			if run[i].skipped == "" && run[i].outcome == step.Outcome && len(run[i].segments) > 0 {
				step.Segments = run[i].segments
				break
			}
		}
		if len(order) > 1 {
			for _, k := range order {
				step.Variants = append(step.Variants, schema.Variant{Outcome: k.o, Count: count[k],
					Events: first[k].events, Completion: first[k].completion})
			}
		}
		steps = append(steps, step)
	}
	return steps
}

// run is one play of a scenario.
type run struct {
	sc      Scenario
	cfg     Config
	net     network // network scenarios only
	action  *call   // the action's own call, bounded like any other
	tookFor time.Duration
	// failMu and failed hold a failure of the harness's own doing (a
	// network change or a helper process that did not obey): the run is
	// then an error, never an observation.
	failMu  sync.Mutex
	failed  error
	stats   *Stats
	sock    map[Side]Endpoint
	calls   []*call
	capture *probes.Capture
	// watches are the readiness registrations of the sides with events
	// steps; pending is a pending posture's asynchronous recv (eventloop.go).
	watches map[Side]*watch
	pending *pending

	// actStart is when the action began: a posture call that returned
	// before it did not hold (checkPosture).
	actStart time.Time
	// postureLate is set when the posture's call began on a socket the
	// action had already closed.
	postureLate atomic.Bool
	// postureGrace is the note for steps whose posture rested on
	// PostureGrace instead of a signal; "" when a signal said it held.
	postureGrace string
	// stateSkip says why a side's state steps cannot be observed (the
	// system's table did not show its live connection).
	stateSkip map[Side]string
	// bytes counts what each side's calls moved, for the self-check.
	bytes byteCount
	// tearing is set once teardown begins: the calls it frees return what
	// teardown did, which no self-check looks at.
	tearing atomic.Bool
}

// runOnce plays the scenario once. With only >= 0 it observes that step alone
// (an isolated step) and stops; otherwise every step but the isolated ones.
func runOnce(sc Scenario, cfg Config, stats *Stats, only int) (obs []observation, err error) {
	r := &run{sc: sc, cfg: cfg, stats: stats, sock: map[Side]Endpoint{}, stateSkip: map[Side]string{}, watches: map[Side]*watch{}}
	defer func() {
		if terr := r.teardown(); terr != nil && err == nil {
			err = terr
		}
	}()
	if sc.Action.onNetwork() {
		if r.cfg.Transport != Raw {
			return nil, fmt.Errorf("%w: network scenarios are played on raw sockets only", ErrNotInView)
		}
		if newNetwork == nil {
			return nil, fmt.Errorf("%w: network scenarios need Linux network namespaces", probes.ErrUnsupported)
		}
		if r.net, err = newNetwork(sc.Family); err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		r.cfg.Transport = r.net
	}
	if err := r.connect(); err != nil {
		return nil, err
	}
	if only < 0 { // events steps are read in the main run
		if err := r.register(); err != nil {
			return nil, err
		}
	}
	if err := r.setup(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	posture, err := r.posture()
	if err != nil {
		return nil, fmt.Errorf("posture %s: %w", sc.Posture, err)
	}
	if err := r.startPending(); err != nil {
		return nil, fmt.Errorf("posture %s: %w", sc.Posture, err)
	}
	r.checkTableSees(Actor)
	if r.wired() && only < 0 {
		if r.capture, err = probes.StartCapture(r.sock[Actor].Conn()); err != nil {
			return nil, fmt.Errorf("wire capture: %w", err)
		}
		r.stats.CaptureAt = append(r.stats.CaptureAt, time.Now())
	}
	if err := r.drainWatches(); err != nil {
		return nil, err
	}
	act := r.act()
	if err := r.failure(); err != nil {
		return nil, err
	}
	if postureCall[sc.Posture].Side == Peer {
		// The peer's blocked call is part of the reaction: let it return
		// (or spend its bound) before anything looks at the peer, or a
		// poll and SO_ERROR would race it for the pending error.
		r.awaitCall(posture)
	}
	if posturePending[sc.Posture] == Peer {
		r.awaitPending() // the same for the peer's pending recv
	}
	if err := r.checkPosture(posture); err != nil {
		return nil, err
	}
	r.settle(Actor, Peer)
	obs = make([]observation, len(sc.Steps))
	noted := act.Class == schema.ClassOK
	for i, st := range sc.Steps {
		if only >= 0 && i != only || only < 0 && st.Isolated() {
			continue // observed in another run
		}
		o := r.step(st, posture)
		if o.skipped == "" && !probes.Observed(o.outcome) {
			return nil, fmt.Errorf("%s: not probed (a closed descriptor that could not be used safely, or an actor that has no such call)", st.Name())
		}
		if !noted && o.skipped == "" && st.Op != ActionOp {
			o.note, noted = join(o.note, fmt.Sprintf("the %s itself returned %s", sc.Action, act)), true
		}
		if r.postureGrace != "" && o.skipped == "" {
			o.note = join(o.note, r.postureGrace)
		}
		obs[i] = o
		if err := r.failure(); err != nil {
			return nil, err
		}
	}
	if err := r.checkPosture(posture); err != nil {
		return nil, err
	}
	return obs, nil
}

// connectListener sets up a listener scenario: the actor is a listener, the
// peer a client whose connection waits in its backlog, never accepted.
func (r *run) connectListener() error {
	ln, err := probes.Listen(r.sc.Family)
	if err != nil {
		return err
	}
	r.sock[Actor] = &listenerActor{ln: ln, family: r.sc.Family}
	if r.sc.Posture == OwnBlockedAccept {
		return nil
	}
	peer, err := setupOpen(r, Peer, "connect to the listener", setupBound, func() (*probes.Socket, error) {
		return probes.Dial(r.sc.Family, ln.Port())
	})
	if err != nil {
		return err
	}
	r.sock[Peer] = peer
	r.stats.Conns = append(r.stats.Conns, peer.Conn())
	return nil
}

// connect makes the connection: the actor dials, the peer is accepted, and the
// listener is closed at once so none outlives the setup.
func (r *run) connect() error {
	if r.sc.Action.onListener() {
		if r.cfg.Transport != Raw {
			return fmt.Errorf("%w: listener scenarios are played on raw sockets only", ErrNotInView)
		}
		return r.connectListener()
	}
	ln, err := r.cfg.Transport.Listen(r.sc.Family)
	if err != nil {
		return err
	}
	defer ln.Close()
	bound := setupBound
	if r.sc.Action.inProcess() {
		bound = helperStartBound // a process to start first (helperStartBound)
	}
	actor, err := setupOpen(r, Actor, fmt.Sprintf("connect to %s port %d", r.sc.Family, ln.Port()), bound, func() (Endpoint, error) {
		if r.sc.Action.inProcess() {
			return startActor(r.sc.Family, ln.Port())
		}
		return r.cfg.Transport.Dial(r.sc.Family, ln.Port())
	})
	if err != nil {
		return err
	}
	r.sock[Actor] = actor
	r.stats.Conns = append(r.stats.Conns, actor.Conn())
	peer, err := setupOpen(r, Peer, "accept after connect completed", setupBound, ln.Accept)
	if err != nil {
		return err
	}
	r.sock[Peer] = peer
	return nil
}

// setupOpen makes one end of the connection (dial, accept, a helper
// process's socket) on a call thread of its own within bound, like every
// other call (guardedOpen). Its failure, or a call that outlives the bound,
// is a harness error; an end made after the bound gave up is closed (a
// helper killed), not leaked.
func setupOpen[T interface{ Close() probes.Outcome }](r *run, side Side, what string, bound time.Duration, open func() (T, error)) (T, error) {
	end, err, gerr := guardedOpen(r, side, Send, what, bound, open, func(end T) error { end.Close(); return nil })
	if gerr != nil {
		return end, gerr
	}
	return end, err
}

func (r *run) setup() error {
	if r.sc.Has(Linger0) {
		if err := r.sock[Actor].SetLinger(true, 0); err != nil {
			return err
		}
	}
	if r.sc.Has(Linger2) {
		if err := r.sock[Actor].SetLinger(true, 2); err != nil {
			return err
		}
	}
	if r.sc.Has(UnsentAtActor) {
		f, ok := r.sock[Actor].(interface{ FillSendBuffer() (int, error) })
		if !ok {
			return fmt.Errorf("%w: %s needs a non-blocking send", ErrNotInView, UnsentAtActor)
		}
		n, err := f.FillSendBuffer()
		if err != nil || n == 0 {
			return fmt.Errorf("%s: queued %d bytes: %v", UnsentAtActor, n, err)
		}
		r.bytes.sent(Actor, n)
	}
	if r.sc.Has(UserTimeout) {
		for _, side := range []Side{Actor, Peer} {
			ut, ok := r.sock[side].(interface{ SetUserTimeout(time.Duration) error })
			if !ok {
				return fmt.Errorf("%w: %s has no TCP_USER_TIMEOUT here", probes.ErrUnsupported, side)
			}
			if err := ut.SetUserTimeout(UserTimeoutValue); err != nil {
				return err
			}
		}
	}
	if r.sc.Has(PeerClosedFirst) {
		if o := r.sock[Peer].Close(); o.Class != schema.ClassOK {
			return fmt.Errorf("%s: the peer's close returned %s", PeerClosedFirst, o)
		}
		if err := r.waitReadable(Actor); err != nil {
			return fmt.Errorf("%s: %w", PeerClosedFirst, err)
		}
	}
	for _, u := range []struct {
		su   Setup
		from Side
	}{{UnreadAtActor, Peer}, {UnreadAtPeer, Actor}} {
		su, from := u.su, u.from
		if !r.sc.Has(su) {
			continue
		}
		to := other(from)
		if o := r.sock[from].Send(make([]byte, UnreadBytes)); o.Class != schema.ClassOK || o.N != UnreadBytes {
			return fmt.Errorf("%s: %s sent %s", su, from, o)
		}
		r.bytes.sent(from, UnreadBytes)
		wait := func() error { return r.waitPending(to, UnreadBytes) }
		if a, ok := r.sock[to].(*remoteActor); ok {
			wait = func() error { return a.waitPending(UnreadBytes) }
		}
		if err := wait(); err != nil {
			return fmt.Errorf("%s: %w", su, err)
		}
	}
	return nil
}

// waitPending polls FIONREAD until side has n bytes waiting: the signal that
// unread data has landed, instead of a sleep.
func (r *run) waitPending(side Side, n int) error {
	start := time.Now()
	defer func() { r.stats.SignalWait += time.Since(start) }()
	for {
		got, err := r.sock[side].Pending()
		if err != nil {
			return err
		}
		if got == n {
			return nil
		}
		if time.Since(start) > setupBound {
			return fmt.Errorf("%s has %d bytes pending after %v, want %d", side, got, setupBound, n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// waitReadable polls (zero timeout) until side reports the other end's FIN:
// readable on Unix (poll(2): end of file reads as POLLIN), POLLHUP from
// WSAPoll, which reports a graceful disconnect that way (WSAPOLLFD, revents).
func (r *run) waitReadable(side Side) error {
	start := time.Now()
	defer func() { r.stats.SignalWait += time.Since(start) }()
	for {
		ev, err := r.sock[side].Poll()
		if err != nil {
			// No poll in this view (Go's net): the state says it instead.
			st, serr := r.sock[side].State()
			if serr != nil {
				return errors.Join(err, serr)
			}
			if st == probes.StateCloseWait {
				return nil
			}
		} else if strings.Contains(ev, probes.PollIn) || strings.Contains(ev, probes.PollHup) {
			return nil
		}
		if time.Since(start) > setupBound {
			return fmt.Errorf("%s not readable after %v (poll: %s)", side, setupBound, ev)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (r *run) wired() bool {
	for _, st := range r.sc.Steps {
		if st.Op == Wire {
			return true
		}
	}
	return false
}

// fill is what the blocked send of PeerBlockedSend offers; it is only read.
var fill = make([]byte, FillBytes)

// posture starts the blocked call the posture needs and waits until its
// thread is asleep inside the call (a signal on Linux, PostureGrace
// elsewhere).
func (r *run) posture() (*call, error) {
	pc, ok := postureCall[r.sc.Posture]
	if !ok {
		return nil, nil // idle
	}
	s := r.sock[pc.Side]
	var f func() probes.Outcome
	var op Op
	switch pc.Op {
	case BlockedRecv:
		recv := r.counted(pc.Side, Recv, s.Recv)
		f, op = func() probes.Outcome { return recv(recvMax) }, Recv
	case BlockedSend:
		// How much of it the other end reads is not known until it
		// returns, and a send that fails midway says nothing of the bytes
		// it moved: that direction is not counted.
		r.bytes.unknown(pc.Side)
		f, op = func() probes.Outcome {
			o := s.Send(fill)
			if o.Class == schema.ClassOK && o.N < len(fill) {
				// A partial count varies with the buffers' sizes: it says
				// "returned after moving some bytes", recorded as ok 0.
				o.N = 0
			}
			return o
		}, Send
	case BlockedAccept:
		f, op = s.(*listenerActor).accept, Recv
	}
	inner := f
	f = func() probes.Outcome {
		if s.Closed() {
			r.postureLate.Store(true) // the action overtook the call
		}
		return inner()
	}
	c := r.start(pc.Side, op, pc.Name(), f)
	start := time.Now()
	var err error
	if w, ok := s.(interface {
		WaitInCall(time.Duration) (bool, error)
	}); ok {
		// A view with calls of its own (Go's netpoller parks a Read
		// instead of blocking in recvfrom) says when its call is waiting.
		var signal bool
		signal, err = w.WaitInCall(setupBound)
		if !signal && err == nil {
			r.postureGrace = fmt.Sprintf("posture held by a %v grace period: Go's net shows no blocked call", probes.PostureGrace)
		}
	} else {
		var signal bool
		signal, err = probes.WaitInSyscall(c.tid, setupBound)
		if !signal && err == nil {
			r.postureGrace = fmt.Sprintf("posture held by a %v grace period, not a signal: %v", probes.PostureGrace, probes.ThreadSignal())
		}
	}
	r.stats.SignalWait += time.Since(start)
	if c.finished() {
		return nil, fmt.Errorf("the %s returned %s before the action", pc.Op, *c.res)
	}
	return c, err
}

// act does the action on its own bounded call (a linger close can block for
// seconds) and returns what it returned, or blocked.
func (r *run) act() probes.Outcome {
	a := r.sock[Actor]
	var f func() probes.Outcome
	switch r.sc.Action {
	case Close, Abort: // Abort's SO_LINGER {1, 0} was set in setup
		f = a.Close
	case CancelThenClose:
		f = r.cancelThenClose
	case ShutdownRD:
		f = func() probes.Outcome { return a.Shutdown(probes.ShutRD) }
	case ShutdownWR:
		f = func() probes.Outcome { return a.Shutdown(probes.ShutWR) }
	case ShutdownRDWR, ListenerShutdown:
		f = func() probes.Outcome { return a.Shutdown(probes.ShutRDWR) }
	case ListenerClose:
		f = a.Close
	case LinkDown, Drop:
		f = func() probes.Outcome { return r.harnessOp(string(r.sc.Action), r.net.Break(r.sc.Action)) }
	case Kill:
		f = func() probes.Outcome { return r.harnessOp("kill", a.(*remoteActor).kill()) }
	case Exit:
		f = func() probes.Outcome { return r.harnessOp("exit", a.(*remoteActor).exit()) }
	default:
		panic("unknown action " + r.sc.Action)
	}
	start := time.Now()
	r.actStart = start
	r.action = r.start(Actor, ActionOp, "the "+string(r.sc.Action), f)
	o := r.awaitCall(r.action)
	r.tookFor = time.Since(start)
	return o
}

// settle lets each socket's sent data be acknowledged (or reset) before the
// next observation; for a closed one, its connection leaves the states that
// await an ACK.
func (r *run) settle(sides ...Side) {
	start := time.Now()
	for _, side := range sides {
		if s := r.sock[side]; s != nil {
			// Not the scenario's own bound: a slow scenario's seconds are
			// for its calls; what settles, settles in a round trip or two.
			// A round trip still under way on a loaded machine (blocked.go,
			// settling) gets more time, but not where the network or TCP's
			// timers are part of the scenario: there what is queued may
			// never be acknowledged.
			b := min(r.cfg.Bound, DefaultBound)
			for t := time.Now(); !s.Settle(b) && time.Since(t) >= b && r.blockedBySignal() && settling(s) && time.Since(start) < setupBound; t = time.Now() {
			}
		}
	}
	r.stats.SignalWait += time.Since(start)
}

// step makes one observation.
func (r *run) step(st Step, posture *call) observation {
	s := r.sock[st.Side]
	switch st.Op {
	case BlockedRecv:
		return r.await(posture, "")
	case State:
		if why := r.stateSkip[st.Side]; why != "" {
			return observation{skipped: why}
		}
		o := stateObservation(s.State())
		if o.skipped == "" {
			r.fail(r.checkStates(st, s))
		}
		return o
	case Poll:
		ev, err := s.Poll()
		if err != nil {
			return observation{skipped: "poll: " + err.Error()}
		}
		pend := s.SoError()
		if !probes.Observed(pend) {
			return observation{skipped: "SO_ERROR could not be read"}
		}
		o := observation{outcome: probes.Outcome{Class: schema.Class(ev), Errno: pend.Errno, Code: pend.Code}}
		// The run stops after this step (Isolated), so the recv that
		// checks the readiness changes nothing another step sees.
		r.fail(r.checkReadable(st.Side, st.Name(), pollReadable(ev)))
		return o
	case Wire:
		all, err := r.capture.Packets()
		r.stats.WireAt = append(r.stats.WireAt, time.Now())
		if err != nil {
			return observation{skipped: "wire capture: " + err.Error()}
		}
		// The capture follows the actor's 4-tuple: what the actor sent is
		// FromLocal, what the peer sent comes back to it.
		var segs []probes.Segment
		var recs []schema.Segment
		for seq, p := range all {
			if p.FromLocal == (st.Side == Actor) {
				segs = append(segs, p.Segment)
				recs = append(recs, schema.Segment{Seq: seq, Flags: p.Flags(), Len: p.Data})
			}
		}
		return observation{outcome: probes.Outcome{Class: schema.Class(probes.WireClass(segs))}, segments: recs}
	case Up:
		return observation{outcome: r.harnessOp("net.up", r.net.Restore())}
	case Events:
		return r.eventsStep(st.Side)
	case PendingRecv:
		return r.pendingStep()
	case ActionOp:
		o := r.awaitCall(r.action) // the action's result, or blocked
		if o.Class != schema.ClassBlocked && r.tookFor > 10*time.Millisecond {
			return observation{outcome: o, note: fmt.Sprintf("the %s took %.1f s", r.sc.Action, r.tookFor.Seconds())}
		}
		return observation{outcome: o}
	case BlockedSend, BlockedAccept:
		return r.await(posture, "")
	case Drain:
		var total int
		recv := r.counted(st.Side, Recv, s.Recv)
		o := r.await(r.start(st.Side, Recv, st.Name(), func() probes.Outcome {
			for {
				o := recv(recvMax)
				if o.Class != schema.ClassData {
					return o
				}
				total += o.N
			}
		}), "")
		if o.outcome.Class != schema.ClassBlocked {
			o.note = fmt.Sprintf("read %d bytes first", total)
		}
		r.settle(Actor, Peer) // draining lets the actor's data and FIN be acknowledged
		return o
	case CloseOp:
		o := r.await(r.start(st.Side, CloseOp, st.Name(), s.Close), "") // a lingering close may block
		r.settle(st.Side)
		return o
	}
	// A call of the same kind still in flight on this side would race a new
	// one for the same bytes: the step observes that call instead.
	for _, c := range r.calls {
		if c.side == st.Side && c.op == st.Op && !c.finished() {
			return r.await(c, fmt.Sprintf("the %s of %s was still in flight; this is that call", st.Op, c.step))
		}
	}
	recv := r.counted(st.Side, Recv, s.Recv)
	f := func() probes.Outcome { return recv(recvMax) }
	if st.Op == Send {
		send := r.countedSend(st.Side, s.Send)
		f = func() probes.Outcome { return send(make([]byte, SendBytes)) }
	}
	o := r.await(r.start(st.Side, st.Op, st.Name(), f), "")
	if st.Op == Send && o.outcome.Class == schema.ClassOK {
		r.settle(st.Side)
	}
	return o
}

func (r *run) start(side Side, op Op, step string, f func() probes.Outcome) *call {
	c := startCall(side, op, step, f)
	r.calls = append(r.calls, c)
	if c.tid != 0 {
		r.stats.Threads = append(r.stats.Threads, c.tid)
	}
	return c
}

func (r *run) await(c *call, note string) observation {
	return observation{outcome: r.awaitCall(c), note: note}
}

// awaitCall waits for c within the run's bound, or until signals say it is
// blocked (blocked.go), and counts the wait: a spent bound, a signal, or
// TCP's timers (a slow scenario's call that returned).
func (r *run) awaitCall(c *call) probes.Outcome {
	start := time.Now()
	var o probes.Outcome
	var ok, bySignal bool
	if r.blockedBySignal() {
		o, ok, bySignal = r.awaitQuiet(c, r.cfg.Bound)
	} else {
		o, ok = c.await(r.cfg.Bound)
	}
	if _, parks := r.sock[c.side].(interface {
		WaitInCall(time.Duration) (bool, error)
	}); !ok && !bySignal && !parks {
		o, ok = r.awaitScheduled(c) // a view whose calls park in Go (gonet) has no such signal
	}
	switch {
	case bySignal:
		r.stats.SignalWait += time.Since(start)
	case !ok:
		r.stats.BoundWait += time.Since(start)
	case r.sc.Slow():
		r.stats.TimerWait += time.Since(start)
	}
	return o
}

// stateObservation turns a TCP state into an observation; a system that
// offers no view of the state makes the step skipped, not a behaviour.
func stateObservation(state string, err error) observation {
	if err != nil {
		return observation{skipped: "TCP state: " + err.Error()}
	}
	return observation{outcome: probes.Outcome{Class: schema.Class(state)}}
}

// teardown frees every call still in flight and closes both sockets.
// shutdown(SHUT_RDWR) wakes a blocked recv where close does not (Linux);
// the abortive close that follows sends RST, which wakes a call still blocked
// on the other end's already-closed socket, and leaves no TIME_WAIT behind.
func (r *run) teardown() (err error) {
	r.tearing.Store(true)
	if r.capture != nil {
		r.capture.Close()
	}
	// Registrations and the pending recv go first, while the sockets they
	// watch are still open (a cancel on a closed handle fails on Windows).
	err = r.closeEventLoop()
	if r.net != nil {
		// Restore lets teardown's RSTs through; a network not removed is a
		// leak, so both failures make the run an error.
		err = errors.Join(err, r.net.Restore())
		defer func() {
			if cerr := r.net.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("removing the network: %w", cerr))
			}
		}()
	}
	for _, side := range []Side{Actor, Peer} { // in order: runs are alike
		s := r.sock[side]
		if s == nil || s.Closed() {
			continue
		}
		if ra, ok := s.(*remoteActor); ok {
			err = errors.Join(err, ra.kill()) // a helper left running is a leak
			continue
		}
		for _, c := range r.calls {
			if c.side == side && !c.finished() {
				s.Shutdown(probes.ShutRDWR)
				break
			}
		}
		if lerr := s.SetLinger(true, 0); lerr != nil && !errors.Is(lerr, errListener) {
			// Not fatal: the connection may linger in TIME_WAIT, which no
			// later scenario shares (fresh ports). Said, not swallowed.
			log.Printf("closematrix: %s: teardown: SO_LINGER {1, 0} on the %s: %v", r.sc.ID, side, lerr)
		}
		s.Close()
	}
	if la, ok := r.sock[Actor].(*listenerActor); ok && la.Closed() {
		for _, c := range r.calls {
			// Where close wakes accept (Windows, darwin) the call returns
			// now; only one still blocked after a bound needs a connection,
			// and only where the closed listener still listens (Linux,
			// while accept holds it). Dialling a closed port costs ~2 s on
			// Windows, where a refused loopback connect is retried.
			if c.op == Recv && c.side == Actor && !c.finished() {
				c.waited = 0 // a bound of its own, not what the step left
				if _, ok := c.await(DefaultBound); !ok {
					la.wake() // an accept the listener's close did not wake
				}
				break
			}
		}
	}
	return errors.Join(err, reap(r.calls, teardownBound))
}

// harnessOp runs a step of the harness's own (a network change, ending a
// helper process): ok, or a failure that makes the run an error.
func (r *run) harnessOp(what string, err error) probes.Outcome {
	if err != nil {
		r.failMu.Lock()
		r.failed = errors.Join(r.failed, fmt.Errorf("%s: %w", what, err))
		r.failMu.Unlock()
	}
	return probes.Outcome{Class: schema.ClassOK}
}

// fail makes the run an error with err, when there is one.
func (r *run) fail(err error) {
	if err == nil {
		return
	}
	r.failMu.Lock()
	r.failed = errors.Join(r.failed, err)
	r.failMu.Unlock()
}

func (r *run) failure() error {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	return r.failed
}

func other(s Side) Side {
	if s == Actor {
		return Peer
	}
	return Actor
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
