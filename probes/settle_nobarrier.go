//go:build !darwin && !freebsd

package probes

import "time"

// Where loopback is processed in the sender's call (Linux: loopback_xmit →
// netif_rx, drained before the call returns to user space unless it waits
// in a CPU's backlog, which LoopbackIdle shows) or no barrier is known
// (Windows), settling is what it always was: the socket's own signal while
// it is open, its table entry once it is closed (settleState). settle.go's
// barrier is darwin's and FreeBSD's (settle_bsd.go).

func settleConn(c Conn4, bound time.Duration) bool { return settleState(c, bound) }

func settleOpen(fd sysfd, _ Conn4, bound time.Duration) bool { return settle(fd, bound) }

func settleFD(fd sysfd, bound time.Duration) bool { return settle(fd, bound) }
