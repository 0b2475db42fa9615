package agent

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// socketCalls are the system calls a runtime's blocking socket call sleeps
// in: CPython's sock.recv and sock.sendall (glibc's recv and send are
// recvfrom(2) and sendto(2) on Linux), accept4(2), connect(2), and the
// msg forms; and read(2) and write(2), which the JDK's blocking
// SocketChannel calls on the socket (openjdk/jdk,
// src/java.base/unix/native/libnio/ch/SocketDispatcher.c, read0 and
// write0). Only a thread an agent named for a socket call is looked at,
// between its started message and its answer.
var socketCalls = map[int]bool{
	unix.SYS_RECVFROM: true, unix.SYS_RECVMSG: true, unix.SYS_SENDTO: true, unix.SYS_SENDMSG: true,
	unix.SYS_ACCEPT4: true, unix.SYS_ACCEPT: true, unix.SYS_CONNECT: true,
	unix.SYS_READ: true, unix.SYS_WRITE: true,
}

// threadInCall reads /proc/PID/task/TID/syscall, whose first field is the
// number of the system call the thread is in or "running", and the state in
// /proc/PID/task/TID/stat (proc(5)): in a socket call and asleep (S). Reading
// another process's syscall file needs ptrace access to it (proc(5),
// PTRACE_MODE_ATTACH_FSCREDS): the agent is our child, which Yama's
// ptrace_scope 1 allows, and root may anyway; otherwise the error says so.
func threadInCall(pid, tid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/syscall", pid, tid))
	if err != nil {
		if os.IsNotExist(err) {
			return false, nil // the thread has exited: its call returned
		}
		return false, err
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return false, nil
	}
	nr, err := strconv.Atoi(string(f[0]))
	if err != nil || !socketCalls[nr] {
		return false, nil
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return false, nil
	}
	i := bytes.LastIndexByte(st, ')')
	return i >= 0 && i+2 < len(st) && st[i+2] == 'S', nil
}

// mirror blocks the calling OS thread in recvfrom(2) on one end of a fresh
// socket pair until done is closed, when a goroutine writes a byte to the
// other end. The harness reads its own call threads' states
// (/proc/self/task/TID/syscall: asleep in recvfrom is a blocked call), so a
// call thread that waits for an agent's answer this way, entered only once
// the agent's own thread was seen asleep in its socket call, shows that
// call's state through its own.
func mirror(done <-chan struct{}) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	go func() {
		<-done
		// MSG_NOSIGNAL: should the reader have given up and closed its
		// end, EPIPE and no SIGPIPE (send(2)).
		unix.Sendto(fds[1], []byte{1}, unix.MSG_NOSIGNAL, nil)
		unix.Close(fds[1])
	}()
	buf := make([]byte, 1)
	for {
		_, _, err = unix.Recvfrom(fds[0], buf, 0)
		if err != unix.EINTR {
			break
		}
	}
	unix.Close(fds[0])
	return err
}
