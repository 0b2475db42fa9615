package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// HelloBound is how long an agent may take to say hello: a runtime's start
// (CPython imports, Node's bootstrap) takes well under a second here; 10 s
// covers a cold runner and still ends an agent that never speaks.
const HelloBound = 10 * time.Second

// stderrLines is how many of the agent's last stderr lines a fault keeps.
const stderrLines = 10

// ErrFault says the agent process can no longer be used: it did not say
// hello, wrote a line that is not the protocol, exited, or stopped
// answering. Every error of a faulted process wraps it.
var ErrFault = errors.New("agent fault")

// ErrTimeout says an answer did not come within its bound. The command may
// still be answered later (a call still blocked): the agent is not faulted.
var ErrTimeout = errors.New("no answer within the bound")

// Process is a running agent.
type Process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	hello Hello

	wmu sync.Mutex // one line at a time on stdin

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*Call
	fault   error // set once; then every call fails with it
	tail    []string

	readDone chan struct{} // stdout reader ended
	errDone  chan struct{} // stderr reader ended
	waitDone chan struct{} // the process was reaped
	waitErr  error
	closing  sync.Once
}

// Call is a command sent and not yet answered.
type Call struct {
	ID      uint64
	started chan Answer // the started message, at most one
	done    chan Answer // the final answer
	faulted chan struct{}
	end     chan struct{} // closed with the final answer or the fault
	p       *Process
}

// End is closed once the call has its final answer or the process faulted.
func (c *Call) End() <-chan struct{} { return c.end }

// Start runs argv (the agent and its arguments) and waits, up to HelloBound,
// for its hello. env is added to the environment. The process is killed and
// reaped if it does not say hello.
func Start(argv []string, env []string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("agent: no command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	p := &Process{cmd: cmd, stdin: stdin, pending: map[uint64]*Call{},
		readDone: make(chan struct{}), errDone: make(chan struct{}), waitDone: make(chan struct{})}
	go p.readStderr(stderr)
	hello := make(chan error, 1)
	go p.readStdout(stdout, hello)
	go func() {
		// Wait only after both pipes reached EOF (os/exec: Wait closes
		// them), so that no line is lost.
		<-p.readDone
		<-p.errDone
		p.waitErr = cmd.Wait()
		close(p.waitDone)
	}()
	t := time.NewTimer(HelloBound)
	defer t.Stop()
	select {
	case err := <-hello:
		if err != nil {
			p.Close()
			return nil, p.withTail(err)
		}
	case <-t.C:
		p.setFault(fmt.Errorf("%w: no hello within %v", ErrFault, HelloBound))
		p.Close()
		return nil, p.Err()
	}
	return p, nil
}

// Hello is what the agent said first.
func (p *Process) Hello() Hello { return p.hello }

// PID is the agent's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

func (p *Process) readStderr(r io.Reader) {
	defer close(p.errDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		p.mu.Lock()
		p.tail = append(p.tail, sc.Text())
		if len(p.tail) > stderrLines {
			p.tail = p.tail[len(p.tail)-stderrLines:]
		}
		p.mu.Unlock()
	}
	io.Copy(io.Discard, r) // a line past the limit: keep draining so the agent never blocks on stderr
}

func (p *Process) readStdout(r io.Reader, hello chan<- error) {
	defer close(p.readDone)
	defer io.Copy(io.Discard, r) // after a fault, drain until the kill closes the pipe
	br := bufio.NewReaderSize(r, 4096)
	first := true
	for {
		line, err := readLine(br)
		if err != nil {
			var ferr error
			switch {
			case errors.Is(err, io.EOF):
				ferr = fmt.Errorf("%w: the agent closed its stdout (exited?)", ErrFault)
			default:
				ferr = fmt.Errorf("%w: reading the agent's stdout: %v", ErrFault, err)
			}
			if first {
				hello <- ferr
			}
			p.setFault(ferr)
			return
		}
		if first {
			first = false
			h, err := DecodeHello(line)
			if err != nil {
				ferr := fmt.Errorf("%w: %w: line %q", ErrFault, err, clip(line))
				p.setFault(ferr)
				hello <- ferr
				return
			}
			p.hello = h
			hello <- nil
			continue
		}
		a, err := DecodeAnswer(line)
		if err != nil {
			p.setFault(fmt.Errorf("%w: %w: line %q", ErrFault, err, clip(line)))
			return
		}
		p.mu.Lock()
		c := p.pending[a.ID]
		if c != nil && !a.Started {
			delete(p.pending, a.ID)
		}
		p.mu.Unlock()
		if c == nil {
			p.setFault(fmt.Errorf("%w: an answer to id %d, which is not awaited", ErrFault, a.ID))
			return
		}
		if a.Started {
			select {
			case c.started <- a:
			default:
				p.setFault(fmt.Errorf("%w: id %d: a second started message", ErrFault, a.ID))
				return
			}
			continue
		}
		c.done <- a // buffered, one final answer: the call left pending
		close(c.end)
	}
}

