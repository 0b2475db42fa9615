package harness_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/schema"
)

// opts are the suite's flags, -closematrix.NAME (harness.Options: the same
// names, defaults and environment variables as `closematrix run`'s flags).
var opts harness.Options

func init() { opts.Register(flag.CommandLine, "closematrix.") }

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
	if err := opts.Check(); err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, suiteName)
}

func config() harness.Config { return opts.Config() }

// The result file is written once, by the one process ReportAfterSuite runs
// on, from the records every spec attached to its report.
var _ = ReportAfterSuite("result file", func(r Report) {
	if opts.Out == "" {
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
	Expect(recs).NotTo(BeEmpty(), "no scenario ran: nothing to write to %s", opts.Out)
	Expect(opts.Write(r.StartTime, r.RunTime, recs)).To(Succeed())
	fmt.Fprintf(GinkgoWriter, "closematrix: wrote %d scenarios to %s\n", len(recs), opts.Out)
})
