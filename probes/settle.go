package probes

import (
	"fmt"
	"time"
)

// This file is how a connection settles where loopback delivery is
// asynchronous and nothing says when it is done: darwin and FreeBSD
// (settle_bsd.go). It has no build tag, so that its logic is tested on every
// OS with a fake table and a fake barrier (settle_test.go).
//
// On those systems a segment sent over loopback is queued for a kernel
// thread, not processed in the sender's call: FreeBSD's if_simloop hands it
// to netisr_queue (sys/net/if_loop.c), xnu's lo_output to
// ifnet_input_extended, whose packets the main input thread takes in order
// from lo_rcvq_pkts (bsd/net/if_loop.c; bsd/net/dlil_input.c,
// dlil_main_input_thread_cont). A FIN is in no send buffer (darwin's
// tcpi_snd_sbbytes is so_snd.sb_cc; FreeBSD's FIONWRITE is sbavail), an RST
// in no queue at all, and neither system shows its input backlog (Linux's
// LoopbackIdle): after the action, nothing says that the other end has seen
// it. Two signals together do:
//
//   - Both ends' entries in the system's table have left the states that
//     end when an ACK arrives (transient: SYN_SENT, SYN_RECEIVED,
//     FIN_WAIT_1, CLOSING, LAST_ACK; RFC 793 §3.2, figure 6): an end in one
//     of them has sent something whose answer is still on its way. Every
//     other state waits for the application or the other end (ESTABLISHED,
//     CLOSE_WAIT, FIN_WAIT_2), for a timer (TIME_WAIT) or is final (none).
//     Both ends are on this host, so the connection's 4-tuple and its
//     reverse find them, whichever end asks.
//   - Then a barrier: a datagram sent over loopback in the connection's
//     family, and received. Both input paths are FIFO, so its arrival proves
//     that everything queued before it — the action's FIN or RST — has been
//     processed. An RST changes no transient state (the peer goes from
//     ESTABLISHED to none), so only the barrier says it has landed.
//
// What the processing of those segments sends back (the ACK of a FIN) is
// queued behind the barrier, so the table is read again after it: the
// connection has settled when two reads with a barrier between them agree
// and neither end is transient. Otherwise another round, within the bound.

// endsSettler settles a connection by both of its ends' table entries and a
// loopback barrier.
type endsSettler struct {
	// lookup reads the table once: the state of c's entry (local) and of
	// the reverse 4-tuple's (remote), StateNone where there is none.
	lookup func(c Conn4) (local, remote string, err error)
	// barrier sends a datagram over loopback in c's family and waits,
	// within the bound, until it has been received.
	barrier func(c Conn4, bound time.Duration) error
	// poll and pollMax pace the table reads as settleState does: the first
	// pause, doubled up to pollMax.
	poll, pollMax time.Duration
}

// reverse is the 4-tuple as the other end keys it.
func reverse(c Conn4) Conn4 { return Conn4{Local: c.Remote, Remote: c.Local} }

// settle waits, up to bound, until c has settled (see above). It reports
// false when the bound ran out first, the table could not be read or the
// barrier did not pass: "not settled", never a guess. Without a table (a
// filtered pcblist, say) the barrier is still passed, once: it alone says
// that an RST has landed, though not that an ACK has.
func (e endsSettler) settle(c Conn4, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for {
		before, ok, err := e.steady(c, deadline)
		if err != nil {
			e.barrier(c, time.Until(deadline))
			return false
		}
		if !ok {
			return false
		}
		if err := e.barrier(c, time.Until(deadline)); err != nil {
			return false
		}
		l, r, err := e.lookup(c)
		if err != nil {
			return false
		}
		if after := [2]string{l, r}; after == before {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// steady waits until neither end is in a transient state and returns both
// states; false if the deadline passes first, the error if the table cannot
// be read.
func (e endsSettler) steady(c Conn4, deadline time.Time) ([2]string, bool, error) {
	pause := e.poll
	for {
		l, r, err := e.lookup(c)
		if err != nil {
			return [2]string{}, false, err
		}
		if !transient[l] && !transient[r] {
			return [2]string{l, r}, true, nil
		}
		if time.Now().After(deadline) {
			return [2]string{}, false, nil
		}
		time.Sleep(min(pause, max(time.Until(deadline), 0)))
		pause = min(2*pause, e.pollMax)
	}
}

// errBarrierBound: the barrier's datagram did not arrive within its bound
// (a full input queue drops it: xnu's lo_rcvq_pkts is Q_DROPTAIL, FreeBSD's
// netisr queue has a limit, net.isr.defaultqlimit).
var errBarrierBound = fmt.Errorf("the loopback barrier's datagram did not arrive within its bound")
