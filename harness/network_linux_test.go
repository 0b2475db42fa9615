package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// needNetwork skips t, saying why, where this process cannot build the
// network of the network scenarios: not root, or no ip / nft command.
func needNetwork(t *testing.T) {
	t.Helper()
	if err := netPrivileged(); err != nil {
		t.Skipf("network scenarios cannot run here: %v", err)
	}
	if _, _, err := netTools(); err != nil {
		t.Skipf("network scenarios cannot run here: %v (apt-get install iproute2 nftables)", err)
	}
}

// netSnapshot is what a network leaves behind where it can be seen from
// outside: this process's namespaces in /run/netns, the links of the
// namespace the test runs in, this process's descriptors, and its threads
// that are in another namespace (a thread that stays in one keeps it, and
// its veth pair, alive).
type netSnapshot struct {
	netns     []string
	links     []string
	fds       int
	elsewhere []string // threads in another network namespace
}

func takeNetSnapshot(t *testing.T) netSnapshot {
	t.Helper()
	var s netSnapshot
	ents, err := os.ReadDir(netnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	mine := fmt.Sprintf("cm-%d-", os.Getpid()) // parallel processes have their own
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), mine) {
			s.netns = append(s.netns, e.Name())
		}
	}
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatalf("ip link: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// "4: eth0: <BROADCAST,...> mtu ...": the index and the name.
		if f := strings.Fields(line); len(f) > 1 {
			s.links = append(s.links, f[0]+" "+f[1])
		}
	}
	s.fds = count(t, "fd")
	s.elsewhere = threadsElsewhere(t)
	return s
}

// homeNetns is the network namespace the test binary started in.
var homeNetns, _ = os.Readlink("/proc/thread-self/ns/net")

// threadsElsewhere lists this process's threads that are in another network
// namespace than the one it started in, waiting up to a second for threads
// that are about to end (a throwaway thread ends just after its work).
func threadsElsewhere(t *testing.T) []string {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		var out []string
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			ns, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net")
			if err == nil && ns != homeNetns {
				out = append(out, task.Name()+" in "+ns)
			}
		}
		if len(out) == 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(time.Millisecond)
	}
}

// diff reports what differs between two snapshots.
func (before netSnapshot) diff(after netSnapshot) []string {
	var d []string
	if !slices.Equal(before.netns, after.netns) {
		d = append(d, fmt.Sprintf("namespaces in %s: %v before, %v after", netnsDir, before.netns, after.netns))
	}
	if !slices.Equal(before.links, after.links) {
		d = append(d, fmt.Sprintf("links: %v before, %v after", before.links, after.links))
	}
	if len(after.elsewhere) > 0 {
		d = append(d, fmt.Sprintf("threads in another network namespace: %v", after.elsewhere))
	}
	if before.fds != after.fds {
		d = append(d, fmt.Sprintf("descriptors: %d before, %d after", before.fds, after.fds))
	}
	return d
}

// nsids gives each of the network's namespaces an id in the test's own
// namespace (ip netns set NAME auto) and returns them. The kernel removes
// such an id, and announces it with RTM_DELNSID, only when it destroys the
// namespace (net/core/net_namespace.c, cleanup_net): the signal that the
// namespace, and the veth pair with it, is gone, not merely unnamed.
func nsids(t *testing.T, n *netns) []int32 {
	t.Helper()
	for _, name := range n.names {
		if out, err := exec.Command("ip", "netns", "set", name, "auto").CombinedOutput(); err != nil {
			t.Fatalf("ip netns set %s auto: %v: %s", name, err, out)
		}
	}
	out, err := exec.Command("ip", "netns", "list-id").Output()
	if err != nil {
		t.Fatalf("ip netns list-id: %v", err)
	}
	var ids []int32
	for _, name := range n.names {
		m := regexp.MustCompile(`(?m)^nsid (\d+) \(iproute2 netns name: ` + regexp.QuoteMeta(name) + `\)$`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no nsid for %s:\n%s", name, out)
		}
		id, _ := strconv.Atoi(string(m[1]))
		ids = append(ids, int32(id))
	}
	return ids
}

