//go:build !freebsd

package probes

// platformNotes: no setting here is known to change what a cell shows
// (FreeBSD's are platform_freebsd.go's).
func platformNotes() map[string]string { return nil }
