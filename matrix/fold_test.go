package matrix

import (
	"slices"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// arch sets a file's architecture (folding names members by it).
func arch(f *schema.File, a string) *schema.File {
	f.Platform.Arch = a
	return f
}

// TestLayoutFoldsAndSplits: architectures of one OS share a column and a cell
// where they agree, split it (each part named) where not; views become
// separate layouts; emulated columns come last; the portability line says
// who differs and how.
func TestLayoutFoldsAndSplits(t *testing.T) {
	eof := step("peer.recv", schema.ClassEOF, 0, "", 0)
	linuxReset := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)
	winReset := step("peer.recv", schema.ClassReset, 0, "WSAECONNRESET", 10054)
	wine := arch(file("windows-amd64-wine", "windows", observed("v4/abort/idle", winReset)), "amd64")
	wine.Platform.Emulator = "wine-8.0"
	m := mustMerge(t,
		arch(file("linux-amd64", "linux", observed("v4/abort/idle", eof)), "amd64"),
		arch(file("linux-arm64", "linux", observed("v4/abort/idle", linuxReset)), "arm64"),
		arch(file("darwin-arm64", "darwin", observed("v4/abort/idle", eof)), "arm64"),
		arch(file("darwin-amd64", "darwin", observed("v4/abort/idle", eof)), "amd64"),
		arch(file("windows-amd64", "windows", observed("v4/abort/idle", winReset)), "amd64"),
		arch(file("linux-amd64-gonet", "linux", observed("v4/abort/idle", eof)), "amd64"),
		wine,
	)
	views := m.Layout()
	if len(views) != 2 || views[0].Name != "raw" || views[1].Name != "gonet" {
		t.Fatalf("views %+v, want raw then gonet", views)
	}
	var titles []string
	for _, c := range views[0].Cols {
		titles = append(titles, c.Heading())
	}
	if want := []string{"Linux", "Windows", "macOS", "wine (emulated Windows)"}; !slices.Equal(titles, want) {
		t.Errorf("raw columns %q, want %q", titles, want)
	}
	row := &m.Groups[0].Rows[0]
	linux, mac := views[0].Cols[0].Fold(row), views[0].Cols[2].Fold(row)
	if len(linux) != 2 || linux[0].Who != "amd64" || linux[1].Who != "arm64" || linux[1].Cell.Short() != "ECONNRESET" {
		t.Errorf("Linux should split amd64 | arm64: %+v", linux)
	}
	if len(mac) != 1 || mac[0].Who != "" {
		t.Errorf("macOS should fold: %+v", mac)
	}
	if got, want := Portability(m.Groups[0].Rows, views[0].Cols),
		"peer.recv: eof on Linux amd64, macOS · reset on Linux arm64, Windows, wine"; got != want {
		t.Errorf("portability\n got %q\nwant %q", got, want)
	}
	if got := Portability(m.Groups[0].Rows, views[1].Cols); got != "" {
		t.Errorf("one gonet column cannot differ: %q", got)
	}
}

func TestCellShort(t *testing.T) {
	for _, c := range []struct {
		o    schema.Outcome
		want string
	}{
		{schema.Outcome{Class: schema.ClassReset, Errno: "ECONNRESET", Code: 104}, "ECONNRESET"},
		{schema.Outcome{Class: schema.ClassReset, Errno: "WSAECONNRESET", Code: 10054}, "10054"},
		{schema.Outcome{Class: schema.ClassEOF}, "EOF"},
		{schema.Outcome{Class: schema.ClassEOF, Errno: "io.EOF"}, "EOF"},
		{schema.Outcome{Class: schema.ClassReset, Errno: "*net.OpError(read)→*os.SyscallError(read)→ECONNRESET", Code: 104}, "ECONNRESET"},
		{schema.Outcome{Class: schema.ClassClosed, Errno: "net.ErrClosed"}, "ErrClosed"},
		{schema.Outcome{Class: schema.ClassData, N: 1024}, "1024 B"},
		{schema.Outcome{Class: "POLLIN|POLLOUT", Errno: "ECONNRESET", Code: 104}, "IN|OUT"},
		{schema.Outcome{Class: "EPOLLERR|EPOLLHUP|EPOLLIN"}, "ERR|HUP|IN"},
		{schema.Outcome{Class: "AFD_POLL_ABORT|AFD_POLL_DISCONNECT"}, "ABORT|DISCONNECT"},
		{schema.Outcome{Class: "EVFILT_READ[EV_EOF fflags=ECONNRESET data=0] EVFILT_WRITE[EV_EOF data=146988]"}, "R[EOF ECONNRESET] W[EOF]"},
		{schema.Outcome{Class: "EVFILT_READ[data=5] EVFILT_WRITE[data>0]"}, "R[] W[]"},
		{schema.Outcome{Class: "FIN_WAIT_2"}, "FIN_WAIT_2"},
		{schema.Outcome{Class: "readable|hup"}, "readable|hup"}, // a kind this code has never heard of
	} {
		if got := (Cell{Status: CellObserved, Outcome: c.o}).Short(); got != c.want {
			t.Errorf("%v: Short %q, want %q", c.o, got, c.want)
		}
	}
	if m := (Cell{Status: CellObserved, Outcome: schema.Outcome{Class: "FIN_WAIT_2"}}).Mark(); m != "·" {
		t.Errorf("state mark %q", m)
	}
	// A wire step's "data" is a segment, not recv's class data.
	wire := stepCell(&schema.Step{Name: "wire.peer", Outcome: schema.Outcome{Class: "data"}})
	if wire.Mark() != "·" || wire.Short() != "data" {
		t.Errorf("wire.peer data: mark %q, short %q", wire.Mark(), wire.Short())
	}
	for _, c := range schema.Classes {
		if MarkOf(c) == "" {
			t.Errorf("class %s has no mark", c)
		}
	}
}

// TestClaim14 evaluates the three-segment close on the two shapes a capture
// takes: the peer's FIN first after the actor's (holds) and a pure ACK
// before it (does not hold); no segments recorded leaves it unknown.
func TestClaim14(t *testing.T) {
	wire := func(actor, peer []schema.Segment) schema.Scenario {
		a := step("wire.actor", "FIN", 0, "", 0)
		a.Segments = actor
		p := step("wire.peer", "FIN", 0, "", 0)
		p.Segments = peer
		return observed("v4/close/orderly-release-wire", a, p)
	}
	three := wire([]schema.Segment{{Seq: 0, Flags: "FIN+ACK"}, {Seq: 2, Flags: "ACK"}}, []schema.Segment{{Seq: 1, Flags: "FIN+ACK"}})
	four := wire([]schema.Segment{{Seq: 0, Flags: "FIN+ACK"}, {Seq: 3, Flags: "ACK"}}, []schema.Segment{{Seq: 1, Flags: "ACK"}, {Seq: 2, Flags: "FIN+ACK"}})
	m := mustMerge(t, file("a-three", "linux", three), file("b-four", "linux", four), file("c-old", "linux", wire(nil, nil)))
	cr := claimByID(t, m, 14)
	got := []Verdict{cr.Verdicts[0].Verdict, cr.Verdicts[1].Verdict, cr.Verdicts[2].Verdict}
	if want := []Verdict{Holds, DoesNotHold, Unknown}; !slices.Equal(got, want) {
		t.Errorf("claim 14: %v, want %v (%+v)", got, want, cr.Verdicts)
	}
}
