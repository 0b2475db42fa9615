package gonet

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// Names of the sentinel errors this view reports as Errno. They are what a Go
// program compares against with errors.Is, spelt as it would write them.
const (
	NameEOF              = "io.EOF"
	NameClosed           = "net.ErrClosed"
	NameDeadlineExceeded = "os.ErrDeadlineExceeded"
)

// chainSep joins the layers of a wrapping chain.
const chainSep = "→"

// Classify turns an error that Go's net returned into an outcome. Everything
// is decided by value (errors.Is, errors.As, type switches), never by
// message:
//
//   - io.EOF: class eof, Errno "io.EOF". TCPConn.Read returns it bare, not
//     wrapped, when recv(2) returned 0 (net/net.go, conn.Read).
//   - net.ErrClosed: class closed, Errno "net.ErrClosed". Go answers it
//     itself, without a system call, once the program closed the conn; a
//     Read blocked in the netpoller is woken with it by Close.
//   - os.ErrDeadlineExceeded: class timed-out, Errno "os.ErrDeadlineExceeded".
//   - an error number inside (syscall.Errno, which unix.Errno and
//     windows.Errno are): the class and the number from the raw probes' per-OS
//     table (probes.ClassifyErrno); Errno is the wrapping chain, e.g.
//     "*net.OpError(read)→*os.SyscallError(read)→ECONNRESET", so the matrix
//     shows both what a Go program gets and what the OS said underneath.
//   - anything else: class other, Errno the chain.
//
// A nil error is class ok.
func Classify(err error) probes.Outcome {
	switch {
	case err == nil:
		return probes.Outcome{Class: schema.ClassOK}
	case errors.Is(err, io.EOF):
		return probes.Outcome{Class: schema.ClassEOF, Errno: NameEOF}
	case errors.Is(err, net.ErrClosed):
		return probes.Outcome{Class: schema.ClassClosed, Errno: NameClosed}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return probes.Outcome{Class: schema.ClassTimedOut, Errno: NameDeadlineExceeded}
	}
	if class, name, code := probes.ClassifyErrno(err); name != "" || code != 0 {
		return probes.Outcome{Class: class, Errno: Chain(err), Code: code}
	}
	return probes.Outcome{Class: schema.ClassOther, Errno: Chain(err)}
}

// Chain spells err's wrapping chain compactly: each layer that errors.Unwrap
// reaches, outermost first, joined by "→". A layer is named by its type and,
// where it has one, the operation it records (net.OpError.Op,
// os.SyscallError.Syscall, fs.PathError.Op); an error number by its C or SDK
// constant name; the net, io and os sentinels by their Go names. Any other
// layer is its Go type (%T). A layer that wraps several errors (Unwrap()
// []error) ends the chain.
func Chain(err error) string {
	var parts []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		parts = append(parts, layer(e))
	}
	return strings.Join(parts, chainSep)
}

// layer names one error of a chain without looking at its message.
func layer(e error) string {
	switch e {
	case io.EOF:
		return NameEOF
	case net.ErrClosed:
		return NameClosed
	case os.ErrDeadlineExceeded:
		return NameDeadlineExceeded
	}
	switch e := e.(type) {
	case *net.OpError:
		return fmt.Sprintf("%T(%s)", e, e.Op)
	case *os.SyscallError:
		return fmt.Sprintf("%T(%s)", e, e.Syscall)
	case *fs.PathError:
		return fmt.Sprintf("%T(%s)", e, e.Op)
	}
	// An error number is a leaf that probes.ClassifyErrno finds (by
	// errors.As, so a leaf only finds itself). The syscall.Errno type is not
	// named here: it does not exist on every GOOS (plan9).
	if errors.Unwrap(e) == nil {
		if _, name, code := probes.ClassifyErrno(e); name != "" {
			return name
		} else if code != 0 {
			return "errno " + strconv.Itoa(code)
		}
	}
	return fmt.Sprintf("%T", e)
}
