package probes

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/windows"
)

// TestClassifyWindows checks the table against x/sys constants: class, SDK
// name and number, for the bare errno and for the layers the probes wrap it in.
func TestClassifyWindows(t *testing.T) {
	tests := []struct {
		errno windows.Errno
		class schema.Class
		name  string
		code  int
	}{
		{windows.WSAECONNRESET, schema.ClassReset, "WSAECONNRESET", 10054},
		{windows.WSAECONNABORTED, schema.ClassAborted, "WSAECONNABORTED", 10053},
		{windows.WSAESHUTDOWN, schema.ClassShutdown, "WSAESHUTDOWN", 10058},
		{windows.WSAENOTCONN, schema.ClassNotConnected, "WSAENOTCONN", 10057},
		{windows.WSAENOTSOCK, schema.ClassNotSocket, "WSAENOTSOCK", 10038},
		{windows.WSAEBADF, schema.ClassBadDescriptor, "WSAEBADF", 10009},
		{windows.ERROR_INVALID_HANDLE, schema.ClassBadDescriptor, "ERROR_INVALID_HANDLE", 6},
		{windows.WSAEINTR, schema.ClassInterrupted, "WSAEINTR", 10004},
		{windows.WSAETIMEDOUT, schema.ClassTimedOut, "WSAETIMEDOUT", 10060},
		{windows.WSAENETUNREACH, schema.ClassUnreachable, "WSAENETUNREACH", 10051},
		{windows.WSAEHOSTUNREACH, schema.ClassUnreachable, "WSAEHOSTUNREACH", 10065},
		{windows.WSAEWOULDBLOCK, schema.ClassWouldBlock, "WSAEWOULDBLOCK", 10035},
		// Documented choices (classify_windows.go): named, but class other.
		{windows.WSAEDISCON, schema.ClassOther, "WSAEDISCON", 10101},
		{windows.WSAENETRESET, schema.ClassOther, "WSAENETRESET", 10052},
		{windows.WSAECONNREFUSED, schema.ClassOther, "WSAECONNREFUSED", 10061},
		{windows.ERROR_NETNAME_DELETED, schema.ClassOther, "ERROR_NETNAME_DELETED", 64},
		// Not in the name table: a name made from the number.
		{windows.Errno(10999), schema.ClassOther, "WSA_ERROR_10999", 10999},
	}
	for _, tt := range tests {
		wrapped := map[string]error{
			"bare":            tt.errno,
			"NewSyscallError": os.NewSyscallError("wsarecv", tt.errno),
			"wrap":            wrap("wsasend", tt.errno),
			"fmt %w twice":    fmt.Errorf("step: %w", fmt.Errorf("call: %w", tt.errno)),
		}
		for how, err := range wrapped {
			class, name, code := classify(err)
			if class != tt.class || name != tt.name || code != tt.code {
				t.Errorf("classify(%s %s) = %s, %s, %d; want %s, %s, %d",
					how, tt.name, class, name, code, tt.class, tt.name, tt.code)
			}
		}
	}
}

// TestClassifyNotAnErrno: an error with no Windows code inside has no name.
func TestClassifyNotAnErrno(t *testing.T) {
	class, name, code := classify(errors.New("not a syscall error"))
	if class != schema.ClassOther || name != "" || code != 0 {
		t.Errorf("classify(plain error) = %s, %q, %d; want other, \"\", 0", class, name, code)
	}
}

// TestErrnoNamesTable: every classified code has a name, and names are SDK
// style and unique.
func TestErrnoNamesTable(t *testing.T) {
	for e := range classes {
		if _, ok := errnoNames[e]; !ok {
			t.Errorf("classes has %d but errnoNames does not name it", int(e))
		}
	}
	seen := map[string]windows.Errno{}
	for e, name := range errnoNames {
		if !strings.HasPrefix(name, "WSA") && !strings.HasPrefix(name, "ERROR_") {
			t.Errorf("errnoNames[%d] = %q: not an SDK error name", int(e), name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("name %q used for both %d and %d", name, int(prev), int(e))
		}
		seen[name] = e
	}
}

// TestErrOutcome checks the path the probes take: errOutcome on a wrapped
// errno gives the Outcome the result file records.
func TestErrOutcome(t *testing.T) {
	got := errOutcome(wrap("wsarecv", windows.WSAECONNRESET))
	want := Outcome{Class: schema.ClassReset, Errno: "WSAECONNRESET", Code: 10054}
	if got != want {
		t.Errorf("errOutcome = %+v; want %+v", got, want)
	}
	if s := got.String(); s != "reset · WSAECONNRESET 10054" {
		t.Errorf("String() = %q", s)
	}
}
