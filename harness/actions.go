package harness

import (
	"github.com/closematrix/closematrix/probes"
)

// Action is what the actor does to its socket.
type Action string

// The actions; each one's meaning and how it is done is its row in actions.
const (
	Close        Action = "close"
	Abort        Action = "abort"
	ShutdownRD   Action = "shutdown-rd"
	ShutdownWR   Action = "shutdown-wr"
	ShutdownRDWR Action = "shutdown-rdwr"
	Kill         Action = "kill"
	Exit         Action = "exit"
	LinkDown     Action = "link-down"
	Drop         Action = "drop"
	// CancelThenClose cancels the actor's pending asynchronous recv, then
	// closes: the fix of libuv#3036 for libuv#3034.
	CancelThenClose  Action = "cancel-then-close"
	ListenerClose    Action = "listener-close"
	ListenerShutdown Action = "listener-shutdown"
	// ListenerShutdownWR shuts only the send direction of a listening
	// socket, which has none.
	ListenerShutdownWR Action = "listener-shutdown-wr"
)

// actionSpec is everything the harness knows about one action: what it acts
// on, what it does to the actor's socket, what it needs, and how the play
// does it. Adding an action is one row.
type actionSpec struct {
	// listener: the actor is a listening socket, the peer a client it
	// never accepted (listener scenarios are played on raw sockets only).
	listener bool
	// closes: the action's own call closes the actor's socket.
	closes bool
	// process: the action ends a helper process that holds the actor's
	// socket (process.go); the OS closes what it left open.
	process bool
	// network: the action breaks the network between the two ends, which
	// live in network namespaces of their own (network_linux.go).
	network bool
	// shutsRead: the actor's own receive direction is shut, so an end of
	// stream it reads is its own doing (the byte-count self-check).
	shutsRead bool
	// setup is a setup the action goes with, both ways (abort is close
	// with linger 0); posture one it needs.
	setup   Setup
	posture Posture
	// do is the action's call (play.act runs it bounded).
	do  func(p *play) probes.Outcome
	doc string
}

// actions is the action table; filled in init for the reason ops is.
var actions map[Action]actionSpec

func init() {
	shut := func(how probes.How) func(p *play) probes.Outcome {
		return func(p *play) probes.Outcome { return p.sock[Actor].Shutdown(how) }
	}
	closeActor := func(p *play) probes.Outcome { return p.sock[Actor].Close() }
	actions = map[Action]actionSpec{
		Close: {closes: true, do: closeActor,
			doc: "close(2) / closesocket"},
		Abort: {closes: true, setup: Linger0, do: closeActor,
			doc: "close with SO_LINGER {1, 0} (the linger0 setup): RST instead of FIN"},
		ShutdownRD: {shutsRead: true, do: shut(probes.ShutRD),
			doc: "shutdown(SHUT_RD / SD_RECEIVE)"},
		ShutdownWR: {do: shut(probes.ShutWR),
			doc: "shutdown(SHUT_WR / SD_SEND)"},
		ShutdownRDWR: {shutsRead: true, do: shut(probes.ShutRDWR),
			doc: "shutdown(SHUT_RDWR / SD_BOTH)"},
		Kill: {process: true, do: func(p *play) probes.Outcome { return p.harnessOp("kill", p.processActor().kill()) },
			doc: "SIGKILL or TerminateProcess of the process holding the actor's socket"},
		Exit: {process: true, do: func(p *play) probes.Outcome { return p.harnessOp("exit", p.processActor().exit()) },
			doc: "the process holding the actor's socket exits without closing it"},
		LinkDown: {network: true, do: (*play).breakNetwork,
			doc: "the actor's end of the veth link goes down (Linux, root)"},
		Drop: {network: true, do: (*play).breakNetwork,
			doc: "nftables drops every segment between the ends: the cable was pulled (Linux, root)"},
		CancelThenClose: {closes: true, posture: OwnPendingRecv, do: (*play).cancelThenClose,
			doc: "CancelIoEx / IORING_OP_ASYNC_CANCEL of the pending recv, then close (libuv#3036)"},
		ListenerClose: {listener: true, closes: true, do: closeActor,
			doc: "close the listening socket"},
		ListenerShutdown: {listener: true, shutsRead: true, do: shut(probes.ShutRDWR),
			doc: "shutdown(SHUT_RDWR) on the listening socket"},
		ListenerShutdownWR: {listener: true, do: shut(probes.ShutWR),
			doc: "shutdown(SHUT_WR) on the listening socket"},
	}
}

// spec is the action's row; the zero row for an unknown action (Validate
// rejects it).
func (a Action) spec() actionSpec { return actions[a] }

// closesActor reports whether the action closes the actor's socket, itself
// or by ending its process.
func (a Action) closesActor() bool { s := a.spec(); return s.closes || s.process }
