// Package gonet is closematrix's Go net view: the same close scenarios as the
// raw probes, played through *net.TCPConn (Read, Write, CloseRead,
// CloseWrite, Close, SetLinger), recording what a Go program actually gets —
// io.EOF, net.ErrClosed, and the system errors as Go wraps them
// (*net.OpError → *os.SyscallError → errno).
//
// It differs from the raw view on purpose, and the differences are the
// findings:
//
//   - Go's sockets are non-blocking and owned by the runtime's netpoller. A
//     Read with nothing to read parks its goroutine instead of sitting in
//     recv(2), and Close wakes it with net.ErrClosed, where Linux's close(2)
//     leaves a blocked recv(2) blocked.
//   - Once the program has closed a conn, Go answers every call with
//     net.ErrClosed itself, without a system call: there is no use of a stale
//     descriptor to probe.
//   - Write retries partial writes internally and returns only when all of p
//     is written or an error stops it. On Unix a write to a broken connection
//     returns EPIPE: the runtime ignores SIGPIPE for descriptors other than
//     standard output and error (os/signal, "SIGPIPE").
//   - There is no poll: readiness belongs to the netpoller (see ErrNoPoll).
//
// Observations that do not go through a net method (pending bytes, TCP
// state, SO_ERROR, waiting for ACKs) reach the descriptor through
// syscall.RawConn.Control and the probes.FD* wrappers, so they read the
// connection exactly as the raw view does.
package gonet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// ErrNoPoll is what Conn.Poll returns: Go's net has no poll call, because the
// runtime's netpoller owns readiness (a Read simply waits). The harness
// records a poll step of this view as skipped with this reason.
var ErrNoPoll = errors.New("Go's net offers no poll: the runtime's netpoller owns readiness")

// loopback gives a family's network name and loopback address: 127.0.0.1 or
// ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3), never a wildcard.
func loopback(f probes.Family) (network string, ip net.IP, err error) {
	switch f {
	case probes.V4:
		return "tcp4", net.IPv4(127, 0, 0, 1), nil
	case probes.V6:
		return "tcp6", net.IPv6loopback, nil
	}
	return "", nil, fmt.Errorf("gonet: unknown family %q", f)
}

// Listener is a *net.TCPListener bound to a loopback address.
type Listener struct {
	ln   *net.TCPListener
	port int
}

// Listen wraps net.ListenTCP on 127.0.0.1 ("tcp4") or ::1 ("tcp6"), port 0.
// A family that cannot bind here is reported wrapped in
// probes.ErrFamilyUnavailable, so the scenario is skipped with its reason.
func Listen(f probes.Family) (*Listener, error) {
	network, ip, err := loopback(f)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP(network, &net.TCPAddr{IP: ip})
	if err != nil {
		if probes.FamilyUnavailable(err) {
			return nil, fmt.Errorf("%w: %w", probes.ErrFamilyUnavailable, err)
		}
		return nil, err
	}
	return &Listener{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}, nil
}

// Port is the port the listener is bound to.
func (l *Listener) Port() int { return l.port }

// Accept wraps (*net.TCPListener).AcceptTCP.
func (l *Listener) Accept() (*Conn, error) {
	tc, err := l.ln.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return newConn(tc), nil
}

// Close wraps (*net.TCPListener).Close; an Accept in progress returns
// net.ErrClosed.
func (l *Listener) Close() error { return l.ln.Close() }

// Dial wraps net.DialTCP to the loopback address of f on port.
func Dial(f probes.Family, port int) (*Conn, error) {
	network, ip, err := loopback(f)
	if err != nil {
		return nil, err
	}
	tc, err := net.DialTCP(network, nil, &net.TCPAddr{IP: ip, Port: port})
	if err != nil {
		return nil, err
	}
	return newConn(tc), nil
}

func newConn(tc *net.TCPConn) *Conn {
	return &Conn{tc: tc, conn: probes.Conn4{Local: addrPort(tc.LocalAddr()), Remote: addrPort(tc.RemoteAddr())}}
}