// nsidWatch receives the test namespace's RTM_DELNSID announcements
// (rtnetlink(7), multicast group RTNLGRP_NSID).
type nsidWatch struct{ fd int }

func watchNSIDs(t *testing.T) *nsidWatch {
	t.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(os.NewSyscallError("socket", err))
	}
	w := &nsidWatch{fd}
	t.Cleanup(w.close)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (unix.RTNLGRP_NSID - 1)}); err != nil {
		t.Fatal(os.NewSyscallError("bind", err))
	}
	tv := unix.NsecToTimeval(int64(10 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(os.NewSyscallError("setsockopt", err))
	}
	return w
}

func (w *nsidWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// waitDeleted reads announcements until every id in ids was deleted and
// returns how long that took.
func (w *nsidWatch) waitDeleted(t *testing.T, ids []int32) time.Duration {
	t.Helper()
	start := time.Now()
	left := map[int32]bool{}
	for _, id := range ids {
		left[id] = true
	}
	buf := make([]byte, 1<<16)
	for len(left) > 0 {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("namespaces with nsids %v not destroyed after %v", slices.Collect(maps.Keys(left)), time.Since(start))
		}
		n, _, err := unix.Recvfrom(w.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(os.NewSyscallError("recvfrom", err))
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Type == unix.RTM_DELNSID {
				if id, ok := nsidAttr(m.Data); ok {
					delete(left, id)
				}
			}
		}
	}
	return time.Since(start)
}

