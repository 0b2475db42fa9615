package probes

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// connFilter is a classic BPF program (filter.txt in the kernel's
// Documentation/networking; packet(7), SO_ATTACH_FILTER) that keeps the
// packets of one TCP connection, either direction, and drops every other
// before it is queued: a capture on lo then holds only its own connection's
// segments, whatever else (another scenario, another program) is sending on
// loopback meanwhile, and its buffer cannot be filled by them. It matches the
// ports: on loopback both ends' addresses are 127.0.0.1 or ::1, and the
// caller still checks the whole 4-tuple. The program sees the packet from
// its network header (SOCK_DGRAM: net/packet/af_packet.c, packet_rcv, runs
// the filter after the link header is pulled).
//
// It is the program the BSD capture uses (bpfConnProgram), read from the
// network header (link header length 0): classic BPF is one encoding on
// both (TestBPFOpcodesAreLinuxs checks the opcodes against x/sys's).
func connFilter(c Conn4) []unix.SockFilter {
	prog := bpfConnProgram(0, c)
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		out[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out
}

// attachConnFilter attaches connFilter(c) to the packet socket fd.
func attachConnFilter(fd int, c Conn4) error {
	f := connFilter(c)
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}); err != nil {
		return fmt.Errorf("attach the capture's filter: %w", wrap("setsockopt", err))
	}
	return nil
}
