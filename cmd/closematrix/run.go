package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/schema"
)

// runCatalogue is `closematrix run`: it plays the catalogue on this machine
// with the harness's runner (harness.RunAll, each scenario harness.Run, as
// the Ginkgo suite plays it) and writes the result file. Its flags are the
// suite's -closematrix.* flags without the prefix (harness.Options, the pool
// size included), plus the label filter that Ginkgo's -label-filter is in the
// suite.
//
// It returns exitHarness when the harness failed — a scenario recorded with
// status error, or the result file could not be written — and exitOK
// otherwise, whatever the platform answered: what it answered is the data.
func runCatalogue(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("run")
	var o harness.Options
	o.Register(fs, "")
	fs.StringVar(&o.Out, "o", o.Out, "short for -out")
	filter := fs.String("label-filter", os.Getenv("CLOSEMATRIX_LABEL_FILTER"),
		"play the scenarios whose labels match this Ginkgo label-filter `EXPR` (e.g. '!slow && v4')")
	list := fs.Bool("list", false, "print the scenarios the filter picks, with their labels, and run nothing")
	rest, err := parse(fs, args)
	if err != nil {
		return exitFailure, err
	}
	switch {
	case len(rest) > 0 && o.View == "exec":
		// closematrix run -view exec -- CMD ARGS…: the agent to run. The
		// exec view reads it from $CLOSEMATRIX_AGENT, split at spaces, so an
		// argument may not hold one.
		for _, a := range rest {
			if strings.ContainsAny(a, " \t") {
				return exitFailure, usageError{fmt.Sprintf("-view exec: agent argument %q has a space; wrap the agent in a script", a)}
			}
		}
		os.Setenv(harness.AgentEnv, strings.Join(rest, " "))
	case len(rest) > 0:
		return exitFailure, usageError{fmt.Sprintf("run takes no arguments, got %q (flags start with -; an agent command goes after -view exec --)", rest)}
	case o.View == "exec" && os.Getenv(harness.AgentEnv) == "":
		return exitFailure, usageError{"-view exec needs the agent's command: closematrix run -view exec -- CMD ARGS…"}
	}
	var errs []error
	if err := o.Check(); err != nil {
		errs = append(errs, err)
	}
	scs, err := selectScenarios(*filter)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return exitFailure, err
	}
	if *list {
		for _, sc := range scs {
			fmt.Fprintf(stdout, "%-48s %s\n", sc.ID, strings.Join(sc.Labels(), " "))
		}
		return exitOK, nil
	}
	platform := o.Platform()
	if o.Out == "" {
		o.Out = platform.Label + ".json"
	}
	// Say now, not after the run, that the result file has nowhere to go.
	if dir := filepath.Dir(o.Out); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return exitFailure, fmt.Errorf("-out %s: directory %s does not exist", o.Out, dir)
		}
	}

	fmt.Fprintf(stderr, "closematrix %s: %d of %d scenarios on %s (%s), view %s, repeat %d\n",
		harness.Version, len(scs), len(harness.Catalogue()), platform.Label, platform.OSVersion, o.View, o.Repeat)
	p := newProgress(stderr, isTerminal(stderr), len(scs))
	started := time.Now()
	recs, _ := runAll(scs, o.Config(), o.RunOptions(p.done))
	elapsed := time.Since(started)
	p.stop()

	count := map[string]int{}
	for _, r := range recs {
		count[r.Status]++
	}
	fmt.Fprintf(stdout, "closematrix: %d scenarios in %s: %d observed, %d skipped, %d harness errors\n",
		len(recs), elapsed.Round(100*time.Millisecond), count[schema.StatusObserved], count[schema.StatusSkipped], count[schema.StatusError])
	code := exitOK
	if err := o.Write(started, elapsed, recs); err != nil {
		return exitHarness, err
	}
	fmt.Fprintf(stdout, "closematrix: wrote %s\n", o.Out)
	if n := count[schema.StatusError]; n > 0 {
		fmt.Fprintf(stderr, "closematrix: the harness failed in %d of %d scenarios (status error, listed above and in the result file)\n", n, len(recs))
		code = exitHarness
	}
	return code, nil
}

