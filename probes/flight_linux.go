package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fdFlight reads an open socket's queues: SIOCOUTQ (the bytes not yet
// acknowledged, sent or not; a FIN counts, it takes a sequence number) and
// SIOCINQ (the bytes not read), tcp(7); for a listener, TCP_INFO's
// tcpi_unacked, which Linux fills with the accept queue's length
// (net/ipv4/tcp.c, tcp_get_info).
func fdFlight(fd int) (Flight, error) {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return Flight{}, wrap("getsockopt", err)
	}
	f := Flight{State: stateName(ti.State)}
	if f.State == StateListen {
		f.Unread = int(ti.Unacked)
		return f, nil
	}
	if f.Queued, err = unix.IoctlGetInt(fd, unix.SIOCOUTQ); err != nil {
		return Flight{}, wrap("ioctl", err)
	}
	if f.Unread, err = unix.IoctlGetInt(fd, unix.SIOCINQ); err != nil {
		return Flight{}, wrap("ioctl", err)
	}
	return f, nil
}

// lookupFlight finds the 4-tuple in /proc/net/tcp or tcp6 (proc(5)): the
// state, and tx_queue:rx_queue, which for a connection are write_seq -
// snd_una and rcv_nxt - copied_seq, and for a listener its accept queue in
// rx_queue (net/ipv4/tcp_ipv4.c, get_tcp4_sock). TIME_WAIT entries read 0:0.
func lookupFlight(c Conn4) (Flight, error) {
	path := "/proc/net/tcp"
	if c.Local.Addr().Is6() {
		path = "/proc/net/tcp6"
	}
	fh, err := os.Open(path)
	if err != nil {
		return Flight{}, err
	}
	defer fh.Close()
	local, remote := procAddr(c.Local), procAddr(c.Remote)
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[1] != local || fields[2] != remote {
			continue
		}
		st, err1 := strconv.ParseUint(fields[3], 16, 8)
		tx, rx, ok := strings.Cut(fields[4], ":")
		q, err2 := strconv.ParseUint(tx, 16, 32)
		u, err3 := strconv.ParseUint(rx, 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || !ok {
			return Flight{}, fmt.Errorf("%s: %q %q: unreadable", path, fields[3], fields[4])
		}
		f := Flight{State: stateName(uint8(st)), Queued: int(q), Unread: int(u)}
		if f.State == StateListen {
			f.Queued = 0 // tx_queue is the backlog's limit there
		}
		return f, nil
	}
	return Flight{State: StateNone}, sc.Err()
}

// inSyscall reads /proc/self/task/TID/syscall and stat (proc(5)), as
// waitInSyscall does, once.
func inSyscall(tid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/syscall", tid))
	if err != nil {
		return false, nil // the thread has exited: its call returned
	}
	if f := bytes.Fields(b); len(f) > 0 {
		if nr, err := strconv.Atoi(string(f[0])); err == nil && blockingCalls[nr] {
			return asleep(tid), nil
		}
	}
	return false, nil
}

// asleepInCall reads /proc/self/task/TID/syscall, whose first field is the
// number of the system call the thread is in, or "running" (proc(5)), and
// the state in its stat. The calls the Go runtime parks and spins its
// threads in (futex, nanosleep, sched_yield: runtime/os_linux.go, futexsleep,
// usleep, osyield) are not the thread's call.
func asleepInCall(tid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/syscall", tid))
	if err != nil {
		return false, nil // exited
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return false, nil
	}
	nr, err := strconv.Atoi(string(f[0]))
	if err != nil || runtimeCalls[nr] {
		return false, nil
	}
	return asleep(tid), nil
}

// runtimeCalls are the system calls the Go runtime parks or spins in.
var runtimeCalls = map[int]bool{
	unix.SYS_FUTEX: true, unix.SYS_NANOSLEEP: true, unix.SYS_CLOCK_NANOSLEEP: true, unix.SYS_SCHED_YIELD: true,
}

// loopbackIdle reads /proc/net/softnet_stat: one line per CPU, whose
// thirteenth field (index 11) is the CPU's receive backlog, input and
// process queues together (net/core/net-procfs.c, softnet_seq_show; kernels
// since 5.10). Loopback's transmit hands each packet to that backlog
// (drivers/net/loopback.c, __netif_rx), and a packet leaves it only to be
// processed in the same softirq pass.
func loopbackIdle() (bool, error) {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return false, err
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 13 {
			return false, fmt.Errorf("%w: /proc/net/softnet_stat has no backlog column (kernel before 5.10)", ErrUnsupported)
		}
		if n, err := strconv.ParseUint(string(f[11]), 16, 32); err != nil || n != 0 {
			return false, err
		}
	}
	return true, nil
}
