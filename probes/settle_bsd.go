//go:build darwin || freebsd

package probes

import "time"

// bsdSettler settles a connection on darwin and FreeBSD: both ends' entries
// in the system's table (one read of pcblist_n or pcblist for both), then a
// loopback barrier (settle.go says why and what each proves).
var bsdSettler = endsSettler{
	lookup: func(c Conn4) (string, string, error) {
		st, err := lookupStates(c, reverse(c))
		if err != nil {
			return "", "", err
		}
		return st[0], st[1], nil
	},
	barrier: loopbackBarrier,
	poll:    tablePoll,
	pollMax: tablePollMax,
}

// settleConn settles a connection whose socket is closed or not ours.
func settleConn(c Conn4, bound time.Duration) bool { return bsdSettler.settle(c, bound) }

// settleOpen settles one of the connection's open sockets: first its send
// buffer (settle: nothing unsent or unacknowledged), then the connection as
// settleConn does, within one bound.
func settleOpen(fd sysfd, c Conn4, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	return settle(fd, bound) && settleConn(c, time.Until(deadline))
}

// settleFD is settleOpen for a descriptor this package did not make: its
// 4-tuple from getsockname and getpeername. Without one, only the send
// buffer can settle, and that is not enough here: not settled.
func settleFD(fd sysfd, bound time.Duration) bool {
	c, err := sockConn(fd)
	if err != nil {
		settle(fd, bound)
		return false
	}
	return settleOpen(fd, c, bound)
}
