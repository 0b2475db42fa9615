package harness

import (
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/closematrix/closematrix/agents"
	"github.com/closematrix/closematrix/internal/agent"
	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// The runtime views: both ends of every connection live in an agent process
// (docs/agent-protocol.md) that makes its runtime's own calls — CPython's
// socket module (python), asyncio's protocols (asyncio), Node's net.Socket
// (node), Java's SocketChannel (java), Rust's std::net::TcpStream (rust),
// or any program that speaks the protocol (exec). The harness drives
// them through the agent and observes states, queues and the wire itself,
// from the system's table by each connection's 4-tuple, as it does for the
// helper process of the process scenarios.
//
// One agent process serves a whole catalogue run, shared by the scenarios
// the pool plays at once (the protocol's answers are matched by id, and an
// agent answers blocking commands concurrently). A fault (no hello, a line
// that is not the protocol, an exit, silence past a bound) kills it: every
// call in flight on it returns unobserved, so the scenarios it touched are
// harness errors, and the next Listen or Dial starts a fresh one.

// AgentView is a Transport whose connections live in an agent process.
type AgentView struct {
	name string
	// argv resolves the agent's command line when a process is started:
	// the built-in agents are written out then (agents.Command).
	argv func() ([]string, error)

	mu    sync.Mutex
	proc  *agent.Process
	users int         // listeners and endpoints not yet closed on proc
	idle  *time.Timer // closes proc once it has had no user for agentIdle
	// startErr is why the agent could not be started this run (its
	// runtime missing, a failed build, no hello), kept until Close.
	startErr error
}

// agentIdle is how long an agent process with no listener or connection
// open is kept for the next scenario, so that a catalogue run shares one
// process while a lone run (agent check, a test) leaves none behind.
const agentIdle = time.Second

// Bounds of the agent's answers. quickBound covers the calls that do not
// wait for the network (listen, close, shutdown, set-linger): a lingering
// close may take its linger time (Linger2, 2 s). callBound is the ceiling
// of any call, blocked ones included: the runner's bounds and teardown free
// every call long before it; an answer that has not come by then means the
// agent stopped answering.
const (
	quickBound = 10 * time.Second
	callBound  = 60 * time.Second
)

// The built-in runtime views and exec. CLOSEMATRIX_AGENT is exec's command
// line, split at spaces (`closematrix run -view exec -- CMD ARGS…` sets it).
var (
	PythonView  = NewAgentView("python", func() ([]string, error) { return agents.Command("python") })
	AsyncioView = NewAgentView("asyncio", func() ([]string, error) { return agents.Command("asyncio") })
	// AsyncioSelectorView is asyncio on the selector loop whatever the
	// platform's default: on Windows the default is the Proactor, and the
	// two answer differently (python/cpython#109215, python/asyncio#319).
	AsyncioSelectorView = NewAgentView("asyncio-selector", func() ([]string, error) {
		argv, err := agents.Command("asyncio")
		return append(argv, "--loop=selector"), err
	})
	NodeView = NewAgentView("node", func() ([]string, error) { return agents.Command("node") })
	JavaView = NewAgentView("java", func() ([]string, error) { return agents.Command("java") })
	RustView = NewAgentView("rust", func() ([]string, error) { return agents.Command("rust") })
	ExecView = NewAgentView("exec", func() ([]string, error) {
		argv := strings.Fields(os.Getenv(AgentEnv))
		if len(argv) == 0 {
			return nil, fmt.Errorf("%w: the exec view runs the agent $%s names, and it is empty", ErrNotInView, AgentEnv)
		}
		return argv, nil
	})
)

// AgentEnv names the environment variable that holds the exec view's agent
// command line.
const AgentEnv = "CLOSEMATRIX_AGENT"

func init() {
	for _, v := range []*AgentView{PythonView, AsyncioView, AsyncioSelectorView, NodeView, JavaView, RustView, ExecView} {
		transports[v.name] = v
	}
}

// NewAgentView is a view named name whose agent argv returns.
func NewAgentView(name string, argv func() ([]string, error)) *AgentView {
	return &AgentView{name: name, argv: argv}
}

// Name is the view's name: it suffixes the platform label.
func (v *AgentView) Name() string { return v.name }

// Runtime is the RuntimeNamer for platform.runtime: the runtime, its
// version and API as the agent's hello says them, and its event loop where
// it has one ("CPython 3.11.9 asyncio, loop _UnixSelectorEventLoop"); ""
// when the agent cannot be started (the run then records that).
func (v *AgentView) Runtime() string {
	h, err := v.Hello()
	if err != nil {
		return ""
	}
	return runtimeWords(h)
}

// runtimeWords is platform.runtime for an agent's hello.
func runtimeWords(h agent.Hello) string {
	s := strings.TrimSpace(h.Runtime + " " + h.Version + " " + h.API)
	if h.Loop != "" {
		s += ", loop " + h.Loop
	}
	// Java's messages are localized (the OS's strerror_r, FormatMessageW):
	// the locale the run used goes with the result file.
	if loc, ok := h.Options["locale"].(string); ok && loc != "" {
		s += ", locale " + loc
		if env, ok := h.Options["messages_env"].(string); ok && env != "" {
			s += " (" + env + ")"
		}
	}
	return s
}

// Hello starts the agent if none runs and returns what it said.
func (v *AgentView) Hello() (agent.Hello, error) {
	p, err := v.acquire()
	if err != nil {
		return agent.Hello{}, err
	}
	defer v.release(p)
	return p.Hello(), nil
}

// Close ends the view's agent process now (the end of a run).
func (v *AgentView) Close() error {
	v.mu.Lock()
	p := v.proc
	v.proc, v.users, v.startErr = nil, 0, nil
	if v.idle != nil {
		v.idle.Stop()
	}
	v.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Close()
}

// acquire returns the running agent, starting one if there is none or the
// last one faulted, and counts a user of it.
func (v *AgentView) acquire() (*agent.Process, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.idle != nil {
		v.idle.Stop()
	}
	if v.proc != nil && v.proc.Err() != nil {
		old := v.proc
		go old.Kill() // reaped off the lock: it may take a moment
		v.proc, v.users = nil, 0
	}
	if v.proc == nil {
		if v.startErr != nil {
			// It failed to start once this run: every later scenario
			// would wait (a build, a 10 s hello) for the same failure.
			return nil, v.startErr
		}
		argv, err := v.argv()
		if err != nil {
			if errors.Is(err, agents.ErrRuntimeMissing) || errors.Is(err, agents.ErrBuildFailed) {
				err = fmt.Errorf("%w: %w", ErrNotInView, err)
			}
			v.startErr = err
			return nil, err
		}
		p, err := agent.Start(argv, nil)
		if err != nil {
			// A runtime on PATH that cannot run the agent (a Windows Store
			// stub named python3, a Java older than 11) is a view this
			// machine does not have: the column is skips with this reason,
			// the agent's stderr included, not errors.
			v.startErr = fmt.Errorf("%w: the %s agent (%s) did not start: %w", ErrNotInView, v.name, strings.Join(argv, " "), err)
			return nil, v.startErr
		}
		v.proc = p
	}
	v.users++
	return v.proc, nil
}

// release counts a user gone; the last one arms the idle timer.
func (v *AgentView) release(p *agent.Process) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.proc != p {
		return // a process already replaced after a fault
	}
	v.users--
	if v.users > 0 {
		return
	}
	if v.idle == nil {
		v.idle = time.AfterFunc(agentIdle, v.closeIdle)
	} else {
		v.idle.Reset(agentIdle)
	}
}

