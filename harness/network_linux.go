package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	vnetns "github.com/vishvananda/netns"
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
// run of one scenario and removed afterwards.
//
// No command of the host is needed (no iproute2, no nftables package): the
// namespaces are made with github.com/vishvananda/netns, the links, addresses
// and link states set over rtnetlink with github.com/vishvananda/netlink, and
// the drop rule written over nf_tables netlink with github.com/google/nftables,
// so a copied binary run as root builds the network on any Linux host whose
// kernel has network namespaces, veth and nf_tables.
//
// Threads and namespaces: a namespace is created (unshare(2)) and entered
// (setns(2)) only on a throwaway thread, locked and never handed back to the
// runtime (throwawayThread); every socket that must live in a namespace, the
// netlink sockets that configure it included, is created on such a thread
// while it is in that namespace (a socket belongs to the namespace of the
// thread that created it and keeps it wherever it is used afterwards). So no
// goroutine of the caller ever runs on a thread left in another namespace,
// whatever fails.
//
// Names: cm-PID-N-a and cm-PID-N-b, then -iINODE, the inode of the process's
// PID namespace: PID and counter make them unique among the processes of one
// PID namespace (parallel Ginkgo processes, concurrent `closematrix run`s,
// scenarios run concurrently by one process), the inode among PID namespaces
// that share /run/netns (containers). The name file is created with O_EXCL
// (netns.NewNamed), so a collision is an error, never a shared namespace. A
// process killed before it removed its namespaces leaves them in /run/netns;
// the first network a later process builds removes those whose process, in
// the same PID namespace, no longer exists, and says so on standard error
// (sweepStale).
//
// Building it takes a few milliseconds (TestNetworkNamespaces measures it).
//
// What the breaks do:
//
//   - LinkDown sets host B's end of the pair administratively down
//     (RTM_NEWLINK without IFF_UP, what `ip link set veth0 down` sends). A
//     veth pair has no carrier of its own to take away (veth does not
//     implement ndo_change_carrier), but closing one end takes the carrier
//     from the other (drivers/net/veth.c, veth_close): host A's link stays up
//     without a carrier, exactly what a host sees when its cable is pulled,
//     and host B's interface is down, what it sees when the interface is
//     disabled. One end is enough; both are observed, the peer's as the cable
//     pulled, the actor's as its own link down. Host B keeps its IPv6 address
//     while down (net.ipv6.conf.veth0.keep_addr_on_down = 1; the default
//     flushes it, and IPv4 keeps its own anyway) so that net.up restores the
//     same host, as plugging the cable back in would.
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

// vethIndexA is the interface index of host A's end. The two ends' indexes
// must differ: the kernel's link watcher handles a carrier change at once
// only for a device whose index differs from its link's (a veth's link is
// its peer; net/core/link_watch.c, linkwatch_urgent_event), and batches
// other changes at most once a second. Left to itself, the kernel gives both
// ends index 2, the first free one in each new namespace, and every link
// change then waits up to a second. The library's veth request sets no index
// for the peer, which gets the first free one in host B (2); host A's end is
// given 10, and build checks that they differ.
const vethIndexA = 10

// hostAddrs are the hosts' addresses and prefix lengths, by family.
var hostAddrs = map[probes.Family][2]netip.Prefix{
	probes.V4: {netip.MustParsePrefix("198.18.0.1/30"), netip.MustParsePrefix("198.18.0.2/30")},
	probes.V6: {netip.MustParsePrefix("fd63:6d00::1/64"), netip.MustParsePrefix("fd63:6d00::2/64")},
}

// netnsDir is where named network namespaces are kept: a bind mount of each
// namespace's nsfs file, the convention of ip-netns(8) (NETNS_RUN_DIR) that
// github.com/vishvananda/netns follows.
const netnsDir = "/run/netns"

// nftTableName is the nftables table (family netdev) Drop installs in each
// namespace, with one chain: nft(8)'s
//
//	table netdev closematrix {
//		chain ingress {
//			type filter hook ingress device "veth0" priority filter; policy drop;
//		}
//	}
const nftTableName = "closematrix"

// netnsSeq numbers the networks this process builds.
var netnsSeq atomic.Int64

