//go:build !linux && !darwin && !windows && !freebsd

package probes

import (
	"time"

	"github.com/closematrix/closematrix/schema"
)

// This file keeps the package buildable where closematrix has no probes: every
// call reports ErrUnsupported.

type sysfd = int

func startup() error                                 { return ErrUnsupported }
func newSocket(Family) (int, error)                  { return -1, ErrUnsupported }
func bindListen(int, Family) (int, error)            { return 0, ErrUnsupported }
func connect(int, Family, int) error                 { return ErrUnsupported }
func accept(int) (int, error)                        { return -1, ErrUnsupported }
func send(int, []byte) (int, error)                  { return 0, ErrUnsupported }
func recv(int, []byte) (int, error)                  { return 0, ErrUnsupported }
func shutdown(int, How) error                        { return ErrUnsupported }
func closeFD(int) error                              { return ErrUnsupported }
func setLinger(int, bool, int) error                 { return ErrUnsupported }
func pending(int) (int, error)                       { return 0, ErrUnsupported }
func fillSendBuffer(int) (int, error)                { return 0, ErrUnsupported }
func staleIsFree(int) bool                           { return false }
func threadSignal() error                            { return ErrUnsupported }
func familyUnavailable(error) bool                   { return false }
func threadID() int                                  { return 0 }
func waitInSyscall(int, time.Duration) (bool, error) { return false, ErrUnsupported }
func settle(int, time.Duration) bool                 { return false }
func classify(error) (schema.Class, string, int)     { return schema.ClassOther, "", 0 }

func sockConn(int) (Conn4, error)       { return Conn4{}, ErrUnsupported }
func tcpState(int) (string, error)      { return "", ErrUnsupported }
func lookupState(Conn4) (string, error) { return "", ErrUnsupported }
func pollEvents(int) ([]string, error)  { return nil, ErrUnsupported }
func soError(int) (pending, err error)  { return nil, ErrUnsupported }

// tablePoll and tablePollMax pace settleState; here it never polls.
const (
	tablePoll    = time.Millisecond
	tablePollMax = time.Millisecond
)