// readLine reads one line of at most maxLine bytes, without its newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("%w: a line longer than %d bytes", ErrNotProtocol, maxLine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// setFault records the first fault and fails every call in flight with it.
func (p *Process) setFault(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault != nil {
		return
	}
	p.fault = err
	for id, c := range p.pending {
		close(c.faulted)
		close(c.end)
		delete(p.pending, id)
	}
}

// Err is the fault that ended the process, with its stderr's last lines, or
// nil while it is usable.
func (p *Process) Err() error {
	p.mu.Lock()
	err := p.fault
	p.mu.Unlock()
	if err == nil {
		return nil
	}
	return p.withTail(err)
}

// withTail adds the agent's last stderr lines to err.
func (p *Process) withTail(err error) error {
	// An agent that exited closes stderr too, but its last lines may still
	// be on their way to readStderr: wait for that reader to end, briefly
	// (an agent that is alive but broke the protocol keeps stderr open).
	t := time.NewTimer(100 * time.Millisecond)
	select {
	case <-p.errDone:
	case <-t.C:
	}
	t.Stop()
	if t := p.Stderr(); len(t) > 0 {
		return fmt.Errorf("%w; agent stderr: %s", err, strings.Join(t, " | "))
	}
	return err
}

// Stderr returns the agent's last lines of stderr.
func (p *Process) Stderr() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tail...)
}

// Send sends cmd with a fresh id and returns the call that awaits its answer.
func (p *Process) Send(cmd Command) (*Call, error) {
	p.mu.Lock()
	if p.fault != nil {
		p.mu.Unlock()
		return nil, p.Err()
	}
	p.nextID++
	cmd.ID = p.nextID
	c := &Call{ID: cmd.ID, started: make(chan Answer, 1), done: make(chan Answer, 1), faulted: make(chan struct{}), end: make(chan struct{}), p: p}
	p.pending[cmd.ID] = c
	p.mu.Unlock()
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	p.wmu.Lock()
	_, err = p.stdin.Write(append(b, '\n'))
	p.wmu.Unlock()
	if err != nil {
		p.setFault(fmt.Errorf("%w: writing to the agent's stdin: %v", ErrFault, err))
		return nil, p.Err()
	}
	return c, nil
}

// Do sends cmd and waits up to bound for its final answer.
func (p *Process) Do(cmd Command, bound time.Duration) (Answer, error) {
	c, err := p.Send(cmd)
	if err != nil {
		return Answer{}, err
	}
	return c.Wait(bound)
}

// Wait waits up to bound for the final answer. ErrTimeout leaves the call
// pending: a later Wait may still get its answer.
func (c *Call) Wait(bound time.Duration) (Answer, error) {
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case a := <-c.done:
		c.done <- a // a later Wait sees it too
		return a, nil
	case <-c.faulted:
		return Answer{}, c.p.Err()
	case <-t.C:
		return Answer{}, fmt.Errorf("%w: %s id %d after %v", ErrTimeout, "call", c.ID, bound)
	}
}

// Started waits up to bound for the call's started message (a blocking call
// that began), or its final answer, whichever comes first; ok is false when
// neither came.
func (c *Call) Started(bound time.Duration) (a Answer, ok bool) {
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case a := <-c.started:
		c.started <- a
		return a, true
	case a := <-c.done:
		c.done <- a
		return a, true
	case <-c.faulted:
		return Answer{}, false
	case <-t.C:
		return Answer{}, false
	}
}

// closeBound is how long Close lets the agent exit after its stdin closed
// before it kills it: an agent exits at once at end of input (the protocol
// says so), unless it is wedged.
const closeBound = 2 * time.Second

// Close ends the agent: it closes its stdin (the protocol's request to exit),
// kills it if it has not exited within closeBound, and reaps it. Calls
// still pending fail with ErrFault. It returns the exit's error when the
// agent did not exit cleanly by itself.
func (p *Process) Close() error {
	var err error
	p.closing.Do(func() {
		p.stdin.Close()
		t := time.NewTimer(closeBound)
		defer t.Stop()
		select {
		case <-p.waitDone:
		case <-t.C:
			p.cmd.Process.Kill()
			<-p.waitDone
			err = fmt.Errorf("agent did not exit within %v of its stdin closing: killed", closeBound)
		}
		p.setFault(fmt.Errorf("%w: the agent was closed", ErrFault))
		if err == nil && p.waitErr != nil {
			err = fmt.Errorf("agent exit: %w", p.waitErr)
		}
	})
	return err
}

// Kill kills the agent at once and reaps it (a fault was seen).
func (p *Process) Kill() {
	p.closing.Do(func() {
		p.stdin.Close()
		p.cmd.Process.Kill()
		<-p.waitDone
		p.setFault(fmt.Errorf("%w: the agent was killed", ErrFault))
	})
}

// Exited reports whether the process has been reaped.
func (p *Process) Exited() bool {
	select {
	case <-p.waitDone:
		return true
	default:
		return false
	}
}