func (v *AgentView) closeIdle() {
	v.mu.Lock()
	p := v.proc
	if p == nil || v.users > 0 {
		v.mu.Unlock()
		return
	}
	v.proc = nil
	v.mu.Unlock()
	p.Close()
}

// faulted ends p after a fault, logged with the agent's last stderr lines,
// so that the next scenario gets a fresh process.
func (v *AgentView) faulted(p *agent.Process, err error) {
	v.mu.Lock()
	if v.proc == p {
		v.proc, v.users = nil, 0
	}
	v.mu.Unlock()
	log.Printf("closematrix: the %s view's agent: %v (a fresh agent serves the next scenario)", v.name, err)
	go p.Kill()
}

// do runs one command on p within bound; an answer that does not come in
// time, or any fault, ends the process.
func (v *AgentView) do(p *agent.Process, cmd agent.Command, bound time.Duration) (agent.Answer, error) {
	a, err := p.Do(cmd, bound)
	if err != nil {
		if errors.Is(err, agent.ErrTimeout) {
			err = fmt.Errorf("%w: %s: stopped answering: %v", agent.ErrFault, cmd.Op, err)
		}
		v.faulted(p, err)
		return a, err
	}
	return a, nil
}

// Listen asks the agent for a listener on f's loopback address.
func (v *AgentView) Listen(f probes.Family) (Listener, error) {
	p, err := v.acquire()
	if err != nil {
		return nil, err
	}
	a, err := v.do(p, agent.Command{Op: agent.OpListen, Family: string(f)}, quickBound)
	if err == nil {
		err = setupAnswer(p, agent.OpListen, a)
	}
	if err != nil {
		v.release(p)
		return nil, err
	}
	return &agentListener{v: v, p: p, id: a.Listener, port: a.Port}, nil
}

