//go:build linux || darwin || freebsd

package probes

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/unix"
)

func TestClassifyUnix(t *testing.T) {
	for _, tc := range []struct {
		err   error
		class schema.Class
		name  string
	}{
		{unix.ECONNRESET, schema.ClassReset, "ECONNRESET"},
		{unix.ECONNABORTED, schema.ClassAborted, "ECONNABORTED"},
		{unix.EPIPE, schema.ClassBrokenPipe, "EPIPE"},
		{unix.ESHUTDOWN, schema.ClassShutdown, "ESHUTDOWN"},
		{unix.ENOTCONN, schema.ClassNotConnected, "ENOTCONN"},
		{unix.EBADF, schema.ClassBadDescriptor, "EBADF"},
		{unix.ENOTSOCK, schema.ClassNotSocket, "ENOTSOCK"},
		{unix.EINTR, schema.ClassInterrupted, "EINTR"},
		{unix.ETIMEDOUT, schema.ClassTimedOut, "ETIMEDOUT"},
		{unix.EAGAIN, schema.ClassWouldBlock, "EAGAIN"},
		{unix.EWOULDBLOCK, schema.ClassWouldBlock, "EAGAIN"}, // the same value
		{unix.EHOSTUNREACH, schema.ClassUnreachable, "EHOSTUNREACH"},
		{unix.ENETUNREACH, schema.ClassUnreachable, "ENETUNREACH"},
		{unix.EADDRINUSE, schema.ClassOther, "EADDRINUSE"},
		// Wrapped the way the probes wrap: the errno is found by value.
		{os.NewSyscallError("recvfrom", unix.ECONNRESET), schema.ClassReset, "ECONNRESET"},
		{fmt.Errorf("outer: %w", os.NewSyscallError("sendmsg", unix.EPIPE)), schema.ClassBrokenPipe, "EPIPE"},
	} {
		class, name, code := classify(tc.err)
		var errno unix.Errno
		errors.As(tc.err, &errno)
		if class != tc.class || name != tc.name || code != int(errno) {
			t.Errorf("classify(%v) = %s %s %d, want %s %s %d", tc.err, class, name, code, tc.class, tc.name, int(errno))
		}
	}
	if class, name, code := classify(errors.New("no errno here")); class != schema.ClassOther || name != "" || code != 0 {
		t.Errorf("classify(plain error) = %s %q %d, want other \"\" 0", class, name, code)
	}
}

// TestOutcomes checks the portable conversion on a real loopback pair: data,
// end of stream, ok, and an errno outcome, in both families where they bind.
func TestOutcomes(t *testing.T) {
	for _, f := range []Family{V4, V6} {
		t.Run(string(f), func(t *testing.T) {
			ln, a, b := statePair(t, f)
			defer ln.Close()
			if a.FD() < uintptr(fdFloor) || b.FD() < uintptr(fdFloor) {
				t.Errorf("descriptors %d, %d below the reserved floor %d", a.FD(), b.FD(), fdFloor)
			}
			want := func(got, want Outcome) {
				t.Helper()
				if got != want {
					t.Errorf("got %s, want %s", got, want)
				}
			}
			want(a.Send([]byte("hello")), Outcome{Class: schema.ClassOK, N: 5})
			want(b.Recv(64), Outcome{Class: schema.ClassData, N: 5})
			want(a.Shutdown(ShutWR), Outcome{Class: schema.ClassOK})
			want(b.Recv(64), Outcome{Class: schema.ClassEOF})
			want(a.Close(), Outcome{Class: schema.ClassOK})
			want(a.Send([]byte("x")), Outcome{Class: schema.ClassBadDescriptor, Errno: "EBADF", Code: int(unix.EBADF)})
			if err := b.SetLinger(true, 0); err != nil {
				t.Error(err)
			}
			want(b.Close(), Outcome{Class: schema.ClassOK})
		})
	}
}
