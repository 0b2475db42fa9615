package harness_test

import (
	"encoding/json"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/closematrix/closematrix/harness"
	"github.com/closematrix/closematrix/schema"
)

// universal are the few behaviours every TCP stack shares, so the suite may
// assert them; everything else is recorded, not asserted, and checked by the
// drift comparison. Keys are IDs without the family, then step names.
var universal = map[string]map[string]schema.Class{
	// RFC 793 §3.5: after the remote FIN and all data, RECEIVE reports
	// "connection closing": recv returns 0.
	"close/idle":       {"peer.recv": schema.ClassEOF},
	"shutdown-wr/idle": {"peer.recv": schema.ClassEOF},
	// An orderly close delivers data already sent before the FIN.
	"close/unread-at-peer": {"peer.recv": schema.ClassData},
}

var _ = Describe("the core catalogue", func() {
	var entries []TableEntry
	for _, sc := range harness.Catalogue() {
		args := []any{Label(sc.Labels()...), sc}
		if sc.Alone() {
			// Under ginkgo -p, a scenario that needs the machine to itself
			// (use after close; the system-wide TCP counters) runs after
			// every parallel spec, on one process, with no other running.
			args = append([]any{Serial}, args...)
		}
		entries = append(entries, Entry(sc.ID, args...))
	}

	DescribeTable("scenario", func(sc harness.Scenario) {
		rec, ok := prerun[sc.ID]
		if !ok {
			rec, _ = harness.Run(sc, config())
		}
		b, err := json.Marshal(rec)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry(recordEntry, string(b), ReportEntryVisibilityNever)

		switch rec.Status {
		case schema.StatusSkipped:
			Skip(rec.Reason)
		case schema.StatusError:
			Fail("harness error: " + rec.Reason)
		}
		By("observing every step, in order, in every run, or saying why not")
		Expect(rec.Runs).To(Equal(config().RunsOf(sc)))
		Expect(rec.Steps).To(HaveLen(len(sc.Steps)))
		for i, st := range rec.Steps {
			Expect(st.Name).To(Equal(sc.Steps[i].Name()))
			if st.Skipped != "" {
				Expect(st.Outcome).To(BeZero(), "%s: a skipped step records no behaviour", st.Name)
				continue
			}
			Expect(st.Outcome.Class).NotTo(BeEmpty())
			total := 0
			for _, v := range st.Variants {
				total += v.Count
			}
			Expect(total).To(Or(BeZero(), Equal(rec.Runs)), "%s: variant counts", st.Name)
		}
		By("seeing the universal behaviours")
		for name, class := range universal[sc.ID[len(sc.Family)+1:]] {
			Expect(stepClass(rec, name)).To(Equal(class), "%s %s", sc.ID, name)
		}
	}, entries)
})

// suiteName and specText are how Ginkgo names a scenario's spec for -focus
// and -skip: the suite's description, the containers' texts, the entry's.
const suiteName = "closematrix harness"

func specText(sc harness.Scenario) string { return suiteName + " the core catalogue scenario " + sc.ID }

// prerun holds the records of the scenarios this process will run, played up
// front on harness.RunAll's pool (go test, serial ginkgo); each spec then
// checks and reports its own. Under ginkgo -p the processes take specs one at
// a time from Ginkgo's server, so none knows its share up front: there each
// spec plays its scenario, and the processes are the concurrency.
var prerun map[string]schema.Scenario

var _ = BeforeSuite(func() {
	suite, _ := GinkgoConfiguration()
	if suite.ParallelTotal > 1 || suite.DryRun || len(suite.FocusFiles) > 0 || len(suite.SkipFiles) > 0 {
		return // file filters: the specs' locations are Ginkgo's to match; each spec plays its own
	}
	labels, err := types.ParseLabelFilter(suite.LabelFilter)
	Expect(err).NotTo(HaveOccurred(), "-ginkgo.label-filter")
	var focus, skip *regexp.Regexp
	if len(suite.FocusStrings) > 0 {
		focus = regexp.MustCompile(strings.Join(suite.FocusStrings, "|"))
	}
	if len(suite.SkipStrings) > 0 {
		skip = regexp.MustCompile(strings.Join(suite.SkipStrings, "|"))
	}
	var scs []harness.Scenario
	for _, sc := range harness.Catalogue() {
		text := specText(sc)
		if labels(sc.Labels()) && (focus == nil || focus.MatchString(text)) && (skip == nil || !skip.MatchString(text)) {
			scs = append(scs, sc)
		}
	}
	recs, _ := harness.RunAll(scs, config(), opts.RunOptions(nil))
	prerun = map[string]schema.Scenario{}
	for _, rec := range recs {
		prerun[rec.ID] = rec
	}
})

func stepClass(rec schema.Scenario, name string) schema.Class {
	for _, st := range rec.Steps {
		if st.Name == name {
			return st.Outcome.Class
		}
	}
	return ""
}
