package matrix

import (
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// TestViewPortability: where the runtimes of one OS differ, per step, with a
// view whose platforms split named by platform; OSes with one view, and
// steps where the views agree, say nothing.
func TestViewPortability(t *testing.T) {
	reset := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)
	eof := step("peer.recv", schema.ClassEOF, 0, "", 0)
	same := step("peer.send", schema.ClassBrokenPipe, 0, "EPIPE", 32)
	f := func(label, goos, a, view string, s schema.Step) *schema.File {
		return withView(arch(file(label, goos, observed("v4/abort/idle", s, same)), a), view)
	}
	m := mustMerge(t,
		f("linux-amd64", "linux", "amd64", "raw", reset), f("linux-arm64", "linux", "arm64", "raw", reset),
		f("linux-amd64-python", "linux", "amd64", "python", reset),
		f("linux-amd64-node", "linux", "amd64", "node", eof), f("linux-arm64-node", "linux", "arm64", "node", reset),
		f("windows-amd64", "windows", "amd64", "raw", eof)) // one view of Windows: nothing to compare
	oses := AcrossViews(m.Layout())
	if len(oses) != 1 || oses[0].Title != "Linux" || len(oses[0].Views) != 3 {
		t.Fatalf("across views: %+v, want Linux through raw, python, node", oses)
	}
	rows := m.Groups[0].Rows
	got := ViewPortability(rows, oses)
	want := "peer.recv on Linux: reset raw, python, node arm64 · eof node amd64"
	if got != want {
		t.Errorf("ViewPortability = %q, want %q", got, want)
	}
	if s := RowAcross(&rows[1], oses); s != "" {
		t.Errorf("peer.send agrees in every view, RowAcross says %q", s)
	}
	// Windows differs from Linux in the raw view: that is Portability's,
	// not a difference between views.
	if p := Portability(rows, m.Layout()[0].Cols); p == "" {
		t.Error("raw Linux and Windows differ, Portability says nothing")
	}
}
