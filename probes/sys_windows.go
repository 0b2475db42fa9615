package probes

import (
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sysfd is a Winsock SOCKET, which is a kernel handle.
type sysfd = windows.Handle

// Constants that golang.org/x/sys/windows does not define. Each comment gives
// the Windows SDK name and header; the Go names are unexported, as the darwin
// file's fionread is, so that the package's API is the same on every OS.
const (
	// SD_RECEIVE, SD_SEND and SD_BOTH: the how values of shutdown
	// (winsock2.h; learn.microsoft.com, "shutdown function (winsock.h)").
	sdReceive = 0
	sdSend    = 1
	sdBoth    = 2

	// SO_TYPE: the socket option that reports SOCK_STREAM, SOCK_DGRAM, …
	// (winsock2.h: #define SO_TYPE 0x1008).
	soType = 0x1008

	// FIONREAD = _IOR('f', 127, u_long) (winsock2.h): the bytes that one
	// recv would return (learn.microsoft.com, "ioctlsocket function").
	fionread = 0x4004667F

	// SIO_TCP_INFO = _WSAIORW(IOC_VENDOR, 39) (mstcpip.h;
	// learn.microsoft.com, "SIO_TCP_INFO Control Code"). Windows 10 1703 and
	// later.
	sioTCPInfo = 0xD8000027

	// SOCKET_ERROR: what ioctlsocket and WSAPoll return on failure
	// (winsock2.h: #define SOCKET_ERROR (-1)), an int: 0xFFFFFFFF in the
	// low 32 bits of the return register, whatever the upper bits hold
	// (ret32).
	socketError = 0xFFFFFFFF
)

// tcpInfoV0 is TCP_INFO_v0, the output of SIO_TCP_INFO with input version 0
// (mstcpip.h; learn.microsoft.com, "TCP_INFO_v0 structure"). Go's alignment
// rules give it the C layout: 88 bytes on every Windows architecture
// (TestTCPInfoLayout).
type tcpInfoV0 struct {
	State             int32 // TCPSTATE
	Mss               uint32
	ConnectionTimeMs  uint64
	TimestampsEnabled uint8 // BOOLEAN
	RttUs             uint32
	MinRttUs          uint32
	BytesInFlight     uint32 // sent and not yet acknowledged
	Cwnd              uint32
	SndWnd            uint32
	RcvWnd            uint32
	RcvBuf            uint32
	BytesOut          uint64
	BytesIn           uint64
	BytesReordered    uint32
	BytesRetrans      uint32
	FastRetrans       uint32
	DupAcksIn         uint32
	TimeoutEpisodes   uint32
	SynRetrans        uint8
}

// ws2_32 functions that x/sys does not wrap usably: its Accept returns
// EWINDOWS, and it has no ioctlsocket.
var (
	modws2_32       = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept      = modws2_32.NewProc("accept")
	procIoctlsocket = modws2_32.NewProc("ioctlsocket")
)

// ret32 reads a 32-bit API return (int, ULONG, DWORD) from the register
// syscall.SyscallN hands back: on 64-bit Windows only the low 32 bits are
// the function's result; the upper bits are whatever the callee left there
// (x64 and arm64 calling conventions return a 32-bit value in EAX / W0).
func ret32(r uintptr) uint32 { return uint32(r) }

// lastError turns the thread's last error, which syscall.SyscallN reads right
// after the call on the same OS thread, into an error. Winsock's
// WSAGetLastError reports that same value; calling it separately could run on
// another thread, so x/sys's own ws2_32 wrappers read it this way too.
func lastError(e syscall.Errno) error {
	if e == 0 {
		return syscall.EINVAL
	}
	return e
}

// startup wraps WSAStartup, asking for Winsock 2.2 (MAKEWORD(2, 2)).
func startup() error {
	var d windows.WSAData
	return wrap("wsastartup", windows.WSAStartup(0x0202, &d))
}

// newSocket wraps WSASocket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_TCP).
// WSA_FLAG_OVERLAPPED gives the socket the attribute that socket() gives by
// default (socket function, Remarks), so the probes see what ordinary
// programs see; blocking calls on it pass a nil overlapped.
// WSA_FLAG_NO_HANDLE_INHERIT keeps it out of child processes, which would
// otherwise hold the connection open after our closesocket.
func newSocket(f Family) (windows.Handle, error) {
	fdMu.RLock()
	defer fdMu.RUnlock()
	fd, err := windows.WSASocket(domain(f), windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return windows.InvalidHandle, wrap("wsasocket", err)
	}
	return fd, nil
}

func domain(f Family) int32 {
	if f == V6 {
		return windows.AF_INET6
	}
	return windows.AF_INET
}

// loopback is the address of f: 127.0.0.1 or ::1 (RFC 1122 §3.2.1.3, RFC 4291
// §2.5.3). closematrix never binds a wildcard address.
func loopback(f Family, port int) windows.Sockaddr {
	if f == V6 {
		return &windows.SockaddrInet6{Port: port, Addr: [16]byte{15: 1}}
	}
	return &windows.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
}

// listenBacklog is small: a scenario has one connection in flight.
const listenBacklog = 8

// bindListen wraps bind to the loopback address on port 0, listen, and
// getsockname for the port Windows picked.
func bindListen(fd windows.Handle, f Family) (int, error) {
	if err := windows.Bind(fd, loopback(f, 0)); err != nil {
		return 0, wrap("bind", err)
	}
	if err := windows.Listen(fd, listenBacklog); err != nil {
		return 0, wrap("listen", err)
	}
	sa, err := windows.Getsockname(fd)
	if err != nil {
		return 0, wrap("getsockname", err)
	}
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return sa.Port, nil
	case *windows.SockaddrInet6:
		return sa.Port, nil
	}
	return 0, errors.New("getsockname: not an inet address")
}

