package harness

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closematrix/closematrix/probes"
)

// Endpoint is one end of a connection as the runner drives it. Raw sockets
// (*probes.Socket) implement it, and so does the Go net view
// (probes/gonet), so that one runner plays every scenario through either.
type Endpoint interface {
	Send(p []byte) probes.Outcome
	Recv(max int) probes.Outcome
	Shutdown(how probes.How) probes.Outcome
	Close() probes.Outcome
	SetLinger(on bool, secs int) error
	Pending() (int, error)
	Settle(bound time.Duration) bool
	State() (string, error)
	Poll() (string, error)
	SoError() probes.Outcome
	Conn() probes.Conn4
	Closed() bool
}

// Listener accepts connections for a Transport.
type Listener interface {
	Port() int
	Accept() (Endpoint, error)
	Close() error
}

// Transport makes connections on loopback.
type Transport interface {
	// Name is the view's name: "" for raw sockets, "gonet" for Go's net;
	// it suffixes the platform label of a result file.
	Name() string
	Listen(f probes.Family) (Listener, error)
	Dial(f probes.Family, port int) (Endpoint, error)
}

// Raw is the transport of raw x/sys sockets: what the OS itself answers.
var Raw Transport = raw{}

type raw struct{}

func (raw) Name() string { return "" }

func (raw) Listen(f probes.Family) (Listener, error) {
	l, err := probes.Listen(f)
	if err != nil {
		return nil, err
	}
	return rawListener{l}, nil
}

func (raw) Dial(f probes.Family, port int) (Endpoint, error) {
	s, err := probes.Dial(f, port)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return s, nil
}

type rawListener struct{ *probes.Listener }

func (l rawListener) Accept() (Endpoint, error) {
	s, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// transports are the views a suite run can take, by name.
var transports = map[string]Transport{"raw": Raw}

// TransportByName returns the view a suite flag names: raw or gonet.
func TransportByName(name string) (Transport, error) {
	if t, ok := transports[name]; ok {
		return t, nil
	}
	var names []string
	for n := range transports {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown view %q (have %s)", name, strings.Join(names, ", "))
}
