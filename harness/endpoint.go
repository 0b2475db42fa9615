package harness

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// Endpoint is one end of a connection as the runner drives it: the calls
// every view has. Raw sockets (*probes.Socket) implement it, and so do the Go
// net view (probes/gonet) and a runtime's agent, so that one runner plays
// every scenario through any of them. What a view can show beyond its calls
// is one of the optional capabilities below; what it cannot show, the runner
// reads from the system by the connection's 4-tuple (observerOf) or records
// as skipped with the reason.
type Endpoint interface {
	Send(p []byte) probes.Outcome
	Recv(max int) probes.Outcome
	Shutdown(how probes.How) probes.Outcome
	Close() probes.Outcome
	SetLinger(on bool, secs int) error
	// Conn is the connection's 4-tuple: the key of every system table the
	// runner reads for it, and of the wire capture.
	Conn() probes.Conn4
	Closed() bool
}

// Observer is an endpoint that reads its own TCP state, unread bytes and
// settling from its socket (TCP_INFO, FIONREAD, the send queue). An
// endpoint without it gets tableObserver: the same from the system's socket
// table by 4-tuple, as for a connection held by another process.
type Observer interface {
	State() (string, error)
	Pending() (int, error)
	Settle(bound time.Duration) bool
}

// Poller is an endpoint whose readiness and pending error can be read
// without disturbing it (poll/WSAPoll with zero timeout, SO_ERROR): the
// step <side>.poll.
type Poller interface {
	Poll() (string, error)
	SoError() probes.Outcome
}

// StateChecker is an endpoint that can give its state both from the socket
// and from the system's table, for the self-check that they agree.
type StateChecker interface {
	States() (fromSocket, fromTable string, err error)
}

// CallWaiter is an endpoint whose blocking calls park inside its runtime
// instead of sleeping in a system call (Go's netpoller, an event loop): it
// says itself when a call is waiting, and since no thread can be seen asleep
// in a socket call, the runner does not wait for a scheduled thread either.
type CallWaiter interface {
	WaitInCall(bound time.Duration) (signal bool, err error)
}

// CallEnterer is an endpoint whose blocking calls say when they enter the
// system call itself (raw sockets: probes.Socket.RecvEntering): a posture's
// thread-state signal is read only from then on, not while the call is
// still preparing (closematrix issue 20.2).
type CallEnterer interface {
	RecvEntering(max int, entering func()) probes.Outcome
	SendEntering(p []byte, entering func()) probes.Outcome
}

// Watchable is an endpoint that a readiness API can register (raw sockets:
// epoll, kqueue, AFD poll); a runtime that owns its descriptor's
// registration is not.
type Watchable interface {
	Watch() (*probes.Watch, error)
}

// AsyncReceiver is an endpoint that can have an asynchronous recv
// outstanding (io_uring, an overlapped WSARecv): the pending postures.
type AsyncReceiver interface {
	StartRecv(max int) (*probes.AsyncRecv, error)
}

// BufferFiller is an endpoint that can fill its send buffer without
// blocking (the unsent-at-actor setup).
type BufferFiller interface {
	FillSendBuffer() (int, error)
}

// UserTimeouter is an endpoint that can set TCP_USER_TIMEOUT (RFC 5482).
type UserTimeouter interface {
	SetUserTimeout(d time.Duration) error
}

// Refuser is an endpoint whose calls can be refused: a runtime that has no
// such operation (asyncio and Node have no shutdown for reading) answers so
// instead of a result. TakeRefusal returns the last refusal and clears it:
// ErrNotInView for an operation the view lacks (the step, or the scenario
// when the action was refused, is skipped with the reason), any other error
// for a refusal that is a fault.
type Refuser interface {
	TakeRefusal() error
}

// RuntimeNamer is a Transport that names the runtime its calls go through,
// with its version, for platform.runtime.
type RuntimeNamer interface {
	Runtime() string
}

// processEnd is the actor of a process scenario: a connection held by a
// helper process (process.go), which the runner ends and asks about unread
// data.
type processEnd interface {
	Endpoint
	kill() error
	exit() error
	waitPending(n int) error
}

// tableObserver observes an endpoint from the system's socket table by its
// 4-tuple: the default for a view that implements only the calls, and what
// the runner has for a connection in another process.
type tableObserver struct{ e Endpoint }

// State is the connection's table entry, as the table says it: none when
// there is no entry. A raw socket still open would read CLOSED there (its
// own TCP_INFO), but whether a runtime still holds its socket open is not
// in the table (Node destroys its socket on 'error', asyncio closes its
// transport after connection_lost), so the step says so in its note
// (stateStep) instead of guessing CLOSED.
func (t tableObserver) State() (string, error) { return probes.LookupState(t.e.Conn()) }

// Pending is the connection's unread bytes as the table shows them
// (/proc/net/tcp rx_queue, pcblist's so_rcv.sb_cc, ESTATS elsewhere).
func (t tableObserver) Pending() (int, error) {
	f, err := probes.ConnFlight(t.e.Conn())
	return f.Unread, err
}

// Settle waits for the connection's table entry to leave the states that
// await an ACK.
func (t tableObserver) Settle(bound time.Duration) bool { return probes.SettleConn(t.e.Conn(), bound) }

// Flight is the connection's queues by 4-tuple (blocked.go).
func (t tableObserver) Flight() (probes.Flight, error) { return probes.ConnFlight(t.e.Conn()) }

// observerOf is e's own Observer, or the table's.
func observerOf(e Endpoint) Observer {
	if o, ok := e.(Observer); ok {
		return o
	}
	return tableObserver{e}
}

// flightOf is e's own view of its queues, or the table's; nil where neither
// exists (a listener actor without one).
func flightOf(e Endpoint) flighter {
	if f, ok := e.(flighter); ok {
		return f
	}
	if _, ok := e.(Observer); ok {
		return nil // it observes itself and shows no queues: no signal
	}
	return tableObserver{e}
}

// Listener accepts connections for a Transport.
type Listener interface {
	Port() int
	Accept() (Endpoint, error)
	Close() error
}

// Transport makes connections on loopback.
type Transport interface {
	// Name is the view's name: "" for raw sockets, "gonet" for Go's net;
	// it suffixes the platform label of a result file.
	Name() string
	Listen(f probes.Family) (Listener, error)
	Dial(f probes.Family, port int) (Endpoint, error)
}

// Raw is the transport of raw x/sys sockets: what the OS itself answers.
var Raw Transport = raw{}

type raw struct{}

func (raw) Name() string { return "" }

func (raw) Listen(f probes.Family) (Listener, error) {
	l, err := probes.Listen(f)
	if err != nil {
		return nil, err
	}
	return rawListener{l}, nil
}

func (raw) Dial(f probes.Family, port int) (Endpoint, error) {
	s, err := probes.Dial(f, port)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return s, nil
}

type rawListener struct{ *probes.Listener }

func (l rawListener) Accept() (Endpoint, error) {
	s, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// transports are the views a suite run can take, by name.
var transports = map[string]Transport{"raw": Raw}

// TransportByName returns the view a suite flag names: raw or gonet.
func TransportByName(name string) (Transport, error) {
	if t, ok := transports[name]; ok {
		return t, nil
	}
	var names []string
	for n := range transports {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown view %q (have %s)", name, strings.Join(names, ", "))
}
