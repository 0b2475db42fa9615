package harness

import (
	"fmt"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// platformInfo reads the Windows version from RtlGetVersion (major.minor.build,
// not subject to the manifest-based lies of GetVersionEx) and the update build
// revision (UBR) from the registry, and detects Wine (DESIGN §5).
func platformInfo() (osVersion, kernel, emulator string) {
	v := windows.RtlGetVersion()
	osVersion = fmt.Sprintf("Windows %d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
	kernel = strconv.FormatUint(uint64(v.BuildNumber), 10)
	if ubr, ok := updateBuildRevision(); ok {
		kernel += "." + strconv.FormatUint(ubr, 10) // e.g. 26100.4349, as winver shows it
	}
	return osVersion, kernel, wineVersion()
}

// updateBuildRevision reads the UBR value (a REG_DWORD) under
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion: the cumulative update
// level of the build. It is absent on old Windows and on Wine.
func updateBuildRevision() (uint64, bool) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE)
	if err != nil {
		return 0, false
	}
	defer k.Close()
	ubr, _, err := k.GetIntegerValue("UBR")
	return ubr, err == nil
}

// wineVersion is "wine-<version>" when ntdll.dll exports wine_get_version,
// Wine's own marker (const char *wine_get_version(void)), and "" on Windows.
// The string it returns is static in ntdll.
func wineVersion() string {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return ""
	}
	r, _, _ := syscall.SyscallN(proc.Addr())
	if r == 0 {
		return "wine"
	}
	return "wine-" + windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
}
