package probes

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// snmpFixture is /proc/net/snmp as Linux 6.x prints it (net/ipv4/proc.c),
// cut to the lines around Tcp: a Udp section follows with the same shape,
// which must not be read as Tcp's.
const snmpFixture = `Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits
Ip: 1 64 71002 0 0 0 0 0 70954 65630 24 0 0 0 0 0 0 0 0 65630
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 3482 3432 20 4547 2 40942 36253 340 0 3043 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 98 0 0 98 0 0 0 0 0
`

func TestCountersParseSnmp(t *testing.T) {
	c, err := parseSnmp(snmpFixture)
	if err != nil {
		t.Fatal(err)
	}
	if c.RstsSent != 3043 || c.EstabResets != 4547 || c.OutSegs != 36253 || c.Has != HasRstsSent|HasEstabResets|HasOutSegs || c.Source != SourceSnmp {
		t.Errorf("parsed %+v", c)
	}
	// Found by name: a kernel that printed the fields in another order
	// (or added one) is read the same.
	swapped := "Tcp: OutRsts Extra EstabResets\nTcp: 7 1 2\n"
	if c, err := parseSnmp(swapped); err != nil || c.RstsSent != 7 || c.EstabResets != 2 || c.Has&HasOutSegs != 0 {
		t.Errorf("by name: %+v, %v", c, err)
	}
	for _, bad := range []string{
		"",
		"Tcp: OutRsts\n",                     // a header without values
		"Tcp: OutRsts EstabResets\nTcp: 1\n", // too few values
		"Tcp: OutRsts\nTcp: -1\n",            // a counter is unsigned
		"Tcp: EstabResets\nTcp: 1\n",         // no OutRsts
	} {
		if c, err := parseSnmp(bad); err == nil {
			t.Errorf("parseSnmp(%q) = %+v, want an error", bad, c)
		}
	}
}

// mibTCPStats lays out a MIB_TCPSTATS as GetTcpStatisticsEx fills it:
// fifteen little-endian DWORDs in tcpmib.h's order, each set to a marker
// (its index times 100) except the ones given.
func mibTCPStats(estabResets, outSegs, outRsts uint32) []byte {
	b := make([]byte, mibTCPStatsSize)
	for i := range 15 {
		binary.LittleEndian.PutUint32(b[i*4:], uint32(i*100))
	}
	binary.LittleEndian.PutUint32(b[7*4:], estabResets) // dwEstabResets
	binary.LittleEndian.PutUint32(b[10*4:], outSegs)    // dwOutSegs
	binary.LittleEndian.PutUint32(b[13*4:], outRsts)    // dwOutRsts
	return b
}

func TestCountersParseMibTCPStats(t *testing.T) {
	c, err := parseMibTCPStats(sourceWindows, mibTCPStats(5, 1000, 30), mibTCPStats(1, 200, 4))
	if err != nil {
		t.Fatal(err)
	}
	if c.RstsSent != 34 || c.EstabResets != 6 || c.OutSegs != 1200 || c.Has&HasRstsSent == 0 {
		t.Errorf("IPv4 + IPv6: %+v", c)
	}
	if _, err := parseMibTCPStats(sourceWindows, make([]byte, 56)); err == nil {
		t.Error("a 56-byte MIB_TCPSTATS was accepted")
	}
}

// tcpstat lays out a struct tcpstat of layout l (netinet/tcp_var.h), every
// counter set to a marker (its index plus 1000) except tcps_sndtotal and
// tcps_sndctrl, and n counters long.
func tcpstat(l tcpstatLayout, n int, sndtotal, sndctrl uint64) []byte {
	b := make([]byte, n*l.width)
	put := func(i int, v uint64) {
		if l.width == 4 {
			binary.NativeEndian.PutUint32(b[i*4:], uint32(v))
		} else {
			binary.NativeEndian.PutUint64(b[i*8:], v)
		}
	}
	for i := range n {
		put(i, uint64(1000+i))
	}
	put(l.sndtotal, sndtotal)
	put(l.sndctrl, sndctrl)
	return b
}