// netns is two network namespaces joined by a veth pair: the network
// interface of runner.go. Its methods may be called from any goroutine.
type netns struct {
	family probes.Family
	names  [2]string // namespace names, host A and host B
	addrs  [2]netip.Prefix

	mu      sync.Mutex
	ns      [2]vnetns.NsHandle // open handles of the namespaces (-1: none)
	created [2]bool            // which names this value made, and must delete
	nl      [2]*netlink.Handle // rtnetlink sockets created inside each namespace
	broken  Action             // "" when the network is whole
	dropped [2]bool            // where Drop's table is installed
	closed  bool
}

// newNetns builds the network of a network scenario in family f. Without the
// privileges it returns an error wrapping ErrNeedsRoot; without network
// namespaces, veth or nf_tables in the kernel one wrapping
// probes.ErrUnsupported; without IPv6 in the kernel (v6) one wrapping
// probes.ErrFamilyUnavailable: each makes the scenario skipped with the
// reason.
func newNetns(f probes.Family) (network, error) {
	if err := netPrivileged(); err != nil {
		return nil, err
	}
	addrs, ok := hostAddrs[f]
	if !ok {
		return nil, fmt.Errorf("family %q has no network addresses", f)
	}
	if _, err := os.Stat("/proc/self/ns/net"); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no network namespaces in this kernel (/proc/self/ns/net)", probes.ErrUnsupported)
	}
	sweepOnce.Do(sweepStale)
	seq := netnsSeq.Add(1)
	n := &netns{family: f, addrs: addrs, ns: [2]vnetns.NsHandle{-1, -1}}
	for h, side := range []string{"a", "b"} {
		n.names[h] = fmt.Sprintf("%s%d-%s-i%d", netnsPrefix(), seq, side, pidNSInode)
	}
	if err := n.build(); err != nil {
		if cerr := n.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("removing what was built: %w", cerr))
		}
		return nil, err
	}
	return n, nil
}

// netnsPrefix starts the names of this process's namespaces.
func netnsPrefix() string { return fmt.Sprintf("cm-%d-", os.Getpid()) }

// pidNSInode identifies this process's PID namespace (the inode of its nsfs
// file, namespaces(7)); 0 where /proc does not say.
var pidNSInode = func() uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/pid", &st) != nil {
		return 0
	}
	return st.Ino
}()

