// Package schema defines closematrix result files, schema 2 (DESIGN §5): the
// types the harness writes and the matrix reads. Schema 2 is schema 1 plus
// typed fields (Step.Kind, Step.Events, Step.Completion); a reader accepts
// both (Accepts), and a schema 1 step's kind follows from its name (KindOf).
//
// It is a leaf package with no sockets and no OS-specific code, so that the
// matrix can read any platform's file on any platform, and so that the writer
// and the reader cannot drift apart: both use these types. Field names and the
// class vocabulary are part of the product; add fields, never rename them.
package schema

import (
	"fmt"
	"strings"
)

// Version is the schema number written into every file.
//
// Schema 2 (closematrix issue 10): outcome.class held three vocabularies
// already (call classes, TCP state names, poll masks) and was about to take
// two more (readiness event sets, completion codes). A consumer of the JSON
// or CSV should never have to guess which one a string is, so every step now
// says its Kind, and the two new kinds carry their data typed as well
// (Events, Completion: the IOCP completion has two codes, which one Outcome
// cannot hold). Outcome keeps its shape and meaning, so schema 1 readers of
// the outcome and the drift check work unchanged.
//
// Platform.View and Platform.Runtime were added to schema 2 later (issue
// 17) without a new number: they are additive, and a reader of a file
// without them falls back to what it did before (the label names the view).
const Version = 2

// Accepts reports whether a reader of this package understands schema v:
// 1 (no kinds; KindOf gives them) and 2.
func Accepts(v int) bool { return v == 1 || v == 2 }

// Kind says what a step observes, and so which vocabulary its outcome's
// class is in.
type Kind string

// The kinds.
const (
	// KindCall: a socket call's result; class from Classes, native errno.
	KindCall Kind = "call"
	// KindState: a TCP state; class is an RFC 793 state name or "none".
	KindState Kind = "state"
	// KindPoll: poll(2)/WSAPoll readiness; class is the ready events
	// joined by "|" or "none", errno/code SO_ERROR's pending error.
	KindPoll Kind = "poll"
	// KindWire: the segments a side sent; class is segments joined by ","
	// whose flags are joined by "+" (data+FIN,RST), or "none"; Segments
	// has them typed, pure ACKs included.
	KindWire Kind = "wire"
	// KindEvents: what a readiness registration (epoll, kqueue, AFD poll)
	// delivered; class is Events' text, Events the same typed.
	KindEvents Kind = "events"
	// KindCompletion: how an asynchronous recv (io_uring, IOCP) completed;
	// outcome as a call's (class from Classes, the completion's native
	// error), Completion the native codes typed.
	KindCompletion Kind = "completion"
	// KindCounter: how much one of the system's TCP statistics grew
	// around the action (tcp.rsts-sent: segments sent with RST); class is
	// the delta in decimal ("0", "1", "2"), Counters the readings typed.
	// The counters are system-wide: they count both ends on this host and
	// anything else sending TCP meanwhile (closematrix issue 21).
	KindCounter Kind = "counter"
)

// Kinds lists the kinds in the order a legend shows them.
var Kinds = []Kind{KindCall, KindState, KindPoll, KindWire, KindEvents, KindCompletion, KindCounter}

// KindOf is the kind of a step by its name (<side>.<what>[#n], wire.<side>):
// the grammar fixes it, so a schema 1 file's steps have kinds too.
func KindOf(step string) Kind {
	side, what, _ := strings.Cut(step, ".")
	what, _, _ = strings.Cut(what, "#")
	switch {
	case side == "wire":
		return KindWire
	case what == "state":
		return KindState
	case what == "poll":
		return KindPoll
	case what == "events":
		return KindEvents
	case what == "pending-recv":
		return KindCompletion
	case side == "tcp" && what == "rsts-sent":
		return KindCounter
	}
	return KindCall
}

// Events is what a readiness registration delivered in one read, typed
// (probes.Ready): the readiness API and the native flag names.
type Events struct {
	API string `json:"api"` // epoll, kqueue, afd
	// Names are the delivered flags by their C names, sorted (EPOLLIN,
	// AFD_POLL_DISCONNECT); empty when nothing was delivered. kqueue
	// fills Filters instead.
	Names   []string `json:"names"`
	Filters []KEvent `json:"filters,omitempty"`
}

