package probes

// watchSocket registers the socket's base handle for AFD poll; startRecv
// posts an overlapped WSARecv on an I/O completion port. Not yet implemented.
func watchSocket(sysfd) (watcher, error)      { return nil, ErrUnsupported }
func startRecv(sysfd, int) (asyncRecv, error) { return nil, ErrUnsupported }
