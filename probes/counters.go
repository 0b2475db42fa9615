package probes

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/closematrix/closematrix/schema"
)

// The system's own TCP segment counters (closematrix issue 21): a second,
// cheap witness of what was sent, which needs no capture and no root. They
// are system-wide: both ends of a loopback connection count, and so does any
// other TCP on the host (on Linux, in the network namespace) meanwhile.
// This file holds the pure parts (parsers, delta, the quiet check); the
// readers are counters_<os>.go.

// CounterSet says which fields of a Counters reading hold values.
type CounterSet uint8

// The fields.
const (
	HasRstsSent    CounterSet = 1 << iota // RFC 1213 tcpOutRsts
	HasEstabResets                        // RFC 1213 tcpEstabResets
	HasOutSegs                            // RFC 1213 tcpOutSegs (BSD: tcps_sndtotal)
	HasCtrlSent                           // BSD tcps_sndctrl
)

// Counters is one reading of the system's TCP statistics, or the delta of
// two (CounterDelta).
type Counters struct {
	// Source names what was read, e.g. "/proc/net/snmp Tcp OutRsts".
	Source string
	// RstsSent: segments sent with RST (RFC 1213 tcpOutRsts: "The number
	// of TCP segments sent containing the RST flag").
	RstsSent uint64
	// EstabResets: RFC 1213 tcpEstabResets, "the number of times TCP
	// connections have made a direct transition to the CLOSED state from
	// either the ESTABLISHED state or the CLOSE-WAIT state".
	EstabResets uint64
	// OutSegs: segments sent (Linux and Windows leave retransmissions out;
	// BSD tcps_sndtotal counts every packet).
	OutSegs uint64
	// CtrlSent: BSD tcps_sndctrl, "control (SYN|FIN|RST) packets sent" by
	// tcp_output; RSTs sent by tcp_respond are not in it.
	CtrlSent uint64
	Has      CounterSet
	// NoRsts, when RstsSent is not among Has, says why this system offers
	// no RSTs-sent counter.
	NoRsts string
}

// ErrNoRstCounter is the error of a tcp.rsts-sent reading on a system that
// keeps no count of RSTs sent (darwin, FreeBSD); Counters.NoRsts says why.
var ErrNoRstCounter = errors.New("this system keeps no count of TCP segments sent with RST")

// CounterDelta is after minus before, field by field for the fields both
// readings hold. The readings must come from the same source, and no
// counter may have gone backwards (a 32-bit counter that wrapped, a
// namespace that changed between the reads): then the delta is not known.
func CounterDelta(before, after Counters) (Counters, error) {
	if before.Source != after.Source {
		return Counters{}, fmt.Errorf("counters: read from %q, then from %q", before.Source, after.Source)
	}
	d := Counters{Source: after.Source, Has: before.Has & after.Has, NoRsts: after.NoRsts}
	for _, f := range []struct {
		bit       CounterSet
		name      string
		b, a, out *uint64
	}{
		{HasRstsSent, "RSTs sent", &before.RstsSent, &after.RstsSent, &d.RstsSent},
		{HasEstabResets, "established resets", &before.EstabResets, &after.EstabResets, &d.EstabResets},
		{HasOutSegs, "segments sent", &before.OutSegs, &after.OutSegs, &d.OutSegs},
		{HasCtrlSent, "control segments sent", &before.CtrlSent, &after.CtrlSent, &d.CtrlSent},
	} {
		if d.Has&f.bit == 0 {
			continue
		}
		if *f.a < *f.b {
			return Counters{}, fmt.Errorf("counters: %s went from %d to %d", f.name, *f.b, *f.a)
		}
		*f.out = *f.a - *f.b
	}
	return d, nil
}

// Class is a delta's outcome class for tcp.rsts-sent: RstsSent in decimal
// ("0", "1", "2"). ErrNoRstCounter where the system has no such counter.
func (c Counters) Class() (schema.Class, error) {
	if c.Has&HasRstsSent == 0 {
		return "", fmt.Errorf("%w: %s", ErrNoRstCounter, c.NoRsts)
	}
	return schema.Class(strconv.FormatUint(c.RstsSent, 10)), nil
}

// Schema is a delta as a result file types it (schema.Counters), nil where
// the system has no RSTs-sent counter.
func (c Counters) Schema() *schema.Counters {
	if c.Has&HasRstsSent == 0 {
		return nil
	}
	out := &schema.Counters{Source: c.Source, RstsSent: int64(c.RstsSent)}
	if c.Has&HasEstabResets != 0 {
		v := int64(c.EstabResets)
		out.EstabResets = &v
	}
	if c.Has&HasOutSegs != 0 {
		v := int64(c.OutSegs)
		out.OutSegs = &v
	}
	return out
}

// ErrCountersNotQuiet says the RSTs-sent counter never stood still for the
// quiet moment QuietCounters asks for: something else on the system is
// sending RSTs, and a delta around the action would count them too.
var ErrCountersNotQuiet = errors.New("the system's RSTs-sent counter did not stand still before the action")

