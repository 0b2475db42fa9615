package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/closematrix/closematrix/probes"
)

// The network of the network scenarios (LinkDown, Drop): two hosts, each a
// network namespace of its own, joined by a veth pair ("the cable"). The peer
// listens on host A, the actor dials from host B; the connection between them
// crosses the veth pair and nothing else, and never leaves the two namespaces.
//
//	host A (peer)  veth0 198.18.0.1/30  fd63:6d00::1/64 ─┐
//	host B (actor) veth0 198.18.0.2/30  fd63:6d00::2/64 ─┘ veth pair
//
// Addresses: the IPv4 benchmarking range 198.18.0.0/15 (RFC 2544, RFC 6890)
// and a unique local IPv6 prefix (RFC 4193). Each network is built for one
// run of one scenario and removed afterwards; names carry the process id and
// a counter (cm-PID-N-a, cm-PID-N-b) so that parallel Ginkgo processes do not
// collide. Building it takes about ten milliseconds: one `ip -batch` for the
// namespaces and the pair, one per host (at once) for its address and links,
// and a netlink wait for the links to come up (TestNetworkNamespaces
// measures it).
//
// What the breaks do:
//
//   - LinkDown sets host B's end of the pair administratively down (`ip link
//     set veth0 down`). A veth pair has no carrier of its own to take away
//     (veth does not implement ndo_change_carrier), but closing one end takes
//     the carrier from the other (drivers/net/veth.c, veth_close): host A's
//     link stays up without a carrier, exactly what a host sees when its cable
//     is pulled, and host B's interface is down, what it sees when the
//     interface is disabled. One end is enough; both are observed, the peer's
//     as the cable pulled, the actor's as its own link down. Host B keeps its
//     IPv6 address while down (net.ipv6.conf.veth0.keep_addr_on_down = 1; the
//     default flushes it, and IPv4 keeps its own anyway) so that net.up
//     restores the same host, as plugging the cable back in would.
//   - Drop installs, in each namespace, an nftables netdev ingress chain on
//     veth0 whose policy is drop: every frame that crosses the cable, TCP or
//     not (ARP and neighbour discovery too), is lost on arrival. Nothing
//     tells the sender, which is what a pulled cable (or a firewall that drops
//     silently) does. Dropping on output instead would not do: netfilter
//     reports a packet dropped on its way out to the sending stack as EPERM
//     (net/netfilter/core.c, nf_hook_slow), which no pulled cable does.
//
// Restore undoes either; it is idempotent, and teardown calls it so that the
// RSTs of the abortive closes get through. Close deletes both namespaces,
// which deletes the veth pair with them.

func init() { newNetwork = newNetns }

// The two hosts, as indices.
const (
	hostA = 0 // the peer: Listen
	hostB = 1 // the actor: Dial; its end of the link goes down
)

// veth is the name of each host's end of the pair: names are per namespace.
const veth = "veth0"

// vethIndex are the interface indexes of the two ends. They must differ: the
// kernel's link watcher handles a carrier change at once only for a device
// whose index differs from its link's (a veth's link is its peer;
// net/core/link_watch.c, linkwatch_urgent_event), and batches other changes
// at most once a second. Left to itself, the kernel gives both ends index 2,
// the first free one in each new namespace, and every link change then waits
// up to a second.
var vethIndex = [2]int{10, 11}

// hostAddrs are the hosts' addresses and prefix lengths, by family.
var hostAddrs = map[probes.Family][2]netip.Prefix{
	probes.V4: {netip.MustParsePrefix("198.18.0.1/30"), netip.MustParsePrefix("198.18.0.2/30")},
	probes.V6: {netip.MustParsePrefix("fd63:6d00::1/64"), netip.MustParsePrefix("fd63:6d00::2/64")},
}

// netnsDir is where iproute2 keeps named network namespaces: a bind mount of
// each namespace's nsfs file (ip-netns(8), NETNS_RUN_DIR).
const netnsDir = "/run/netns"

// nftTable is the nftables table Drop installs in each namespace.
const nftTable = "netdev closematrix"

// dropRules is the ruleset of Drop: every frame arriving on veth0 is dropped
// (nft(8): netdev family, ingress hook, chain policy).
var dropRules = "table " + nftTable + " {\n" +
	"\tchain ingress {\n" +
	"\t\ttype filter hook ingress device \"" + veth + "\" priority filter; policy drop;\n" +
	"\t}\n" +
	"}\n"

