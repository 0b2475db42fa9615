package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// Version is closematrix's version, written into every result file.
const Version = "v0.1.0"

// Platform describes this machine. label and runner override the defaults
// (GOOS-GOARCH, with the emulator's name appended when there is one); commit
// is the source revision the suite was built from, when known.
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
		Go: runtime.Version(),
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
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".closematrix-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; a result file is for everyone to read.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
