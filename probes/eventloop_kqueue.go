//go:build darwin || freebsd

package probes

// watchSocket registers fd with kqueue. Not yet implemented.
func watchSocket(sysfd) (watcher, error) { return nil, ErrUnsupported }