// nsidAttr finds NETNSA_NSID in an RTM_*NSID message: a struct rtgenmsg
// (padded to 4 bytes), then route attributes (include/uapi/linux/net_namespace.h).
func nsidAttr(data []byte) (int32, bool) {
	for b := data[min(4, len(data)):]; len(b) >= 4; {
		l, typ := int(binary.NativeEndian.Uint16(b)), binary.NativeEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			return 0, false
		}
		if typ == unix.NETNSA_NSID && l >= 8 {
			return int32(binary.NativeEndian.Uint32(b[4:])), true
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return 0, false
}

// TestNetworkNamespaces builds the network in each family, checks that the
// two hosts talk over the veth pair, breaks and restores it both ways, and
// removes it: nothing is left in /run/netns, among the links or the
// descriptors, and the kernel destroys both namespaces (and so the pair).
// It measures the setup and the removal.
func TestNetworkNamespaces(t *testing.T) {
	needNetwork(t)
	for _, f := range Families {
		t.Run(string(f), func(t *testing.T) {
			before := takeNetSnapshot(t)
			start := time.Now()
			nw, err := newNetns(f)
			setup := time.Since(start)
			if err != nil {
				if skipError(err) {
					t.Skip(err)
				}
				t.Fatal(err)
			}
			n := nw.(*netns)
			defer n.Close()
			for _, name := range n.names {
				if _, err := os.Stat(filepath.Join(netnsDir, name)); err != nil {
					t.Errorf("namespace %s: %v", name, err)
				}
			}
			ids := nsids(t, n)
			watch := watchNSIDs(t)

			// The hosts talk over the pair: the actor's local address is
			// host B's, its remote host A's.
			actor, peer := connectNet(t, n)
			c := actor.Conn()
			if c.Local.Addr() != n.addrs[hostB].Addr() || c.Remote.Addr() != n.addrs[hostA].Addr() {
				t.Errorf("actor's connection %v → %v, want %v → %v", c.Local, c.Remote, n.addrs[hostB].Addr(), n.addrs[hostA].Addr())
			}
			exchange(t, actor, peer)

			// Each break takes effect where it should and is undone by Restore.
			for _, a := range []Action{LinkDown, Drop} {
				start := time.Now()
				if err := n.Break(a); err != nil {
					t.Fatalf("break %s: %v", a, err)
				}
				broke := time.Since(start)
				if err := n.Break(a); err == nil {
					t.Errorf("break %s twice: no error", a)
				}
				if a == Drop {
					for h, name := range n.names {
						if out := nftTables(t, name); !strings.Contains(out, nftTable) {
							t.Errorf("host %d: no table %q in %s after Drop: %q", h, nftTable, name, out)
						}
					}
					if out, _ := exec.Command("nft", "list", "tables").Output(); strings.Contains(string(out), nftTable) {
						t.Errorf("Drop's table is in the test's own namespace: %q", out)
					}
				}
				start = time.Now()
				if err := n.Restore(); err != nil {
					t.Fatalf("restore after %s: %v", a, err)
				}
				restored := time.Since(start)
				if err := n.Restore(); err != nil {
					t.Errorf("second restore after %s: %v", a, err)
				}
				if a == Drop {
					for _, name := range n.names {
						if out := nftTables(t, name); strings.Contains(out, nftTable) {
							t.Errorf("table left in %s after Restore: %q", name, out)
						}
					}
				}
				exchange(t, actor, peer) // the same connection still works
				t.Logf("%s: break %v, restore %v", a, broke.Round(10*time.Microsecond), restored.Round(10*time.Microsecond))
			}
			for _, s := range []*probes.Socket{actor, peer} {
				s.SetLinger(true, 0)
				s.Close()
			}

			start = time.Now()
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			closed := time.Since(start)
			if err := n.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := n.Restore(); err != nil {
				t.Errorf("Restore after Close: %v", err)
			}
			destroyed := watch.waitDeleted(t, ids)
			watch.close()
			if d := before.diff(takeNetSnapshot(t)); len(d) > 0 {
				t.Errorf("left behind: %s", strings.Join(d, "; "))
			}
			t.Logf("setup %v, close %v; the kernel destroyed both namespaces %v after close",
				setup.Round(10*time.Microsecond), closed.Round(10*time.Microsecond), destroyed.Round(10*time.Microsecond))
		})
	}
}

// connectNet makes one connection over the network, as the runner does.
func connectNet(t *testing.T, n *netns) (actor, peer *probes.Socket) {
	t.Helper()
	ln, err := n.Listen(n.family)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := n.Dial(n.family, ln.Port())
	if err != nil {
		t.Fatal(err)
	}
	p, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return a.(*probes.Socket), p.(*probes.Socket)
}

// exchange sends a byte each way.
func exchange(t *testing.T, actor, peer *probes.Socket) {
	t.Helper()
	for _, p := range [][2]*probes.Socket{{actor, peer}, {peer, actor}} {
		if o := p[0].Send([]byte{1}); o.Class != schema.ClassOK {
			t.Fatalf("send: %s", o)
		}
		if o := p[1].Recv(1); o.Class != schema.ClassData {
			t.Fatalf("recv: %s", o)
		}
	}
}

// nftTables lists the nftables tables of a namespace, through ip netns exec:
// independently of how Break put them there.
func nftTables(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", name, "nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list tables in %s: %v: %s", name, err, out)
	}
	return string(out)
}

// networkScenarios are the catalogue's network scenarios.
func networkScenarios() []Scenario {
	var out []Scenario
	for _, sc := range Catalogue() {
		if sc.Action.onNetwork() {
			out = append(out, sc)
		}
	}
	return out
}