func TestCountersParseTcpstat(t *testing.T) {
	for _, c := range []struct {
		name   string
		l      tcpstatLayout
		n      int // counters in the fixture: xnu's struct has ~270, FreeBSD 14's ~140
		offTot int // byte offsets the header gives
		offCtl int
	}{
		{"darwin", tcpstatDarwin, 270, 60, 96},
		{"freebsd", tcpstatFreeBSD, 140, 136, 216},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.l.sndtotal*c.l.width != c.offTot || c.l.sndctrl*c.l.width != c.offCtl {
				t.Fatalf("layout puts tcps_sndtotal at %d and tcps_sndctrl at %d, the header at %d and %d",
					c.l.sndtotal*c.l.width, c.l.sndctrl*c.l.width, c.offTot, c.offCtl)
			}
			got, err := parseTcpstat("src", tcpstat(c.l, c.n, 77777, 333), c.l)
			if err != nil {
				t.Fatal(err)
			}
			if got.OutSegs != 77777 || got.CtrlSent != 333 || got.Has != HasOutSegs|HasCtrlSent || got.NoRsts == "" {
				t.Errorf("parsed %+v", got)
			}
			if _, err := got.Class(); !errors.Is(err, ErrNoRstCounter) {
				t.Errorf("Class on a BSD reading: %v, want ErrNoRstCounter", err)
			}
			if got.Schema() != nil {
				t.Error("a BSD reading has a schema.Counters, but no RSTs-sent counter")
			}
			if _, err := parseTcpstat("src", tcpstat(c.l, c.n, 1, 1)[:c.l.sndctrl*c.l.width], c.l); err == nil {
				t.Error("a struct tcpstat cut before tcps_sndctrl was accepted")
			}
		})
	}
}

