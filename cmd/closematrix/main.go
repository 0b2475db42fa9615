// Command closematrix plays the closematrix catalogue on this machine and
// writes its result file; merges result files into a comparison matrix,
// evaluates the claims against it, and checks a run for drift against a
// baseline. Install it with
//
//	go install github.com/closematrix/closematrix/cmd/closematrix@latest
//
// or take a release binary: it needs nothing but itself.
//
//	closematrix run [-label-filter EXPR] [-repeat N] [-view raw|gonet] [-label L] [-o FILE] ...
//	closematrix render [--format md|html|csv|json|text|summary] [-o FILE] [--max-bytes N] FILE|DIR...
//	closematrix claims FILE|DIR...
//	closematrix diff [--github] [--update] BASELINE CURRENT
//
// Exit status: 0 success (and, for diff, no drift, or --update); 1 diff found
// drift, or run's harness failed (a scenario with status error, or the
// result file could not be written); 2 usage error or bad input (the message
// names the file or flag).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/internal/atomicfile"
	"github.com/closematrix/closematrix/matrix"
)

// Exit statuses.
const (
	exitOK      = 0
	exitDrift   = 1 // diff: something changed
	exitHarness = 1 // run: the harness failed, not the platform
	exitFailure = 2
)

const usage = `usage:
  closematrix run [flags]
      play the catalogue on this machine and write the result file
      (default ./<label>.json); exit 1 only when the harness failed.
      -label-filter EXPR  scenarios whose labels match (Ginkgo syntax: 'abort && !v6')
      -list               print the scenarios the filter picks and their labels
      -repeat N (3)  -slow-repeat N (1)  -bound D (100ms)  -workers N
      -view raw|gonet  -label L  -runner IMAGE  -commit SHA  -o FILE
  closematrix render [--format md|html|csv|json|text|summary] [-o FILE] [--max-bytes N] FILE|DIR...
      merge result files (a directory means its *.json) into one matrix.
      text is every row for a terminal; summary what to read first (make matrix
      prints it), under 150 lines of 100 columns: the counts, the rows where
      platforms or views disagree, the claims' verdicts
  closematrix claims FILE|DIR...
      print every claim's verdict per platform with the cells behind it
  closematrix diff [--github] [--update] BASELINE CURRENT
      print what changed from a baseline result file to a current one of the
      same platform; exit 1 when something changed, 0 when nothing did.
      --github also prints each change as a ::warning annotation;
      --update then copies CURRENT over BASELINE and exits 0
  closematrix agent check -- CMD ARGS...  |  closematrix agent check python|asyncio|node|java|rust
      check that an agent speaks the agent protocol (docs/agent-protocol.md)
  closematrix version
  closematrix help
Exit status 2 means a usage error or bad input.
`

func main() {
	// Process scenarios run this very binary again as the helper that holds
	// the actor's socket (harness/process.go): before anything else.
	if harness.IsHelper() {
		harness.HelperMain()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command, with its streams passed in so tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitFailure
	}
	var err error
	code := exitOK
	switch args[0] {
	case "run":
		code, err = runCatalogue(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "closematrix %s %s\n", harness.Version, harness.Commit)
		return exitOK
	case "render":
		err = render(args[1:], stdout)
	case "claims":
		err = claims(args[1:], stdout)
	case "diff":
		code, err = diff(args[1:], stdout)
	case "agent":
		code, err = agentCommand(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK
	case err != nil:
		// One line per error (run reports every bad flag at once).
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "closematrix: %s\n", line)
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(stderr, usage)
		}
		if code == exitOK {
			code = exitFailure // bad input, unless the command said otherwise (run's I/O errors: 1)
		}
	}
	return code
}

// usageError is a mistake on the command line: the usage text follows it.
type usageError struct{ msg string }

// Error is the message alone; run adds the usage text.
func (e usageError) Error() string { return e.msg }

// newFlags makes a FlagSet that reports errors instead of exiting and
// prints nothing itself: run prints one line and the usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags that may come before, between or after the file
// arguments (`render results/*.json --format html` is natural to type), up
// to a "--", after which everything is a file.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(files, rest...), nil
		}
		if len(rest) == 0 {
			return files, nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}

func render(args []string, stdout io.Writer) error {
	fs := newFlags("render")
	format := fs.String("format", "md", "output format: md, html, csv, json, text or summary")
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	maxBytes := fs.Int("max-bytes", 0, "cap Markdown output at `N` bytes, cutting rows with a note (GitHub job summaries take 1 MiB)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	f, err := matrix.ParseFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	if *maxBytes < 0 || (*maxBytes > 0 && f != matrix.FormatMarkdown) {
		return usageError{"--max-bytes takes a positive size and applies to --format md only"}
	}
	if len(files) == 0 {
		return usageError{"render: no result files given"}
	}
	m, err := load(files)
	if err != nil {
		return err
	}
	return writeOut(*out, stdout, func(w io.Writer) error {
		return matrix.Render(w, m, f, matrix.Options{MaxBytes: *maxBytes})
	})
}

func claims(args []string, stdout io.Writer) error {
	files, err := parse(newFlags("claims"), args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"claims: no result files given"}
	}
	m, err := load(files)
	if err != nil {
		return err
	}
	return matrix.WriteClaims(stdout, m)
}

func diff(args []string, stdout io.Writer) (int, error) {
	fs := newFlags("diff")
	github := fs.Bool("github", false, "also print each change as a GitHub Actions ::warning annotation")
	update := fs.Bool("update", false, "accept the drift: copy CURRENT over BASELINE")
	files, err := parse(fs, args)
	if err != nil {
		return exitFailure, err
	}
	if len(files) != 2 {
		return exitFailure, usageError{"diff: want BASELINE CURRENT"}
	}
	base, err := matrix.Load(files[0])
	if err != nil {
		return exitFailure, err
	}
	cur, err := matrix.Load(files[1])
	if err != nil {
		return exitFailure, err
	}
	if base.Platform.Label != cur.Platform.Label {
		return exitFailure, fmt.Errorf("%s: platform %s, but baseline %s is %s: drift compares one platform with itself",
			files[1], cur.Platform.Label, files[0], base.Platform.Label)
	}
	if bv, cv := matrix.ViewOf(&base.Platform), matrix.ViewOf(&cur.Platform); bv != cv {
		return exitFailure, fmt.Errorf("%s: view %s, but baseline %s is view %s: drift compares one view with itself",
			files[1], cv, files[0], bv)
	}
	changes := matrix.Diff(base, cur)
	if err := matrix.WriteDiff(stdout, cur.Platform.Label, changes); err != nil {
		return exitFailure, err
	}
	if *github {
		if err := matrix.WriteDiffGitHub(stdout, cur.Platform.Label, changes); err != nil {
			return exitFailure, err
		}
	}
	if *update {
		// The current file was just validated; copy its bytes, not a
		// re-encoding, so that the baseline is exactly what the run wrote.
		data, err := os.ReadFile(files[1])
		if err != nil {
			return exitFailure, err
		}
		return exitOK, writeOut(files[0], nil, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
	}
	if len(changes) > 0 {
		return exitDrift, nil
	}
	return exitOK, nil
}

func load(paths []string) (*matrix.Matrix, error) {
	files, err := matrix.LoadAll(paths)
	if err != nil {
		return nil, err
	}
	return matrix.Merge(files)
}

// writeOut writes to stdout, or to path through a temporary file renamed
// into place, so that a failed render never leaves half a page behind.
func writeOut(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	return atomicfile.Write(path, write)
}