// netnsSeq numbers the networks this process builds.
var netnsSeq atomic.Int64

// netns is two network namespaces joined by a veth pair: the network
// interface of runner.go.
type netns struct {
	family probes.Family
	names  [2]string // namespace names, host A and host B
	addrs  [2]netip.Prefix
	ip     string // the ip command (iproute2)
	nft    string // the nft command (nftables)

	mu      sync.Mutex
	created [2]bool // which namespaces this value made, and must delete
	broken  Action  // "" when the network is whole
	dropped [2]bool // where Drop's table is installed
	closed  bool
}

// newNetns builds the network of a network scenario in family f. Without the
// privileges it returns an error wrapping ErrNeedsRoot; without ip or nft one
// wrapping probes.ErrUnsupported; without IPv6 in the kernel (v6) one
// wrapping probes.ErrFamilyUnavailable: each makes the scenario skipped with
// the reason.
func newNetns(f probes.Family) (network, error) {
	if err := netPrivileged(); err != nil {
		return nil, err
	}
	ip, nft, err := netTools()
	if err != nil {
		return nil, err
	}
	addrs, ok := hostAddrs[f]
	if !ok {
		return nil, fmt.Errorf("family %q has no network addresses", f)
	}
	seq := netnsSeq.Add(1)
	n := &netns{family: f, addrs: addrs, ip: ip, nft: nft}
	for h, side := range []string{"a", "b"} {
		n.names[h] = fmt.Sprintf("cm-%d-%d-%s", os.Getpid(), seq, side)
		if _, err := os.Stat(filepath.Join(netnsDir, n.names[h])); err == nil {
			return nil, fmt.Errorf("network namespace %s already exists: left by an earlier process with this pid? (ip netns del %s)", n.names[h], n.names[h])
		}
	}
	if err := n.build(); err != nil {
		if cerr := n.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("removing what was built: %w", cerr))
		}
		return nil, err
	}
	return n, nil
}

// build makes the namespaces and the veth pair, addresses and brings the
// links up, and waits until both ends report operational state up: only then
// do they pass traffic (the qdisc is attached when the kernel's link watcher
// sees the carrier; net/core/link_watch.c).
func (n *netns) build() error {
	err := n.ipBatch(-1, fmt.Sprintf("netns add %s\nnetns add %s\nlink add %s index %d netns %s type veth peer name %s index %d netns %s\n",
		n.names[hostA], n.names[hostB], veth, vethIndex[hostA], n.names[hostA], veth, vethIndex[hostB], n.names[hostB]))
	for h := range n.names {
		_, serr := os.Stat(filepath.Join(netnsDir, n.names[h]))
		n.created[h] = serr == nil // absent before (newNetns checked): ours
	}
	if err != nil {
		return err
	}
	if n.family == probes.V6 {
		// ip-sysctl.rst, keep_addr_on_down: keep the address across
		// net.up's down and up, as a pulled cable would.
		err := n.in(hostB, func() error {
			p := "/proc/sys/net/ipv6/conf/" + veth + "/keep_addr_on_down"
			if _, err := os.Stat("/proc/sys/net/ipv6"); errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%w: no IPv6 in this kernel (/proc/sys/net/ipv6)", probes.ErrFamilyUnavailable)
			}
			return os.WriteFile(p, []byte("1"), 0)
		})
		if err != nil {
			return err
		}
	}
	nodad := ""
	if n.family == probes.V6 {
		nodad = " nodad" // usable at once: no duplicate address detection (RFC 4862 §5.4)
	}
	return eachHost(func(h int) error {
		if err := n.ipBatch(h, fmt.Sprintf("link set lo up\naddr add %s dev %s%s\nlink set %s up\n",
			n.addrs[h], veth, nodad, veth)); err != nil {
			return err
		}
		return n.waitOper(h, true)
	})
}

func (n *netns) Name() string { return "" } // the raw view, on another network

// Listen binds a raw socket to host A's address.
func (n *netns) Listen(f probes.Family) (Listener, error) {
	if f != n.family {
		return nil, fmt.Errorf("the network is %s, not %s", n.family, f)
	}
	var l *probes.Listener
	err := n.in(hostA, func() (err error) {
		l, err = probes.ListenAddr(n.addrs[hostA].Addr())
		return err
	})
	if err != nil {
		return nil, err
	}
	return rawListener{l}, nil
}

