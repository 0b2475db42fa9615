//go:build darwin || freebsd

package probes

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Capture records the TCP segments of one connection on lo0, both
// directions, through a BPF device (bpf(4) on macOS and FreeBSD) read with
// x/sys: no libpcap. NEVER RUN on a real darwin or FreeBSD machine yet: the
// record walk, the framing and the filter are tested with byte fixtures
// (wire_bpf_parse_test.go); the ioctls below follow bpf(4) and the headers
// cited, and the first macOS / FreeBSD run is their test.
type Capture struct {
	fd     int
	conn   Conn4
	dlt    uint32       // BIOCGDLT: DLT_NULL on lo0
	layout bpfHdrLayout // this OS's struct bpf_hdr
	af6    uint32       // this OS's AF_INET6, as the family word carries it
	buf    []byte       // exactly BIOCGBLEN bytes: bpf(4) rejects a read of any other size
	seen   []Packet
}

// bpfIoctl is ioctl(2) on a BPF device with a pointer argument; x/sys
// exports no ioctl that takes an arbitrary pointer on darwin and FreeBSD.
func bpfIoctl(fd int, req uint, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// openBPF opens a BPF device. FreeBSD's /dev/bpf clones a new device on
// each open (bpf(4): "a cloning device"); macOS has /dev/bpf0, /dev/bpf1, …,
// each busy (EBUSY) while another descriptor holds it, and creates more on
// demand up to sysctl debug.bpf_maxdevices (xnu bsd/net/bpf.c bpfopen,
// bpf_make_dev_t). Either way a device that cannot be opened for want of
// privilege (the nodes are root-only: crw------- root) is
// ErrCaptureNeedsRoot.
func openBPF() (int, error) {
	fd, err := unix.Open("/dev/bpf", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, bpfOpenErr("/dev/bpf", err)
	}
	for i := 0; i < 256; i++ {
		name := fmt.Sprintf("/dev/bpf%d", i)
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EBUSY) {
			continue
		}
		if err != nil {
			return -1, bpfOpenErr(name, err)
		}
		return fd, nil
	}
	return -1, fmt.Errorf("capture: every /dev/bpf0../dev/bpf255 is busy")
}

func bpfOpenErr(name string, err error) error {
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w: open %s: %v", ErrCaptureNeedsRoot, name, err)
	}
	return fmt.Errorf("capture: open %s: %w", name, err)
}

// StartCapture starts recording the segments c.Local sends to c.Remote and
// those it receives back, on lo0.
func StartCapture(c Conn4) (*Capture, error) {
	fd, err := openBPF()
	if err != nil {
		return nil, err
	}
	cp, err := setupBPF(fd, c)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return cp, nil
}