// build makes the namespaces and the veth pair, addresses and brings the
// links up, and waits until both ends report operational state up: only then
// do they pass traffic (the qdisc is attached when the kernel's link watcher
// sees the carrier; net/core/link_watch.c).
func (n *netns) build() error {
	// Both namespaces at once: each is made on a thread of its own, which
	// unshare(2) moves into it; the name's bind mount then keeps it alive
	// after the thread ends. The rtnetlink socket that configures it is
	// made on the same thread, so it belongs to the new namespace.
	err := eachHost(func(h int) error {
		var err error
		throwawayThread(func() {
			var ns vnetns.NsHandle
			ns, err = vnetns.NewNamed(n.names[h])
			if err != nil {
				err = n.newNamedFailed(h, err)
				return
			}
			n.mu.Lock()
			n.ns[h], n.created[h] = ns, true
			n.mu.Unlock()
			var nl *netlink.Handle
			nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
			if err != nil {
				err = fmt.Errorf("rtnetlink socket in %s: %w", n.names[h], err)
				return
			}
			n.mu.Lock()
			n.nl[h] = nl
			n.mu.Unlock()
		})
		return err
	})
	if err != nil {
		return err
	}
	// The pair: made in host A (the handle's namespace), its peer end moved
	// into host B by the same request (IFLA_NET_NS_FD; drivers/net/veth.c,
	// veth_newlink).
	pair := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: veth, Index: vethIndexA},
		PeerName:      veth,
		PeerNamespace: netlink.NsFd(n.ns[hostB]),
	}
	if err := n.nl[hostA].LinkAdd(pair); err != nil {
		return fmt.Errorf("veth pair %s/%s: %w", n.names[hostA], n.names[hostB], linkErr(err))
	}
	var links [2]netlink.Link
	for h := range links {
		l, err := n.nl[h].LinkByName(veth)
		if err != nil {
			return fmt.Errorf("%s in %s: %w", veth, n.names[h], err)
		}
		links[h] = l
	}
	if a, b := links[hostA].Attrs().Index, links[hostB].Attrs().Index; a == b {
		return fmt.Errorf("the two ends of the pair have the same index %d: the kernel's link watcher would delay every link change (see vethIndexA)", a)
	}
	if n.family == probes.V6 {
		// ip-sysctl.rst, keep_addr_on_down: keep the address across
		// net.up's down and up, as a pulled cable would. /proc/sys/net is
		// the opening thread's namespace's.
		err := n.in(hostB, func() error {
			if _, err := os.Stat("/proc/sys/net/ipv6"); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: no IPv6 in this kernel (/proc/sys/net/ipv6)", probes.ErrFamilyUnavailable)
			}
			return os.WriteFile("/proc/sys/net/ipv6/conf/"+veth+"/keep_addr_on_down", []byte("1"), 0)
		})
		if err != nil {
			return err
		}
	}
	// Watch both ends before either goes up (see watchUp).
	var watches [2]*linkWatch
	defer func() {
		for _, w := range watches {
			w.close()
		}
	}()
	for h := range watches {
		if watches[h], err = n.watchUp(h); err != nil {
			return err
		}
	}
	return eachHost(func(h int) error {
		rt := n.nl[h]
		lo, err := rt.LinkByName("lo")
		if err == nil {
			err = rt.LinkSetUp(lo)
		}
		if err != nil {
			return fmt.Errorf("lo in %s: %w", n.names[h], err)
		}
		p := n.addrs[h]
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if n.family == probes.V6 {
			// Usable at once: no duplicate address detection (RFC 4862 §5.4).
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := rt.AddrAdd(links[h], addr); err != nil {
			return fmt.Errorf("address %s on %s in %s: %w", p, veth, n.names[h], err)
		}
		if err := rt.LinkSetUp(links[h]); err != nil {
			return fmt.Errorf("%s up in %s: %w", veth, n.names[h], err)
		}
		return watches[h].wait()
	})
}

// newNamedFailed explains a failure of netns.NewNamed for host h, and
// removes the name file it may have left (it creates the file before the
// bind mount, and leaves it when the mount fails).
func (n *netns) newNamedFailed(h int, err error) error {
	path := filepath.Join(netnsDir, n.names[h])
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("network namespace %s already exists: left by an earlier process with this pid? (remove it with: ip netns del %s): %w", n.names[h], n.names[h], err)
	case errors.Is(err, unix.EPERM):
		os.Remove(path)
		return fmt.Errorf("%w: creating network namespace %s: %w", ErrNeedsRoot, n.names[h], err)
	case errors.Is(err, unix.EINVAL):
		os.Remove(path)
		return fmt.Errorf("%w: creating network namespace %s (no CONFIG_NET_NS?): %w", probes.ErrUnsupported, n.names[h], err)
	}
	os.Remove(path)
	return fmt.Errorf("creating network namespace %s: %w", n.names[h], err)
}

