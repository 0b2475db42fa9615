// Package agent is the harness's side of the closematrix agent protocol
// (docs/agent-protocol.md): it starts an agent process for a runtime (Python,
// Node, any program that speaks the protocol), reads its hello, sends it
// commands and matches its answers by id, and turns every way an agent can
// go wrong (no hello, a line that is not the protocol, an exit, silence) into
// an error that carries the agent's last lines of stderr.
//
// The package knows nothing of scenarios or outcome classes: it moves the
// runtime's own words. harness/transport_agent.go turns them into outcomes.
package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
)

// Protocol is the version of the protocol this package speaks.
const Protocol = 1

// The operations of protocol 1 (docs/agent-protocol.md, "Commands").
const (
	OpListen        = "listen"
	OpCloseListener = "close-listener"
	OpAccept        = "accept"
	OpDial          = "dial"
	OpSend          = "send"
	OpRecv          = "recv"
	OpShutdown      = "shutdown"
	OpClose         = "close"
	OpAbort         = "abort"
	OpSetLinger     = "set-linger"
	OpPauseReading  = "pause-reading"
	OpFill          = "fill"
)

// Ops lists every operation of protocol 1, in the order docs list them.
var Ops = []string{OpListen, OpCloseListener, OpAccept, OpDial, OpSend, OpRecv, OpShutdown, OpClose, OpAbort, OpSetLinger, OpPauseReading, OpFill}

// Statuses of a final answer.
const (
	StatusOK          = "ok"          // the call returned normally (n says what it moved)
	StatusError       = "error"       // the call failed: Error says how, in the runtime's words
	StatusUnsupported = "unsupported" // the runtime has no such call: Reason says why
	StatusBadRequest  = "bad-request" // the command was not understood (unknown op, missing field)
)

// Hello is the agent's first line.
type Hello struct {
	Protocol int    `json:"protocol"`
	Runtime  string `json:"runtime"` // "CPython", "Node.js"
	Version  string `json:"version"` // the runtime's own version string
	API      string `json:"api"`     // "socket", "asyncio", "net"
	// Ops are the operations the agent implements; any other answers
	// unsupported (or bad-request, for a name protocol 1 does not have).
	Ops []string `json:"ops"`
	// ThreadIDs says whether a blocking call's started message carries
	// the native id of the OS thread that makes it.
	ThreadIDs bool `json:"thread_ids"`
	// Abort says what the abort operation does, in the runtime's terms:
	// "SO_LINGER {1, 0} then close()", "transport.abort()",
	// "socket.resetAndDestroy()".
	Abort string `json:"abort,omitempty"`
	// Loop names the event loop, for evented APIs (asyncio's loop class).
	Loop string `json:"loop,omitempty"`
	// Options are the settings the agent runs the API with, where they
	// change what is observed (Node's allowHalfOpen).
	Options map[string]any `json:"options,omitempty"`
	// PID is the agent's process id, for reading its threads' states.
	PID int `json:"pid,omitempty"`
}

// Supports reports whether the hello declares op.
func (h Hello) Supports(op string) bool {
	for _, o := range h.Ops {
		if o == op {
			return true
		}
	}
	return false
}

// Command is one request to the agent. Fields that an operation does not
// take are left out of the line.
type Command struct {
	ID       uint64 `json:"id"`
	Op       string `json:"op"`
	Family   string `json:"family,omitempty"`   // listen, dial: "v4" (127.0.0.1) or "v6" (::1)
	Port     int    `json:"port,omitempty"`     // dial
	Listener string `json:"listener,omitempty"` // accept, close-listener
	Conn     string `json:"conn,omitempty"`     // every connection operation
	N        int    `json:"n,omitempty"`        // send: bytes (zeros) to send
	Max      int    `json:"max,omitempty"`      // recv: the buffer's size
	How      string `json:"how,omitempty"`      // shutdown: rd, wr, rdwr
	On       *bool  `json:"on,omitempty"`       // set-linger
	Secs     int    `json:"secs,omitempty"`     // set-linger
}

// Error is a failed call in the runtime's own words.
type Error struct {
	// Type is the exception's class or the error's constructor name
	// (ConnectionResetError, Error).
	Type string `json:"type,omitempty"`
	// Code is the runtime's own code where it has one (Node's err.code:
	// ECONNRESET, ERR_STREAM_DESTROYED).
	Code string `json:"code,omitempty"`
	// Name is the OS error's C constant name (ECONNRESET, WSAECONNRESET)
	// when the runtime exposes an OS error.
	Name string `json:"name,omitempty"`
	// Errno is the OS's own error number (104; 10054 on Windows) where the
	// runtime exposes it; 0 when it does not.
	Errno int `json:"errno,omitempty"`
	// Message is the runtime's message: a note only, never compared.
	Message string `json:"message,omitempty"`
}

