package probes

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCaptureFilter: a capture holds its own connection's packets only,
// however much another connection sends on loopback meanwhile.
func TestCaptureFilter(t *testing.T) {
	for _, f := range []Family{V4, V6} {
		t.Run(string(f), func(t *testing.T) {
			la, a, aPeer := statePair(t, f)
			lb, b, bPeer := statePair(t, f)
			defer func() {
				for _, s := range []*Socket{a, aPeer, b, bPeer} {
					s.Close()
				}
				la.Close()
				lb.Close()
			}()
			c, err := StartCapture(a.Conn())
			if errors.Is(err, ErrCaptureNeedsRoot) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for range 20 {
				if o := b.Send(make([]byte, 100)); o.N != 100 {
					t.Fatalf("send on the other connection: %s", o)
				}
				if o := bPeer.Send(make([]byte, 100)); o.N != 100 {
					t.Fatalf("send on the other connection: %s", o)
				}
			}
			if o := a.Send(make([]byte, 7)); o.N != 7 {
				t.Fatalf("send: %s", o)
			}
			if o := aPeer.Send(make([]byte, 9)); o.N != 9 {
				t.Fatalf("send: %s", o)
			}
			a.Settle(time.Second)
			aPeer.Settle(time.Second)
			buf := make([]byte, 65536)
			n := 0
			for {
				m, _, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
				if errors.Is(err, unix.EAGAIN) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				src, dst, _, ok := parseTCP(buf[:m])
				conn := a.Conn()
				if !ok || !(src == conn.Local && dst == conn.Remote || src == conn.Remote && dst == conn.Local) {
					t.Errorf("captured a packet of another connection: %v -> %v", src, dst)
				}
				n++
			}
			if n == 0 {
				t.Fatal("captured nothing of the watched connection")
			}
			t.Logf("%d packets of the watched connection, none of the other's", n)
		})
	}
}

// TestBPFOpcodesAreLinuxs: the capture filter is built once (bpfConnProgram)
// for the BSDs and Linux, so the BSD headers' opcodes must be Linux's
// linux/filter.h ones too.
func TestBPFOpcodesAreLinuxs(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, sys int
	}{
		{"LD", bpfLD, unix.BPF_LD}, {"LDX", bpfLDX, unix.BPF_LDX}, {"ALU", bpfALU, unix.BPF_ALU},
		{"JMP", bpfJMP, unix.BPF_JMP}, {"RET", bpfRET, unix.BPF_RET}, {"H", bpfH, unix.BPF_H},
		{"B", bpfB, unix.BPF_B}, {"ABS", bpfABS, unix.BPF_ABS}, {"IND", bpfIND, unix.BPF_IND},
		{"MSH", bpfMSH, unix.BPF_MSH}, {"RSH", bpfRSH, unix.BPF_RSH}, {"JEQ", bpfJEQ, unix.BPF_JEQ},
		{"K", bpfK, unix.BPF_K},
	} {
		if c.ours != c.sys {
			t.Errorf("BPF_%s: 0x%x here, 0x%x in linux/filter.h", c.name, c.ours, c.sys)
		}
	}
}
