//go:build darwin || freebsd

package probes

import (
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestBPFLayoutMatchesXSys: the layouts and constants the pure parser
// spells out (wire_bpf_parse.go) are x/sys's struct bpf_hdr and net/bpf.h
// values on this OS, so a fixture that follows them follows the kernel.
func TestBPFLayoutMatchesXSys(t *testing.T) {
	l, af6 := bpfHdrFreeBSD, uint32(afInet6BSD)
	if runtime.GOOS == "darwin" {
		l, af6 = bpfHdrDarwin, afInet6Darwin
	}
	var h unix.BpfHdr
	if got := (bpfHdrLayout{caplen: int(unsafe.Offsetof(h.Caplen)), datalen: int(unsafe.Offsetof(h.Datalen)), hdrlen: int(unsafe.Offsetof(h.Hdrlen)), align: unix.BPF_ALIGNMENT}); got != l {
		t.Errorf("x/sys bpf_hdr layout %+v, the parser's %+v", got, l)
	}
	if af6 != unix.AF_INET6 || afInet != unix.AF_INET || dltNull != unix.DLT_NULL || dltLoop != unix.DLT_LOOP {
		t.Errorf("family or link type constants differ from x/sys")
	}
	for _, c := range [][2]int{
		{bpfLD, unix.BPF_LD}, {bpfLDX, unix.BPF_LDX}, {bpfALU, unix.BPF_ALU}, {bpfJMP, unix.BPF_JMP}, {bpfRET, unix.BPF_RET},
		{bpfH, unix.BPF_H}, {bpfB, unix.BPF_B}, {bpfABS, unix.BPF_ABS}, {bpfIND, unix.BPF_IND}, {bpfMSH, unix.BPF_MSH},
		{bpfRSH, unix.BPF_RSH}, {bpfJEQ, unix.BPF_JEQ}, {bpfK, unix.BPF_K},
	} {
		if c[0] != c[1] {
			t.Errorf("BPF opcode %#x here, %#x in x/sys", c[0], c[1])
		}
	}
}
