package harness

import (
	"errors"
	"io"
	"log"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// RunOptions says how RunAll plays a set of scenarios.
type RunOptions struct {
	// Workers is how many scenarios run at once; <= 0 means DefaultWorkers().
	Workers int
	// Progress, when set, is called after each scenario finishes, from one
	// goroutine at a time: done of total finished, the scenario and its record.
	Progress func(done, total int, sc Scenario, rec schema.Scenario)
}

// WorkersEnv names the environment variable that sets the pool size when no
// flag does (the suite's -closematrix.workers, closematrix run's --workers).
const WorkersEnv = "CLOSEMATRIX_WORKERS"

// defaultWorkers is the pool size chosen by measurement: the suite binary
// over the whole catalogue, 3 runs per scenario, as root, on the project's
// 2-core machine while other work kept its load average at 3 (2026-11-29):
//
//	workers    1     2    4    6    8    12   16   24
//	wall s   15.7   8.6  4.0  2.9  2.3  2.3  2.3  2.3   (median of 3)
//
// A scenario spends most of its wall time asleep (TCP's timers, calls that
// block, a helper process starting), not on a core, so the pool can be
// several times the core count. From 8 on the wall time is the longest
// scenario's (close/linger2-unsent-at-actor waits out its 2 s linger), which
// no pool shortens; more workers only raise the load. Under a load of 29
// (other programs; an earlier build of this runner) the figures
// were noisier and higher (8: 5.6-7.1 s, 12: 4.1-5.4, 16: 3.1-3.5, 24:
// 4.1-4.9): 8 is the smallest pool that reaches the floor on a quiet
// machine, which is what the repeat checks ran with.
const defaultWorkers = 8

// DefaultWorkers is the pool size when none is given: $CLOSEMATRIX_WORKERS
// when it holds a positive number; otherwise the measured default where the
// system shows a thread asleep in its call (probes.InSyscall: Linux), and 1
// where it does not (darwin and Windows for now). There a posture waits a
// grace period for its thread to enter the call, and every call that stays
// blocked waits its whole bound, so a neighbour that keeps a thread off the
// CPU past them would change what is observed; under Wine the pool also ran
// slower than one at a time (298 s against 190 s for the suite, load 20).
func DefaultWorkers() int {
	if n, err := strconv.Atoi(os.Getenv(WorkersEnv)); err == nil && n > 0 {
		return n
	}
	if _, err := probes.InSyscall(probes.ThreadID()); errors.Is(err, probes.ErrUnsupported) {
		return 1
	}
	return defaultWorkers
}

// RunAll plays every scenario (each Run(sc, cfg)), concurrently where the
// scenario's data says it may share the machine, serially otherwise, and
// returns the records in the order of scs and the summed Stats.
//
// The scenarios that need the process to themselves (Scenario.Alone) run
// first, one at a time, before the pool starts. The pool then takes the
// rest, slow ones (TCP's timers, seconds a run) first, longest first, so
// that the rest of the catalogue overlaps them instead of waiting behind
// them. What a scenario observes does not depend on its neighbours (see
// Alone for why each may share the machine); `make check-parallel` compares
// a concurrent run with a serial one.
func RunAll(scs []Scenario, cfg Config, opt RunOptions) ([]schema.Scenario, Stats) {
	workers := opt.Workers
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	recs := make([]schema.Scenario, len(scs))
	stats := make([]Stats, len(scs))
	var mu sync.Mutex // Progress, one call at a time
	done := 0
	play := func(i int) {
		recs[i], stats[i] = Run(scs[i], cfg)
		mu.Lock()
		defer mu.Unlock()
		done++
		if opt.Progress != nil {
			opt.Progress(done, len(scs), scs[i], recs[i])
		}
	}

	var shared []int
	for i, sc := range scs {
		if sc.Alone() {
			play(i)
		} else {
			shared = append(shared, i)
		}
	}
	cost := func(i int) time.Duration { return scs[i].Bound * time.Duration(cfg.RunsOf(scs[i])) }
	sort.SliceStable(shared, func(a, b int) bool { return cost(shared[a]) > cost(shared[b]) })
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(shared)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				play(i)
			}
		}()
	}
	for _, i := range shared {
		work <- i
	}
	close(work)
	wg.Wait()

	if c, ok := cfg.Transport.(io.Closer); ok {
		// The end of a run: a runtime view's agent process ends now, not
		// after its idle timer.
		if err := c.Close(); err != nil {
			log.Printf("closematrix: closing the %s view: %v", cfg.Transport.Name(), err)
		}
	}
	var total Stats
	for _, st := range stats {
		total.Add(st)
	}
	return recs, total
}