// KEvent is one delivered kqueue event (kevent(2)): its filter, the flags
// that matter (EV_EOF, EV_ERROR), fflags as an errno name, and data.
type KEvent struct {
	Filter string   `json:"filter"` // EVFILT_READ, EVFILT_WRITE
	Flags  []string `json:"flags"`
	Fflags string   `json:"fflags,omitempty"`
	Data   int64    `json:"data"`
}

// Completion is how an asynchronous recv completed, typed
// (probes.Completion).
type Completion struct {
	API  string `json:"api"`  // io_uring, iocp
	Done bool   `json:"done"` // false: nothing completed within the bound
	N    int    `json:"n"`    // bytes received; 0 with no error is end of stream
	// Errno and Code: io_uring's -res as an errno name; IOCP's
	// GetQueuedCompletionStatus Win32 error (ERROR_NETNAME_DELETED 64).
	Errno string `json:"errno,omitempty"`
	Code  int    `json:"code,omitempty"`
	// WSA and WSACode: WSAGetOverlappedResult's code for the same
	// operation (IOCP only): WSAECONNRESET 10054 where GQCS said 64.
	WSA     string `json:"wsa,omitempty"`
	WSACode int    `json:"wsa_code,omitempty"`
	// NTStatus and NTStatusCode: the completion's raw NTSTATUS, the
	// OVERLAPPED's Internal (IOCP only; ntstatus.h name): what the class
	// comes from, since the Win32 code above folds several into one.
	NTStatus     string `json:"ntstatus,omitempty"`
	NTStatusCode uint32 `json:"ntstatus_code,omitempty"`
}

// Text is what a cell adds to the outcome for a completion: the second
// code IOCP reports, " (WSA: WSAECONNRESET 10054)"; "" when there is none.
func (c *Completion) Text() string {
	if c == nil || c.WSA == "" {
		return ""
	}
	return fmt.Sprintf(" (WSA: %s %d)", c.WSA, c.WSACode)
}

// Class is one word that says what a socket call did. The vocabulary is fixed
// (DESIGN §2); the native error name and code travel beside it in Outcome.
type Class string

// The class vocabulary.
const (
	ClassData          Class = "data"           // recv returned n > 0 bytes
	ClassEOF           Class = "eof"            // recv returned 0: orderly end of stream
	ClassOK            Class = "ok"             // the call succeeded (send, shutdown, close)
	ClassReset         Class = "reset"          // ECONNRESET / WSAECONNRESET
	ClassAborted       Class = "aborted"        // ECONNABORTED / WSAECONNABORTED
	ClassBrokenPipe    Class = "broken-pipe"    // EPIPE
	ClassShutdown      Class = "shutdown"       // ESHUTDOWN / WSAESHUTDOWN
	ClassNotConnected  Class = "not-connected"  // ENOTCONN / WSAENOTCONN
	ClassBadDescriptor Class = "bad-descriptor" // EBADF
	ClassNotSocket     Class = "not-socket"     // ENOTSOCK / WSAENOTSOCK
	ClassInterrupted   Class = "interrupted"    // EINTR / WSAEINTR
	ClassTimedOut      Class = "timed-out"      // ETIMEDOUT / WSAETIMEDOUT
	ClassUnreachable   Class = "unreachable"    // ENETUNREACH, EHOSTUNREACH / WSAENETUNREACH, WSAEHOSTUNREACH
	ClassWouldBlock    Class = "would-block"    // EAGAIN / WSAEWOULDBLOCK
	ClassBlocked       Class = "blocked"        // the call had not returned when its bound expired
	ClassOther         Class = "other"          // any other error; Errno says which
	// ClassClosed is the Go net view's answer on a connection the program
	// itself closed: net.ErrClosed ("use of closed network connection"),
	// which Go returns without asking the OS.
	ClassClosed Class = "closed"
	// ClassCancelled is an asynchronous operation that completed because it
	// was cancelled: io_uring's ECANCELED, IOCP's ERROR_OPERATION_ABORTED.
	ClassCancelled Class = "cancelled"
)