// Dial asks the agent to connect to port on f's loopback address.
func (v *AgentView) Dial(f probes.Family, port int) (Endpoint, error) {
	p, err := v.acquire()
	if err != nil {
		return nil, err
	}
	a, err := v.do(p, agent.Command{Op: agent.OpDial, Family: string(f), Port: port}, quickBound)
	if err != nil {
		v.release(p)
		return nil, err
	}
	c, err := v.newConn(p, agent.OpDial, a)
	if err != nil {
		v.release(p)
		return nil, err
	}
	return c.endpoint(), nil
}

// setupAnswer turns an answer to a setup command (listen, dial, accept) into
// an error unless it succeeded. A family that cannot bind here is
// probes.ErrFamilyUnavailable (skipped, not failed); an operation the agent
// lacks is ErrNotInView.
func setupAnswer(p *agent.Process, op string, a agent.Answer) error {
	switch a.Status {
	case agent.StatusOK:
		return nil
	case agent.StatusUnsupported:
		return fmt.Errorf("%w: %s %s: %s", ErrNotInView, p.Hello().Runtime, op, a.Reason)
	case agent.StatusError:
		err := fmt.Errorf("%s: %s", op, errorWords(a.Error, nil))
		if a.Error.Errno != 0 && probes.FamilyUnavailable(syscall.Errno(a.Error.Errno)) {
			return fmt.Errorf("%w: %w", probes.ErrFamilyUnavailable, err)
		}
		return err
	}
	return fmt.Errorf("%s: %s: %s", op, a.Status, a.Reason)
}

func (v *AgentView) newConn(p *agent.Process, op string, a agent.Answer) (*agentConn, error) {
	if err := setupAnswer(p, op, a); err != nil {
		return nil, err
	}
	local, remote, err := a.Addrs()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &agentConn{v: v, p: p, id: a.Conn, conn: probes.Conn4{Local: local, Remote: remote}}, nil
}

// agentListener is a listener in the agent.
type agentListener struct {
	v      *AgentView
	p      *agent.Process
	id     string
	port   int
	closed atomic.Bool
}

func (l *agentListener) Port() int { return l.port }

func (l *agentListener) Accept() (Endpoint, error) {
	a, err := l.v.do(l.p, agent.Command{Op: agent.OpAccept, Listener: l.id}, setupBound)
	if err != nil {
		return nil, err
	}
	p, err := l.v.acquire()
	if err != nil {
		return nil, err
	}
	if p != l.p { // the agent was replaced meanwhile: this connection is gone with it
		l.v.release(p)
		return nil, fmt.Errorf("%w: the agent was restarted during accept", agent.ErrFault)
	}
	c, err := l.v.newConn(p, agent.OpAccept, a)
	if err != nil {
		l.v.release(p)
		return nil, err
	}
	return c.endpoint(), nil
}

// Close closes the listener while no process is being started (see
// goNetConn.Close: not that the agent's descriptors are ours, but the same
// rule for every view keeps the helper processes' inheritance simple).
func (l *agentListener) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	defer l.v.release(l.p)
	a, err := l.v.do(l.p, agent.Command{Op: agent.OpCloseListener, Listener: l.id}, quickBound)
	if err != nil {
		return err
	}
	if a.Status != agent.StatusOK {
		return fmt.Errorf("close-listener: %s %s", a.Status, errorWords(a.Error, a.Events))
	}
	return nil
}

