package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/closematrix/closematrix/internal/atomicfile"
	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// Version and Commit name the build that wrote a result file (its tool
// field). A release build sets both through the linker (scripts/dist.sh):
//
//	-ldflags "-X github.com/closematrix/closematrix/harness.Version=v0.2.0
//	          -X github.com/closematrix/closematrix/harness.Commit=<sha>"
//
// Otherwise init takes what the Go toolchain stamped into the binary: the
// module version that `go install …@v0.2.0` records, and the VCS revision
// that `go build` records in a checkout (runtime/debug.ReadBuildInfo). Test
// binaries carry neither; the suite's -closematrix.commit flag (the Makefile
// and scripts/ci-suite.sh pass git's HEAD) says the commit there.
var (
	Version = ""
	Commit  = ""
)

// develVersion is the version of a build that says none: a test binary, or
// `go build` from a checkout.
const develVersion = "v0.1.0"

func init() {
	bi, ok := debug.ReadBuildInfo()
	if Version == "" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		Version = bi.Main.Version
	}
	if Version == "" {
		Version = develVersion
	}
	if Commit == "" && ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				Commit = s.Value
			}
		}
	}
}

// Platform describes this machine, through the raw view (Options.Platform
// sets another). label and runner override the defaults (GOOS-GOARCH, with
// the emulator's name appended when there is one).
func Platform(label, runner string) schema.Platform {
	osVersion, kernel, emulator := platformInfo()
	if label == "" {
		label = runtime.GOOS + "-" + runtime.GOARCH
		if emulator != "" {
			label += "-" + emulatorName(emulator)
		}
	}
	return schema.Platform{
		Label: label, OS: runtime.GOOS, Arch: runtime.GOARCH,
		OSVersion: osVersion, Kernel: kernel, Emulator: emulator, Runner: runner,
		Go: runtime.Version(), View: schema.ViewRaw, Settings: probes.PlatformNotes(),
	}
}

// emulatorName is the emulator's name without its version: "wine-8.0" → "wine".
func emulatorName(e string) string {
	for i, c := range e {
		if c == '-' {
			return e[:i]
		}
	}
	return e
}

// NewFile assembles a result file.
func NewFile(p schema.Platform, commit string, started time.Time, d time.Duration, scenarios []schema.Scenario) schema.File {
	return schema.File{
		Schema:     schema.Version,
		Tool:       schema.Tool{Name: "closematrix", Version: Version, Commit: commit},
		Platform:   p,
		Started:    started.UTC().Format(time.RFC3339),
		DurationMS: d.Milliseconds(),
		Scenarios:  scenarios,
	}
}

// WriteFile writes f as indented JSON to path, through a temporary file and a
// rename, so a reader never sees half a file and a failed run loses nothing.
func WriteFile(path string, f schema.File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
