package probes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Capture records the TCP segments of one connection on the loopback
// interface, both directions, through an AF_PACKET socket (packet(7)) read
// with x/sys: no libpcap.
type Capture struct {
	fd   int
	conn Conn4    // the watched end's 4-tuple: Local sends to Remote
	seen []Packet // every segment of the connection read so far, in order
	// dropped is sticky: reading PACKET_STATISTICS resets the kernel's
	// count, so once a read found drops every later read must say so too.
	dropped uint32
}

// StartCapture starts recording the segments c.Local sends to c.Remote and
// those it receives back.
func StartCapture(c Conn4) (*Capture, error) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	// SOCK_DGRAM: the kernel strips the link-level header, so each packet
	// starts at its IP header. ETH_P_ALL in network byte order, as packet(7)
	// asks of the protocol argument.
	// The socket is made with protocol 0, which receives nothing (packet(7)),
	// and only bound to ETH_P_ALL once the filter is in place, so that no
	// other connection's packet is queued before it.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if errors.Is(err, unix.EPERM) {
		return nil, fmt.Errorf("%w: %v", ErrCaptureNeedsRoot, err)
	}
	if err != nil {
		return nil, wrap("socket", err)
	}
	if err := attachConnFilter(fd, c); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: lo.Index}); err != nil {
		unix.Close(fd)
		return nil, wrap("bind", err)
	}
	// Room for everything a scenario sends:
	// SO_RCVBUFFORCE (root) is not capped by net.core.rmem_max (socket(7)).
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20); err != nil {
		unix.Close(fd)
		return nil, wrap("setsockopt", err)
	}
	// Reading the statistics resets them (packet(7)): start from zero.
	unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	return &Capture{fd: fd, conn: c}, nil
}

// Packets reads everything captured so far and returns the segments of both
// directions since the capture started, in the order they went out. On
// loopback every packet is seen twice, going out and coming in; only the
// outgoing copy (PACKET_OUTGOING) is kept, and the two directions share the
// one socket's queue, so their order is the order of transmission.
func (c *Capture) Packets() ([]Packet, error) {
	segs := c.seen
	defer func() { c.seen = segs }()
	buf := make([]byte, 65536)
	for {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			// A packet the kernel dropped for want of room could have been
			// ours: then the sequence is not known, and no answer is given.
			st, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
			if err != nil {
				return nil, wrap("getsockopt", err)
			}
			c.dropped += st.Drops
			if c.dropped > 0 {
				return nil, fmt.Errorf("the capture dropped %d packets: segments may be missing", c.dropped)
			}
			return segs, nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return segs, wrap("recvfrom", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING {
			continue
		}
		if src, dst, seg, ok := parseTCP(buf[:n]); ok {
			switch {
			case src == c.conn.Local && dst == c.conn.Remote:
				segs = append(segs, Packet{seg, true})
			case src == c.conn.Remote && dst == c.conn.Local:
				segs = append(segs, Packet{seg, false})
			}
		}
	}
}

// Close ends the capture.
func (c *Capture) Close() error { return wrap("close", unix.Close(c.fd)) }

// htons puts v in network byte order, whatever the host's order.
func htons(v uint16) uint16 { return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v)) }