// runAll is harness.RunAll; tests put a stand-in here to see what run does
// with records it could not otherwise provoke (a harness error).
var runAll = harness.RunAll

// selectScenarios is the catalogue, or the part whose labels (the same
// Scenario.Labels the suite gives Ginkgo) match a Ginkgo label filter.
func selectScenarios(expr string) ([]harness.Scenario, error) {
	match, err := types.ParseLabelFilter(expr)
	if err != nil {
		// Ginkgo's message is coloured and spread over lines for its CLI;
		// its last line says what is wrong.
		msg := err.Error()
		var ge types.GinkgoError
		if errors.As(err, &ge) {
			lines := strings.Split(ge.Message, "\n")
			msg = lines[len(lines)-1]
		}
		return nil, fmt.Errorf("-label-filter %q: %s", expr, msg)
	}
	all := harness.Catalogue()
	var scs []harness.Scenario
	for _, sc := range all {
		if match(sc.Labels()) {
			scs = append(scs, sc)
		}
	}
	if len(scs) == 0 {
		return nil, fmt.Errorf("-label-filter %q matches none of the %d scenarios (closematrix run -list shows their labels)", expr, len(all))
	}
	return scs, nil
}

// isTerminal reports whether w is a terminal (a character device that is
// not /dev/null): the progress line redraws itself there, and a log gets
// plain lines. os.File.Stat says ModeCharDevice for a console on Windows
// too (GetFileType FILE_TYPE_CHAR).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// progress reports a run as it goes. On a terminal it is one line, redrawn
// every second and after each scenario: scenarios done of total, elapsed
// time, the group (action) of the scenario that finished last. Scenarios the
// harness failed on get a line of their own above it. In a log (not a
// terminal) every scenario gets one plain line.
type progress struct {
	w       io.Writer
	tty     bool
	total   int
	start   time.Time
	mu      sync.Mutex
	n       int
	group   string
	width   int // of the line on screen, to blank it out
	quit    chan struct{}
	stopped sync.WaitGroup
}

func newProgress(w io.Writer, tty bool, total int) *progress {
	p := &progress{w: w, tty: tty, total: total, start: time.Now(), quit: make(chan struct{})}
	if tty {
		p.stopped.Add(1)
		go func() {
			defer p.stopped.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				case <-p.quit:
					return
				}
			}
		}()
	}
	return p
}

// done is harness.RunOptions.Progress.
func (p *progress) done(n, total int, sc harness.Scenario, rec schema.Scenario) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.group = n, string(sc.Action)
	if !p.tty {
		line := fmt.Sprintf("[%*d/%d] %7s %-8s %s", len(fmt.Sprint(total)), n, total, clock(time.Since(p.start)), rec.Status, rec.ID)
		if rec.Reason != "" {
			line += ": " + firstLine(rec.Reason)
		}
		fmt.Fprintln(p.w, line)
		return
	}
	if rec.Status == schema.StatusError {
		p.clear()
		fmt.Fprintf(p.w, "error %s: %s\n", rec.ID, rec.Reason)
	}
	p.draw()
}

// draw writes the progress line over the one on screen. It uses a carriage
// return and blanks, no escape sequences, and ASCII only, so any console
// shows it, whatever its code page.
func (p *progress) draw() {
	line := fmt.Sprintf("closematrix run: %d/%d scenarios, %s", p.n, p.total, clock(time.Since(p.start)))
	if p.group != "" {
		line += ", " + p.group
	}
	pad := max(p.width-len([]rune(line)), 0)
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", pad))
	p.width = len([]rune(line))
}

// clear blanks the progress line and returns to its start.
func (p *progress) clear() {
	if p.width > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
		p.width = 0
	}
}

// stop ends the redrawing and removes the line.
func (p *progress) stop() {
	close(p.quit)
	p.stopped.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.clear()
	}
}

// clock is a duration as m:ss.
func clock(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