// agentConn is one end of a connection in the agent.
type agentConn struct {
	v    *AgentView
	p    *agent.Process
	id   string
	conn probes.Conn4

	closed   atomic.Bool
	released atomic.Bool
	// abortOnClose is SetLinger(true, 0): the catalogue's abort, which
	// each agent makes its runtime's own way (Hello.Abort): SO_LINGER 0
	// where the runtime has nothing else, transport.abort() in asyncio,
	// resetAndDestroy() in Node.
	abortOnClose atomic.Bool

	mu       sync.Mutex
	inflight []*agent.Call // Send and Recv calls awaiting their answers, for WaitInCall
	// unsupported is the last operation the agent said it does not have,
	// and why (the runner sees an unobserved outcome).
	unsupported string
}

var (
	_ Endpoint = (*agentConn)(nil)
	_ Endpoint = agentConnGrace{}
	_ Endpoint = agentConnFill{}
	_ Endpoint = agentConnGraceFill{}
)

// threadStates says whether this system shows an agent's threads' states
// (agent.ThreadInCall): Linux.
const threadStates = runtime.GOOS == "linux"

// endpoint is c as the runner should drive it: with WaitInCall where its
// calls cannot be mirrored, with FillSendBuffer where the agent can fill
// (the runner offers the unsent-at-actor setup to endpoints that have it).
func (c *agentConn) endpoint() Endpoint {
	fill := c.p.Hello().Supports(agent.OpFill)
	switch {
	case c.mirrors() && fill:
		return agentConnFill{c}
	case c.mirrors():
		return c
	case fill:
		return agentConnGraceFill{agentConnGrace{c}}
	}
	return agentConnGrace{c}
}

// agentConnFill and agentConnGraceFill add FillSendBuffer.
type (
	agentConnFill      struct{ *agentConn }
	agentConnGraceFill struct{ agentConnGrace }
)

func (c agentConnFill) FillSendBuffer() (int, error)      { return c.fillSendBuffer() }
func (c agentConnGraceFill) FillSendBuffer() (int, error) { return c.fillSendBuffer() }

// call sends one command about the connection and waits for its answer.
// A blocking call (track: Send, Recv) is also listed in flight, for
// WaitInCall, and, where the agent names its thread and the system shows
// that thread's state (Linux), the calling thread mirrors it: once the
// agent's thread is asleep in its socket call, this one sleeps in a socket
// call of its own (agent.Mirror) until the answer comes. The runner's
// signals read its own call threads (probes.WaitInSyscall, InSyscall,
// AsleepInCall), so they see the agent's call as they see a raw socket's:
// a call not yet in the kernel is not blocked; one asleep there is.
func (c *agentConn) call(cmd agent.Command, bound time.Duration, track bool) (agent.Answer, error) {
	cmd.Conn = c.id
	call, err := c.p.Send(cmd)
	if err != nil {
		c.v.faulted(c.p, err)
		return agent.Answer{}, err
	}
	if track {
		c.mu.Lock()
		c.inflight = append(c.inflight, call)
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			for i, x := range c.inflight {
				if x == call {
					c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
					break
				}
			}
			c.mu.Unlock()
		}()
		if c.mirrors() {
			c.mirror(call, bound)
		}
	}
	a, err := call.Wait(bound)
	if err != nil {
		if errors.Is(err, agent.ErrTimeout) {
			err = fmt.Errorf("%w: %s: stopped answering: %v", agent.ErrFault, cmd.Op, err)
		}
		c.v.faulted(c.p, err)
	}
	return a, err
}

// mirrors reports whether this connection's blocking calls can be mirrored:
// the agent names its calls' threads and the system shows them.
func (c *agentConn) mirrors() bool { return c.p.Hello().ThreadIDs && threadStates }

