package probes

import "net/netip"

// Flight is what a connection has in flight at one moment: its state, what
// it holds to send (bytes and a FIN sent but not acknowledged, or not sent
// yet), and what it holds for its reader (bytes received and not read, or,
// for a listener, connections waiting to be accepted).
type Flight struct {
	State  string
	Queued int
	Unread int
}

// Quiet reports whether nothing is in flight: nothing to send or
// retransmit, nothing to read, and a state that no ACK on its way will
// change (transient). Such a connection sends no segment of its own accord
// until a timer that needs something to send (retransmission, tail loss
// probe, zero-window probe) or one the program set (keepalive, user timeout,
// linger) fires; see the harness's blocked-call signal for what that allows.
func (f Flight) Quiet() bool { return f.Queued == 0 && f.Unread == 0 && !transient[f.State] }

// Flight reads the socket's Flight: from the socket itself while it is open,
// from the system's table by 4-tuple once it is closed (an orphaned
// connection may still hold data and a FIN). ErrUnsupported where the
// system shows no queues.
func (s *Socket) Flight() (Flight, error) {
	if !s.Closed() {
		if f, err := fdFlight(s.fd); err == nil {
			return f, nil
		}
	}
	return ConnFlight(s.conn)
}

// loopbackAddr is the address our sockets bind in family f.
func loopbackAddr(f Family) netip.Addr {
	if f == V6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// ConnFlight looks a connection's Flight up by its 4-tuple (a closed
// socket's, another process's); a connection with no entry has nothing in
// flight (state none).
func ConnFlight(c Conn4) (Flight, error) { return lookupFlight(c) }

// Flight reads the listener's Flight: Unread is the connections waiting in
// its accept queue.
func (l *Listener) Flight() (Flight, error) {
	if !l.isClosed() {
		if f, err := fdFlight(l.fd); err == nil {
			return f, nil
		}
	}
	// A listener's entry has the unspecified address and port 0 as its
	// remote end.
	unspec := netip.IPv4Unspecified()
	if l.family == V6 {
		unspec = netip.IPv6Unspecified()
	}
	return lookupFlight(Conn4{Local: netip.AddrPortFrom(loopbackAddr(l.family), uint16(l.port)), Remote: netip.AddrPortFrom(unspec, 0)})
}

// InSyscall reports whether thread tid is, right now, asleep inside one of
// the blocking socket calls the probes make (recv, send, accept, connect):
// the moment-by-moment form of WaitInSyscall. It returns an error wrapping
// ErrUnsupported where the OS shows no thread's state; a thread that has
// exited reads as not asleep.
func InSyscall(tid int) (bool, error) { return inSyscall(tid) }

// AsleepInCall reports whether thread tid is asleep inside a system call
// other than those the Go runtime parks its threads in (futex(2),
// nanosleep(2), sched_yield(2); Linux: /proc/self/task/TID/syscall and stat): a call
// the thread makes has reached the kernel and waits there. A thread that is
// running, waiting for a CPU, or parked by the Go runtime (its goroutine
// preempted, or waiting for a lock) has not: whatever it was asked
// to do has not yet had its chance. It returns an error wrapping
// ErrUnsupported where the OS shows no thread's state; a thread that has
// exited is not asleep.
func AsleepInCall(tid int) (bool, error) { return asleepInCall(tid) }

// LoopbackIdle reports whether no received packet waits in the kernel to be
// processed: on Linux, every CPU's backlog of netif_rx (loopback's receive
// path) is empty (/proc/net/softnet_stat). A segment that one end has sent
// and the other not yet processed (an RST, which no send queue holds) is
// there until it reaches its socket. ErrUnsupported elsewhere.
func LoopbackIdle() (bool, error) { return loopbackIdle() }