// linkErr marks the kernel's answer to a link type it does not know (no
// veth module) as unsupported: the scenario is then skipped with the reason.
func linkErr(err error) error {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%w: the kernel has no veth driver: %w", probes.ErrUnsupported, err)
	}
	return err
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
		if err := n.setLink(hostB, false); err != nil {
			return err
		}
		return n.waitNotUp(hostA)
	case Drop:
		n.broken = Drop
		return eachHost(func(h int) error {
			err := n.nft(h, true)
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
		var watches [2]*linkWatch
		defer func() {
			for _, w := range watches {
				w.close()
			}
		}()
		for h := range watches {
			var err error
			if watches[h], err = n.watchUp(h); err != nil {
				return err
			}
		}
		if err := n.setLink(hostB, true); err != nil {
			return err
		}
		if err := eachHost(func(h int) error { return watches[h].wait() }); err != nil {
			return err
		}
	case Drop:
		err := eachHost(func(h int) error {
			if !n.dropped[h] {
				return nil
			}
			err := n.nft(h, false)
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

// setLink sets host's veth administratively up or down.
func (n *netns) setLink(host int, up bool) error {
	l, err := n.nl[host].LinkByName(veth)
	if err == nil {
		if up {
			err = n.nl[host].LinkSetUp(l)
		} else {
			err = n.nl[host].LinkSetDown(l)
		}
	}
	if err != nil {
		return fmt.Errorf("%s up=%v in %s: %w", veth, up, n.names[host], err)
	}
	return nil
}

// nft installs (install true) or deletes Drop's table in host's namespace,
// in one nf_tables transaction (a netlink batch; the table and its chain
// appear together or not at all). The netlink socket is created on a thread
// inside the namespace, as every socket of this file.
func (n *netns) nft(host int, install bool) error {
	return n.in(host, func() error {
		c, err := nftables.New(nftables.AsLasting())
		if err != nil {
			return fmt.Errorf("nf_tables socket in %s: %w", n.names[host], err)
		}
		defer c.CloseLasting()
		table := &nftables.Table{Family: nftables.TableFamilyNetdev, Name: nftTableName}
		if install {
			table = c.AddTable(table)
			policy := nftables.ChainPolicyDrop
			c.AddChain(&nftables.Chain{
				Name:     "ingress",
				Table:    table,
				Type:     nftables.ChainTypeFilter,
				Hooknum:  nftables.ChainHookIngress,
				Priority: nftables.ChainPriorityFilter,
				Device:   veth,
				Policy:   &policy,
			})
		} else {
			c.DelTable(table)
		}
		if err := c.Flush(); err != nil {
			if install && (errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EPROTONOSUPPORT)) {
				return fmt.Errorf("%w: nftables netdev ingress chain in %s (kernel without nf_tables netdev?): %w", probes.ErrUnsupported, n.names[host], err)
			}
			return fmt.Errorf("nftables table netdev %s in %s (install=%v): %w", nftTableName, n.names[host], install, err)
		}
		return nil
	})
}

// Close deletes the namespaces this network made: it closes the handles and
// sockets of this file that refer to them, then unmounts and removes each
// name (netns.DeleteNamed, what `ip netns del` does); the kernel then
// destroys each namespace with its end of the veth pair, and deleting one
// end of a veth pair deletes the other. Sockets still open in a namespace
// keep it alive until they are closed. Close is idempotent.
func (n *netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	for h := range n.names {
		if n.nl[h] != nil {
			n.nl[h].Close()
			n.nl[h] = nil
		}
		if n.ns[h] != -1 {
			if err := n.ns[h].Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing the handle of %s: %w", n.names[h], err))
			}
			n.ns[h] = -1
		}
		if n.created[h] {
			if err := vnetns.DeleteNamed(n.names[h]); err != nil {
				errs = append(errs, fmt.Errorf("deleting network namespace %s: %w", n.names[h], err))
			}
		}
	}
	return errors.Join(errs...)
}

// eachHost runs f for both hosts at once: the calls are independent, and
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

// in runs f on a fresh OS thread that has joined host's network namespace
// (setns(2) on the handle newNetns keeps). A socket belongs to the
// namespace of the thread that created it and keeps it wherever it is used
// later; the thread itself never leaves the namespace, and ends when f
// returns (see throwawayThread).
func (n *netns) in(host int, f func() error) error {
	var err error
	throwawayThread(func() {
		if err = vnetns.Set(n.ns[host]); err != nil {
			err = fmt.Errorf("entering %s: %w", n.names[host], os.NewSyscallError("setns", err))
			return
		}
		err = f()
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

// operBound limits the wait for a link's operational state: the kernel's
// link watcher handles a veth's carrier change at once (an "urgent" event,
// net/core/link_watch.c), so this is only reached when something is wrong.
const operBound = 2 * time.Second

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

// waitNotUp waits until host's veth is no longer operationally up,
// polling its IFLA_OPERSTATE over the namespace's rtnetlink socket
// (rtnetlink(7), RTM_GETLINK): the signal that the kernel has taken the
// carrier away (net/core/link_watch.c, rfc2863_policy). Traffic stops
// before that: a veth drops what it would hand to a peer that is not
// running (drivers/net/veth.c, veth_xmit).
func (n *netns) waitNotUp(host int) error {
	deadline := time.Now().Add(operBound)
	for {
		l, err := n.nl[host].LinkByName(veth)
		if err != nil {
			return fmt.Errorf("%s in %s: %w", veth, n.names[host], err)
		}
		st := l.Attrs().OperState
		if st != netlink.OperUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s in %s: still operationally up after %v", veth, n.names[host], operBound)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// linkWatch receives one host's link notifications (rtnetlink(7),
// RTNLGRP_LINK) on a socket made inside its namespace.
type linkWatch struct {
	n    *netns
	host int
	s    *nl.NetlinkSocket
}

// watchUp starts watching host's links; call it before the change whose
// end wait then awaits.
//
// Why a notification and not a poll of IFLA_OPERSTATE: when a link's
// carrier comes on, the kernel's link watcher sets the operational state
// first and attaches the transmit queues' qdisc after (linkwatch_do_dev:
// rfc2863_policy, then dev_activate, then netdev_state_change, which sends
// RTM_NEWLINK). A poll can see "up" in between, and a packet sent then
// meets the noop qdisc and is dropped (seen here: a lost SYN made the
// connection's first retransmission wait for the 3 s fallback timeout,
// RFC 6298 §5.7, longer than the scenario's bound). No RTM_NEWLINK with
// the state up is sent for a device before it is activated, so the first
// one seen after watchUp says the link passes traffic.
func (n *netns) watchUp(host int) (*linkWatch, error) {
	var s *nl.NetlinkSocket
	err := n.in(host, func() (err error) {
		s, err = nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("watching the links of %s: %w", n.names[host], err)
	}
	return &linkWatch{n: n, host: host, s: s}, nil
}

// wait waits, up to operBound, for a notification that veth is
// operationally up.
func (w *linkWatch) wait() error {
	deadline := time.Now().Add(operBound)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%s in %s: no notification that it is up after %v", veth, w.n.names[w.host], operBound)
		}
		tv := unix.NsecToTimeval(left.Nanoseconds())
		if err := w.s.SetReceiveTimeout(&tv); err != nil {
			return err
		}
		msgs, _, err := w.s.Receive()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue // the deadline, or a signal: the loop decides
		}
		if err != nil {
			return fmt.Errorf("link notifications of %s: %w", w.n.names[w.host], err)
		}
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWLINK {
				continue
			}
			hdr := unix.NlMsghdr(m.Header)
			l, err := netlink.LinkDeserialize(&hdr, m.Data)
			if err == nil && l.Attrs().Name == veth && l.Attrs().OperState == netlink.OperUp {
				return nil
			}
		}
	}
}

// close closes the watch's socket; nil is a no-op.
func (w *linkWatch) close() {
	if w != nil {
		w.s.Close()
	}
}

// sweepOnce runs sweepStale for the first network a process builds.
var sweepOnce sync.Once

// staleName matches the names newNetns gives: process id and PID namespace.
var staleName = regexp.MustCompile(`^cm-(\d+)-\d+-[ab]-i(\d+)$`)

// sweepStale removes the namespaces that a process of this PID namespace
// left in /run/netns and can no longer remove: it has ended (kill(2) with
// signal 0 answers ESRCH), killed before its Close ran. Each removal is
// reported on standard error, as is a namespace that cannot be removed.
// Namespaces of live processes, of other PID namespaces (whose processes
// this one cannot see), and names that are not ours are left alone. Two
// processes sweeping at once may both try one name: the loser's failure
// (the mount or the file already gone) is not reported.
func sweepStale() {
	ents, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil || m[2] != strconv.FormatUint(pidNSInode, 10) {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || !errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
			continue
		}
		err = vnetns.DeleteNamed(e.Name())
		switch {
		case err == nil:
			fmt.Fprintf(os.Stderr, "closematrix: removed network namespace %s, left in %s by process %d, which has ended\n", e.Name(), netnsDir, pid)
		case errors.Is(err, unix.EINVAL) || errors.Is(err, fs.ErrNotExist):
			// Another process removed it first.
		default:
			fmt.Fprintf(os.Stderr, "closematrix: network namespace %s was left by process %d, which has ended, and cannot be removed: %v (ip netns del %s)\n", e.Name(), pid, err, e.Name())
		}
	}
}