// QuietCounters reads the counters until two reads gap apart show the same
// RSTs sent, at most tries times, and returns the later read: the baseline
// of a delta taken after the action. gap is the quiet moment itself, a
// measurement interval and not a wait for an event (a millisecond is
// plenty on loopback, where the stack sends an RST within the call that
// causes it). Where the system has no RSTs-sent counter the first read is
// returned as it is.
func QuietCounters(gap time.Duration, tries int) (Counters, error) {
	return quietCounters(TCPCounters, time.Sleep, gap, tries)
}

func quietCounters(read func() (Counters, error), sleep func(time.Duration), gap time.Duration, tries int) (Counters, error) {
	prev, err := read()
	if err != nil || prev.Has&HasRstsSent == 0 {
		return prev, err
	}
	for i := 0; i < tries; i++ {
		sleep(gap)
		cur, err := read()
		if err != nil {
			return cur, err
		}
		if cur.RstsSent == prev.RstsSent {
			return cur, nil
		}
		prev = cur
	}
	return prev, fmt.Errorf("%w: it changed in each of %d reads %v apart", ErrCountersNotQuiet, tries, gap)
}

// SourceSnmp is the Source of a Linux reading.
const SourceSnmp = "/proc/net/snmp Tcp OutRsts"

// parseSnmp reads the Tcp lines of /proc/net/snmp: a header line of names
// and a line of values, both starting "Tcp:" (net/ipv4/proc.c snmp_seq_show
// → icmp_put… / snmp_seq_show_tcp_udp, whose names are snmp4_tcp_list:
// RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails
// EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts
// InCsumErrors). Fields are found by name, not position. Linux's TCP MIB is
// one for both families (IPv6 TCP counts here too: /proc/net/snmp6 has no
// Tcp6 lines). MaxConn is printed signed (-1); the counters are unsigned.
func parseSnmp(text string) (Counters, error) {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "Tcp:")
		if !ok {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		vals := strings.Fields(rest)
		if len(vals) != len(names) {
			return Counters{}, fmt.Errorf("/proc/net/snmp: Tcp has %d names and %d values", len(names), len(vals))
		}
		c := Counters{Source: SourceSnmp}
		for i, n := range names {
			var dst *uint64
			var bit CounterSet
			switch n {
			case "OutRsts":
				dst, bit = &c.RstsSent, HasRstsSent
			case "EstabResets":
				dst, bit = &c.EstabResets, HasEstabResets
			case "OutSegs":
				dst, bit = &c.OutSegs, HasOutSegs
			default:
				continue
			}
			v, err := strconv.ParseUint(vals[i], 10, 64)
			if err != nil {
				return Counters{}, fmt.Errorf("/proc/net/snmp: Tcp %s: %w", n, err)
			}
			*dst = v
			c.Has |= bit
		}
		if c.Has&HasRstsSent == 0 {
			return Counters{}, errors.New("/proc/net/snmp: Tcp has no OutRsts")
		}
		return c, nil
	}
	return Counters{}, errors.New("/proc/net/snmp: no Tcp header and values")
}

// mibTCPStatsSize is sizeof(MIB_TCPSTATS) (MIB_TCPSTATS_LH, tcpmib.h;
// learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcpstats_lh):
// fifteen DWORDs, in order dwRtoAlgorithm (a union with the
// TCP_RTO_ALGORITHM enum, also 4 bytes), dwRtoMin, dwRtoMax, dwMaxConn,
// dwActiveOpens, dwPassiveOpens, dwAttemptFails, dwEstabResets,
// dwCurrEstab, dwInSegs, dwOutSegs, dwRetransSegs, dwInErrs, dwOutRsts,
// dwNumConns.
const (
	mibTCPStatsSize    = 15 * 4
	mibEstabResetsOff  = 7 * 4  // dwEstabResets
	mibOutSegsOff      = 10 * 4 // dwOutSegs: "does not include retransmitted segments"
	mibOutRstsOff      = 13 * 4 // dwOutRsts: "segments transmitted with the reset flag set"
	sourceWindows      = "GetTcpStatisticsEx dwOutRsts (AF_INET + AF_INET6)"
	sourceWindowsV4    = "GetTcpStatisticsEx dwOutRsts (AF_INET only)"
	sourceWindowsWine  = "GetTcpStatisticsEx (Wine: Linux's /proc/net/snmp)"
	sourceSysctlDarwin = "sysctl net.inet.tcp.stats (xnu struct tcpstat)"
	sourceSysctlBSD    = "sysctl net.inet.tcp.stats (FreeBSD struct tcpstat)"
)

