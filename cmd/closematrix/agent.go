package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/closematrix/closematrix/agents"
	"github.com/closematrix/closematrix/internal/agent"
)

// agentCommand is `closematrix agent check -- CMD ARGS…` (or `agent check
// NAME` for a built-in agent: python, asyncio, node, java, rust): it tells an agent's
// author, in one screen, whether the agent speaks the protocol
// (docs/agent-protocol.md). Exit 0 when every check passed, 1 otherwise.
func agentCommand(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 || args[0] != "check" {
		return exitFailure, usageError{"agent: want `agent check -- CMD ARGS…` or `agent check NAME` (" + strings.Join(agents.Names(), ", ") + ")"}
	}
	argv := args[1:]
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	} else if len(argv) == 1 {
		var err error
		if argv, err = agents.Command(argv[0]); err != nil {
			return exitFailure, err
		}
	}
	if len(argv) == 0 {
		return exitFailure, usageError{"agent check: no agent command after --"}
	}
	c := &checker{out: stdout}
	c.run(argv)
	fmt.Fprintf(stdout, "\n%d passed, %d failed\n", c.passed, c.failed)
	if c.failed > 0 {
		return exitHarness, nil
	}
	return exitOK, nil
}

// checkBound is how long one answer may take in a check: loopback calls
// answer in milliseconds.
const checkBound = 5 * time.Second

type checker struct {
	out            io.Writer
	p              *agent.Process
	passed, failed int
}

func (c *checker) result(ok bool, what, detail string) bool {
	mark := "ok  "
	if ok {
		c.passed++
	} else {
		mark = "FAIL"
		c.failed++
	}
	if detail != "" {
		detail = ": " + detail
	}
	fmt.Fprintf(c.out, "%s %s%s\n", mark, what, detail)
	return ok
}

// do runs cmd and describes the answer.
func (c *checker) do(cmd agent.Command) (agent.Answer, string, error) {
	a, err := c.p.Do(cmd, checkBound)
	if err != nil {
		return a, err.Error(), err
	}
	return a, describe(a), nil
}

func describe(a agent.Answer) string {
	var parts []string
	parts = append(parts, a.Status)
	if a.N > 0 {
		parts = append(parts, fmt.Sprintf("n=%d", a.N))
	}
	if a.Conn != "" {
		parts = append(parts, fmt.Sprintf("%s %s→%s", a.Conn, a.Local, a.Remote))
	}
	if a.Error != nil {
		parts = append(parts, fmt.Sprintf("%s %s %s errno=%d", a.Error.Type, a.Error.Code, a.Error.Name, a.Error.Errno))
	}
	if len(a.Events) > 0 {
		parts = append(parts, "events "+strings.Join(a.Events, " → "))
	}
	if a.Reason != "" {
		parts = append(parts, a.Reason)
	}
	return strings.Join(parts, " ")
}

// pair makes a loopback connection: listener, dialer, accepted end.
func (c *checker) pair(what string) (ln string, dialer, accepted agent.Answer, ok bool) {
	l, d, err := c.do(agent.Command{Op: agent.OpListen, Family: "v4"})
	if !c.result(err == nil && l.Status == agent.StatusOK && l.Port > 0, what+": listen v4", d) {
		return "", dialer, accepted, false
	}
	// Dial and accept at once: an agent may answer either first.
	var wg sync.WaitGroup
	var acc agent.Answer
	var accErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		acc, accErr = c.p.Do(agent.Command{Op: agent.OpAccept, Listener: l.Listener}, checkBound)
	}()
	dialer, d, err = c.do(agent.Command{Op: agent.OpDial, Family: "v4", Port: l.Port})
	wg.Wait()
	okDial := c.result(err == nil && dialer.Status == agent.StatusOK && dialer.Conn != "", what+": dial", d)
	ad := describe(acc)
	if accErr != nil {
		ad = accErr.Error()
	}
	okAcc := c.result(accErr == nil && acc.Status == agent.StatusOK && acc.Conn != "", what+": accept", ad)
	if okDial && okAcc {
		dl, dr, err1 := dialer.Addrs()
		al, ar, err2 := acc.Addrs()
		c.result(err1 == nil && err2 == nil && dl == ar && dr == al, what+": the two ends' addresses match (the harness finds them by 4-tuple)",
			fmt.Sprintf("%s %s / %s %s", dialer.Local, dialer.Remote, acc.Local, acc.Remote))
	}
	return l.Listener, dialer, acc, okDial && okAcc
}

