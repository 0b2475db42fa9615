package probes

// Unconnected wraps socket(2) alone: a TCP socket of family f that was never
// bound or connected, for the calls other suites make on one (shutdown of a
// socket that never connected: POSIX shutdown() lists ENOTCONN, "The socket
// is not connected"; Winsock's shutdown page, WSAENOTCONN). Its Conn is the
// zero 4-tuple: no system table lists it.
func Unconnected(f Family) (*Socket, error) {
	fd, err := newSocketFor(f)
	if err != nil {
		return nil, err
	}
	return &Socket{fd: fd}, nil
}
