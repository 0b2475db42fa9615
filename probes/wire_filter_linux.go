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
func connFilter(c Conn4) []unix.SockFilter {
	l, r := uint32(c.Local.Port()), uint32(c.Remote.Port())
	type ins struct {
		op         uint16
		k          uint32
		jt, jf     string // labels for jumps; "" is the next instruction
		label, ret string
	}
	prog := []ins{
		{op: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, k: 0}, // version and IHL
		{op: unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K, k: 4},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: 4, jf: "v6"},
		{op: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, k: 9}, // IPv4 protocol
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.IPPROTO_TCP, jf: "drop"},
		{op: unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH, k: 0}, // X = header length
		{op: unix.BPF_LD | unix.BPF_H | unix.BPF_IND, k: 0},  // source port
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: l, jt: "v4r"},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: r, jt: "v4l", jf: "drop"},
		{label: "v4r", op: unix.BPF_LD | unix.BPF_H | unix.BPF_IND, k: 2},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: r, jt: "keep", jf: "drop"},
		{label: "v4l", op: unix.BPF_LD | unix.BPF_H | unix.BPF_IND, k: 2},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: l, jt: "keep", jf: "drop"},
		{label: "v6", op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: 6, jf: "drop"},
		{op: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, k: 6}, // IPv6 next header (no extension headers here)
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.IPPROTO_TCP, jf: "drop"},
		{op: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, k: 40},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: l, jt: "v6r"},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: r, jt: "v6l", jf: "drop"},
		{label: "v6r", op: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, k: 42},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: r, jt: "keep", jf: "drop"},
		{label: "v6l", op: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, k: 42},
		{op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: l, jt: "keep", jf: "drop"},
		{label: "keep", op: unix.BPF_RET | unix.BPF_K, k: 1 << 18},
		{label: "drop", op: unix.BPF_RET | unix.BPF_K, k: 0},
	}
	at := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
	}
	jump := func(i int, label string) uint8 {
		if label == "" {
			return 0
		}
		return uint8(at[label] - i - 1)
	}
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		out[i] = unix.SockFilter{Code: in.op, K: in.k, Jt: jump(i, in.jt), Jf: jump(i, in.jf)}
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