// Classes lists the vocabulary in the order a legend shows it.
var Classes = []Class{
	ClassData, ClassEOF, ClassOK, ClassReset, ClassAborted, ClassBrokenPipe,
	ClassShutdown, ClassNotConnected, ClassBadDescriptor, ClassNotSocket,
	ClassInterrupted, ClassTimedOut, ClassUnreachable, ClassWouldBlock, ClassBlocked, ClassOther, ClassClosed,
	ClassCancelled,
}

// Outcome is what one observed call returned.
type Outcome struct {
	Class Class  `json:"class"`
	N     int    `json:"n"`     // bytes moved, for data and ok
	Errno string `json:"errno"` // the platform's own constant name: ECONNRESET, WSAECONNRESET; "" when no error
	Code  int    `json:"code"`  // its number on that platform; 0 when no error
}

// String renders an outcome as a matrix cell shows it:
// "reset · WSAECONNRESET 10054", "data 1024", "eof".
func (o Outcome) String() string {
	switch {
	case o.Errno != "" && o.Code == 0: // a name without a number: Go's io.EOF, net.ErrClosed
		return fmt.Sprintf("%s · %s", o.Class, o.Errno)
	case o.Errno != "":
		return fmt.Sprintf("%s · %s %d", o.Class, o.Errno, o.Code)
	case o.N != 0:
		return fmt.Sprintf("%s %d", o.Class, o.N)
	default:
		return string(o.Class)
	}
}

// Scenario statuses.
const (
	StatusObserved = "observed" // every run played; steps hold what was seen
	StatusSkipped  = "skipped"  // not run here; Reason says why (no IPv6, needs root, not on this OS)
	StatusError    = "error"    // the harness itself failed; Reason says how
)

// File is one result file: one platform, one run of the suite.
type File struct {
	Schema     int        `json:"schema"`
	Tool       Tool       `json:"tool"`
	Platform   Platform   `json:"platform"`
	Started    string     `json:"started"` // RFC 3339, UTC
	DurationMS int64      `json:"duration_ms"`
	Scenarios  []Scenario `json:"scenarios"`
}

// Tool names the collector, so that every file says what produced it.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// Platform says where the file was recorded, and through which view. Label
// is the column name; View says which table of the matrix the column is in,
// so that no reader has to recover it from the label (closematrix issue 17:
// a label the writer composed differently, linux-amd64-gonet-ubuntu-24.04,
// filed Go's answers as the kernel's).
type Platform struct {
	Label     string `json:"label"`      // e.g. linux-amd64, windows-amd64-wine, linux-amd64-ubuntu-24.04-gonet
	OS        string `json:"os"`         // GOOS
	Arch      string `json:"arch"`       // GOARCH
	OSVersion string `json:"os_version"` // e.g. "Debian GNU/Linux 12", "Windows 10.0.26100"
	Kernel    string `json:"kernel"`     // uname release, or the Windows build
	Emulator  string `json:"emulator"`   // e.g. "wine-8.0"; empty on a real OS
	Runner    string `json:"runner"`     // CI runner image, e.g. windows-2025; empty locally
	Go        string `json:"go"`         // runtime.Version()
	// View is what the calls went through: ViewRaw for the OS's own answers
	// (x/sys sockets), "gonet" for Go's net package, and a runtime's or an
	// agent's name for the views that follow (python, node, exec, …).
	// Always written, "raw" included. A file written before the field
	// existed has none (still schema 2: the field is additive); its readers
	// take the view from the label's last segment (matrix.ViewOf).
	View string `json:"view"`
	// Runtime is the runtime the view went through, its name and version as
	// the view reports them: "go1.26.8 net" for gonet; empty for raw, whose
	// calls go straight to the OS.
	Runtime string `json:"runtime"`
	// Settings are system settings that change what some cells show,
	// by name (FreeBSD: net.inet.tcp.nolocaltimewait, 1 by default since
	// 14.0, keeps no TIME_WAIT for loopback connections); empty where the
	// probes know of none (probes.PlatformNotes).
	Settings map[string]string `json:"settings,omitempty"`
}

// ViewRaw is the view of raw sockets: what the OS itself answers.
const ViewRaw = "raw"

// Scenario is one catalogue entry's record.
type Scenario struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Labels []string `json:"labels"`
	Status string   `json:"status"`
	Reason string   `json:"reason"`
	Runs   int      `json:"runs"` // runs whose steps are counted in Steps
	Steps  []Step   `json:"steps"`
}

