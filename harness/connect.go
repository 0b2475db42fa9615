package harness

import (
	"fmt"
	"sync"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// The connection of a play: made on call threads within bounds (guarded),
// so that a dial, an accept or a helper's start that never returns is a
// harness error, and an end made after its bound gave up is closed.

// connectListener sets up a listener scenario: the actor is a listener, the
// peer a client whose connection waits in its backlog, never accepted.
func (p *play) connectListener() error {
	ln, err := probes.Listen(p.sc.Family)
	if err != nil {
		return err
	}
	p.sock[Actor] = &listenerActor{ln: ln, family: p.sc.Family}
	if p.sc.Posture == OwnBlockedAccept {
		return nil
	}
	peer, err := setupOpen(p, Peer, "connect to the listener", setupBound, func() (*probes.Socket, error) {
		return probes.Dial(p.sc.Family, ln.Port())
	})
	if err != nil {
		return err
	}
	p.sock[Peer] = peer
	p.stats.Conns = append(p.stats.Conns, peer.Conn())
	return nil
}

// connect makes the connection: the actor dials, the peer is accepted, and the
// listener is closed at once so none outlives the setup.
func (p *play) connect() error {
	if p.sc.Has(Unconnected) {
		if p.cfg.Transport != Raw {
			return fmt.Errorf("%w: an unconnected socket is played on raw sockets only", ErrNotInView)
		}
		s, err := probes.Unconnected(p.sc.Family)
		if err != nil {
			return err
		}
		p.sock[Actor] = s
		return nil
	}
	if p.sc.Action.spec().listener {
		if p.cfg.Transport != Raw {
			return fmt.Errorf("%w: listener scenarios are played on raw sockets only", ErrNotInView)
		}
		return p.connectListener()
	}
	ln, err := p.cfg.Transport.Listen(p.sc.Family)
	if err != nil {
		return err
	}
	defer ln.Close()
	bound := setupBound
	if p.sc.Action.spec().process {
		bound = helperStartBound // a process to start first (helperStartBound)
	}
	actor, err := setupOpen(p, Actor, fmt.Sprintf("connect to %s port %d", p.sc.Family, ln.Port()), bound, func() (Endpoint, error) {
		if p.sc.Action.spec().process {
			return startActor(p.sc.Family, ln.Port())
		}
		return p.cfg.Transport.Dial(p.sc.Family, ln.Port())
	})
	if err != nil {
		return err
	}
	p.sock[Actor] = actor
	p.stats.Conns = append(p.stats.Conns, actor.Conn())
	peer, err := setupOpen(p, Peer, "accept after connect completed", setupBound, ln.Accept)
	if err != nil {
		return err
	}
	p.sock[Peer] = peer
	return nil
}

// setupOpen makes one end of the connection (dial, accept, a helper
// process's socket) on a call thread of its own within bound, like every
// other call (guardedOpen). Its failure, or a call that outlives the bound,
// is a harness error; an end made after the bound gave up is closed (a
// helper killed), not leaked.
func setupOpen[T interface{ Close() probes.Outcome }](p *play, side Side, what string, bound time.Duration, open func() (T, error)) (T, error) {
	end, err, gerr := guardedOpen(p, side, Send, what, bound, open, func(end T) error { end.Close(); return nil })
	if gerr != nil {
		return end, gerr
	}
	return end, err
}

// guarded runs f, a call that does not block by contract or has a bound of
// its own (a dial or accept, an event loop's registration, a read without
// waiting, a submission, a wait with its own bound), on a call thread of its own within limit, like every other call: one
// that does not return is a harness error, never a hang, and teardown reaps
// it with the rest.
func (p *play) guarded(side Side, op Op, what string, limit time.Duration, f func()) error {
	c := p.start(side, op, what, func() probes.Outcome { f(); return probes.Outcome{Class: schema.ClassOK} })
	if _, ok := c.await(limit); !ok {
		return fmt.Errorf("%s on the %s did not return within %v", what, side, limit)
	}
	return nil
}

// guardedOpen is guarded for a call that makes something to be closed (a
// registration, a submitted recv): what open makes after the guard gave up
// is closed by release, on the call's thread or here, so an overstaying
// call leaks no descriptor, ring or operation, and its results are never
// read while that thread may still write them.
func guardedOpen[T any](p *play, side Side, op Op, what string, limit time.Duration, open func() (T, error), release func(T) error) (T, error, error) {
	var (
		mu              sync.Mutex
		got             T
		gotErr          error
		done, abandoned bool
	)
	gerr := p.guarded(side, op, what, limit, func() {
		v, err := open()
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if err == nil {
				release(v) // the run is already a harness error
			}
			return
		}
		got, gotErr, done = v, err, true
	})
	if gerr != nil {
		mu.Lock()
		defer mu.Unlock()
		abandoned = true
		if done && gotErr == nil {
			release(got) // it returned between the guard's bound and this lock
		}
		var zero T
		return zero, nil, gerr
	}
	return got, gotErr, nil
}
