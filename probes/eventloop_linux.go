package probes

import "github.com/closematrix/closematrix/schema"

// watchSocket registers fd with epoll; startRecv submits IORING_OP_RECV.
// Not yet implemented.
func watchSocket(sysfd) (watcher, error)      { return nil, ErrUnsupported }
func startRecv(sysfd, int) (asyncRecv, error) { return nil, ErrUnsupported }

// completionClass classifies an io_uring CQE's -res errno. Not yet implemented.
func completionClass(int) schema.Class { return schema.ClassOther }
