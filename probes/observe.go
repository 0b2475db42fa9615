package probes

import (
	"errors"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// TCP state names are RFC 793's (§3.2), spelt as the matrix shows them. Every
// OS numbers its states differently; each maps its own numbering to these in
// one table (state_linux.go, state_darwin.go, state_windows.go).
const (
	StateClosed      = "CLOSED"
	StateListen      = "LISTEN"
	StateSynSent     = "SYN_SENT"
	StateSynReceived = "SYN_RECEIVED"
	StateEstablished = "ESTABLISHED"
	StateFinWait1    = "FIN_WAIT_1"
	StateFinWait2    = "FIN_WAIT_2"
	StateCloseWait   = "CLOSE_WAIT"
	StateClosing     = "CLOSING"
	StateLastAck     = "LAST_ACK"
	StateTimeWait    = "TIME_WAIT"
	// StateNone says the system has no entry for the connection: it is gone
	// (CLOSED, in RFC 793's words, once the TCB is deleted).
	StateNone = "none"
)

// transient are the states that end when an ACK arrives (RFC 793 §3.5,
// figure 6): a connection in one of them has not settled yet.
var transient = map[string]bool{
	StateSynSent: true, StateSynReceived: true, StateFinWait1: true, StateClosing: true, StateLastAck: true,
}

// Poll event names, as poll(2) spells them.
const (
	PollIn    = "POLLIN"
	PollOut   = "POLLOUT"
	PollHup   = "POLLHUP"
	PollErr   = "POLLERR"
	PollRdHup = "POLLRDHUP" // Linux only
	PollNone  = "none"
)

// errClosedSocket: a probe that only makes sense on an open socket was asked
// of a closed one; it is not made.
var errClosedSocket = errors.New("the socket is closed")

// Conn4 is a connection's 4-tuple, as the system's TCP table keys it.
type Conn4 struct {
	Local, Remote netip.AddrPort
}

// State is the socket's TCP state. A live socket answers for itself (TCP_INFO,
// TCP_CONNECTION_INFO, SIO_TCP_INFO); a closed one is looked up by its
// 4-tuple in the system's table (/proc/net/tcp, pcblist_n, GetTcpTable2), where
// an orphaned connection lingers in FIN_WAIT_2, LAST_ACK or TIME_WAIT.
//
// One meaning per word, whichever path read it: a socket that is still open
// but whose connection is gone (reset) is CLOSED. Linux's TCP_INFO says so
// itself; where the socket cannot answer (Wine 8 refuses SIO_TCP_INFO; a
// Windows or darwin socket may refuse it after a reset) and the table has no
// row, State says CLOSED too. StateNone is only for a socket this side has
// closed and the system no longer lists.
func (s *Socket) State() (string, error) {
	if s.Closed() {
		return LookupState(s.conn)
	}
	if st, err := tcpState(s.fd); err == nil {
		return st, nil
	}
	return openFromTable(LookupState(s.conn))
}

// openFromTable is an open socket's state read from the table: a connection
// the table does not list is gone, CLOSED.
func openFromTable(st string, err error) (string, error) {
	if err == nil && st == StateNone {
		return StateClosed, nil
	}
	return st, err
}

// States reads an open socket's state both ways, for the harness's
// self-check: from the socket (fromSocket) and from the system's table
// (fromTable, StateNone for no row). Where the socket cannot answer, both are
// "" and the table is not read (Wine's GetTcpTable2 can take a second).
func (s *Socket) States() (fromSocket, fromTable string, err error) {
	if s.Closed() {
		return "", "", errClosedSocket
	}
	fromSocket, serr := tcpState(s.fd)
	if serr != nil {
		return "", "", nil // one view only: nothing to compare, no table read
	}
	fromTable, err = LookupState(s.conn)
	return fromSocket, fromTable, err
}

// StatesAgree reports whether what an open socket says of its state and what
// the system's table says of its connection are one state: the same name; or
// the socket CLOSED (its connection gone) and the table without a row; or
// the socket CLOSED and the table TIME_WAIT, which is how Linux lists a
// connection that an open socket let pass into TIME_WAIT: the socket reads
// TCP_CLOSE and a timewait sock holds the 4-tuple (net/ipv4/tcp_minisocks.c,
// tcp_time_wait).
func StatesAgree(fromSocket, fromTable string) bool {
	return fromSocket == fromTable ||
		fromSocket == StateClosed && (fromTable == StateNone || fromTable == StateTimeWait)
}

// LookupState finds a connection's state in the system's TCP table, or
// StateNone when it has no entry.
func LookupState(c Conn4) (string, error) { return lookupState(c) }

// Conn is the socket's 4-tuple, read when it was connected or accepted.
func (s *Socket) Conn() Conn4 { return s.conn }

// Poll wraps poll(2) / WSAPoll with a zero timeout and reports which events
// are ready, sorted and joined by "|", or "none".
func (s *Socket) Poll() (string, error) {
	if s.Closed() {
		return "", errClosedSocket
	}
	ev, err := pollEvents(s.fd)
	if err != nil {
		return "", err
	}
	if len(ev) == 0 {
		return PollNone, nil
	}
	sort.Strings(ev)
	return strings.Join(ev, "|"), nil
}

// SoError wraps getsockopt(SO_ERROR): the pending error, which reading clears
// (socket(7); Winsock SOL_SOCKET options). Outcome class ok means none.
func (s *Socket) SoError() Outcome {
	if s.Closed() {
		return Outcome{} // no observation: the number may be another's now
	}
	pend, err := soError(s.fd)
	if err != nil {
		return errOutcome(err)
	}
	return okOrErr(pend)
}

// settleState waits, up to bound, until a connection's table entry is in a
// state that no ACK in flight will change. It polls every tablePoll at first
// and doubles the pause up to tablePollMax: where reading the table takes a
// system-wide lock (darwin's pcblist_n takes the TCP PCB list lock) the
// runner must not hammer it.
func settleState(c Conn4, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	pause := tablePoll
	for {
		st, err := lookupState(c)
		if err != nil {
			return false
		}
		if !transient[st] {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(min(pause, max(time.Until(deadline), 0)))
		pause = min(2*pause, tablePollMax)
	}
}

// SettleConn waits, up to bound, until a connection's table entry leaves the
// states that await an ACK: how a socket that is not ours (another
// process's, already gone) settles. On darwin and FreeBSD it waits for both
// ends' entries and a loopback barrier (settle.go).
func SettleConn(c Conn4, bound time.Duration) bool { return settleConn(c, bound) }