// Step is one observation, aggregated over the runs.
//
// Kind says which vocabulary Outcome.Class is in (schema 2; KindOf for a
// schema 1 step). Steps that observe a call carry a Class from the
// vocabulary above. Steps that observe a condition carry its own words in
// Class instead: a state step
// (actor.state, peer.state) the RFC 793 state name (ESTABLISHED, FIN_WAIT_2,
// CLOSE_WAIT, TIME_WAIT, …) or "none"; peer.poll the ready events sorted and
// joined by "|" (POLLIN|POLLOUT) or "none", with SO_ERROR's pending error in
// Errno and Code; wire.actor (wire.peer) the segments the actor (the peer)
// sent, in order and joined by "," (each "data", "FIN", "RST" or several
// joined by "+"), or "none"; an events step (peer.events#2) the delivered
// flags as probes.Ready shows them ("EPOLLIN|EPOLLRDHUP", "none"), typed in
// Events. A pending-recv step is a call's outcome, with the native codes
// typed in Completion.
type Step struct {
	Name     string    `json:"name"`           // <side>.<what>[#n], e.g. peer.recv#2; wire.<side>
	Kind     Kind      `json:"kind,omitempty"` // schema 2: always written
	Outcome  Outcome   `json:"outcome"`        // the most frequent outcome
	Variants []Variant `json:"variants"`       // every distinct outcome with its count; empty when stable
	Note     string    `json:"note,omitempty"`
	// Skipped, when set, says why this step could not be observed here (the
	// system offers no such view); Outcome is then empty and is no behaviour.
	Skipped string `json:"skipped,omitempty"`
	// Events and Completion are Outcome typed, for the kinds events and
	// completion (schema 2), for the most frequent outcome.
	Events     *Events     `json:"events,omitempty"`
	Completion *Completion `json:"completion,omitempty"`
	// Counters is Outcome typed for the kind counter: what was read and
	// each delta, for the most frequent outcome.
	Counters *Counters `json:"counters,omitempty"`
	// Segments, on a wire step (wire.actor, wire.peer), lists every segment
	// that side sent from the action to the step, pure ACKs included, in one
	// run whose Outcome is the step's. Seq numbers the segments of both
	// sides in the order they went on the wire, so that the two wire steps
	// of a scenario interleave into one exchange (the ladder diagram,
	// claim 14). Absent in files written before it existed.
	Segments []Segment `json:"segments,omitempty"`
}

// Segment is one TCP segment a wire step saw.
type Segment struct {
	Seq   int    `json:"seq"`           // position in the connection's capture, both directions, from 0
	Flags string `json:"flags"`         // FIN, RST, PSH, ACK joined by "+" (FIN+ACK); "" for none
	Len   int    `json:"len,omitempty"` // payload bytes
}

// Variant is one distinct outcome of an unstable step, with its typed
// detail for the events and completion kinds.
type Variant struct {
	Outcome
	Count      int         `json:"count"`
	Events     *Events     `json:"events,omitempty"`
	Completion *Completion `json:"completion,omitempty"`
	Counters   *Counters   `json:"counters,omitempty"`
}

// Counters is what a counter step (tcp.rsts-sent) read, typed
// (probes.Counters): the system's TCP statistics' growth from just before
// the action to the step. They are system-wide, not the connection's: both
// ends of a loopback connection count, and so does any other TCP on the
// host (on Linux, in the network namespace) meanwhile; the harness checks
// that they stood still before the action.
type Counters struct {
	// Source names what was read: "/proc/net/snmp Tcp OutRsts",
	// "GetTcpStatisticsEx dwOutRsts (AF_INET + AF_INET6)",
	// "GetTcpStatisticsEx (Wine: Linux's /proc/net/snmp)".
	Source   string `json:"source"`
	RstsSent int64  `json:"rsts_sent"` // segments sent with RST (RFC 1213 tcpOutRsts)
	// EstabResets (RFC 1213 tcpEstabResets: connections that went from
	// ESTABLISHED or CLOSE_WAIT to CLOSED) and OutSegs (segments sent) are
	// the other deltas, where the system offers them.
	EstabResets *int64 `json:"estab_resets,omitempty"`
	OutSegs     *int64 `json:"out_segs,omitempty"`
}