// connect wraps a blocking connect to the loopback address of f.
func connect(fd windows.Handle, f Family, port int) error {
	return wrap("connect", windows.Connect(fd, loopback(f, port)))
}

// accept wraps ws2_32's blocking accept(s, NULL, NULL), which returns
// INVALID_SOCKET and sets the last error on failure. The new socket shares the
// listener's attributes (accept function); it is made non-inheritable
// explicitly, as Go's syscall package does with CloseOnExec, ignoring failure
// in the same way.
func accept(lfd windows.Handle) (windows.Handle, error) {
	fdMu.RLock()
	defer fdMu.RUnlock()
	r, _, e := syscall.SyscallN(procAccept.Addr(), uintptr(lfd), 0, 0)
	fd := windows.Handle(r)
	if fd == windows.InvalidHandle {
		return windows.InvalidHandle, wrap("accept", lastError(e))
	}
	windows.SetHandleInformation(fd, windows.HANDLE_FLAG_INHERIT, 0)
	return fd, nil
}

// send wraps WSASend of one buffer with no overlapped structure, which blocks
// until the data is in the send buffer (WSASend: "If both lpOverlapped and
// lpCompletionRoutine are NULL, the socket in this function will be treated
// as a non-overlapped socket").
func send(fd windows.Handle, p []byte) (int, error) {
	buf := windows.WSABuf{Len: uint32(len(p))}
	if len(p) > 0 {
		buf.Buf = &p[0]
	}
	var n uint32
	err := windows.WSASend(fd, &buf, 1, &n, 0, nil, nil)
	return int(n), wrap("wsasend", err)
}

// recv wraps a blocking WSARecv of one buffer with flags 0 and no overlapped
// structure. On a stream socket, 0 bytes received means the peer closed its
// sending side gracefully (WSARecv function, Remarks).
func recv(fd windows.Handle, p []byte) (int, error) {
	buf := windows.WSABuf{Len: uint32(len(p))}
	if len(p) > 0 {
		buf.Buf = &p[0]
	}
	var n, flags uint32
	err := windows.WSARecv(fd, &buf, 1, &n, &flags, nil, nil)
	return int(n), wrap("wsarecv", err)
}

