//go:build !linux && !darwin && !freebsd

package probes

import (
	"fmt"
	"net/netip"
)

// Sockets on a given address serve the network scenarios, which need Linux
// network namespaces; sys_unix.go has them for Linux, darwin and FreeBSD, and
// no other OS has a caller for them yet.

func bindListenAddr(sysfd, netip.Addr) (int, error) {
	return 0, fmt.Errorf("listen on a given address: %w", ErrUnsupported)
}

func connectAddr(sysfd, netip.AddrPort) error {
	return fmt.Errorf("connect to a given address: %w", ErrUnsupported)
}
