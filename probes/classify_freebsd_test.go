package probes

import (
	"testing"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/unix"
)

// TestClassifyFreeBSD checks the errno table on FreeBSD against the numbers
// of sys/sys/errno.h (FreeBSD 14): the x/sys constants the table is keyed by
// must be these, and each classifies with its C name and number.
func TestClassifyFreeBSD(t *testing.T) {
	for _, tc := range []struct {
		errno unix.Errno
		code  int
		name  string
		class schema.Class
	}{
		{unix.EINTR, 4, "EINTR", schema.ClassInterrupted},
		{unix.EBADF, 9, "EBADF", schema.ClassBadDescriptor},
		{unix.EPIPE, 32, "EPIPE", schema.ClassBrokenPipe},
		{unix.EAGAIN, 35, "EAGAIN", schema.ClassWouldBlock},
		{unix.EWOULDBLOCK, 35, "EAGAIN", schema.ClassWouldBlock}, // #define EWOULDBLOCK EAGAIN
		{unix.ENOTSOCK, 38, "ENOTSOCK", schema.ClassNotSocket},
		{unix.ENETUNREACH, 51, "ENETUNREACH", schema.ClassUnreachable},
		{unix.ECONNABORTED, 53, "ECONNABORTED", schema.ClassAborted},
		{unix.ECONNRESET, 54, "ECONNRESET", schema.ClassReset},
		{unix.ENOTCONN, 57, "ENOTCONN", schema.ClassNotConnected},
		{unix.ESHUTDOWN, 58, "ESHUTDOWN", schema.ClassShutdown},
		{unix.ETIMEDOUT, 60, "ETIMEDOUT", schema.ClassTimedOut},
		{unix.EHOSTUNREACH, 65, "EHOSTUNREACH", schema.ClassUnreachable},
	} {
		if int(tc.errno) != tc.code {
			t.Errorf("x/sys %s = %d, sys/sys/errno.h says %d", tc.name, int(tc.errno), tc.code)
		}
		class, name, code := classify(tc.errno)
		if class != tc.class || name != tc.name || code != tc.code {
			t.Errorf("classify(%d) = %s %s %d, want %s %s %d", tc.code, class, name, code, tc.class, tc.name, tc.code)
		}
	}
}
