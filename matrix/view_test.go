package matrix

import (
	"slices"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// withView sets a file's platform.view, as a writer since issue 17 does.
func withView(f *schema.File, view string) *schema.File {
	f.Platform.View = view
	return f
}

// TestViewsFromTheField: every label shape a writer has produced lands in
// the view its file names (issue 17: the action's linux-amd64-gonet-ubuntu-
// 24.04 used to merge into raw Linux, and a hand-given label lost its view);
// only a file without platform.view is filed by its label, and then only by
// a view such files had. A view the matrix does not know is a view of its
// own, never raw.
func TestViewsFromTheField(t *testing.T) {
	eof := step("peer.recv", schema.ClassEOF, 0, "", 0)
	reset := step("peer.recv", schema.ClassReset, 0, "ECONNRESET", 104)
	sc := func(s schema.Step) schema.Scenario { return observed("v4/abort/idle", s) }
	// An old file, as the harness wrote it before the field: no "view" key.
	old, err := Parse("old.json", []byte(`{"schema":2,"platform":{"label":"linux-amd64-gonet","os":"linux","arch":"amd64"},
"scenarios":[{"id":"v4/abort/idle","status":"observed","runs":1,"steps":[{"name":"peer.recv","kind":"call","outcome":{"class":"eof"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if old.Platform.View != "" {
		t.Fatalf("old file's view %q, want none", old.Platform.View)
	}
	files := []*schema.File{
		// The action's label shape now, and its shape before (runner after
		// the view), both with the field set.
		withView(arch(file("linux-amd64-ubuntu-24.04", "linux", sc(reset)), "amd64"), "raw"),
		withView(arch(file("linux-amd64-ubuntu-24.04-gonet", "linux", sc(eof)), "amd64"), "gonet"),
		withView(arch(file("linux-amd64-gonet-ubuntu-22.04", "linux", sc(eof)), "amd64"), "gonet"),
		// Hand-given labels: none names the view; one names another.
		withView(arch(file("my-box", "linux", sc(eof)), "arm64"), "gonet"),
		withView(arch(file("lab-gonet", "linux", sc(reset)), "arm64"), "raw"),
		// Views the matrix has no name for yet.
		withView(arch(file("linux-amd64-py", "linux", sc(reset)), "amd64"), "python"),
		withView(arch(file("windows-amd64-mylib", "windows", sc(reset)), "amd64"), "exec"),
		// Files without the field: the label decides, among the views
		// such files had (eventloop was never one).
		old,
		arch(file("linux-arm64", "linux", sc(reset)), "arm64"),
		arch(file("linux-amd64-eventloop", "linux", sc(reset)), "amd64"),
	}
	want := map[string][]string{
		"raw":    {"lab-gonet", "linux-amd64-eventloop", "linux-amd64-ubuntu-24.04", "linux-arm64"},
		"gonet":  {"linux-amd64-gonet", "linux-amd64-gonet-ubuntu-22.04", "linux-amd64-ubuntu-24.04-gonet", "my-box"},
		"exec":   {"windows-amd64-mylib"},
		"python": {"linux-amd64-py"},
	}
	m := mustMerge(t, files...)
	views := m.Layout()
	var names []string
	for _, v := range views {
		names = append(names, v.Name)
		var got []string
		for _, fc := range v.Cols {
			for _, c := range fc.Members {
				got = append(got, m.Columns[c].Platform.Label)
				if m.Columns[c].Platform.View != v.Name {
					t.Errorf("column %s: Platform.View %q in view %s", m.Columns[c].Platform.Label, m.Columns[c].Platform.View, v.Name)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want[v.Name]) {
			t.Errorf("view %s holds %q, want %q", v.Name, got, want[v.Name])
		}
	}
	// Known views first, in Views order; the others alphabetically.
	if wantNames := []string{"raw", "gonet", "python", "exec"}; !slices.Equal(names, wantNames) {
		t.Errorf("views %q, want %q", names, wantNames)
	}
	// A folded column names its members without their OS and view,
	// wherever the view sits in the label.
	gonet := views[1].Cols[0]
	if got, want := strings.Join(gonet.Names, " "), "amd64 amd64-ubuntu-22.04 amd64-ubuntu-24.04 arm64"; got != want {
		t.Errorf("gonet Linux members %q, want %q", got, want)
	}
	// Every raw column recorded reset and every gonet one eof: one column
	// filed under the wrong view would make that view disagree.
	for _, v := range views[:2] {
		if p := Portability(m.Groups[0].Rows, v.Cols); p != "" {
			t.Errorf("%s view disagrees: %q", v.Name, p)
		}
	}
}

// TestViewOf: the field wins; without it only a view older files had.
func TestViewOf(t *testing.T) {
	for _, c := range []struct {
		p    schema.Platform
		want string
	}{
		{schema.Platform{Label: "linux-amd64-gonet", View: "raw"}, "raw"},
		{schema.Platform{Label: "x", View: "python"}, "python"},
		{schema.Platform{Label: "linux-amd64-gonet"}, "gonet"},
		{schema.Platform{Label: "linux-amd64-ubuntu-24.04-gonet"}, "gonet"},
		{schema.Platform{Label: "linux-amd64-gonet-ubuntu-24.04"}, "raw"}, // what the field fixes
		{schema.Platform{Label: "linux-amd64-eventloop"}, "raw"},
		{schema.Platform{Label: "gonet"}, "raw"},
	} {
		if got := ViewOf(&c.p); got != c.want {
			t.Errorf("ViewOf(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// TestViewValidated: a view names a table and the page's switch, so it is
// held to a plain name.
func TestViewValidated(t *testing.T) {
	for view, ok := range map[string]bool{"raw": true, "asyncio-selector": true, "gonet": true, "<b>": false, "a b": false, "-x": false} {
		st := step("peer.recv", schema.ClassEOF, 0, "", 0)
		st.Kind = schema.KindCall
		f := withView(file("linux-amd64", "linux", observed("v4/close/idle", st)), view)
		err := validate(f)
		if (err == nil) != ok {
			t.Errorf("view %q: validate %v, want ok=%v", view, err, ok)
		}
		if !ok && err != nil && !strings.Contains(err.Error(), "platform.view") {
			t.Errorf("view %q: %v does not name platform.view", view, err)
		}
	}
}
