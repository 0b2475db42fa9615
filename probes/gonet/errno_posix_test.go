//go:build unix

// Named posix, not unix: in this module a _unix file is for the Unixes that
// have probes (linux, darwin, freebsd); these facts are Go's net package's on
// every Unix it supports (net/fd_unix.go is //go:build unix).

package gonet

import (
	"syscall"

	"github.com/closematrix/closematrix/schema"
)

// What net's Read and Write wrap on Unix: the system call names are
// net/fd_unix.go's readSyscallName and writeSyscallName; a write to a
// connection the peer reset fails with EPIPE (send(2)).
var osErrnos = errnoCase{
	readCall: "read", writeCall: "write",
	reset: syscall.ECONNRESET, resetName: "ECONNRESET",
	write: syscall.EPIPE, writeName: "EPIPE", writeClass: schema.ClassBrokenPipe,
}

// underWine: Wine runs Windows binaries only.
const underWine = false
