//go:build unix || windows

package gonet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// errnoCase is one OS's error numbers and system call names as net wraps
// them (errno_posix_test.go, errno_windows_test.go).
type errnoCase struct {
	readCall, writeCall string
	reset               syscall.Errno
	resetName           string
	write               syscall.Errno
	writeName           string
	writeClass          schema.Class
}

// opErr builds the chain net's conn.Read and conn.Write return for a failed
// system call: *net.OpError around *os.SyscallError around the errno
// (net/net.go, net/fd_posix.go wrapSyscallError).
func opErr(op, syscallName string, errno error) error {
	return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(syscallName, errno)}
}

// TestClassify checks the classification of errors built the way Go's net
// builds them, by value: sentinels with errors.Is, numbers with errors.As.
func TestClassify(t *testing.T) {
	e := osErrnos
	for _, tc := range []struct {
		name string
		err  error
		want probes.Outcome
	}{
		{"nil", nil, probes.Outcome{Class: schema.ClassOK}},
		// conn.Read returns io.EOF bare (net/net.go).
		{"io.EOF", io.EOF, probes.Outcome{Class: schema.ClassEOF, Errno: NameEOF}},
		{"wrapped io.EOF", fmt.Errorf("x: %w", io.EOF), probes.Outcome{Class: schema.ClassEOF, Errno: NameEOF}},
		// A closed conn: the OpError wraps poll.ErrNetClosing, which is
		// net.ErrClosed.
		{"read on closed", &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed},
			probes.Outcome{Class: schema.ClassClosed, Errno: NameClosed}},
		{"close twice", &net.OpError{Op: "close", Net: "tcp", Err: net.ErrClosed},
			probes.Outcome{Class: schema.ClassClosed, Errno: NameClosed}},
		{"deadline", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded},
			probes.Outcome{Class: schema.ClassTimedOut, Errno: NameDeadlineExceeded}},
		{"reset on read", opErr("read", e.readCall, e.reset), probes.Outcome{
			Class: schema.ClassReset, Code: int(e.reset),
			Errno: "*net.OpError(read)→*os.SyscallError(" + e.readCall + ")→" + e.resetName}},
		{"write after reset", opErr("write", e.writeCall, e.write), probes.Outcome{
			Class: e.writeClass, Code: int(e.write),
			Errno: "*net.OpError(write)→*os.SyscallError(" + e.writeCall + ")→" + e.writeName}},
		{"bare errno", e.reset, probes.Outcome{Class: schema.ClassReset, Code: int(e.reset), Errno: e.resetName}},
		{"shutdown errno", &net.OpError{Op: "close", Net: "tcp", Err: os.NewSyscallError("shutdown", e.reset)},
			probes.Outcome{Class: schema.ClassReset, Code: int(e.reset),
				Errno: "*net.OpError(close)→*os.SyscallError(shutdown)→" + e.resetName}},
		{"no errno", errors.New("plain"), probes.Outcome{Class: schema.ClassOther, Errno: "*errors.errorString"}},
		{"addr error", &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "x", Addr: "y"}},
			probes.Outcome{Class: schema.ClassOther, Errno: "*net.OpError(dial)→*net.AddrError"}},
		{"path error", &os.PathError{Op: "open", Path: "/x", Err: os.ErrNotExist},
			probes.Outcome{Class: schema.ClassOther, Errno: "*fs.PathError(open)→*errors.errorString"}},
		// A joined error ends the chain: errors.Unwrap does not descend.
		{"joined", errors.Join(errors.New("a"), errors.New("b")),
			probes.Outcome{Class: schema.ClassOther, Errno: "*errors.joinError"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.want {
				t.Errorf("Classify = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestClassifyAgreesWithProbes: an errno's class and number are the raw
// view's, so the two views differ only where Go itself differs.
func TestClassifyAgreesWithProbes(t *testing.T) {
	for _, errno := range []syscall.Errno{osErrnos.reset, osErrnos.write} {
		class, name, code := probes.ClassifyErrno(errno)
		got := Classify(opErr("read", osErrnos.readCall, errno))
		if got.Class != class || got.Code != code || Chain(errno) != name {
			t.Errorf("errno %d: Classify = %+v, Chain = %q; probes say %s %s %d", int(errno), got, Chain(errno), class, name, code)
		}
	}
}
