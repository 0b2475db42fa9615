package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// The actor of a process scenario lives in a helper process: the running
// program (the suite's test binary, or the closematrix command wherever it
// was installed or copied), run again (os.Executable) with helperEnv set.
// Its connection dies with it, the way a crashed or exiting program's does,
// and the peer watches from here.
const (
	helperEnv  = "CLOSEMATRIX_HELPER" // "actor family port"
	helperRole = "actor"
)

// helperReady is set once the program has asked IsHelper: only then does
// running it again reach HelperMain, so only then may process scenarios
// start one (a program that never asks would run its whole self again).
var helperReady atomic.Bool

// IsHelper reports whether this process was started as a helper. Every
// front end that plays process scenarios calls it first thing — the suite in
// TestMain, the command in main — and, when true, HelperMain instead of
// anything else. Asking is also what lets this process start helpers.
func IsHelper() bool {
	helperReady.Store(true)
	return strings.HasPrefix(os.Getenv(helperEnv), helperRole+" ")
}

// errNoHelperMode says the program never asked IsHelper, so running it
// again would not make a helper.
var errNoHelperMode = errors.New("this program does not call harness.IsHelper at start, so it cannot be its own helper process")

// HelperMain is the actor process: it dials the address in helperEnv, says
// which 4-tuple it got, then obeys commands on stdin:
//
//	pending N   wait until N unread bytes have arrived, then say "ok"
//	exit        exit at once, leaving the connection open for the OS to close
//
// It never closes its socket itself; the parent kills it or tells it to exit.
func HelperMain() {
	f := strings.Fields(os.Getenv(helperEnv))
	if len(f) != 3 {
		fatalHelper(fmt.Errorf("%s=%q: want %q", helperEnv, os.Getenv(helperEnv), "actor FAMILY PORT"))
	}
	port, err := strconv.Atoi(f[2])
	if err != nil {
		fatalHelper(err)
	}
	s, err := probes.Dial(probes.Family(f[1]), port)
	if err != nil {
		fatalHelper(err)
	}
	fmt.Printf("conn %s %s\n", s.Conn().Local, s.Conn().Remote)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd := strings.Fields(in.Text())
		switch {
		case len(cmd) == 1 && cmd[0] == "exit":
			os.Exit(0) // the socket is still open: the OS closes it
		case len(cmd) == 2 && cmd[0] == "pending":
			n, _ := strconv.Atoi(cmd[1])
			deadline := time.Now().Add(setupBound)
			for got, err := s.Pending(); got != n; got, err = s.Pending() {
				if err != nil || time.Now().After(deadline) {
					fatalHelper(fmt.Errorf("pending %d bytes: have %d (%v)", n, got, err))
				}
				time.Sleep(50 * time.Microsecond)
			}
			fmt.Println("ok")
		default:
			fatalHelper(fmt.Errorf("unknown command %q", in.Text()))
		}
	}
	// stdin closed: the parent is gone or done; exit like "exit".
	os.Exit(0)
}

func fatalHelper(err error) {
	fmt.Printf("error %v\n", err)
	os.Exit(3)
}

// remoteActor is the runner's handle on an actor that lives in a helper
// process. Only what can be seen from outside is offered: its TCP state, by
// its 4-tuple in the system's table. Validate keeps other actor steps out of
// process scenarios.
type remoteActor struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	conn   probes.Conn4
	mu     sync.Mutex
	ending bool // end has begun
	exited bool // Wait has returned
}

// startActor runs the helper and waits, within setupBound, for its 4-tuple.
func startActor(f probes.Family, port int) (*remoteActor, error) {
	if !helperReady.Load() {
		return nil, errNoHelperMode
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", helperEnv, helperRole, f, port))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	a := &remoteActor{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	line, err := a.read()
	if err == nil {
		var l, r netip.AddrPort
		if f := strings.Fields(line); len(f) == 3 && f[0] == "conn" {
			l, err = netip.ParseAddrPort(f[1])
			if err == nil {
				r, err = netip.ParseAddrPort(f[2])
			}
		} else {
			err = fmt.Errorf("helper said %q", line)
		}
		a.conn = probes.Conn4{Local: l, Remote: r}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("actor process: %w", err), a.kill())
	}
	return a, nil
}

// read returns the helper's next line, within setupBound.
func (a *remoteActor) read() (string, error) {
	got := make(chan bool, 1)
	go func() { got <- a.out.Scan() }()
	select {
	case ok := <-got:
		if !ok {
			return "", fmt.Errorf("helper exited: %v", a.out.Err())
		}
		return a.out.Text(), nil
	case <-time.After(setupBound):
		return "", fmt.Errorf("helper said nothing in %v", setupBound)
	}
}

// waitPending asks the helper to wait until n bytes have arrived.
func (a *remoteActor) waitPending(n int) error {
	fmt.Fprintf(a.stdin, "pending %d\n", n)
	if line, err := a.read(); err != nil || line != "ok" {
		return fmt.Errorf("actor process: pending %d: %q %v", n, line, err)
	}
	return nil
}

// kill wraps os.Process.Kill (SIGKILL; TerminateProcess on Windows) and
// reaps the process.
func (a *remoteActor) kill() error { return a.end(a.cmd.Process.Kill) }

// exit tells the helper to exit without closing its socket, and reaps it.
func (a *remoteActor) exit() error {
	return a.end(func() error { _, err := fmt.Fprintln(a.stdin, "exit"); return err })
}

// end ends the helper with how and waits for it, within setupBound; a helper
// that does not go is killed, and the failure reported. The process counts as
// gone only once Wait has returned, so teardown kills one that never went.
func (a *remoteActor) end(how func() error) error {
	a.mu.Lock()
	if a.exited || a.ending {
		a.mu.Unlock()
		return nil
	}
	a.ending = true
	a.mu.Unlock()

	err := how()
	a.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-time.After(setupBound):
		a.cmd.Process.Kill()
		werr = <-done // SIGKILL cannot be refused
		err = errors.Join(err, fmt.Errorf("the helper did not end in %v; killed", setupBound))
	}
	a.mu.Lock()
	a.exited = true
	a.mu.Unlock()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		err = errors.Join(err, werr)
	}
	return err
}

var errRemote = errors.New("the actor lives in another process: only its TCP state is visible from here")

func (a *remoteActor) Send([]byte) probes.Outcome         { return probes.Outcome{} }
func (a *remoteActor) Recv(int) probes.Outcome            { return probes.Outcome{} }
func (a *remoteActor) Shutdown(probes.How) probes.Outcome { return probes.Outcome{} }

// Close kills the helper (teardown's way to end it). Its failure is no
// observation: the Outcome is empty, and the run's teardown reports it.
func (a *remoteActor) Close() probes.Outcome {
	if err := a.kill(); err != nil {
		return probes.Outcome{}
	}
	return probes.Outcome{Class: schema.ClassOK}
}

var _ processEnd = (*remoteActor)(nil)

func (a *remoteActor) SetLinger(bool, int) error { return errRemote }
func (a *remoteActor) Conn() probes.Conn4        { return a.conn }

// Its state, unread bytes, settling and queues are the system table's by
// 4-tuple (tableObserver): nothing else is visible from here.

// Closed reports whether the process is gone or going; teardown then leaves
// it be.
func (a *remoteActor) Closed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exited || a.ending
}
