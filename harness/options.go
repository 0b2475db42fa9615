package harness

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// Options are the settings of a run that both front ends take: the Ginkgo
// suite as -closematrix.NAME flags (harness_suite_test.go) and `closematrix
// run` as -NAME flags (cmd/closematrix). Their names, defaults, environment
// variables, checks, the platform label and the writing of the result file
// live here once, so the two front ends cannot drift apart.
type Options struct {
	Out        string        // result file; "" writes none
	Repeat     int           // runs per scenario
	SlowRepeat int           // runs per slow scenario (Scenario.Slow)
	Bound      time.Duration // how long a call may block before it is recorded blocked
	Label      string        // the column name; "" means GOOS-GOARCH[-emulator][-view]
	Runner     string        // CI runner image, recorded as platform.runner
	Commit     string        // source revision, recorded as tool.commit
	View       string        // raw or gonet (TransportByName)
	Workers    int           // scenarios played at once (RunOptions.Workers); 0: DefaultWorkers()

	prefix string // the flags' prefix, for error messages
}

// Register defines o's flags on fs, each name behind prefix ("closematrix."
// for the suite, "" for the command), with the defaults and the environment
// variables beside them (CLOSEMATRIX_OUT, _REPEAT, _LABEL, _RUNNER,
// _COMMIT, _VIEW), so that `go test`, the ginkgo CLI, CI and the command can
// all set them. The environment is read now: call Register before parsing.
func (o *Options) Register(fs *flag.FlagSet, prefix string) {
	o.prefix = prefix
	fs.StringVar(&o.Out, prefix+"out", os.Getenv("CLOSEMATRIX_OUT"),
		"write the result file (schema 2) to `FILE`")
	fs.IntVar(&o.Repeat, prefix+"repeat", envInt("CLOSEMATRIX_REPEAT", DefaultRepeat),
		"runs per scenario; a step whose outcome varies is recorded with every variant")
	fs.IntVar(&o.SlowRepeat, prefix+"slow-repeat", 1,
		"runs per slow scenario (label slow: linger, network), which wait out TCP's timers")
	fs.IntVar(&o.Workers, prefix+"workers", 0,
		"scenarios played at once; 0: the harness's default (DefaultWorkers)")
	fs.DurationVar(&o.Bound, prefix+"bound", DefaultBound,
		"how long a blocking call may take before it is recorded as blocked")
	fs.StringVar(&o.Label, prefix+"label", os.Getenv("CLOSEMATRIX_LABEL"),
		"platform label (column name); default GOOS-GOARCH[-emulator], with -gonet for that view")
	fs.StringVar(&o.Runner, prefix+"runner", os.Getenv("CLOSEMATRIX_RUNNER"),
		"CI runner image, recorded as platform.runner")
	fs.StringVar(&o.Commit, prefix+"commit", firstNonEmpty(os.Getenv("CLOSEMATRIX_COMMIT"), Commit),
		"source revision, recorded as tool.commit (default: the one built in)")
	fs.StringVar(&o.View, prefix+"view", firstNonEmpty(os.Getenv("CLOSEMATRIX_VIEW"), "raw"),
		"raw: the OS's answers through x/sys sockets; gonet: what a Go program gets from package net "+
			"(recorded as platform.view; the default label gets a -gonet suffix)")
}

// Check says what is wrong with o, naming the flag: a count below 1, a bound
// that is not positive, an unknown view, a label that cannot be a file name.
func (o Options) Check() error {
	var errs []error
	bad := func(name string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s%s: %s", o.prefix, name, fmt.Sprintf(format, args...)))
	}
	if o.Repeat < 1 {
		bad("repeat", "%d: want 1 or more", o.Repeat)
	}
	if o.SlowRepeat < 1 {
		bad("slow-repeat", "%d: want 1 or more", o.SlowRepeat)
	}
	if o.Workers < 0 {
		bad("workers", "%d: want 0 (the default) or more", o.Workers)
	}
	if o.Bound <= 0 {
		bad("bound", "%v: want a positive duration", o.Bound)
	}
	if _, err := TransportByName(o.View); err != nil {
		bad("view", "%v", err)
	}
	if o.Label != "" && !labelOK(o.Label) {
		bad("label", "%q: want letters, digits, '.', '_' or '-' (it names files and columns)", o.Label)
	}
	return errors.Join(errs...)
}

// labelOK reports whether a label is safe as a file name and a column name
// everywhere the result file goes (scripts/ci-suite.sh checks the same).
func labelOK(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return s != ""
}

// RunOptions is how RunAll plays scenarios under o; progress may be nil.
func (o Options) RunOptions(progress func(done, total int, sc Scenario, rec schema.Scenario)) RunOptions {
	return RunOptions{Workers: o.Workers, Progress: progress}
}

// Config is how the runner plays scenarios under o. o must have passed Check.
func (o Options) Config() Config {
	t, err := TransportByName(o.View)
	if err != nil {
		t = Raw // Check reports it; a caller that skipped Check gets the default view
	}
	return Config{Repeat: o.Repeat, Bound: o.Bound, Transport: t, SlowRepeat: o.SlowRepeat}
}

// Platform describes this machine under o's label — the flag's, or
// GOOS-GOARCH[-emulator] with the view's name appended for a view other
// than raw — and records the view and its runtime as fields, whatever the
// label says: the matrix files a column by platform.view, never by its
// label (issue 17).
func (o Options) Platform() schema.Platform {
	p := Platform(o.Label, o.Runner)
	t, err := TransportByName(o.View)
	if err != nil {
		t = Raw // as Config: Check reports it
	}
	if t.Name() != "" {
		p.View, p.Runtime = t.Name(), viewRuntime(t)
		if o.Label == "" {
			p.Label += "-" + t.Name()
		}
	}
	return p
}

// viewRuntime is what platform.runtime says for a view: what the Transport
// reports (RuntimeNamer), "" for raw sockets.
func viewRuntime(t Transport) string {
	if r, ok := t.(RuntimeNamer); ok {
		return r.Runtime()
	}
	return ""
}

// Write writes the result file of a run that started at started and took d
// to o.Out, records in catalogue order.
func (o Options) Write(started time.Time, d time.Duration, recs []schema.Scenario) error {
	if o.Out == "" {
		return errors.New("no result file named")
	}
	return WriteFile(o.Out, NewFile(o.Platform(), o.Commit, started, d, recs))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
