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
	// counters, on a counter step, is the delta typed.
	counters *schema.Counters
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
	obs, err := playOnce(sc, cfg, stats, -1)
	if err != nil {
		return nil, err
	}
	for i, st := range sc.Steps {
		if !st.Isolated() {
			continue
		}
		iso, err := playOnce(sc, cfg, stats, i)
		if err != nil {
			return nil, fmt.Errorf("the run for %s: %w", st.Name(), err)
		}
		obs[i] = iso[i]
	}
	return obs, nil
}
