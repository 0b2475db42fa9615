//go:build !linux

package probes

import "fmt"

// No view of queues, thread states or the receive backlog here yet: the
// harness then concludes blocked only at its bound. darwin could read
// TCP_CONNECTION_INFO (tcpi_snd_sbbytes) and FIONREAD, Windows SIO_TCP_INFO;
// a thread-state signal (issue 11) would fill inSyscall.

func fdFlight(sysfd) (Flight, error) { return Flight{}, errNoFlight }

func lookupFlight(Conn4) (Flight, error) { return Flight{}, errNoFlight }

func inSyscall(int) (bool, error) { return false, errNoFlight }

func asleepInCall(int) (bool, error) { return false, errNoFlight }

func loopbackIdle() (bool, error) { return false, errNoFlight }

var errNoFlight = fmt.Errorf("%w: no view of a call's or a connection's state in flight", ErrUnsupported)