// Answer is a line from the agent about a command: the final answer, or a
// started message (Started) that a blocking call has begun.
type Answer struct {
	ID      uint64 `json:"id"`
	Started bool   `json:"started,omitempty"`
	TID     int    `json:"tid,omitempty"` // started: the native thread id
	Status  string `json:"status,omitempty"`
	N       int    `json:"n,omitempty"`
	// Listener and Port name a new listener; Conn a new connection, with
	// its Local and Remote addresses ("127.0.0.1:5000", "[::1]:5000").
	Listener string `json:"listener,omitempty"`
	Port     int    `json:"port,omitempty"`
	Conn     string `json:"conn,omitempty"`
	Local    string `json:"local,omitempty"`
	Remote   string `json:"remote,omitempty"`
	Error    *Error `json:"error,omitempty"`
	// Events are the API's events on the connection since the last answer
	// about it, in order, as the runtime names them: "end", "error
	// ECONNRESET", "close hadError" (Node); "eof_received",
	// "connection_lost(ConnectionResetError)" (asyncio).
	Events []string `json:"events,omitempty"`
	Reason string   `json:"reason,omitempty"` // unsupported, bad-request: why
	Note   string   `json:"note,omitempty"`
}

// Addrs parses the answer's local and remote addresses, IPv4 in its 4-byte
// form (the key the system's TCP table uses).
func (a Answer) Addrs() (local, remote netip.AddrPort, err error) {
	if local, err = parseAddr(a.Local); err != nil {
		return local, remote, fmt.Errorf("local address: %w", err)
	}
	if remote, err = parseAddr(a.Remote); err != nil {
		return local, remote, fmt.Errorf("remote address: %w", err)
	}
	return local, remote, nil
}

func parseAddr(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return ap, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// ErrNotProtocol says a line from the agent is not protocol 1.
var ErrNotProtocol = errors.New("not the closematrix agent protocol")

// maxLine bounds one line from the agent: every message of protocol 1 is far
// smaller; a longer line is a fault, not a message.
const maxLine = 64 << 10

// DecodeHello parses the first line.
func DecodeHello(line []byte) (Hello, error) {
	var h Hello
	if err := strictUnmarshal(line, &h); err != nil {
		return h, fmt.Errorf("%w: hello: %v", ErrNotProtocol, err)
	}
	switch {
	case h.Protocol != Protocol:
		return h, fmt.Errorf("%w: hello: protocol %d, want %d", ErrNotProtocol, h.Protocol, Protocol)
	case h.Runtime == "" || h.API == "":
		return h, fmt.Errorf("%w: hello: runtime and api are required", ErrNotProtocol)
	}
	return h, nil
}

// DecodeAnswer parses one line after the hello: an answer or a started
// message, checked for the fields the protocol requires.
func DecodeAnswer(line []byte) (Answer, error) {
	var a Answer
	if err := strictUnmarshal(line, &a); err != nil {
		return a, fmt.Errorf("%w: %v", ErrNotProtocol, err)
	}
	if a.ID == 0 {
		return a, fmt.Errorf("%w: an answer without an id", ErrNotProtocol)
	}
	if a.Started {
		if a.Status != "" {
			return a, fmt.Errorf("%w: id %d: a started message has no status", ErrNotProtocol, a.ID)
		}
		if a.TID < 0 {
			return a, fmt.Errorf("%w: id %d: thread id %d", ErrNotProtocol, a.ID, a.TID)
		}
		return a, nil
	}
	switch a.Status {
	case StatusOK, StatusUnsupported, StatusBadRequest:
	case StatusError:
		if a.Error == nil {
			return a, fmt.Errorf("%w: id %d: status error without an error", ErrNotProtocol, a.ID)
		}
	default:
		return a, fmt.Errorf("%w: id %d: status %q", ErrNotProtocol, a.ID, a.Status)
	}
	if a.N < 0 {
		return a, fmt.Errorf("%w: id %d: n %d", ErrNotProtocol, a.ID, a.N)
	}
	if a.Conn != "" && (a.Local != "" || a.Remote != "") {
		if _, _, err := a.Addrs(); err != nil {
			return a, fmt.Errorf("%w: id %d: %v", ErrNotProtocol, a.ID, err)
		}
	}
	return a, nil
}

// strictUnmarshal decodes exactly one JSON object, nothing after it.
func strictUnmarshal(line []byte, v any) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return errors.New("not a JSON object")
	}
	if len(line) > maxLine {
		return fmt.Errorf("a line of %d bytes (the limit is %d)", len(line), maxLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}