// Dial connects from host B to port on host A.
func (n *netns) Dial(f probes.Family, port int) (Endpoint, error) {
	if f != n.family {
		return nil, fmt.Errorf("the network is %s, not %s", n.family, f)
	}
	var s *probes.Socket
	err := n.in(hostB, func() (err error) {
		s, err = probes.DialAddr(netip.AddrPortFrom(n.addrs[hostA].Addr(), uint16(port)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Break takes the link down (LinkDown) or drops every frame on it (Drop).
// It returns once the break is in effect: for LinkDown, when host A's end has
// lost its carrier.
func (n *netns) Break(a Action) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("the network is removed")
	}
	if n.broken != "" {
		return fmt.Errorf("%s: the network is already broken (%s)", a, n.broken)
	}
	switch a {
	case LinkDown:
		n.broken = LinkDown
		if err := n.ipBatch(hostB, "link set "+veth+" down\n"); err != nil {
			return err
		}
		return n.waitOper(hostA, false)
	case Drop:
		n.broken = Drop
		return eachHost(func(h int) error {
			err := n.nftIn(h, dropRules)
			n.dropped[h] = err == nil
			return err
		})
	}
	return fmt.Errorf("%s is not a network action", a)
}

// Restore undoes Break and returns once traffic can pass again: for
// LinkDown, when both ends are operationally up. It does nothing when
// nothing is broken, or after Close.
func (n *netns) Restore() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || n.broken == "" {
		return nil
	}
	switch n.broken {
	case LinkDown:
		if err := n.ipBatch(hostB, "link set "+veth+" up\n"); err != nil {
			return err
		}
		if err := eachHost(func(h int) error { return n.waitOper(h, true) }); err != nil {
			return err
		}
	case Drop:
		err := eachHost(func(h int) error {
			if !n.dropped[h] {
				return nil
			}
			err := n.nftIn(h, "delete table "+nftTable+"\n")
			n.dropped[h] = err != nil
			return err
		})
		if err != nil {
			return err
		}
	}
	n.broken = ""
	return nil
}

// Close deletes the namespaces this network made (`ip netns del`); the
// kernel then destroys each namespace with its end of the veth pair, and
// deleting one end of a veth pair deletes the other. Sockets still open in
// a namespace keep it alive until they are closed. Close is idempotent.
func (n *netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var script strings.Builder
	for h, name := range n.names {
		if n.created[h] {
			fmt.Fprintf(&script, "netns del %s\n", name)
		}
	}
	if script.Len() == 0 {
		return nil
	}
	return n.ipBatch(-1, script.String())
}

// eachHost runs f for both hosts at once: the commands are independent, and
// each takes milliseconds.
func eachHost(f func(h int) error) error {
	var errs [2]error
	var wg sync.WaitGroup
	for h := range errs {
		wg.Go(func() { errs[h] = f(h) })
	}
	wg.Wait()
	return errors.Join(errs[:]...)
}

// commandBound limits an ip or nft run: they take milliseconds, and one that
// hangs must not hang the suite (it is killed, and the run is an error).
const commandBound = 10 * time.Second

// ipBatch runs the ip command on a script (ip(8), -batch), in host's
// namespace (-n), or in the caller's when host < 0.
func (n *netns) ipBatch(host int, script string) error {
	args := []string{"-batch", "-"}
	if host >= 0 {
		args = append([]string{"-n", n.names[host]}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.ip, args...)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s (script: %q)", strings.Join(args, " "), err, bytes.TrimSpace(out), script)
	}
	return nil
}

// nftIn runs nft on a script inside host's namespace. The command is started
// from a thread that joined the namespace (see in), so it runs there: a child
// inherits its parent thread's namespaces (clone(2)).
func (n *netns) nftIn(host int, script string) error {
	return n.in(host, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), commandBound)
		defer cancel()
		cmd := exec.CommandContext(ctx, n.nft, "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("nft in %s: %w: %s (script: %q)", n.names[host], err, bytes.TrimSpace(out), script)
		}
		return nil
	})
}

// in runs f on a fresh OS thread that has joined host's network namespace
// (setns(2)). A socket belongs to the namespace of the thread that created
// it and keeps it wherever it is used later; the thread itself never leaves
// the namespace, and ends when f returns (see throwawayThread).
func (n *netns) in(host int, f func() error) error {
	var err error
	throwawayThread(func() {
		if err = setns(filepath.Join(netnsDir, n.names[host])); err == nil {
			err = f()
		}
	})
	return err
}

