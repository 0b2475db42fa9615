//go:build !linux && !darwin && !windows && !freebsd

package harness

import "runtime"

func platformInfo() (osVersion, kernel, emulator string) { return runtime.GOOS, "", "" }
