package harness

import (
	"errors"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// play is one play of a scenario: its sockets, calls and what they saw,
// from the connection to the teardown. A scenario's record folds several
// (Run, aggregate).
type play struct {
	sc     Scenario
	cfg    Config
	net    network // network scenarios only
	action *call   // the action's own call, bounded like any other
	held   *call   // the posture's blocked call; nil when idle
	// counterBase is the quiet reading of the system's TCP counters just
	// before the action, for tcp.rsts-sent; counterSkip why there is none.
	counterBase *probes.Counters
	counterSkip string
	// captureSkip says why there is no wire capture (wire steps skipped).
	captureSkip string
	tookFor     time.Duration
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

// playOnce plays the scenario once. With only >= 0 it observes that step alone
// (an isolated step) and stops; otherwise every step but the isolated ones.
func playOnce(sc Scenario, cfg Config, stats *Stats, only int) (obs []observation, err error) {
	p := &play{sc: sc, cfg: cfg, stats: stats, sock: map[Side]Endpoint{}, stateSkip: map[Side]string{}, watches: map[Side]*watch{}}
	defer func() {
		if terr := p.teardown(); terr != nil && err == nil {
			err = terr
		}
	}()
	if sc.Action.spec().network {
		if p.cfg.Transport != Raw {
			return nil, fmt.Errorf("%w: network scenarios are played on raw sockets only", ErrNotInView)
		}
		if newNetwork == nil {
			return nil, fmt.Errorf("%w: network scenarios need Linux network namespaces", probes.ErrUnsupported)
		}
		if p.net, err = newNetwork(sc.Family); err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		p.cfg.Transport = p.net
	}
	if err := p.connect(); err != nil {
		return nil, err
	}
	if only < 0 { // events steps are read in the main run
		if err := p.register(); err != nil {
			return nil, err
		}
	}
	if err := p.setup(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if p.held, err = p.startPosture(); err != nil {
		return nil, fmt.Errorf("posture %s: %w", sc.Posture, err)
	}
	if err := p.startPending(); err != nil {
		return nil, fmt.Errorf("posture %s: %w", sc.Posture, err)
	}
	p.checkTableSees(Actor)
	if sc.hasOp(Wire) && only < 0 {
		switch p.capture, err = probes.StartCapture(p.sock[Actor].Conn()); {
		case skipError(err):
			// No capture here (not root, no AF_PACKET or BPF, Windows):
			// the wire steps are skipped with the reason, and the rest of
			// the scenario, the counter that stands in for the capture
			// included, is still observed.
			p.captureSkip = "wire capture: " + err.Error()
		case err != nil:
			return nil, fmt.Errorf("wire capture: %w", err)
		default:
			p.stats.CaptureAt = append(p.stats.CaptureAt, time.Now())
		}
	}
	if err := p.drainWatches(); err != nil {
		return nil, err
	}
	if sc.hasOp(RstsSent) && only < 0 {
		p.readCounterBase()
	}
	act := p.act()
	if err := p.failure(); err != nil {
		return nil, err
	}
	if err := p.refusal(Actor); err != nil {
		return nil, fmt.Errorf("the %s: %w", sc.Action, err) // the action itself is not in this view
	}
	if postureCall[sc.Posture].Side == Peer {
		// The peer's blocked call is part of the reaction: let it return
		// (or spend its bound) before anything looks at the peer, or a
		// poll and SO_ERROR would race it for the pending error.
		p.awaitCall(p.held)
	}
	if posturePending[sc.Posture] == Peer {
		p.awaitPending() // the same for the peer's pending recv
	}
	if err := p.checkPosture(p.held); err != nil {
		return nil, err
	}
	p.settle(Actor, Peer)
	obs = make([]observation, len(sc.Steps))
	noted := act.Class == schema.ClassOK
	for i, st := range sc.Steps {
		if only >= 0 && i != only || only < 0 && st.Isolated() {
			continue // observed in another run
		}
		o := p.step(st)
		if err := p.refusal(st.Side); skipError(err) {
			o = observation{skipped: err.Error()}
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name(), err)
		}
		if o.skipped == "" && !probes.Observed(o.outcome) {
			return nil, fmt.Errorf("%s: not probed (a closed descriptor that could not be used safely, or an actor that has no such call)", st.Name())
		}
		if !noted && o.skipped == "" && st.Op != ActionOp {
			o.note, noted = join(o.note, fmt.Sprintf("the %s itself returned %s", sc.Action, act)), true
		}
		if p.postureGrace != "" && o.skipped == "" {
			o.note = join(o.note, p.postureGrace)
		}
		obs[i] = o
		if err := p.failure(); err != nil {
			return nil, err
		}
	}
	if err := p.checkPosture(p.held); err != nil {
		return nil, err
	}
	return obs, nil
}

// act does the action (its row's do, actions.go) on its own bounded call (a
// linger close can block for seconds) and returns what it returned, or
// blocked.
func (p *play) act() probes.Outcome {
	do := p.sc.Action.spec().do
	start := time.Now()
	p.actStart = start
	p.action = p.start(Actor, ActionOp, "the "+string(p.sc.Action), func() probes.Outcome { return do(p) })
	o := p.awaitCall(p.action)
	p.tookFor = time.Since(start)
	return o
}

// readCounterBase reads the system's TCP counters until they stand still for
// a millisecond (probes.QuietCounters): a counter that moves by itself would
// put other traffic into the delta, so the step is then skipped with the
// reason rather than recorded.
func (p *play) readCounterBase() {
	start := time.Now()
	defer func() { p.stats.SignalWait += time.Since(start) }()
	base, err := probes.QuietCounters(time.Millisecond, 20)
	if err != nil {
		p.counterSkip = "TCP counters: " + err.Error()
		return
	}
	p.counterBase = &base
}

// refusal is the side's endpoint's last refused call (Refuser), if any.
func (p *play) refusal(side Side) error {
	if r, ok := p.sock[side].(Refuser); ok {
		return r.TakeRefusal()
	}
	return nil
}

// breakNetwork is the network actions' call: the link goes down, or every
// segment is dropped.
func (p *play) breakNetwork() probes.Outcome {
	return p.harnessOp(string(p.sc.Action), p.net.Break(p.sc.Action))
}

// processActor is the actor of a process scenario (Validate keeps process
// actions to scenarios whose actor is one).
func (p *play) processActor() processEnd { return p.sock[Actor].(processEnd) }

// settle lets each socket's sent data be acknowledged (or reset) before the
// next observation; for a closed one, its connection leaves the states that
// await an ACK.
func (p *play) settle(sides ...Side) {
	start := time.Now()
	for _, side := range sides {
		if s := p.sock[side]; s != nil {
			// Not the scenario's own bound: a slow scenario's seconds are
			// for its calls; what settles, settles in a round trip or two.
			// A round trip still under way on a loaded machine (blocked.go,
			// settling) gets more time, but not where the network or TCP's
			// timers are part of the scenario: there what is queued may
			// never be acknowledged.
			b := min(p.cfg.Bound, DefaultBound)
			for t, o := time.Now(), observerOf(s); !o.Settle(b) && time.Since(t) >= b && p.blockedBySignal() && settling(s) && time.Since(start) < setupBound; t = time.Now() {
			}
		}
	}
	p.stats.SignalWait += time.Since(start)
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
func (p *play) teardown() (err error) {
	p.tearing.Store(true)
	if p.capture != nil {
		p.capture.Close()
	}
	// Registrations and the pending recv go first, while the sockets they
	// watch are still open (a cancel on a closed handle fails on Windows).
	err = p.closeEventLoop()
	if p.net != nil {
		// Restore lets teardown's RSTs through; a network not removed is a
		// leak, so both failures make the run an error.
		err = errors.Join(err, p.net.Restore())
		defer func() {
			if cerr := p.net.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("removing the network: %w", cerr))
			}
		}()
	}
	for _, side := range []Side{Actor, Peer} { // in order: runs are alike
		s := p.sock[side]
		if s == nil || s.Closed() {
			continue
		}
		if pe, ok := s.(processEnd); ok {
			err = errors.Join(err, pe.kill()) // a helper left running is a leak
			continue
		}
		for _, c := range p.calls {
			if c.side == side && !c.finished() {
				s.Shutdown(probes.ShutRDWR)
				break
			}
		}
		if lerr := s.SetLinger(true, 0); lerr != nil && !errors.Is(lerr, errListener) && !errors.Is(lerr, ErrNotInView) {
			// Not fatal: the connection may linger in TIME_WAIT, which no
			// later scenario shares (fresh ports). Said, not swallowed.
			log.Printf("closematrix: %s: teardown: SO_LINGER {1, 0} on the %s: %v", p.sc.ID, side, lerr)
		}
		s.Close()
	}
	if la, ok := p.sock[Actor].(*listenerActor); ok && la.Closed() {
		for _, c := range p.calls {
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
	return errors.Join(err, reap(p.calls, teardownBound))
}

// harnessOp runs a step of the harness's own (a network change, ending a
// helper process): ok, or a failure that makes the run an error.
func (p *play) harnessOp(what string, err error) probes.Outcome {
	if err != nil {
		p.failMu.Lock()
		p.failed = errors.Join(p.failed, fmt.Errorf("%s: %w", what, err))
		p.failMu.Unlock()
	}
	return probes.Outcome{Class: schema.ClassOK}
}

// fail makes the run an error with err, when there is one.
func (p *play) fail(err error) {
	if err == nil {
		return
	}
	p.failMu.Lock()
	p.failed = errors.Join(p.failed, err)
	p.failMu.Unlock()
}

func (p *play) failure() error {
	p.failMu.Lock()
	defer p.failMu.Unlock()
	return p.failed
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
