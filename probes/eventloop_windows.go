package probes

import "github.com/closematrix/closematrix/schema"

// watchSocket registers the socket's base handle for AFD poll; startRecv
// posts an overlapped WSARecv on an I/O completion port. Not yet implemented.
func watchSocket(sysfd) (watcher, error)      { return nil, ErrUnsupported }
func startRecv(sysfd, int) (asyncRecv, error) { return nil, ErrUnsupported }

// completionClass classifies GetQueuedCompletionStatus's Win32 error. Not yet
// implemented.
func completionClass(int) schema.Class { return schema.ClassOther }
