//go:build !linux && !darwin && !windows

package harness

import "runtime"

func platformInfo() (osVersion, kernel, emulator string) { return runtime.GOOS, "", "" }
