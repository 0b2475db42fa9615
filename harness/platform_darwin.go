package harness

import "golang.org/x/sys/unix"

// platformInfo reads the macOS product version and the Darwin kernel release
// from sysctl(3) (kern.osproductversion, kern.osrelease), and detects Rosetta
// 2 (DESIGN §5: a column is labelled as what ran it).
func platformInfo() (osVersion, kernel, emulator string) {
	osVersion = "macOS"
	if v, err := unix.Sysctl("kern.osproductversion"); err == nil {
		osVersion += " " + v
	}
	kernel, _ = unix.Sysctl("kern.osrelease")
	return osVersion, kernel, rosetta()
}

// rosetta is "rosetta" when this process is translated by Rosetta 2: the
// sysctl sysctl.proc_translated reads 1 (Apple, "About the Rosetta
// translation environment", Determine Whether Your App Is Running as a
// Translated Binary); it reads 0 for a native process and does not exist on
// Macs without Rosetta (ENOENT), both native.
func rosetta() string {
	if v, err := unix.SysctlUint32("sysctl.proc_translated"); err == nil && v == 1 {
		return "rosetta"
	}
	return ""
}