// shutdown wraps Winsock's shutdown with SD_RECEIVE, SD_SEND or SD_BOTH.
// Microsoft documents SD_RECEIVE on TCP as resetting the connection when
// data is queued or arrives later, and SD_SEND as sending FIN after all data
// is sent and acknowledged ("shutdown function (winsock.h)", Remarks).
//
// Wine 8 differs (observed, shutdown-rd/*): after SD_RECEIVE, recv fails
// with WSAESHUTDOWN as documented, but data arriving later, or already
// queued, resets nothing: the peer's send succeeds, and so do the actor's
// send and the peer's recv of it. Wine 8's wineserver only marks the socket
// read-shut for SD_RECEIVE and passes it to no host call (server/sock.c,
// IOCTL_AFD_WINE_SHUTDOWN: only SD_SEND and SD_BOTH reach the host, as
// shutdown(SHUT_WR)), so the host stack never learns of it.
func shutdown(fd windows.Handle, how How) error {
	h := map[How]int{ShutRD: sdReceive, ShutWR: sdSend, ShutRDWR: sdBoth}[how]
	return wrap("shutdown", windows.Shutdown(fd, h))
}

// closeFD wraps closesocket. With SO_LINGER {1, 0} it is abortive (RST);
// otherwise graceful, in the background ("Graceful Shutdown, Linger Options,
// and Socket Closure").
//
// Wine 8 differs (observed, close/unread-at-actor, abort/*): after an
// abortive close, or a close with unread data, the peer's recv returns 0
// (twice) while its poll already shows POLLERR|POLLHUP, and only its send
// gets WSAECONNRESET; a recv blocked in another thread on the closed socket
// returns WSAEINVAL. Wine 8's sock_destroy (server/sock.c) makes no shutdown
// call of its own (older Wine called shutdown(SHUT_RDWR) there), so the host
// close is a plain Linux close; where the end of stream comes from has not
// been traced here.
func closeFD(fd windows.Handle) error { return wrap("closesocket", windows.Closesocket(fd)) }

// setLinger wraps setsockopt(SOL_SOCKET, SO_LINGER). Winsock's LINGER has
// u_short fields; windows.SetsockoptLinger converts.
func setLinger(fd windows.Handle, on bool, secs int) error {
	l := windows.Linger{Linger: int32(secs)}
	if on {
		l.Onoff = 1
	}
	return wrap("setsockopt", windows.SetsockoptLinger(fd, windows.SOL_SOCKET, windows.SO_LINGER, &l))
}

// pending wraps ioctlsocket(FIONREAD), whose argument is a u_long (32 bits on
// every Windows architecture).
func pending(fd windows.Handle) (int, error) {
	var n uint32
	r, _, e := syscall.SyscallN(procIoctlsocket.Addr(), uintptr(fd), fionread, uintptr(unsafe.Pointer(&n)))
	if ret32(r) == socketError {
		return 0, wrap("ioctlsocket", lastError(e))
	}
	return int(n), nil
}

// staleIsFree reports whether a closed socket's handle value is no socket
// now: getsockopt(SO_TYPE) fails with WSAENOTSOCK. Handle values are reused
// by any kernel object, but Winsock calls on a handle that is not a socket
// fail with WSAENOTSOCK without acting on it, so only another socket is a
// risk, and ours are created under fdMu.
func staleIsFree(fd windows.Handle) bool {
	_, err := windows.GetsockoptInt(fd, windows.SOL_SOCKET, soType)
	return errors.Is(err, windows.WSAENOTSOCK)
}

// familyUnavailable reports errors that mean "this loopback family cannot be
// used here": IPv6 not installed or disabled, ::1 not configured.
func familyUnavailable(err error) bool {
	return errors.Is(err, windows.WSAEAFNOSUPPORT) || errors.Is(err, windows.WSAEADDRNOTAVAIL) ||
		errors.Is(err, windows.WSAEPROTONOSUPPORT) || errors.Is(err, windows.WSAEPFNOSUPPORT) ||
		errors.Is(err, syscall.EAFNOSUPPORT) // windows.Socket with SocketDisableIPv6
}

// threadID wraps GetCurrentThreadId.
func threadID() int { return int(windows.GetCurrentThreadId()) }

