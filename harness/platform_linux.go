package harness

import (
	"bufio"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// platformInfo reads the distribution from os-release(5) and the kernel
// release from uname(2). Linux runs natively here: no emulator.
func platformInfo() (osVersion, kernel, emulator string) {
	osVersion = "Linux"
	if f, err := os.Open("/etc/os-release"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
				osVersion = strings.Trim(v, `"'`)
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Release[:])
	}
	return osVersion, kernel, ""
}