func setupBPF(fd int, c Conn4) (*Capture, error) {
	cp := &Capture{fd: fd, conn: c, layout: bpfHdrFreeBSD, af6: afInet6BSD}
	if runtime.GOOS == "darwin" {
		cp.layout, cp.af6 = bpfHdrDarwin, afInet6Darwin
	}
	// BIOCSBLEN must come before BIOCSETIF (bpf(4)); the kernel clamps the
	// size to its maximum (xnu BPF_MAXBUFSIZE 0x80000; FreeBSD sysctl
	// net.bpf.maxbufsize), and BIOCGBLEN says what it granted.
	blen := uint32(bpfMaxBuf)
	if err := bpfIoctl(fd, unix.BIOCSBLEN, unsafe.Pointer(&blen)); err != nil {
		return nil, wrap("ioctl BIOCSBLEN", err)
	}
	// struct ifreq: char ifr_name[IFNAMSIZ] and a 16-byte union (net/if.h);
	// BIOCSETIF is _IOW('B', 108, struct ifreq), 32 bytes.
	var ifr [unix.IFNAMSIZ + 16]byte
	copy(ifr[:], "lo0")
	if err := bpfIoctl(fd, unix.BIOCSETIF, unsafe.Pointer(&ifr[0])); err != nil {
		return nil, fmt.Errorf("capture: attach to lo0: %w", wrap("ioctl BIOCSETIF", err))
	}
	var dlt uint32
	if err := bpfIoctl(fd, unix.BIOCGDLT, unsafe.Pointer(&dlt)); err != nil {
		return nil, wrap("ioctl BIOCGDLT", err)
	}
	if dlt != unix.DLT_NULL && dlt != unix.DLT_LOOP {
		return nil, fmt.Errorf("capture: lo0's link type is %d, neither DLT_NULL nor DLT_LOOP", dlt)
	}
	cp.dlt = dlt
	// Immediate mode: a read returns what has arrived rather than waiting
	// for the buffer to fill (bpf(4) BIOCIMMEDIATE).
	on := uint32(1)
	if err := bpfIoctl(fd, unix.BIOCIMMEDIATE, unsafe.Pointer(&on)); err != nil {
		return nil, wrap("ioctl BIOCIMMEDIATE", err)
	}
	prog := bpfConnProgram(loopHdrSize, c)
	insns := make([]unix.BpfInsn, len(prog))
	for i, in := range prog {
		insns[i] = unix.BpfInsn{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	bp := unix.BpfProgram{Len: uint32(len(insns)), Insns: &insns[0]}
	if err := bpfIoctl(fd, unix.BIOCSETF, unsafe.Pointer(&bp)); err != nil {
		return nil, fmt.Errorf("capture: set the connection's filter: %w", wrap("ioctl BIOCSETF", err))
	}
	runtime.KeepAlive(insns)
	// Whatever lo0 carried between BIOCSETIF and BIOCSETF went in
	// unfiltered: flush it, which also zeroes the drop count (bpf(4)
	// BIOCFLUSH: "Flushes the buffer of incoming packets, and resets the
	// statistics").
	if err := bpfIoctl(fd, unix.BIOCFLUSH, nil); err != nil {
		return nil, wrap("ioctl BIOCFLUSH", err)
	}
	if err := bpfIoctl(fd, unix.BIOCGBLEN, unsafe.Pointer(&blen)); err != nil {
		return nil, wrap("ioctl BIOCGBLEN", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, wrap("fcntl O_NONBLOCK", err)
	}
	cp.buf = make([]byte, blen)
	return cp, nil
}

// bpfMaxBuf asks for xnu's BPF_MAXBUFSIZE (bsd/net/bpf.h, 0x80000), which is
// also FreeBSD's default net.bpf.maxbufsize.
const bpfMaxBuf = 0x80000

// Packets reads everything captured so far and returns the segments of both
// directions since the capture started, in the order the tap saw them.
// lo0 taps each packet once, on output (xnu bsd/net/if_loop.c lo_output:
// LO_BPF_TAP_OUT; FreeBSD sys/net/if_loop.c if_simloop: one bpf_mtap2), so
// unlike Linux's AF_PACKET no copy is dropped.
func (c *Capture) Packets() ([]Packet, error) {
	segs := c.seen
	defer func() { c.seen = segs }()
	for {
		n, err := unix.Read(c.fd, c.buf)
		if errors.Is(err, unix.EAGAIN) {
			// A packet the kernel dropped for want of room could have been
			// ours: then the sequence is not known (bpf(4) BIOCGSTATS).
			var st unix.BpfStat
			if err := bpfIoctl(c.fd, unix.BIOCGSTATS, unsafe.Pointer(&st)); err != nil {
				return nil, wrap("ioctl BIOCGSTATS", err)
			}
			if st.Drop > 0 {
				return nil, fmt.Errorf("the capture dropped %d packets: segments may be missing", st.Drop)
			}
			return segs, nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return segs, wrap("read", err)
		}
		if n == 0 {
			return segs, nil
		}
		recs, err := bpfRecords(c.buf[:n], c.layout)
		for _, r := range recs {
			ip, ok := loopPayload(r, c.dlt, c.af6)
			if !ok {
				continue
			}
			if src, dst, seg, ok := parseTCP(ip); ok {
				switch {
				case src == c.conn.Local && dst == c.conn.Remote:
					segs = append(segs, Packet{seg, true})
				case src == c.conn.Remote && dst == c.conn.Local:
					segs = append(segs, Packet{seg, false})
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

// Close ends the capture.
func (c *Capture) Close() error { return wrap("close", unix.Close(c.fd)) }
