//go:build !linux

package probes

import "fmt"

// setUserTimeout: TCP_USER_TIMEOUT is Linux's (tcp(7)). Darwin's nearest,
// TCP_RXT_CONNDROPTIME, counts seconds, and Windows' TCP_MAXRT differs in
// what it bounds; neither is wired up.
func setUserTimeout(sysfd, int) error {
	return fmt.Errorf("TCP_USER_TIMEOUT: %w", ErrUnsupported)
}