// mirror waits for call's thread to be asleep in its socket call, then
// sleeps in agent.Mirror until the call ends; a watchdog ends the agent
// should it never answer (bound).
func (c *agentConn) mirror(call *agent.Call, bound time.Duration) {
	a, ok := call.Started(bound)
	if !ok || !a.Started || a.TID <= 0 {
		return
	}
	for {
		select {
		case <-call.End():
			return
		default:
		}
		in, err := agent.ThreadInCall(c.p.PID(), a.TID)
		if err != nil {
			return
		}
		if in {
			break
		}
		time.Sleep(50 * time.Microsecond)
	}
	watchdog := time.AfterFunc(bound, func() {
		c.v.faulted(c.p, fmt.Errorf("%w: no answer to call %d within %v", agent.ErrFault, call.ID, bound))
	})
	defer watchdog.Stop()
	agent.Mirror(call.End())
}

// outcome turns an answer into an outcome; op is what was asked.
func (c *agentConn) outcome(op string, a agent.Answer, err error) probes.Outcome {
	if err != nil {
		return probes.Outcome{} // not observed: the run is a harness error
	}
	switch a.Status {
	case agent.StatusOK:
		words := eventWords(a.Events)
		switch {
		case op == agent.OpRecv && a.N > 0:
			return probes.Outcome{Class: schema.ClassData, N: a.N}
		case op == agent.OpRecv:
			return probes.Outcome{Class: schema.ClassEOF, Errno: words}
		case op == agent.OpSend:
			return probes.Outcome{Class: schema.ClassOK, N: a.N, Errno: words}
		}
		return probes.Outcome{Class: schema.ClassOK, Errno: words}
	case agent.StatusError:
		return errorOutcome(c.p.Hello(), a.Error, a.Events)
	}
	c.mu.Lock()
	c.unsupported = fmt.Sprintf("%s %s: %s", a.Status, op, a.Reason)
	c.mu.Unlock()
	return probes.Outcome{}
}

// Send sends len(p) bytes (zeros: the catalogue's payloads carry nothing).
func (c *agentConn) Send(p []byte) probes.Outcome {
	a, err := c.call(agent.Command{Op: agent.OpSend, N: len(p)}, callBound, true)
	return c.outcome(agent.OpSend, a, err)
}

func (c *agentConn) Recv(max int) probes.Outcome {
	a, err := c.call(agent.Command{Op: agent.OpRecv, Max: max}, callBound, true)
	return c.outcome(agent.OpRecv, a, err)
}

var hows = map[probes.How]string{probes.ShutRD: "rd", probes.ShutWR: "wr", probes.ShutRDWR: "rdwr"}

func (c *agentConn) Shutdown(how probes.How) probes.Outcome {
	a, err := c.call(agent.Command{Op: agent.OpShutdown, How: hows[how]}, quickBound, false)
	return c.outcome(agent.OpShutdown, a, err)
}

// Close closes the connection, or aborts it after SetLinger(true, 0). The
// agent keeps the closed object, so later calls get the runtime's own
// answer for a closed socket; the view counts the connection's use of the
// agent as ended.
func (c *agentConn) Close() probes.Outcome {
	c.closed.Store(true)
	op := agent.OpClose
	if c.abortOnClose.Load() {
		op = agent.OpAbort
	}
	a, err := c.call(agent.Command{Op: op}, quickBound, false)
	o := c.outcome(op, a, err)
	if !c.released.Swap(true) {
		// Released a moment later, not now: a call on the closed socket
		// (then-use) and the peer's teardown still need this process,
		// which the peer's own use keeps; the last user arms the idle
		// timer.
		c.v.release(c.p)
	}
	return o
}

// SetLinger(true, 0) marks the connection for abort on Close (the runtime's
// own abort, Hello.Abort); any other linger goes to the agent's set-linger,
// and an agent without one makes the scenario not in this view.
func (c *agentConn) SetLinger(on bool, secs int) error {
	if on && secs == 0 {
		if !c.p.Hello().Supports(agent.OpAbort) {
			// The hello's abort may say why (Rust: no SO_LINGER in std).
			return fmt.Errorf("%w: %s has no abort%s", ErrNotInView, c.p.Hello().Runtime, because(c.p.Hello().Abort))
		}
		c.abortOnClose.Store(true)
		return nil
	}
	c.abortOnClose.Store(false)
	if !c.p.Hello().Supports(agent.OpSetLinger) {
		if !on {
			return nil // the default already
		}
		return fmt.Errorf("%w: %s %s has no SO_LINGER%s", ErrNotInView, c.p.Hello().Runtime, c.p.Hello().API, because(c.p.Hello().Abort))
	}
	a, err := c.call(agent.Command{Op: agent.OpSetLinger, On: &on, Secs: secs}, quickBound, false)
	if err != nil {
		return err
	}
	if a.Status == agent.StatusUnsupported {
		return fmt.Errorf("%w: set-linger: %s", ErrNotInView, a.Reason)
	}
	if a.Status != agent.StatusOK {
		return fmt.Errorf("set-linger: %s", errorWords(a.Error, a.Events))
	}
	return nil
}

