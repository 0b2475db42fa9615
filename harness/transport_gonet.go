package harness

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/probes/gonet"
)

// GoNet is the transport of Go's net package (probes/gonet): the same
// scenarios through *net.TCPConn, recording what a Go program gets (io.EOF,
// net.ErrClosed, errors wrapped in *net.OpError and *os.SyscallError). Its
// results go under a platform label with the suffix "-gonet".
var GoNet Transport = goNet{}

// The suite's -closematrix.view=gonet finds it by name (TransportByName).
func init() { transports[GoNet.Name()] = GoNet }

type goNet struct{}

// *gonet.Conn has Endpoint's method set by itself; goNetConn adds the
// posture's signal.
var (
	_ Endpoint = (*gonet.Conn)(nil)
	_ Endpoint = (*goNetConn)(nil)
)

func (goNet) Name() string { return "gonet" }

// Runtime is the Go that this binary was built with, whose net package the
// calls went through.
func (goNet) Runtime() string { return runtime.Version() + " net" }

func (goNet) Listen(f probes.Family) (Listener, error) {
	l, err := gonet.Listen(f)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return goNetListener{l}, nil
}

func (goNet) Dial(f probes.Family, port int) (Endpoint, error) {
	c, err := gonet.Dial(f, port)
	if err != nil {
		return nil, err
	}
	return &goNetConn{gonetConn: c}, nil
}

type goNetListener struct{ *gonet.Listener }

func (l goNetListener) Accept() (Endpoint, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &goNetConn{gonetConn: c}, nil
}

// gonetConn names gonet.Conn for embedding: an embedded *gonet.Conn would be
// a field named Conn, which hides the promoted method Conn() that Endpoint
// needs.
type gonetConn = gonet.Conn

// goNetConn is a gonet.Conn as an Endpoint. It counts the Send and Recv
// calls in flight, for WaitInCall.
type goNetConn struct {
	*gonetConn
	calls atomic.Int32
}

// Close closes while no process is being started, as probes' own sockets do
// (probes/close_unix.go): a child between fork and exec would keep the
// socket open. Go's net has no lingering close in this catalogue (it cannot
// leave data unsent: ErrNotInView), so the close does not block.
func (c *goNetConn) Close() probes.Outcome {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	return c.gonetConn.Close()
}

// Close closes the listener while no process is being started (see
// goNetConn.Close).
func (l goNetListener) Close() error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	return l.Listener.Close()
}

func (c *goNetConn) Send(p []byte) probes.Outcome {
	c.calls.Add(1)
	defer c.calls.Add(-1)
	return c.gonetConn.Send(p)
}

func (c *goNetConn) Recv(max int) probes.Outcome {
	c.calls.Add(1)
	defer c.calls.Add(-1)
	return c.gonetConn.Recv(max)
}

// WaitInCall is the posture's signal for this transport, where
// probes.WaitInSyscall cannot serve: it waits, up to bound, until a Send or
// Recv is in flight on c, then spends probes.PostureGrace, and reports false
// (no signal said the call was blocked). A Go Read with nothing to read, or a
// Write with no room, does not sit in a system call: read(2) or write(2)
// returns EAGAIN and the goroutine parks in the netpoller, its locked thread
// asleep on a futex, and Go offers no view of a parked goroutine. The grace
// covers the time from the call to the park (for a Write, filling the send
// buffer first).
func (c *goNetConn) WaitInCall(bound time.Duration) (bool, error) {
	deadline := time.Now().Add(bound)
	for c.calls.Load() == 0 {
		if time.Now().After(deadline) {
			return false, fmt.Errorf("no Read or Write in flight after %v", bound)
		}
		time.Sleep(50 * time.Microsecond)
	}
	time.Sleep(probes.PostureGrace)
	return false, nil
}