func (c *checker) run(argv []string) {
	start := time.Now()
	p, err := agent.Start(argv, nil)
	if !c.result(err == nil, "hello within "+agent.HelloBound.String(), errString(err)) {
		return
	}
	c.p = p
	h := p.Hello()
	fmt.Fprintf(c.out, "     %s %s, api %s, protocol %d, in %v\n     ops: %s\n     thread ids: %v; abort: %s",
		h.Runtime, h.Version, h.API, h.Protocol, time.Since(start).Round(time.Millisecond), strings.Join(h.Ops, " "), h.ThreadIDs, h.Abort)
	if h.Loop != "" {
		fmt.Fprintf(c.out, "; loop: %s", h.Loop)
	}
	fmt.Fprintln(c.out)
	var unknown []string
	for _, op := range h.Ops {
		known := false
		for _, k := range agent.Ops {
			known = known || k == op
		}
		if !known {
			unknown = append(unknown, op)
		}
	}
	c.result(len(unknown) == 0, "every declared operation is in protocol 1", strings.Join(unknown, " "))
	for _, op := range []string{agent.OpListen, agent.OpDial, agent.OpAccept, agent.OpSend, agent.OpRecv, agent.OpClose} {
		if !h.Supports(op) {
			c.result(false, "declares "+op+" (every view needs it)", "")
		}
	}

	ln, d, a, ok := c.pair("pair 1")
	if ok {
		s, ds, err := c.do(agent.Command{Op: agent.OpSend, Conn: d.Conn, N: 32})
		c.result(err == nil && s.Status == agent.StatusOK && s.N == 32, "send 32 bytes", ds)
		r, rs, err := c.do(agent.Command{Op: agent.OpRecv, Conn: a.Conn, Max: 64})
		c.result(err == nil && r.Status == agent.StatusOK && r.N > 0 && r.N <= 32, "recv them on the other end", rs)
		if h.Supports(agent.OpPauseReading) {
			r, rs, err := c.do(agent.Command{Op: agent.OpPauseReading, Conn: a.Conn})
			c.result(err == nil && r.Status == agent.StatusOK, "pause-reading", rs)
		}
		if h.Supports(agent.OpSetLinger) {
			on := true
			r, rs, err := c.do(agent.Command{Op: agent.OpSetLinger, Conn: d.Conn, On: &on, Secs: 1})
			c.result(err == nil && r.Status == agent.StatusOK, "set-linger on 1 s", rs)
			off := false
			r, rs, err = c.do(agent.Command{Op: agent.OpSetLinger, Conn: d.Conn, On: &off})
			c.result(err == nil && r.Status == agent.StatusOK, "set-linger off", rs)
		}
		if h.Supports(agent.OpShutdown) {
			r, rs, err := c.do(agent.Command{Op: agent.OpShutdown, Conn: d.Conn, How: "wr"})
			c.result(err == nil && r.Status == agent.StatusOK, "shutdown wr", rs)
			r, rs, err = c.do(agent.Command{Op: agent.OpRecv, Conn: a.Conn, Max: 64})
			c.result(err == nil && r.Status == agent.StatusOK && r.N == 0, "the other end reads end of stream", rs)
			for _, how := range []string{"rd", "rdwr"} {
				r, rs, err := c.do(agent.Command{Op: agent.OpShutdown, Conn: a.Conn, How: how})
				c.result(err == nil && r.Status != agent.StatusBadRequest, "shutdown "+how+" (ok, an error or unsupported)", rs)
			}
		}
		if h.Supports(agent.OpFill) {
			r, rs, err := c.do(agent.Command{Op: agent.OpFill, Conn: a.Conn})
			c.result(err == nil && r.Status != agent.StatusBadRequest, "fill (the send buffer, without blocking)", rs)
		}
		r, rs, err = c.do(agent.Command{Op: agent.OpClose, Conn: d.Conn})
		c.result(err == nil && r.Status == agent.StatusOK, "close", rs)
		r, rs, err = c.do(agent.Command{Op: agent.OpSend, Conn: d.Conn, N: 1})
		c.result(err == nil && r.Status != agent.StatusBadRequest, "send on the closed end answers (the runtime's words)", rs)
		if h.Supports(agent.OpAbort) {
			r, rs, err := c.do(agent.Command{Op: agent.OpAbort, Conn: a.Conn})
			c.result(err == nil && r.Status != agent.StatusBadRequest, "abort", rs)
		}
		if h.Supports(agent.OpCloseListener) {
			r, rs, err := c.do(agent.Command{Op: agent.OpCloseListener, Listener: ln})
			c.result(err == nil && r.Status == agent.StatusOK, "close-listener", rs)
		}
	}
	r, rs, err := c.do(agent.Command{Op: "no-such-op"})
	c.result(err == nil && r.Status == agent.StatusBadRequest, "an unknown command answers bad-request", rs)
	c.concurrent()
	start = time.Now()
	err = p.Close()
	c.result(err == nil, "exits cleanly when its stdin closes", fmt.Sprintf("%v in %v", errString(err), time.Since(start).Round(time.Millisecond)))
	if t := p.Stderr(); len(t) > 0 {
		fmt.Fprintf(c.out, "     last stderr: %s\n", strings.Join(t, " | "))
	}
}