// because is an agent's reason for lacking abort, as a clause: ": why".
func because(why string) string {
	if why == "" {
		return ""
	}
	return ": " + why
}

// fillSendBuffer queues data without blocking until the send buffer is
// full (the unsent-at-actor setup): the agent's fill.
func (c *agentConn) fillSendBuffer() (int, error) {
	a, err := c.call(agent.Command{Op: agent.OpFill}, quickBound, false)
	if err != nil {
		return 0, err
	}
	if a.Status != agent.StatusOK {
		return 0, fmt.Errorf("fill: %s %s %s", a.Status, a.Reason, errorWords(a.Error, a.Events))
	}
	return a.N, nil
}

// agentConnGrace is an agentConn whose calls cannot be mirrored (an evented
// runtime, whose read is pending in its loop rather than in a thread; no
// view of the agent's threads here): the posture rests on WaitInCall.
type agentConnGrace struct{ *agentConn }

// WaitInCall is the posture's signal where calls are not mirrored: it
// waits, up to bound, for a Send or Recv in flight on c to be started by
// the agent, then spends probes.PostureGrace and reports false (no signal
// said the call was blocked).
func (c agentConnGrace) WaitInCall(bound time.Duration) (bool, error) {
	deadline := time.Now().Add(bound)
	var call *agent.Call
	for call == nil {
		c.mu.Lock()
		if len(c.inflight) > 0 {
			call = c.inflight[len(c.inflight)-1]
		}
		c.mu.Unlock()
		if call != nil {
			break
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("no call in flight after %v", bound)
		}
		time.Sleep(50 * time.Microsecond)
	}
	if _, ok := call.Started(time.Until(deadline)); !ok {
		return false, fmt.Errorf("the agent did not start the call within %v", bound)
	}
	time.Sleep(probes.PostureGrace)
	return false, nil
}

// Conn is the 4-tuple the agent reported.
func (c *agentConn) Conn() probes.Conn4 { return c.conn }

// Closed reports whether Close was called.
func (c *agentConn) Closed() bool { return c.closed.Load() }

// Unsupported is the last operation the agent answered unsupported (or
// bad-request), and why; "" when none.
func (c *agentConn) Unsupported() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unsupported
}

// TakeRefusal is the Refuser capability: the last refusal, cleared. An
// unsupported operation is ErrNotInView (a skip with the reason); a
// bad-request is the agent's or the harness's bug, a harness error.
func (c *agentConn) TakeRefusal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	why := c.unsupported
	c.unsupported = ""
	switch {
	case why == "":
		return nil
	case strings.HasPrefix(why, string(agent.StatusUnsupported)):
		return fmt.Errorf("%w: %s", ErrNotInView, why)
	}
	return errors.New(why)
}

// eventWords joins an evented API's events as a cell shows them:
// "'error' ECONNRESET → 'close' hadError".
func eventWords(events []string) string { return strings.Join(events, " → ") }

// errorWords is a failed call in the runtime's words: the exception's type
// and code or OS error name ("ConnectionResetError ECONNRESET"), then the
// API's events since the last answer; where an 'error' event already says
// it (Node), the events alone: "'error' ECONNRESET → 'close' hadError".
func errorWords(e *agent.Error, events []string) string {
	ev := eventWords(events)
	for _, x := range events {
		if strings.HasPrefix(x, "'error'") {
			return ev
		}
	}
	var parts []string
	switch {
	case e != nil && isJavaType(e.Type):
		parts = append(parts, javaWords(e)) // Java's only detail is its message
	case e != nil:
		if e.Type != "" {
			parts = append(parts, e.Type)
		}
		switch {
		case e.Code != "" && e.Code != e.Type:
			parts = append(parts, e.Code)
		case e.Name != "":
			parts = append(parts, e.Name)
		}
		if len(parts) == 0 && e.Message != "" {
			parts = append(parts, e.Message)
		}
	}
	words := strings.Join(parts, " ")
	if ev != "" {
		if words == "" {
			return ev
		}
		return words + "; " + ev
	}
	return words
}

