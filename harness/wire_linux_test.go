package harness

import (
	"bufio"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/closematrix/closematrix/probes"
	"github.com/closematrix/closematrix/schema"
)

// TestWireAgainstTcpdump checks the AF_PACKET capture behind wire.actor
// against tcpdump, an independent capture (libpcap): for every wired scenario
// the segments tcpdump saw the actor send must spell the same wire class.
// tcpdump also sees the teardown, which wire.actor ends before, so only the
// segments it timestamped before the wire step read its capture count.
func TestWireAgainstTcpdump(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capturing on lo needs root")
	}
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not found (apt-get install tcpdump): the wire capture is not cross-checked")
	}
	cmd := exec.Command(tcpdump, "-i", "lo", "-nn", "-l", "-U", "-tt", "tcp")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// tcpdump says "listening on lo" once its capture is open: the signal to start.
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "listening on") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("tcpdump did not start listening")
	}
	lines := make(chan string, 4096)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	type played struct {
		id   string
		conn probes.Conn4
		at   time.Time
		wire schema.Class
	}
	var runs []played
	async := canStartRecv(t)
	for _, sc := range Catalogue() {
		if !strings.HasSuffix(sc.Condition, "-wire") {
			continue
		}
		rec, st := Run(sc, Config{Repeat: 1})
		if _, pending := posturePending[sc.Posture]; pending && !async && rec.Status == schema.StatusSkipped {
			t.Logf("%s: %s (no asynchronous recv here)", sc.ID, rec.Reason)
			continue
		}
		if rec.Status != schema.StatusObserved {
			t.Errorf("%s: %s %s", sc.ID, rec.Status, rec.Reason)
			continue
		}
		runs = append(runs, played{sc.ID, st.Conns[0], st.WireAt[0], rec.Steps[len(rec.Steps)-1].Outcome.Class})
	}
	// A last connection marks the end: once tcpdump prints its SYN, it has
	// printed everything before it.
	ln, err := probes.Listen(probes.V4)
	if err != nil {
		t.Fatal(err)
	}
	mark, err := probes.Dial(probes.V4, ln.Port())
	if err != nil {
		t.Fatal(err)
	}
	markAt := strings.TrimPrefix(mark.Conn().Local.String(), "127.0.0.1:")
	mark.Close()
	ln.Close()
	var out strings.Builder
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case line := <-lines:
			out.WriteString(line + "\n")
			if strings.Contains(line, "127.0.0.1."+markAt+" >") {
				break wait
			}
		case <-deadline:
			t.Fatal("tcpdump did not print the end mark")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()

	segs := parseTcpdump(t, out.String())
	if len(runs) < 4 {
		t.Fatalf("only %d wired scenarios ran", len(runs))
	}
	for _, r := range runs {
		var before []probes.Segment
		for _, s := range segs[r.conn] {
			if s.at.Before(r.at) {
				before = append(before, s.Segment)
			}
		}
		got := probes.WireClass(before)
		if schema.Class(got) != r.wire {
			t.Errorf("%s: wire.actor %s, tcpdump saw %s", r.id, r.wire, got)
		} else {
			t.Logf("%s: wire.actor %s = tcpdump", r.id, r.wire)
		}
	}
}

// tcpdumpLine matches tcpdump's one-line TCP summary:
// "IP 127.0.0.1.43958 > 127.0.0.1.40195: Flags [F.], seq 6, ..., length 0".
var tcpdumpLine = regexp.MustCompile(`^(\d+)\.(\d{6}) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\].* length (\d+)`)

type stamped struct {
	probes.Segment
	at time.Time
}

// parseTcpdump groups segments by the 4-tuple of their sender.
func parseTcpdump(t *testing.T, out string) map[probes.Conn4][]stamped {
	segs := map[probes.Conn4][]stamped{}
	for _, line := range strings.Split(out, "\n") {
		m := tcpdumpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ap := func(a, p string) netip.AddrPort {
			port, _ := strconv.Atoi(p)
			return netip.AddrPortFrom(netip.MustParseAddr(a), uint16(port))
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		usec, _ := strconv.ParseInt(m[2], 10, 64)
		n, _ := strconv.Atoi(m[8])
		c := probes.Conn4{Local: ap(m[3], m[4]), Remote: ap(m[5], m[6])}
		seg := probes.Segment{Data: n, FIN: strings.Contains(m[7], "F"), RST: strings.Contains(m[7], "R")}
		segs[c] = append(segs[c], stamped{seg, time.Unix(sec, usec*1000)})
	}
	if len(segs) == 0 {
		t.Fatalf("no TCP segment in tcpdump's output:\n%s", out)
	}
	return segs
}
