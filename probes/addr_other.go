//go:build !linux

package probes

import (
	"fmt"
	"net/netip"
)

// Sockets on a given address serve the network scenarios, which need Linux
// network namespaces; no other OS has a caller for them yet.

func bindListenAddr(sysfd, netip.Addr) (int, error) {
	return 0, fmt.Errorf("listen on a given address: %w", ErrUnsupported)
}

func connectAddr(sysfd, netip.AddrPort) error {
	return fmt.Errorf("connect to a given address: %w", ErrUnsupported)
}

// setUserTimeout: TCP_USER_TIMEOUT is Linux's (tcp(7)). Darwin's nearest,
// TCP_RXT_CONNDROPTIME, counts seconds, and Windows' TCP_MAXRT differs in
// what it bounds; neither is wired up.
func setUserTimeout(sysfd, int) error {
	return fmt.Errorf("TCP_USER_TIMEOUT: %w", ErrUnsupported)
}
