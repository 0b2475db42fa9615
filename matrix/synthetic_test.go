package matrix

import (
	"fmt"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// syntheticPlatform is one column of the synthetic matrix: where its data
// comes from and how it is labelled.
type syntheticPlatform struct {
	os, arch, runner, view string
	emulator               string
}

// syntheticPlatforms are 30 columns shaped like the workflow's future
// output: Linux, Windows, macOS and FreeBSD runners of two architectures and
// several versions, a Wine column, each through the raw and gonet views, and
// a runtime view (python) of eight of them. The first 24 are what the page
// must fit.
var syntheticPlatforms = func() []syntheticPlatform {
	bases := []syntheticPlatform{
		{os: "linux", arch: "amd64", runner: "ubuntu-22.04"}, {os: "linux", arch: "amd64", runner: "ubuntu-24.04"},
		{os: "linux", arch: "arm64", runner: "ubuntu-22.04-arm"}, {os: "linux", arch: "arm64", runner: "ubuntu-24.04-arm"},
		{os: "windows", arch: "amd64", runner: "windows-2022"}, {os: "windows", arch: "amd64", runner: "windows-2025"},
		{os: "windows", arch: "arm64", runner: "windows-11-arm"},
		{os: "darwin", arch: "arm64", runner: "macos-15"}, {os: "darwin", arch: "amd64", runner: "macos-15-intel"},
		{os: "freebsd", arch: "amd64", runner: "freebsd-14.2"},
		{os: "windows", arch: "amd64", runner: "wine", emulator: "wine-8.0"},
	}
	var out []syntheticPlatform
	for _, view := range []string{"raw", "gonet"} {
		for _, b := range bases {
			b.view = view
			out = append(out, b)
		}
	}
	for _, i := range []int{1, 5, 3, 6, 7, 8, 9, 10} {
		b := bases[i]
		b.view = "python"
		out = append(out, b)
	}
	return out
}()

func (p syntheticPlatform) label() string {
	l := p.os + "-" + p.arch + "-" + p.runner
	if p.view != "raw" {
		l += "-" + p.view
	}
	return l
}

// bsdErrno renumbers Linux errnos as darwin and FreeBSD number them
// (sys/errno.h), so that their columns look like theirs.
var bsdErrno = map[string]int{"ECONNRESET": 54, "ECONNABORTED": 53, "ENOTCONN": 57, "ETIMEDOUT": 60, "EHOSTUNREACH": 65,
	"ENETUNREACH": 51, "ESHUTDOWN": 58, "ENOTSOCK": 38, "EAGAIN": 35}

// syntheticFiles builds n columns × at least k scenarios of real-shaped
// data from the committed results (Linux raw and gonet, Wine) and the Linux
// wire capture in testdata, renumbered per OS, with a few cells changed on
// arm64 so that some folded columns split.
func syntheticFiles(t testing.TB, n, k int) []*schema.File {
	t.Helper()
	load := func(path string) *schema.File {
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	linux, gonet, wine := load("../results/linux-amd64.json"), load("../results/linux-amd64-gonet.json"), load("../results/windows-amd64-wine.json")
	wire := load("testdata/wire/linux-amd64.json")
	withWire := func(f *schema.File) []schema.Scenario {
		byID := map[string]schema.Scenario{}
		for _, sc := range wire.Scenarios {
			byID[sc.ID] = sc
		}
		var out []schema.Scenario
		for _, sc := range f.Scenarios {
			if w, ok := byID[sc.ID]; ok {
				sc = w
				delete(byID, sc.ID)
			}
			out = append(out, sc)
		}
		for _, sc := range wire.Scenarios {
			if _, ok := byID[sc.ID]; ok {
				out = append(out, sc)
			}
		}
		return out
	}
	files := make([]*schema.File, n)
	for i := range n {
		p := syntheticPlatforms[i]
		var src []schema.Scenario
		switch {
		case p.os == "linux" && p.view == "gonet":
			src = gonet.Scenarios
		case p.os == "linux":
			src = withWire(linux)
		case p.os == "windows":
			src = wine.Scenarios
		case p.view == "gonet":
			src = gonet.Scenarios
		default:
			src = linux.Scenarios
		}
		scs := cloneScenarios(src)
		for len(scs) < k { // more scenarios: the catalogue's future size
			for _, sc := range cloneScenarios(src) {
				if len(scs) >= k {
					break
				}
				sc.ID = fmt.Sprintf("%s-r%d", sc.ID, len(scs)/len(src))
				scs = append(scs, sc)
			}
		}
		for s := range scs {
			for j := range scs[s].Steps {
				st := &scs[s].Steps[j]
				if p.os == "darwin" || p.os == "freebsd" {
					if code, ok := bsdErrno[st.Outcome.Errno]; ok {
						st.Outcome.Code = code
					}
				}
				if _, call := classMarks[st.Outcome.Class]; call && p.arch == "arm64" && s%17 == 3 && j == len(scs[s].Steps)-1 && st.Skipped == "" {
					st.Outcome = schema.Outcome{Class: schema.ClassReset, Errno: "ECONNRESET", Code: 104}
				}
			}
		}
		osVersion := map[string]string{"linux": "Ubuntu", "windows": "Windows Server", "darwin": "macOS 15", "freebsd": "FreeBSD 14.2"}[p.os]
		files[i] = &schema.File{Schema: schema.Version, Tool: linux.Tool, Started: linux.Started, DurationMS: linux.DurationMS,
			Platform: schema.Platform{Label: p.label(), OS: p.os, Arch: p.arch, OSVersion: osVersion + " " + p.runner,
				Kernel: "synthetic", Runner: strings.TrimPrefix(p.runner, "wine"), Emulator: p.emulator, Go: "go1.26", View: p.view},
			Scenarios: scs}
	}
	return files
}

func cloneScenarios(in []schema.Scenario) []schema.Scenario {
	out := make([]schema.Scenario, len(in))
	for i, sc := range in {
		sc.Steps = append([]schema.Step(nil), sc.Steps...)
		out[i] = sc
	}
	return out
}

func TestSyntheticFilesValid(t *testing.T) {
	for _, f := range syntheticFiles(t, 30, 200) {
		if err := validate(f); err != nil {
			t.Fatal(err)
		}
	}
}
