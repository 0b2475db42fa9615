package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// needNetwork skips t, saying why, where this process cannot build the
// network of the network scenarios: not root. No command of the host is
// needed (see network_linux.go), and none of these tests runs one.
func needNetwork(t *testing.T) {
	t.Helper()
	if err := netPrivileged(); err != nil {
		t.Skipf("network scenarios cannot run here: %v", err)
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
	mine := netnsPrefix() // parallel processes have their own
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), mine) {
			s.netns = append(s.netns, e.Name())
		}
	}
	links, err := netlink.LinkList() // the calling thread's namespace: the test's
	if err != nil {
		t.Fatalf("listing links: %v", err)
	}
	for _, l := range links {
		s.links = append(s.links, fmt.Sprintf("%d: %s", l.Attrs().Index, l.Attrs().Name))
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
// namespace (RTM_NEWNSID with NETNSA_NSID -1, what `ip netns set NAME auto`
// sends: the kernel picks the id) and returns them. The kernel removes such
// an id, and announces it with RTM_DELNSID, only when it destroys the
// namespace (net/core/net_namespace.c, cleanup_net): the signal that the
// namespace, and the veth pair with it, is gone, not merely unnamed.
func nsids(t *testing.T, n *netns) []int32 {
	t.Helper()
	var ids []int32
	for h, name := range n.names {
		fd := int(n.ns[h])
		if err := netlink.SetNetNsIdByFd(fd, -1); err != nil {
			t.Fatalf("nsid for %s: %v", name, err)
		}
		id, err := netlink.GetNetNsIdByFd(fd)
		if err != nil || id < 0 {
			t.Fatalf("nsid of %s: %d, %v", name, id, err)
		}
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
						if out := nftTables(t, n, h); !slices.Contains(out, nftTableName) {
							t.Errorf("host %d: no table %q in %s after Drop: %q", h, nftTableName, name, out)
						}
					}
					if out := nftTables(t, n, -1); slices.Contains(out, nftTableName) {
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
					for h, name := range n.names {
						if out := nftTables(t, n, h); slices.Contains(out, nftTableName) {
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

// nftTables lists the netdev nftables tables of host h's namespace (h < 0:
// the test's own), over a netlink socket of its own that the library opens
// in that namespace (WithNetNSFd): independently of how Break put them there.
func nftTables(t *testing.T, n *netns, h int) []string {
	t.Helper()
	var opts []nftables.ConnOption
	where := "the test's namespace"
	if h >= 0 {
		opts = append(opts, nftables.WithNetNSFd(int(n.ns[h])))
		where = n.names[h]
	}
	c, err := nftables.New(opts...)
	if err != nil {
		t.Fatalf("nftables in %s: %v", where, err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyNetdev)
	if err != nil {
		t.Fatalf("nftables tables in %s: %v", where, err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	return names
}

// networkScenarios are the catalogue's network scenarios.
func networkScenarios() []Scenario {
	var out []Scenario
	for _, sc := range Catalogue() {
		if sc.Action.spec().network {
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

// TestNetworkWithoutCommands builds, breaks both ways, restores and removes
// the network with an empty PATH: no ip, no nft, nothing of the host's is
// run (os/exec would find nothing), as on a fresh host without iproute2 or
// nftables.
func TestNetworkWithoutCommands(t *testing.T) {
	needNetwork(t)
	t.Setenv("PATH", t.TempDir())
	for _, cmd := range []string{"ip", "nft"} {
		if p, err := exec.LookPath(cmd); err == nil {
			t.Fatalf("%s is still found: %s", cmd, p)
		}
	}
	for _, f := range Families {
		before := takeNetSnapshot(t)
		nw, err := newNetns(f)
		if skipError(err) {
			t.Logf("%s: %v", f, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := nw.(*netns)
		actor, peer := connectNet(t, n)
		for _, a := range []Action{LinkDown, Drop} {
			if err := n.Break(a); err != nil {
				t.Fatalf("%s: break %s: %v", f, a, err)
			}
			if err := n.Restore(); err != nil {
				t.Fatalf("%s: restore after %s: %v", f, a, err)
			}
			exchange(t, actor, peer)
		}
		for _, s := range []*probes.Socket{actor, peer} {
			s.SetLinger(true, 0)
			s.Close()
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if d := before.diff(takeNetSnapshot(t)); len(d) > 0 {
			t.Errorf("%s: left behind: %s", f, strings.Join(d, "; "))
		}
	}
}

// TestNetworkConcurrent builds several networks at once from several
// goroutines, as a concurrent runner would: each gets names of its own, the
// hosts of each talk to each other only, and all are removed.
func TestNetworkConcurrent(t *testing.T) {
	needNetwork(t)
	const per = 3
	before := takeNetSnapshot(t)
	var nets []*netns
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, per*len(Families))
	for range per {
		for _, f := range Families {
			wg.Go(func() {
				nw, err := newNetns(f)
				if err != nil {
					if !skipError(err) {
						errs <- fmt.Errorf("%s: %w", f, err)
					}
					return
				}
				mu.Lock()
				nets = append(nets, nw.(*netns))
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for _, n := range nets {
		for _, name := range n.names {
			if seen[name] {
				t.Errorf("namespace name %s used twice", name)
			}
			seen[name] = true
		}
	}
	for _, n := range nets {
		wg.Go(func() {
			actor, peer := connectNet(t, n)
			exchange(t, actor, peer)
			for _, s := range []*probes.Socket{actor, peer} {
				s.SetLinger(true, 0)
				s.Close()
			}
		})
	}
	wg.Wait()
	for _, n := range nets {
		wg.Go(func() {
			if err := n.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	t.Logf("%d networks built and removed concurrently", len(nets))
	if d := before.diff(takeNetSnapshot(t)); len(d) > 0 {
		t.Errorf("left behind: %s", strings.Join(d, "; "))
	}
}

// TestNetworkSweep leaves namespaces as a killed process would, under the
// name of a process that has ended, and checks that sweepStale removes them
// and nothing else: not those of a live process, of another PID namespace,
// or names that are not ours.
func TestNetworkSweep(t *testing.T) {
	needNetwork(t)
	// A process that has ended: a child, started and waited for.
	child := exec.Command("/proc/self/exe", "-test.run=^$")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	dead := child.Process.Pid
	if err := unix.Kill(dead, 0); !errors.Is(err, unix.ESRCH) {
		t.Skipf("pid %d was reused at once: %v", dead, err)
	}
	ino := strconv.FormatUint(pidNSInode, 10)
	swept := []string{fmt.Sprintf("cm-%d-1-a-i%s", dead, ino), fmt.Sprintf("cm-%d-1-b-i%s", dead, ino)}
	kept := []string{
		fmt.Sprintf("cm-%d-1-a-i%s", 1, ino),      // a live process
		fmt.Sprintf("cm-%d-1-a-i%s", dead, "123"), // another PID namespace
		fmt.Sprintf("cmx-%d-1-a-i%s", dead, ino),  // not ours
	}
	for _, name := range append(slices.Clone(swept), kept...) {
		var err error
		throwawayThread(func() {
			var ns vnetns.NsHandle
			if ns, err = vnetns.NewNamed(name); err == nil {
				ns.Close()
			}
		})
		if err != nil {
			t.Fatalf("making %s: %v", name, err)
		}
		t.Cleanup(func() { vnetns.DeleteNamed(name) })
	}
	sweepStale()
	for _, name := range swept {
		if _, err := os.Stat(filepath.Join(netnsDir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not swept: %v", name, err)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(netnsDir, name)); err != nil {
			t.Errorf("%s swept: %v", name, err)
		}
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