// errorOutcome classifies a failed call. The class comes from the OS error
// number when the runtime gives one (probes.ClassifyErrno: the raw view's
// own per-OS table, so that the same errno is the same class in every
// view); from the OS error's name or the runtime's code by name otherwise
// (runtimeClasses); else other. Errno is the runtime's own words, Code the
// OS's number.
func errorOutcome(h agent.Hello, e *agent.Error, events []string) probes.Outcome {
	words := errorWords(e, events)
	if e.Errno != 0 {
		if class, name, code := probes.ClassifyErrno(syscall.Errno(e.Errno)); name != "" || code != 0 {
			if !strings.Contains(words, name) && name != "" {
				words += " " + name
			}
			return probes.Outcome{Class: class, Errno: words, Code: code}
		}
	}
	if class, ok := javaClass(e); ok {
		return probes.Outcome{Class: class, Errno: words}
	}
	for _, key := range []string{e.Name, e.Code, e.Type} {
		if class, ok := runtimeClasses[key]; ok && key != "" {
			return probes.Outcome{Class: class, Errno: words}
		}
	}
	return probes.Outcome{Class: schema.ClassOther, Errno: words}
}

// runtimeClasses classifies, by name, an error a runtime reports without
// the OS's number. The errno names are the C and Winsock constants the raw
// view's tables use (probes/classify_*.go), which runtimes keep as codes
// where they drop the number (Node on Windows gives libuv's codes, whose
// names are the POSIX ones: libuv include/uv/errno.h). The rest are each
// runtime's own words, with the source that produces them:
//
//   - Node: ERR_STREAM_DESTROYED, a write on a destroyed stream
//     (lib/internal/streams/writable.js); ERR_SOCKET_CLOSED, a write on a
//     socket whose handle is gone (lib/net.js, Socket._writeGeneric);
//     ERR_STREAM_WRITE_AFTER_END, a write after end() (writable.js):
//     the program shut its own sending side; and EPIPE without a number,
//     "This socket has been ended by the other party", which Node makes
//     itself for a write after the peer's end (lib/net.js, writeAfterFIN).
//   - CPython: the OSError subclasses of PEP 3151, which asyncio also
//     raises without an errno (asyncio/streams.py, FlowControlMixin:
//     ConnectionResetError('Connection lost')).
var runtimeClasses = map[string]schema.Class{
	"ECONNRESET": schema.ClassReset, "WSAECONNRESET": schema.ClassReset,
	"ECONNABORTED": schema.ClassAborted, "WSAECONNABORTED": schema.ClassAborted,
	"EPIPE":     schema.ClassBrokenPipe,
	"ESHUTDOWN": schema.ClassShutdown, "WSAESHUTDOWN": schema.ClassShutdown,
	"ENOTCONN": schema.ClassNotConnected, "WSAENOTCONN": schema.ClassNotConnected,
	"EBADF": schema.ClassBadDescriptor, "WSAEBADF": schema.ClassBadDescriptor,
	"ENOTSOCK": schema.ClassNotSocket, "WSAENOTSOCK": schema.ClassNotSocket,
	"ETIMEDOUT": schema.ClassTimedOut, "WSAETIMEDOUT": schema.ClassTimedOut,
	"EAGAIN": schema.ClassWouldBlock, "WSAEWOULDBLOCK": schema.ClassWouldBlock,

	"ERR_STREAM_DESTROYED":       schema.ClassClosed,
	"ERR_SOCKET_CLOSED":          schema.ClassClosed,
	"ERR_STREAM_WRITE_AFTER_END": schema.ClassShutdown,

	"ConnectionResetError":   schema.ClassReset,
	"ConnectionAbortedError": schema.ClassAborted,
	"BrokenPipeError":        schema.ClassBrokenPipe,
	"TimeoutError":           schema.ClassTimedOut,
}
