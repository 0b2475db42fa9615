package harness

import (
	"errors"
	"fmt"
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
}

// Defaults.
const (
	DefaultRepeat = 3
	DefaultBound  = 150 * time.Millisecond
	// setupBound limits connect, accept and the wait for unread data to land:
	// their failure is a harness error, not an observation.
	setupBound = 2 * time.Second
	// teardownBound limits how long freeing the calls of a run may take.
	teardownBound = 2 * time.Second
	// recvMax is the buffer a recv step offers.
	recvMax = 64 << 10
)

// Stats measures where a scenario's time went.
type Stats struct {
	Wall       time.Duration // the whole scenario, all runs
	BoundWait  time.Duration // bounds that expired: calls recorded as blocked
	SignalWait time.Duration // waits on a signal (thread in syscall, unacked data, bytes pending) or a grace period in its place
	Threads    []int         // OS thread ids of the calls (Linux), for leak checks
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.Wall += o.Wall
	s.BoundWait += o.BoundWait
	s.SignalWait += o.SignalWait
	s.Threads = append(s.Threads, o.Threads...)
}

// observation is one step's result in one run.
type observation struct {
	outcome probes.Outcome
	note    string
}

// Run plays sc cfg.Repeat times and returns its record.
func Run(sc Scenario, cfg Config) (schema.Scenario, Stats) {
	if cfg.Repeat < 1 {
		cfg.Repeat = DefaultRepeat
	}
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultBound
	}
	var stats Stats
	start := time.Now()
	rec := schema.Scenario{ID: sc.ID, Title: sc.Title, Labels: sc.Labels(), Status: schema.StatusObserved, Steps: []schema.Step{}}
	var runs [][]observation
	var errs []error
	for i := 0; i < cfg.Repeat; i++ {
		obs, err := runOnce(sc, cfg, &stats)
		if errors.Is(err, probes.ErrFamilyUnavailable) {
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

// aggregate folds the runs into one record per step: the most frequent
// outcome (the first seen wins a tie), and every variant when they differ.
func aggregate(sc Scenario, runs [][]observation) []schema.Step {
	steps := make([]schema.Step, 0, len(sc.Steps))
	if len(runs) == 0 {
		return steps
	}
	for i, st := range sc.Steps {
		var order []probes.Outcome
		count := map[probes.Outcome]int{}
		note := ""
		for _, run := range runs {
			o := run[i].outcome
			if count[o] == 0 {
				order = append(order, o)
			}
			count[o]++
			if note == "" {
				note = run[i].note
			}
		}
		step := schema.Step{Name: st.Name(), Outcome: order[0], Variants: []schema.Variant{}, Note: note}
		for _, o := range order {
			if count[o] > count[step.Outcome] {
				step.Outcome = o
			}
		}
		if len(order) > 1 {
			for _, o := range order {
				step.Variants = append(step.Variants, schema.Variant{Outcome: o, Count: count[o]})
			}
		}
		steps = append(steps, step)
	}
	return steps
}

// run is one play of a scenario.
type run struct {
	sc    Scenario
	cfg   Config
	stats *Stats
	sock  map[Side]*probes.Socket
	calls []*call
}

func runOnce(sc Scenario, cfg Config, stats *Stats) (obs []observation, err error) {
	r := &run{sc: sc, cfg: cfg, stats: stats, sock: map[Side]*probes.Socket{}}
	defer func() {
		if terr := r.teardown(); terr != nil && err == nil {
			err = terr
		}
	}()
	if err := r.connect(); err != nil {
		return nil, err
	}
	if err := r.setup(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	posture, err := r.posture()
	if err != nil {
		return nil, fmt.Errorf("posture %s: %w", sc.Posture, err)
	}
	act := r.act()
	r.settle(Actor, Peer)
	for i, st := range sc.Steps {
		o := r.step(st, posture)
		if !probes.Observed(o.outcome) {
			return nil, fmt.Errorf("%s: the closed descriptor's number was taken again; not probed", st.Name())
		}
		if i == 0 && act.Class != schema.ClassOK {
			o.note = join(o.note, fmt.Sprintf("the %s itself returned %s", sc.Action, act))
		}
		obs = append(obs, o)
	}
	return obs, nil
}

// connect makes the connection: the actor dials, the peer is accepted, and the
// listener is closed at once so none outlives the setup.
func (r *run) connect() error {
	ln, err := probes.Listen(r.sc.Family)
	if err != nil {
		return err
	}
	defer ln.Close()
	var dialErr error
	var actor *probes.Socket
	dial := startCall(Actor, Send, "connect", func() probes.Outcome {
		actor, dialErr = probes.Dial(r.sc.Family, ln.Port())
		return probes.Outcome{Class: schema.ClassOK}
	})
	if _, ok := dial.await(setupBound); !ok {
		r.calls = append(r.calls, dial)
		return fmt.Errorf("connect to %s port %d did not complete in %v", r.sc.Family, ln.Port(), setupBound)
	}
	if dialErr != nil {
		return dialErr
	}
	r.sock[Actor] = actor
	var acceptErr error
	var peer *probes.Socket
	acc := startCall(Peer, Recv, "accept", func() probes.Outcome {
		peer, acceptErr = ln.Accept()
		return probes.Outcome{Class: schema.ClassOK}
	})
	if _, ok := acc.await(setupBound); !ok {
		r.calls = append(r.calls, acc)
		return fmt.Errorf("accept did not return in %v after connect completed", setupBound)
	}
	if acceptErr != nil {
		return acceptErr
	}
	r.sock[Peer] = peer
	return nil
}

func (r *run) setup() error {
	if r.sc.Has(Linger0) {
		if err := r.sock[Actor].SetLinger(true, 0); err != nil {
			return err
		}
	}
	for su, from := range map[Setup]Side{UnreadAtActor: Peer, UnreadAtPeer: Actor} {
		if !r.sc.Has(su) {
			continue
		}
		to := other(from)
		if o := r.sock[from].Send(make([]byte, UnreadBytes)); o.Class != schema.ClassOK || o.N != UnreadBytes {
			return fmt.Errorf("%s: %s sent %s", su, from, o)
		}
		if err := r.waitPending(to, UnreadBytes); err != nil {
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

// posture starts the blocked call the posture needs and waits until its
// thread is inside recv (a signal on Linux, PostureGrace elsewhere).
func (r *run) posture() (*call, error) {
	var side Side
	switch r.sc.Posture {
	case Idle:
		return nil, nil
	case PeerBlockedRecv:
		side = Peer
	case OwnBlockedRecv:
		side = Actor
	default:
		return nil, fmt.Errorf("unknown posture")
	}
	s := r.sock[side]
	c := r.start(side, Recv, string(side)+".blocked-recv", func() probes.Outcome { return s.Recv(recvMax) })
	start := time.Now()
	_, err := probes.WaitInSyscall(c.tid, setupBound)
	r.stats.SignalWait += time.Since(start)
	if c.finished() {
		return nil, fmt.Errorf("the recv returned %s before the action", *c.res)
	}
	return c, err
}

func (r *run) act() probes.Outcome {
	a := r.sock[Actor]
	switch r.sc.Action {
	case Close, Abort: // Abort's SO_LINGER {1, 0} was set in setup
		return a.Close()
	case ShutdownRD:
		return a.Shutdown(probes.ShutRD)
	case ShutdownWR:
		return a.Shutdown(probes.ShutWR)
	case ShutdownRDWR:
		return a.Shutdown(probes.ShutRDWR)
	}
	panic("unknown action " + r.sc.Action)
}

// settle lets each open socket's sent data be acknowledged (or reset) before
// the next observation.
func (r *run) settle(sides ...Side) {
	start := time.Now()
	for _, side := range sides {
		r.sock[side].Settle(r.cfg.Bound)
	}
	r.stats.SignalWait += time.Since(start)
}

// step makes one observation.
func (r *run) step(st Step, posture *call) observation {
	if st.Op == BlockedRecv {
		return r.await(posture, "")
	}
	// A call of the same kind still in flight on this side would race a new
	// one for the same bytes: the step observes that call instead.
	for _, c := range r.calls {
		if c.side == st.Side && c.op == st.Op && !c.finished() {
			return r.await(c, fmt.Sprintf("the %s of %s was still in flight; this is that call", st.Op, c.step))
		}
	}
	s := r.sock[st.Side]
	f := func() probes.Outcome { return s.Recv(recvMax) }
	if st.Op == Send {
		f = func() probes.Outcome { return s.Send(make([]byte, SendBytes)) }
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
	o, ok := c.await(r.cfg.Bound)
	if !ok {
		r.stats.BoundWait += r.cfg.Bound
	}
	return observation{outcome: o, note: note}
}

// teardown frees every call still in flight and closes both sockets.
// shutdown(SHUT_RDWR) wakes a blocked recv where close does not (Linux);
// the abortive close that follows sends RST, which wakes a call still blocked
// on the other end's already-closed socket, and leaves no TIME_WAIT behind.
func (r *run) teardown() error {
	for side, s := range r.sock {
		if s.Closed() {
			continue
		}
		for _, c := range r.calls {
			if c.side == side && !c.finished() {
				s.Shutdown(probes.ShutRDWR)
				break
			}
		}
		s.SetLinger(true, 0)
		s.Close()
	}
	return reap(r.calls, teardownBound)
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
