package probes

// watchSocket registers fd with epoll; startRecv submits IORING_OP_RECV.
// Not yet implemented.
func watchSocket(sysfd) (watcher, error)      { return nil, ErrUnsupported }
func startRecv(sysfd, int) (asyncRecv, error) { return nil, ErrUnsupported }
