package harness

import "golang.org/x/sys/unix"

// platformInfo reads the macOS product version and the Darwin kernel release
// from sysctl(3) (kern.osproductversion, kern.osrelease).
func platformInfo() (osVersion, kernel, emulator string) {
	osVersion = "macOS"
	if v, err := unix.Sysctl("kern.osproductversion"); err == nil {
		osVersion += " " + v
	}
	kernel, _ = unix.Sysctl("kern.osrelease")
	return osVersion, kernel, ""
}