// settle polls WSAIoctl(SIO_TCP_INFO, version 0) until BytesInFlight, the
// sent bytes not yet acknowledged, is 0. Where the ioctl fails (Windows before
// 10 1703; Wine 8 answers WSAEOPNOTSUPP) there is no signal: it spends
// SettleGrace and reports false.
//
// Then it waits for what this socket has received to be processed: nothing
// on Windows says that an RST (after an abort, a close with unread data, a
// kill) has reached this end (there is no LoopbackIdle here), and an RST is
// in no send queue to watch. So the socket's TCPSTATE and WSAPoll events
// are sampled until two samples settleGap apart agree, within the bound:
// a segment being processed between them shows as a change. Settle does
// not know which action came before, so every settle of an open socket
// pays one gap.
func settle(fd windows.Handle, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for {
		ti, err := tcpInfo(fd)
		if err != nil {
			time.Sleep(SettleGrace)
			return false
		}
		if ti.BytesInFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
	return stableSamples(func() (string, error) { return settleSample(fd) }, settleGap, deadline)
}

// settleGap is the spacing of settle's two agreeing samples: a loopback
// segment is processed within microseconds of its sending.
const settleGap = time.Millisecond

// settleSample is one sample for settle: TCP_INFO_v0's State and the
// WSAPoll events (POLLRDNORM|POLLWRNORM asked; POLLERR, POLLHUP always: learn.microsoft.com
// WSAPOLLFD structure, revents, which WSAPoll sets whether asked or not).
func settleSample(fd windows.Handle) (string, error) {
	ti, err := tcpInfo(fd)
	if err != nil {
		return "", err
	}
	ev, err := pollEvents(fd)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %v", tcpStateName(ti.State), ev), nil
}

// stableSamples samples until two samples gap apart are equal (true), a
// sample fails or the deadline passes (false).
func stableSamples(sample func() (string, error), gap time.Duration, deadline time.Time) bool {
	prev, err := sample()
	if err != nil {
		return false
	}
	for {
		if time.Now().Add(gap).After(deadline) {
			return false
		}
		time.Sleep(gap)
		cur, err := sample()
		if err != nil {
			return false
		}
		if cur == prev {
			return true
		}
		prev = cur
	}
}

// tcpInfo wraps WSAIoctl(SIO_TCP_INFO) with input version 0, which returns a
// TCP_INFO_v0 (tcpInfoV0).
func tcpInfo(fd windows.Handle) (*tcpInfoV0, error) {
	var (
		version uint32 // 0: TCP_INFO_v0
		ti      tcpInfoV0
		n       uint32
	)
	err := windows.WSAIoctl(fd, sioTCPInfo,
		(*byte)(unsafe.Pointer(&version)), uint32(unsafe.Sizeof(version)),
		(*byte)(unsafe.Pointer(&ti)), uint32(unsafe.Sizeof(ti)), &n, nil, 0)
	if err != nil {
		return nil, wrap("wsaioctl", err)
	}
	return &ti, nil
}

// fionbio is FIONBIO = _IOW('f', 126, u_long) (winsock2.h): ioctlsocket's
// switch between blocking and non-blocking mode.
const fionbio = 0x8004667E

// fillSendBuffer switches the socket to non-blocking mode (ioctlsocket
// FIONBIO), sends until WSAEWOULDBLOCK, and switches it back. Winsock has no
// per-call MSG_DONTWAIT. A socket left non-blocking would turn every later
// blocking call into WSAEWOULDBLOCK, so a failed switch back is an error.
func fillSendBuffer(fd windows.Handle) (total int, err error) {
	nonblocking := func(on uint32) error {
		r, _, e := syscall.SyscallN(procIoctlsocket.Addr(), uintptr(fd), fionbio, uintptr(unsafe.Pointer(&on)))
		if ret32(r) == socketError {
			return wrap("ioctlsocket(FIONBIO)", lastError(e))
		}
		return nil
	}
	if err := nonblocking(1); err != nil {
		return 0, err
	}
	defer func() {
		if rerr := nonblocking(0); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restoring blocking mode: %w", rerr))
		}
	}()
	chunk := make([]byte, 64<<10)
	for {
		n, err := send(fd, chunk)
		total += n
		if errors.Is(err, windows.WSAEWOULDBLOCK) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