// parseMibTCPStats reads the counters out of MIB_TCPSTATS structures as
// GetTcpStatisticsEx fills them, one per family, in host (little-endian)
// order, and sums them: Windows keeps IPv4's and IPv6's apart.
func parseMibTCPStats(source string, bufs ...[]byte) (Counters, error) {
	c := Counters{Source: source, Has: HasRstsSent | HasEstabResets | HasOutSegs}
	for _, b := range bufs {
		if len(b) < mibTCPStatsSize {
			return Counters{}, fmt.Errorf("MIB_TCPSTATS: %d bytes, want %d", len(b), mibTCPStatsSize)
		}
		c.RstsSent += uint64(binary.LittleEndian.Uint32(b[mibOutRstsOff:]))
		c.EstabResets += uint64(binary.LittleEndian.Uint32(b[mibEstabResetsOff:]))
		c.OutSegs += uint64(binary.LittleEndian.Uint32(b[mibOutSegsOff:]))
	}
	return c, nil
}

// tcpstatLayout is where struct tcpstat (netinet/tcp_var.h) keeps the
// fields read here, and how wide its counters are.
type tcpstatLayout struct {
	width             int // bytes per counter: u_int32_t on xnu, uint64_t on FreeBSD
	sndtotal, sndctrl int // field indexes
	min               int // the fewest bytes a reading may have
}

// The two layouts.
//
// xnu bsd/netinet/tcp_var.h struct tcpstat, every field u_int32_t:
// tcps_connattempt, tcps_accepts, tcps_connects, tcps_drops,
// tcps_conndrops, tcps_closed, tcps_segstimed, tcps_rttupdated,
// tcps_delack, tcps_timeoutdrop, tcps_rexmttimeo, tcps_persisttimeo,
// tcps_keeptimeo, tcps_keepprobe, tcps_keepdrops (0–14), tcps_sndtotal (15,
// offset 60), tcps_sndpack, tcps_sndbyte, tcps_sndrexmitpack,
// tcps_sndrexmitbyte, tcps_sndacks, tcps_sndprobe, tcps_sndurg,
// tcps_sndwinup, tcps_sndctrl (24, offset 96), tcps_rcvtotal, …
//
// FreeBSD 14 sys/netinet/tcp_var.h struct tcpstat, every field uint64_t
// (counter(9) summed by the sysctl): tcps_connattempt, tcps_accepts,
// tcps_connects, tcps_drops, tcps_conndrops, tcps_minmssdrops,
// tcps_closed, tcps_segstimed, tcps_rttupdated, tcps_delack,
// tcps_timeoutdrop, tcps_rexmttimeo, tcps_persisttimeo, tcps_keeptimeo,
// tcps_keepprobe, tcps_keepdrops, tcps_progdrops (0–16), tcps_sndtotal
// (17, offset 136), tcps_sndpack, tcps_sndbyte, tcps_sndrexmitpack,
// tcps_sndrexmitbyte, tcps_sndrexmitbad, tcps_sndacks, tcps_sndprobe,
// tcps_sndurg, tcps_sndwinup, tcps_sndctrl (27, offset 216), tcps_rcvtotal, …
//
// Neither struct has an RSTs-sent counter: tcps_sndctrl counts SYN, FIN
// and RST segments together, and only those tcp_output sends without
// TF_ACKNOW (xnu bsd/netinet/tcp_output.c: "else if (flags & (TH_SYN |
// TH_FIN | TH_RST)) tcpstat.tcps_sndctrl++"); the RSTs tcp_respond sends
// for a segment that finds no connection are counted nowhere. (Wine's own
// GetTcpStatisticsEx on these systems estimates dwOutRsts as tcps_sndctrl
// minus tcps_closed: dlls/nsiproxy.sys/tcp.c.) So tcp.rsts-sent is not
// recorded there, and the BPF capture answers instead.
var (
	tcpstatDarwin  = tcpstatLayout{width: 4, sndtotal: 15, sndctrl: 24, min: 25 * 4}
	tcpstatFreeBSD = tcpstatLayout{width: 8, sndtotal: 17, sndctrl: 27, min: 28 * 8}
)

// noRstsBSD is the NoRsts of a BSD reading.
const noRstsBSD = "struct tcpstat (netinet/tcp_var.h) has no RSTs-sent field: tcps_sndctrl counts SYN, FIN and RST together and misses tcp_respond's RSTs"

// parseTcpstat reads a struct tcpstat as sysctl net.inet.tcp.stats returns
// it, in host byte order.
func parseTcpstat(source string, b []byte, l tcpstatLayout) (Counters, error) {
	if len(b) < l.min {
		return Counters{}, fmt.Errorf("struct tcpstat: %d bytes, want at least %d", len(b), l.min)
	}
	get := func(i int) uint64 {
		if l.width == 4 {
			return uint64(binary.NativeEndian.Uint32(b[i*4:]))
		}
		return binary.NativeEndian.Uint64(b[i*8:])
	}
	return Counters{Source: source, OutSegs: get(l.sndtotal), CtrlSent: get(l.sndctrl), Has: HasOutSegs | HasCtrlSent, NoRsts: noRstsBSD}, nil
}