// TestNetworkScenarios plays every network scenario once and logs what it
// saw. It asserts only what the harness promises (observed with every step,
// or skipped with a reason; nothing left behind), not what this kernel does.
func TestNetworkScenarios(t *testing.T) {
	needNetwork(t)
	scs := networkScenarios()
	if len(scs) == 0 {
		t.Fatal("the catalogue has no network scenarios")
	}
	for _, sc := range scs {
		t.Run(sc.ID, func(t *testing.T) {
			before := takeNetSnapshot(t)
			rec, st := Run(sc, Config{Repeat: 1})
			checkRecord(t, sc, rec)
			for _, s := range rec.Steps {
				out := s.Outcome.String()
				if s.Skipped != "" {
					out = "skipped: " + s.Skipped
				}
				t.Logf("  %-12s %s %s", s.Name, out, s.Note)
			}
			t.Logf("%s: %s in %v (bound waits %v, signal waits %v)", sc.ID, rec.Status, st.Wall.Round(time.Millisecond),
				st.BoundWait.Round(time.Millisecond), st.SignalWait.Round(time.Millisecond))
			if d := before.diff(takeNetSnapshot(t)); len(d) > 0 {
				t.Errorf("left behind: %s", strings.Join(d, "; "))
			}
		})
	}
}

// checkRecord asserts the harness's promises about a record.
func checkRecord(t *testing.T, sc Scenario, rec schema.Scenario) {
	t.Helper()
	switch rec.Status {
	case schema.StatusSkipped:
		if rec.Reason == "" {
			t.Errorf("%s: skipped without a reason", sc.ID)
		}
		return
	case schema.StatusError:
		t.Errorf("%s: harness error: %s", sc.ID, rec.Reason)
		return
	}
	if rec.Runs != 1 {
		t.Errorf("%s: %d runs, want 1", sc.ID, rec.Runs)
	}
	if len(rec.Steps) != len(sc.Steps) {
		t.Fatalf("%s: %d steps, want %d", sc.ID, len(rec.Steps), len(sc.Steps))
	}
	for i, s := range rec.Steps {
		if s.Name != sc.Steps[i].Name() {
			t.Errorf("%s: step %d is %s, want %s", sc.ID, i, s.Name, sc.Steps[i].Name())
		}
		if (s.Skipped == "") == (s.Outcome.Class == "") {
			t.Errorf("%s %s: want an outcome or a reason for skipping, not both or neither: %+v", sc.ID, s.Name, s)
		}
	}
}

// failingListen is a network whose Listen fails after the namespaces exist:
// a scenario that fails half way.
type failingListen struct{ network }

var errInjected = errors.New("injected failure")

func (failingListen) Listen(probes.Family) (Listener, error) { return nil, errInjected }

// failingBreak breaks the network, then reports a failure.
type failingBreak struct{ network }

func (f failingBreak) Break(a Action) error {
	f.network.Break(a)
	return errInjected
}

// TestNetworkFailureLeavesNothing makes network scenarios fail half way and
// checks that the namespaces are removed all the same.
func TestNetworkFailureLeavesNothing(t *testing.T) {
	needNetwork(t)
	real := newNetwork
	t.Cleanup(func() { newNetwork = real })
	sc := networkScenarios()[0]
	for name, wrap := range map[string]func(network) network{
		"listen fails": func(n network) network { return failingListen{n} },
		"break fails":  func(n network) network { return failingBreak{n} },
	} {
		t.Run(name, func(t *testing.T) {
			var built []*netns
			newNetwork = func(f probes.Family) (network, error) {
				n, err := real(f)
				if err != nil {
					return nil, err
				}
				built = append(built, n.(*netns))
				return wrap(n), nil
			}
			before := takeNetSnapshot(t)
			rec, _ := Run(sc, Config{Repeat: 1})
			t.Logf("%s: %s %s", sc.ID, rec.Status, rec.Reason)
			if len(built) == 0 {
				t.Fatal("no network was built")
			}
			if name == "listen fails" && (rec.Status != schema.StatusError || !strings.Contains(rec.Reason, errInjected.Error())) {
				t.Errorf("want a harness error naming the failure, got %s %q", rec.Status, rec.Reason)
			}
			for _, n := range built {
				if !n.closed {
					t.Errorf("network %v not closed", n.names)
				}
			}
			if d := before.diff(takeNetSnapshot(t)); len(d) > 0 {
				t.Errorf("left behind: %s", strings.Join(d, "; "))
			}
		})
	}
}

