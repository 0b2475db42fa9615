package probes

// waitChildCopies cannot see a child's descriptors on darwin (no /proc), so
// a child that has not finished its exec may still hold the socket there.
// The harness plays one scenario at a time on darwin (DefaultWorkers), so
// no other scenario forks beside a close.
func waitChildCopies(int) {}
