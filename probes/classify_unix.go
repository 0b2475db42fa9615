//go:build linux || darwin || freebsd

package probes

import (
	"errors"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/unix"
)

// classes maps errno values to the class vocabulary. Keys are x/sys constants,
// so each OS's own numbering applies (ECONNRESET is 104 on Linux, 54 on darwin).
// EWOULDBLOCK is EAGAIN on both (errno(3), <sys/errno.h>).
var classes = map[unix.Errno]schema.Class{
	unix.ECONNRESET:   schema.ClassReset,
	unix.ECONNABORTED: schema.ClassAborted,
	unix.EPIPE:        schema.ClassBrokenPipe,
	unix.ESHUTDOWN:    schema.ClassShutdown,
	unix.ENOTCONN:     schema.ClassNotConnected,
	unix.EBADF:        schema.ClassBadDescriptor,
	unix.ENOTSOCK:     schema.ClassNotSocket,
	unix.EINTR:        schema.ClassInterrupted,
	unix.ETIMEDOUT:    schema.ClassTimedOut,
	unix.ENETUNREACH:  schema.ClassUnreachable,
	unix.EHOSTUNREACH: schema.ClassUnreachable,
	unix.EAGAIN:       schema.ClassWouldBlock,
}

// classify finds the errno inside err by value (errors.As) and names it with
// its C constant name.
func classify(err error) (schema.Class, string, int) {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return schema.ClassOther, "", 0
	}
	class, ok := classes[errno]
	if !ok {
		class = schema.ClassOther
	}
	return class, errnoName(errno), int(errno)
}

// errnoName is the C constant name of errno. EAGAIN and EWOULDBLOCK are one
// number on each of these systems (errno(3), <sys/errno.h>); x/sys names it
// EAGAIN on Linux and darwin but EWOULDBLOCK on FreeBSD, whose errno.h
// defines EAGAIN 35 and EWOULDBLOCK as EAGAIN: EAGAIN everywhere, so that one
// behaviour has one name in the matrix.
func errnoName(errno unix.Errno) string {
	if errno == unix.EAGAIN {
		return "EAGAIN"
	}
	return unix.ErrnoName(errno)
}
