package harness

import (
	"strings"

	"golang.org/x/sys/unix"
)

// platformInfo reads the FreeBSD release and the kernel's version string
// from sysctl(3) (kern.osrelease, e.g. "14.3-RELEASE"; kern.version, whose
// first line names the kernel build).
func platformInfo() (osVersion, kernel, emulator string) {
	osVersion = "FreeBSD"
	if v, err := unix.Sysctl("kern.osrelease"); err == nil {
		osVersion += " " + v
	}
	if v, err := unix.Sysctl("kern.version"); err == nil {
		kernel, _, _ = strings.Cut(strings.TrimSpace(v), "\n")
	}
	return osVersion, kernel, ""
}