// concurrent opens three connections, blocks a recv on each, then sends to
// them in reverse order: each answer must come, matched by its id, while
// the others still wait.
func (c *checker) concurrent() {
	const n = 3
	type end struct{ d, a agent.Answer }
	var ends []end
	for i := range n {
		_, d, a, ok := c.pair(fmt.Sprintf("concurrent %d", i+1))
		if !ok {
			return
		}
		ends = append(ends, end{d, a})
	}
	calls := make([]*agent.Call, n)
	for i, e := range ends {
		call, err := c.p.Send(agent.Command{Op: agent.OpRecv, Conn: e.a.Conn, Max: 64})
		if !c.result(err == nil, fmt.Sprintf("blocked recv %d sent", i+1), errString(err)) {
			return
		}
		calls[i] = call
	}
	for i := n - 1; i >= 0; i-- {
		// The others stay blocked while this one is answered.
		for j := 0; j < i; j++ {
			if _, err := calls[j].Wait(20 * time.Millisecond); !errors.Is(err, agent.ErrTimeout) {
				c.result(false, fmt.Sprintf("recv %d stays blocked until its data is sent", j+1), errString(err))
			}
		}
		s, ds, err := c.do(agent.Command{Op: agent.OpSend, Conn: ends[i].d.Conn, N: 8})
		c.result(err == nil && s.Status == agent.StatusOK, fmt.Sprintf("send to connection %d while %d recvs wait", i+1, i+1), ds)
		a, err := calls[i].Wait(checkBound)
		c.result(err == nil && a.Status == agent.StatusOK && a.N == 8, fmt.Sprintf("recv %d answered out of order, by its id", i+1), describeOr(a, err))
	}
	for _, e := range ends {
		c.p.Do(agent.Command{Op: agent.OpClose, Conn: e.d.Conn}, checkBound)
		c.p.Do(agent.Command{Op: agent.OpClose, Conn: e.a.Conn}, checkBound)
	}
}

func describeOr(a agent.Answer, err error) string {
	if err != nil {
		return err.Error()
	}
	return describe(a)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
