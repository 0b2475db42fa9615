package probes

import "errors"

// ErrStateUnavailable is wrapped by State and LookupState errors that mean
// "this system does not tell": the call that reports TCP state is missing or
// refused (SIO_TCP_INFO before Windows 10 1703, or under Wine; GetTcpTable2
// unimplemented; sysctl net.inet.tcp.pcblist_n failing or withheld). The
// harness records such a step as skipped with the reason, not as a behaviour.
var ErrStateUnavailable = errors.New("TCP state not available on this system")