func TestCountersDelta(t *testing.T) {
	all := HasRstsSent | HasEstabResets | HasOutSegs
	before := Counters{Source: "s", RstsSent: 10, EstabResets: 3, OutSegs: 100, Has: all}
	after := Counters{Source: "s", RstsSent: 12, EstabResets: 4, OutSegs: 109, Has: all}
	d, err := CounterDelta(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if d.RstsSent != 2 || d.EstabResets != 1 || d.OutSegs != 9 || d.Has != all {
		t.Errorf("delta %+v", d)
	}
	if cl, err := d.Class(); err != nil || cl != "2" {
		t.Errorf("Class = %q, %v; want \"2\"", cl, err)
	}
	s := d.Schema()
	if s == nil || s.Source != "s" || s.RstsSent != 2 || s.EstabResets == nil || *s.EstabResets != 1 || s.OutSegs == nil || *s.OutSegs != 9 {
		t.Errorf("Schema = %+v", s)
	}
	zero, _ := CounterDelta(before, before)
	if cl, _ := zero.Class(); cl != "0" {
		t.Errorf("no change: class %q, want \"0\"", cl)
	}
	// Only the fields both readings hold.
	part, err := CounterDelta(before, Counters{Source: "s", RstsSent: 11, Has: HasRstsSent})
	if err != nil || part.Has != HasRstsSent || part.RstsSent != 1 || part.Schema().OutSegs != nil {
		t.Errorf("partial delta %+v, %v", part, err)
	}
	if _, err := CounterDelta(before, Counters{Source: "other", Has: all}); err == nil {
		t.Error("readings of two sources were subtracted")
	}
	back := after
	back.RstsSent = 9
	if _, err := CounterDelta(before, back); err == nil || !strings.Contains(err.Error(), "RSTs sent went from 10 to 9") {
		t.Errorf("a counter that went backwards: %v", err)
	}
}

// fakeCounters replays readings of RstsSent, one per read, and records the
// pauses asked for.
type fakeCounters struct {
	rsts   []uint64
	i      int
	slept  []time.Duration
	failAt int
}

func (f *fakeCounters) read() (Counters, error) {
	if f.i == f.failAt {
		return Counters{}, errors.New("read failed")
	}
	v := f.rsts[min(f.i, len(f.rsts)-1)]
	f.i++
	return Counters{Source: "fake", RstsSent: v, Has: HasRstsSent}, nil
}

func (f *fakeCounters) sleep(d time.Duration) { f.slept = append(f.slept, d) }

func TestCountersQuiet(t *testing.T) {
	// Still at once: two reads a gap apart.
	f := &fakeCounters{rsts: []uint64{5, 5}, failAt: -1}
	c, err := quietCounters(f.read, f.sleep, time.Millisecond, 10)
	if err != nil || c.RstsSent != 5 || f.i != 2 || len(f.slept) != 1 || f.slept[0] != time.Millisecond {
		t.Errorf("quiet at once: %+v, %v, %d reads, slept %v", c, err, f.i, f.slept)
	}
	// Busy, then still: the baseline is the later of the two equal reads.
	f = &fakeCounters{rsts: []uint64{1, 2, 3, 3}, failAt: -1}
	c, err = quietCounters(f.read, f.sleep, time.Millisecond, 10)
	if err != nil || c.RstsSent != 3 || f.i != 4 {
		t.Errorf("busy then quiet: %+v, %v, %d reads", c, err, f.i)
	}
	// Never still within the tries.
	f = &fakeCounters{rsts: []uint64{1, 2, 3, 4, 5, 6}, failAt: -1}
	if _, err := quietCounters(f.read, f.sleep, time.Millisecond, 3); !errors.Is(err, ErrCountersNotQuiet) {
		t.Errorf("never quiet: %v, want ErrCountersNotQuiet", err)
	}
	// A failing read is the error.
	f = &fakeCounters{rsts: []uint64{1}, failAt: 1}
	if _, err := quietCounters(f.read, f.sleep, time.Millisecond, 3); err == nil || errors.Is(err, ErrCountersNotQuiet) {
		t.Errorf("failing read: %v", err)
	}
	// No RSTs-sent counter: nothing to wait for.
	n := 0
	c, err = quietCounters(func() (Counters, error) { n++; return Counters{Has: HasOutSegs}, nil }, f.sleep, time.Millisecond, 3)
	if err != nil || n != 1 {
		t.Errorf("no RST counter: %d reads, %v", n, err)
	}
}

// TestCountersSeeAbort reads the real counters around an abortive close
// (SO_LINGER 0, then close: RFC 9293 §3.10.7.1's ABORT, which sends RST):
// where the system counts RSTs sent, the delta is at least 1. The counters
// are system-wide, so other traffic can only add: the test asks for at
// least one, and skips when the counter never stood still.
func TestCountersSeeAbort(t *testing.T) {
	c, err := TCPCounters()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("source %q: %+v", c.Source, c)
	l, a, aPeer := statePair(t, V4)
	defer func() {
		aPeer.Close()
		l.Close()
	}()
	before, err := QuietCounters(time.Millisecond, 200)
	if errors.Is(err, ErrCountersNotQuiet) {
		a.Close()
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetLinger(true, 0); err != nil {
		t.Fatal(err)
	}
	if o := a.Close(); o.Errno != "" {
		t.Fatalf("close: %s", o)
	}
	o := aPeer.Recv(10)
	t.Logf("the peer's recv after the abort: %s", o)
	after, err := TCPCounters()
	if err != nil {
		t.Fatal(err)
	}
	d, err := CounterDelta(before, after)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("delta: %+v", d)
	if d.Has&HasRstsSent == 0 {
		if d.Has&HasOutSegs == 0 || d.OutSegs == 0 {
			t.Errorf("no RSTs-sent counter, and segments sent did not grow: %+v", d)
		}
		t.Skipf("%s: %s", c.Source, d.NoRsts)
	}
	if d.RstsSent < 1 {
		t.Errorf("the abort sent no RST by %s: delta %d", d.Source, d.RstsSent)
	}
}