// TestNetworkNeedsRoot checks that without the privileges a network
// scenario is skipped with the reason, never failed. As root, the test drops
// CAP_SYS_ADMIN and CAP_NET_ADMIN from one thread's effective set
// (capabilities are per thread, capset(2)) and plays the scenario on it; the
// thread ends with it (throwawayThread).
func TestNetworkNeedsRoot(t *testing.T) {
	sc := networkScenarios()[0]
	done := make(chan schema.Scenario, 1)
	errc := make(chan error, 1)
	throwawayThread(func() { // the thread ends with its reduced capabilities
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		for _, c := range []int{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN} {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		rec, _ := Run(sc, Config{Repeat: 1})
		done <- rec
	})
	select {
	case err := <-errc:
		t.Fatalf("dropping capabilities: %v", err)
	case rec := <-done:
		if rec.Status != schema.StatusSkipped || !strings.Contains(rec.Reason, ErrNeedsRoot.Error()) {
			t.Fatalf("%s without privileges: %s %q, want skipped: needs root", sc.ID, rec.Status, rec.Reason)
		}
		t.Logf("%s: %s: %s", sc.ID, rec.Status, rec.Reason)
	}
}

// TestNetworkToolsMissing checks that a missing ip or nft names the Debian
// package to install, as an ErrUnsupported (skipped, not failed).
func TestNetworkToolsMissing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	_, _, err := netTools()
	if !errors.Is(err, probes.ErrUnsupported) || !strings.Contains(err.Error(), "iproute2") {
		t.Errorf("no ip: %v, want ErrUnsupported naming iproute2", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ip"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err = netTools()
	if !errors.Is(err, probes.ErrUnsupported) || !strings.Contains(err.Error(), "nftables") {
		t.Errorf("no nft: %v, want ErrUnsupported naming nftables", err)
	}
	if !skipError(err) {
		t.Errorf("%v does not make a scenario skipped", err)
	}
}

// TestNetworkProbesAddr checks what the network takes from probes, on
// loopback (no root needed): listen and dial on a given address, never a
// wildcard, and TCP_USER_TIMEOUT as the kernel reads it back.
func TestNetworkProbesAddr(t *testing.T) {
	for _, a := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified(), netip.MustParseAddr("::ffff:0.0.0.0")} {
		if _, err := probes.ListenAddr(a); !errors.Is(err, probes.ErrWildcard) {
			t.Errorf("ListenAddr(%v): %v, want ErrWildcard", a, err)
		}
		if _, err := probes.DialAddr(netip.AddrPortFrom(a, 9)); !errors.Is(err, probes.ErrWildcard) {
			t.Errorf("DialAddr(%v): %v, want ErrWildcard", a, err)
		}
	}
	for _, a := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()} {
		ln, err := probes.ListenAddr(a)
		if errors.Is(err, probes.ErrFamilyUnavailable) {
			t.Logf("%v: %v", a, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		s, err := probes.DialAddr(netip.AddrPortFrom(a, uint16(ln.Port())))
		if err != nil {
			ln.Close()
			t.Fatal(err)
		}
		p, err := ln.Accept()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Conn().Remote; got != netip.AddrPortFrom(a, uint16(ln.Port())) {
			t.Errorf("connected to %v, want %v port %d", got, a, ln.Port())
		}
		exchange(t, s, p)
		if err := s.SetUserTimeout(UserTimeoutValue); err != nil {
			t.Fatal(err)
		}
		ms, err := unix.GetsockoptInt(int(s.FD()), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
		if err != nil || ms != int(UserTimeoutValue.Milliseconds()) {
			t.Errorf("TCP_USER_TIMEOUT reads back %d ms (%v), want %d", ms, err, UserTimeoutValue.Milliseconds())
		}
		if err := s.SetUserTimeout(-time.Second); err == nil {
			t.Error("a negative user timeout was accepted")
		}
		for _, e := range []*probes.Socket{s, p} {
			e.SetLinger(true, 0)
			e.Close()
		}
	}
}
