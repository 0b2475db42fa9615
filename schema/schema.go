// Package schema defines closematrix result files, schema 1 (DESIGN §5): the
// types the harness writes and the matrix reads.
//
// It is a leaf package with no sockets and no OS-specific code, so that the
// matrix can read any platform's file on any platform, and so that the writer
// and the reader cannot drift apart: both use these types. Field names and the
// class vocabulary are part of the product; add fields, never rename them.
package schema

import "fmt"

// Version is the schema number written into and required of every file.
const Version = 1

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

// Platform says where the file was recorded. Label is the column name.
type Platform struct {
	Label     string `json:"label"`      // e.g. linux-amd64, windows-amd64-wine
	OS        string `json:"os"`         // GOOS
	Arch      string `json:"arch"`       // GOARCH
	OSVersion string `json:"os_version"` // e.g. "Debian GNU/Linux 12", "Windows 10.0.26100"
	Kernel    string `json:"kernel"`     // uname release, or the Windows build
	Emulator  string `json:"emulator"`   // e.g. "wine-8.0"; empty on a real OS
	Runner    string `json:"runner"`     // CI runner image, e.g. windows-2025; empty locally
	Go        string `json:"go"`         // runtime.Version()
}

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
// Steps that observe a call carry a Class from the vocabulary above. Steps
// that observe a condition carry its own words in Class instead: a state step
// (actor.state, peer.state) the RFC 793 state name (ESTABLISHED, FIN_WAIT_2,
// CLOSE_WAIT, TIME_WAIT, …) or "none"; peer.poll the ready events sorted and
// joined by "|" (POLLIN|POLLOUT) or "none", with SO_ERROR's pending error in
// Errno and Code; wire.actor (wire.peer) the segments the actor (the peer)
// sent, in order and joined by "," (each "data", "FIN", "RST" or several
// joined by "+"), or "none".
type Step struct {
	Name     string    `json:"name"`     // <side>.<what>[#n], e.g. peer.recv#2; wire.<side>
	Outcome  Outcome   `json:"outcome"`  // the most frequent outcome
	Variants []Variant `json:"variants"` // every distinct outcome with its count; empty when stable
	Note     string    `json:"note,omitempty"`
	// Skipped, when set, says why this step could not be observed here (the
	// system offers no such view); Outcome is then empty and is no behaviour.
	Skipped string `json:"skipped,omitempty"`
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

// Variant is one distinct outcome of an unstable step.
type Variant struct {
	Outcome
	Count int `json:"count"`
}