// throwawayThread runs f on a goroutine locked to an OS thread
// (runtime.LockOSThread) that is never unlocked: when f returns the goroutine
// exits and the runtime ends the thread instead of handing it, changed, to
// other goroutines. (Nor does the runtime start new threads from a locked
// one: it has a template thread for that.) The process's main thread is the
// exception: the runtime cannot end it and parks it for good instead
// (runtime.mexit), so a namespace it joined would stay alive, with its veth,
// as long as the process. A goroutine that lands on the main thread keeps it
// locked, untouched, while f runs on another goroutine, which then cannot be
// on the main thread.
func throwawayThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked, but on the main thread
		if unix.Gettid() == unix.Getpid() {
			throwawayThread(f)
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
	<-done
}

// setns moves the calling thread into the network namespace at path.
func setns(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	return os.NewSyscallError("setns", unix.Setns(fd, unix.CLONE_NEWNET))
}

// ifOperUp is IF_OPER_UP, the RFC 2863 operational state "up" as the kernel
// reports it in IFLA_OPERSTATE (include/uapi/linux/if.h; not in x/sys).
const ifOperUp = 6

// operBound limits the wait for a link's operational state: the kernel's
// link watcher handles a veth's carrier change at once (an "urgent" event,
// net/core/link_watch.c), so this is only reached when something is wrong.
const operBound = 2 * time.Second

// waitOper waits until host's veth is operationally up (up true) or not
// (up false), polling its IFLA_OPERSTATE over rtnetlink (rtnetlink(7),
// RTM_GETLINK) from inside the namespace: the signal that the kernel has
// finished bringing the link up or taking its carrier away.
func (n *netns) waitOper(host int, up bool) error {
	return n.in(host, func() error {
		deadline := time.Now().Add(operBound)
		for {
			st, err := operState(veth)
			if err != nil {
				return fmt.Errorf("%s in %s: %w", veth, n.names[host], err)
			}
			if (st == ifOperUp) == up {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s in %s: operational state %d after %v, want up=%v", veth, n.names[host], st, operBound, up)
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
}

// operState reads a link's IFLA_OPERSTATE in the calling thread's namespace.
// The netlink dump and its parsers are the standard syscall package's
// (x/sys/unix has the constants but not these helpers); the netlink socket
// is the calling thread's, so it sees that thread's namespace.
func operState(name string) (uint8, error) {
	b, err := syscall.NetlinkRIB(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return 0, os.NewSyscallError("netlink RTM_GETLINK", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return 0, err
	}
	for i := range msgs {
		if msgs[i].Header.Type != unix.RTM_NEWLINK {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&msgs[i])
		if err != nil {
			return 0, err
		}
		var ifname string
		var state []byte
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				ifname = string(bytes.TrimRight(a.Value, "\x00"))
			case unix.IFLA_OPERSTATE:
				state = a.Value
			}
		}
		if ifname == name && len(state) > 0 {
			return state[0], nil
		}
	}
	return 0, errors.New("no such link")
}

// netPrivileged checks the capabilities the network needs in the calling
// thread's effective set (capabilities(7)): CAP_SYS_ADMIN to create and
// enter namespaces, CAP_NET_ADMIN to configure links and nftables.
func netPrivileged() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3: two 32-bit words
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capget", err)
	}
	var missing []string
	for _, c := range []struct {
		bit  int
		name string
	}{{unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}, {unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"}} {
		if data[c.bit/32].Effective&(1<<(c.bit%32)) == 0 {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: network namespaces, links and nftables need %s (run as root)", ErrNeedsRoot, strings.Join(missing, " and "))
	}
	return nil
}

// netTools finds the commands the network is built with.
func netTools() (ip, nft string, err error) {
	for _, t := range []struct {
		cmd, pkg string
		path     *string
	}{{"ip", "iproute2", &ip}, {"nft", "nftables", &nft}} {
		p, err := exec.LookPath(t.cmd)
		if err != nil {
			return "", "", fmt.Errorf("%w: network scenarios need the %s command (Debian package %s): %w", probes.ErrUnsupported, t.cmd, t.pkg, err)
		}
		*t.path = p
	}
	return ip, nft, nil
}
