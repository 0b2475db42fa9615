package harness_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/schema"
)

// Suite flags. Most also read an environment variable (named beside them),
// so that `go test ./...`, the ginkgo CLI and CI can all set them.
var (
	outPath = flag.String("closematrix.out", os.Getenv("CLOSEMATRIX_OUT"),
		"write the result file (schema 2) here after the suite; empty: write none")
	repeat = flag.Int("closematrix.repeat", envInt("CLOSEMATRIX_REPEAT", harness.DefaultRepeat),
		"runs per scenario")
	slowRepeat = flag.Int("closematrix.slow-repeat", 1,
		"runs per slow scenario (label slow: linger, network), which wait out TCP's timers")
	bound = flag.Duration("closematrix.bound", harness.DefaultBound,
		"how long a blocking call may take before it is recorded as blocked")
	label = flag.String("closematrix.label", os.Getenv("CLOSEMATRIX_LABEL"),
		"platform label (column name); default GOOS-GOARCH[-emulator]")
	runner = flag.String("closematrix.runner", os.Getenv("CLOSEMATRIX_RUNNER"),
		"CI runner image, recorded as platform.runner")
	commit = flag.String("closematrix.commit", firstNonEmpty(os.Getenv("CLOSEMATRIX_COMMIT"), os.Getenv("GITHUB_SHA")),
		"source revision, recorded as tool.commit")
	view = flag.String("closematrix.view", firstNonEmpty(os.Getenv("CLOSEMATRIX_VIEW"), "raw"),
		"raw: the OS's answers through x/sys sockets; gonet: what a Go program gets from package net "+
			"(the label gets a -gonet suffix)")
)

// recordEntry names the report entry that carries a scenario's record from
// the process that ran it (under ginkgo -p, any of several) to the one
// ReportAfterSuite runs on.
const recordEntry = "closematrix.record"

// TestMain lets this binary also be the helper process that holds the
// actor's socket in process scenarios (harness/process.go).
//
// Under ginkgo -p every process runs this binary; the plain tests beside the
// suite count system-wide things (listening sockets, network namespaces,
// tcpdump's view of lo) and would see the other processes' scenarios, so
// there only the suite runs. `go test` and a serial ginkgo run them all.
func TestMain(m *testing.M) {
	if harness.IsHelper() {
		harness.HelperMain()
	}
	flag.Parse()
	if f := flag.Lookup("ginkgo.parallel.total"); f != nil && f.Value.String() != "1" {
		flag.Set("test.run", "^TestHarness$")
	}
	os.Exit(m.Run())
}

func TestHarness(t *testing.T) {
	if _, err := harness.TransportByName(*view); err != nil {
		t.Fatalf("-closematrix.view: %v", err)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "closematrix harness")
}

func config() harness.Config {
	t, err := harness.TransportByName(*view)
	Expect(err).NotTo(HaveOccurred(), "-closematrix.view")
	return harness.Config{Repeat: *repeat, Bound: *bound, Transport: t, SlowRepeat: *slowRepeat}
}

// platformLabel is the column name: the flag's, or GOOS-GOARCH[-emulator],
// with the view's name appended for a view other than raw.
func platformLabel() schema.Platform {
	p := harness.Platform(*label, *runner)
	if t, err := harness.TransportByName(*view); err == nil && t.Name() != "" && *label == "" {
		p.Label += "-" + t.Name()
	}
	return p
}

// The result file is written once, by the one process ReportAfterSuite runs
// on, from the records every spec attached to its report.
var _ = ReportAfterSuite("result file", func(r Report) {
	if *outPath == "" {
		return
	}
	byID := map[string]schema.Scenario{}
	for _, sr := range r.SpecReports {
		for _, e := range sr.ReportEntries {
			if e.Name != recordEntry {
				continue
			}
			var rec schema.Scenario
			Expect(json.Unmarshal([]byte(e.Value.String()), &rec)).To(Succeed())
			byID[rec.ID] = rec
		}
	}
	var recs []schema.Scenario
	for _, sc := range harness.Catalogue() {
		if rec, ok := byID[sc.ID]; ok {
			recs = append(recs, rec)
		}
	}
	Expect(recs).NotTo(BeEmpty(), "no scenario ran: nothing to write to %s", *outPath)
	f := harness.NewFile(platformLabel(), *commit, r.StartTime, r.RunTime, recs)
	Expect(harness.WriteFile(*outPath, f)).To(Succeed())
	fmt.Fprintf(GinkgoWriter, "closematrix: wrote %d scenarios to %s\n", len(recs), *outPath)
})

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
