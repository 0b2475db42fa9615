package harness

// STAND-IN. This file is a minimal, sequential implementation of the
// concurrent runner's entry point (issue 12), written on branch h14-run only
// so that `closematrix run` works there. Its API is the one the lead fixed
// for lane h12; at merge the lead keeps h12's harness/pool.go and drops this
// one. Nothing here decides which scenarios may share the machine.

import "github.com/closematrix/closematrix/schema"

// RunOptions says how RunAll plays a set of scenarios.
type RunOptions struct {
	// Workers is how many scenarios run at once; <= 0 means DefaultWorkers().
	Workers int
	// Progress, when set, is called after each scenario finishes, from one
	// goroutine at a time: done of total finished, the scenario and its record.
	Progress func(done, total int, sc Scenario, rec schema.Scenario)
}

// DefaultWorkers is the pool size when none is given (flag/env override it).
// The stand-in plays one scenario at a time.
func DefaultWorkers() int { return 1 }

// RunAll plays every scenario (each Run(sc, cfg)), concurrently where the
// scenario's data says it may share the machine, serially otherwise, and
// returns the records in the order of scs and the summed Stats. The
// stand-in plays them all serially, whatever opt.Workers says.
func RunAll(scs []Scenario, cfg Config, opt RunOptions) ([]schema.Scenario, Stats) {
	recs := make([]schema.Scenario, len(scs))
	var total Stats
	for i, sc := range scs {
		rec, st := Run(sc, cfg)
		recs[i] = rec
		total.Add(st)
		if opt.Progress != nil {
			opt.Progress(i+1, len(scs), sc, rec)
		}
	}
	return recs, total
}