// addrPort is a TCP address as the system's TCP table keys it. Unmap keeps
// an IPv4 address in its 4-byte form, whatever length net.IP had.
func addrPort(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Conn is one end of a connection as a Go program holds it: a *net.TCPConn.
// Its methods are those the harness drives on every endpoint, and they are
// safe to call from several goroutines at once, as *net.TCPConn's are.
type Conn struct {
	tc     *net.TCPConn
	conn   probes.Conn4 // read at creation, for the TCP table once closed
	closed atomic.Bool
}

// Send wraps (*net.TCPConn).Write of p. Write returns only when all of p is
// written or an error stops it: it retries partial writes and waits in the
// netpoller for room, so a send that the raw view sees return a partial count
// returns here the error of the write after it. N is the bytes written when
// Write succeeded; beside an error Go also returns the bytes written before
// it, a count that varies with the buffers' sizes, so it is not recorded (the
// schema's N is for ok and data).
func (c *Conn) Send(p []byte) probes.Outcome {
	n, err := c.tc.Write(p)
	if err != nil {
		return Classify(err)
	}
	return probes.Outcome{Class: schema.ClassOK, N: n}
}

// Recv wraps one (*net.TCPConn).Read into a max-byte buffer: data when it
// returns n > 0, else the outcome of its error (io.EOF is class eof). On a
// TCP conn Read returns no error beside n > 0: internal/poll sets n to 0
// whenever the system call failed.
func (c *Conn) Recv(max int) probes.Outcome {
	buf := make([]byte, max)
	n, err := c.tc.Read(buf)
	switch {
	case n > 0:
		return probes.Outcome{Class: schema.ClassData, N: n}
	case err == nil:
		// (0, nil) from Read breaks no contract but never happens on TCP
		// with a non-empty buffer; if it does, it is eof without io.EOF.
		return probes.Outcome{Class: schema.ClassEOF}
	}
	return Classify(err)
}

// Shutdown maps the directions to what Go offers: ShutRD to CloseRead
// (shutdown SHUT_RD / SD_RECEIVE), ShutWR to CloseWrite (SHUT_WR / SD_SEND).
// Go has no single call for both: ShutRDWR is CloseRead then CloseWrite, and
// reports the first error, or ok.
func (c *Conn) Shutdown(how probes.How) probes.Outcome {
	switch how {
	case probes.ShutRD:
		return Classify(c.tc.CloseRead())
	case probes.ShutWR:
		return Classify(c.tc.CloseWrite())
	case probes.ShutRDWR:
		rerr := c.tc.CloseRead()
		werr := c.tc.CloseWrite()
		if rerr != nil {
			return Classify(rerr)
		}
		return Classify(werr)
	}
	return probes.Outcome{Class: schema.ClassOther, Errno: fmt.Sprintf("gonet: unknown shutdown direction %d", how)}
}

// Close wraps (*net.TCPConn).Close. Every later call on the conn goes to the
// closed *net.TCPConn, which answers net.ErrClosed itself: that is what a Go
// program sees, and the point of this view. A Read blocked in another
// goroutine is woken with net.ErrClosed; the descriptor is released once it
// has returned.
func (c *Conn) Close() probes.Outcome {
	c.closed.Store(true)
	return Classify(c.tc.Close())
}

// SetLinger wraps (*net.TCPConn).SetLinger: SetLinger(secs) when on, and
// SetLinger(-1), the system default, when off. SetLinger(true, 0) makes Close
// abortive (RST).
func (c *Conn) SetLinger(on bool, secs int) error {
	if !on {
		secs = -1
	}
	return c.tc.SetLinger(secs)
}

// control runs f on the conn's descriptor through syscall.RawConn.Control,
// which keeps it open meanwhile; on a closed conn it returns Go's error
// (net.ErrClosed inside) without calling f.
func (c *Conn) control(f func(fd uintptr)) error {
	rc, err := c.tc.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(f)
}

// Pending is probes.FDPending (FIONREAD) on the conn's descriptor.
func (c *Conn) Pending() (int, error) {
	var (
		n    int
		ferr error
	)
	if err := c.control(func(fd uintptr) { n, ferr = probes.FDPending(fd) }); err != nil {
		return 0, err
	}
	return n, ferr
}

// Settle waits, up to bound, until the conn has no sent data left
// unacknowledged (probes.FDSettle on its descriptor); once it is closed, until
// its entry in the system's TCP table has left the states that await an ACK
// (probes.SettleState), as the raw view does. It reports whether a signal
// said so.
func (c *Conn) Settle(bound time.Duration) bool {
	if !c.closed.Load() {
		var ok bool
		if err := c.control(func(fd uintptr) { ok = probes.FDSettle(fd, bound) }); err == nil {
			return ok
		}
	}
	return probes.SettleState(c.conn, bound)
}

// State is the conn's TCP state: probes.FDState on the live descriptor, or,
// once closed (or where the live query fails), the 4-tuple's entry in the
// system's TCP table (probes.LookupState).
func (c *Conn) State() (string, error) {
	if !c.closed.Load() {
		var (
			st   string
			ferr error
		)
		if err := c.control(func(fd uintptr) { st, ferr = probes.FDState(fd) }); err == nil && ferr == nil {
			return st, nil
		}
	}
	return probes.LookupState(c.conn)
}

// Poll returns ErrNoPoll: Go's net offers no readiness call.
func (c *Conn) Poll() (string, error) { return "", ErrNoPoll }

// SoError is probes.FDSoError (getsockopt SO_ERROR) on the conn's
// descriptor; on a closed conn, what Go answers instead (net.ErrClosed).
func (c *Conn) SoError() probes.Outcome {
	var o probes.Outcome
	if err := c.control(func(fd uintptr) { o = probes.FDSoError(fd) }); err != nil {
		return Classify(err)
	}
	return o
}

// Conn is the connection's 4-tuple, from LocalAddr and RemoteAddr at
// creation.
func (c *Conn) Conn() probes.Conn4 { return c.conn }

// Closed reports whether Close was called.
func (c *Conn) Closed() bool { return c.closed.Load() }
