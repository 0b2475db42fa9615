package matrix

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/closematrix/closematrix/schema"
)

// findChromium returns a Chromium binary: $CHROMIUM, or Debian's chromium,
// or another usual name on PATH. "" means none is installed.
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is a headless Chromium at 1440×900 (the reader's window)
// with helpers that end the test on any error, since nothing after it would
// mean anything. Without Chromium it skips, unless REQUIRE_CHROMIUM is set
// (for CI, where a skip would hide a missing install step).
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		const msg = "no Chromium: install Debian's chromium (apt-get install chromium) or set CHROMIUM=/path/to/chrome"
		if os.Getenv("REQUIRE_CHROMIUM") != "" {
			t.Fatal(msg + " (REQUIRE_CHROMIUM is set)")
		}
		t.Skip(msg)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	// No network here: the background-networking flags stop Chromium from
	// trying (and failing noisily) to reach its services.
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", false),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return &browser{t, ctx}
}

func (b *browser) int(expr string) int {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		b.t.Fatalf("chromium: %s: %v", expr, err)
	}
	return v
}

func (b *browser) str(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("chromium: %s: %v", expr, err)
	}
	return v
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
}

// click marks the element a JavaScript expression finds and clicks it as a
// user would (a real mouse event at its position).
func (b *browser) click(expr string) {
	b.t.Helper()
	if n := b.int(`(function () { var o = document.getElementById("t-click"); if (o) o.removeAttribute("id"); var e = ` + expr + `; if (!e) return 0; e.id = "t-click"; e.scrollIntoView({block: "center"}); return 1; })()`); n != 1 {
		b.t.Fatalf("nothing to click: %s", expr)
	}
	b.do(chromedp.Click(chromedp.ID("t-click")))
}

// shot saves a screenshot of the window to dir/name.
func (b *browser) shot(dir, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("chromium: screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// writePage renders m into testdata/out/name (gitignored: the screenshots
// beside it are the test's artefacts to look at) and returns its file:// URL.
func writePage(t *testing.T, m *Matrix, name string) (dir, pageURL string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, name)
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, m); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, (&url.URL{Scheme: "file", Path: filepath.ToSlash(page)}).String()
}

const visibleRows = `document.querySelectorAll("section.view:not([hidden]) tr.r:not([hidden])").length`

// TestHTMLInBrowser loads the rendered fixtures page in headless Chromium
// from a file:// URL and checks what a reader sees: the rows, a known cell
// and its full outcome, the column metadata, the claims, markup arriving as
// text, and the filter.
func TestHTMLInBrowser(t *testing.T) {
	m := fixtureMatrix(t)
	dir, pageURL := writePage(t, m, "matrix.html")
	b := newBrowser(t)
	b.do(chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("filter")))
	rows := b.int(visibleRows)
	cols := b.int(`document.querySelectorAll("section.view:not([hidden]) .mx thead th.plat").length`)
	groups := b.int(`document.querySelectorAll("section.view:not([hidden]) tbody.grp").length`)
	claimRows := b.int(`document.querySelectorAll("section.view:not([hidden]) table.claims tbody tr").length`)
	cell := b.str(`document.querySelector('tr.r[data-id="v4/abort/idle"]').children[3].textContent`)
	header := b.str(`document.querySelectorAll(".mx thead th.plat")[1].title`)
	// The title with markup must arrive as text, never as elements.
	injected := b.int(`document.querySelectorAll(".mx script, .mx b").length`)
	title := b.str(`document.querySelector('tr.sh[data-id="v4/close/unread-at-actor"] .t').textContent`)
	b.click(`document.querySelector('tr.r[data-id="v4/abort/idle"]').children[3]`)
	detail := b.str(`document.getElementById("detail").hidden ? "" : document.getElementById("detail").textContent`)
	b.shot(dir, "fixtures.png")

	b.do(chromedp.SendKeys(chromedp.ID("filter"), "WSAESHUTDOWN"))
	afterFilter := b.int(visibleRows)
	count := b.str(`document.getElementById("count").textContent`)
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("filter").value = ""`), chromedp.Click(chromedp.ID("only-dis")))
	afterDisagree := b.int(visibleRows)
	b.do(chromedp.Click(chromedp.ID("only-dis")), chromedp.SendKeys(chromedp.ID("filter"), "v6/abort"))
	afterID := b.int(visibleRows)
	leads := b.int(`document.querySelectorAll("section.view:not([hidden]) tr.sh:not([hidden])").length`)

	if rows != m.Summary.Rows {
		t.Errorf("page shows %d rows, matrix has %d", rows, m.Summary.Rows)
	}
	if cols != 3 {
		t.Errorf("page has %d folded columns, want 3 (Linux, Windows, macOS)", cols)
	}
	if groups != len(m.Groups) {
		t.Errorf("page has %d action groups, want %d", groups, len(m.Groups))
	}
	if claimRows != len(Claims) {
		t.Errorf("claims table has %d rows, want %d", claimRows, len(Claims))
	}
	if cell != "R10054" {
		t.Errorf("compact windows cell of v4/abort/idle peer.recv = %q, want the mark R and 10054", cell)
	}
	if !strings.Contains(detail, "reset · WSAECONNRESET 10054") || !strings.Contains(detail, "WSAECONNRESET") {
		t.Errorf("detail panel after a click on the Windows cell: %q", detail)
	}
	if !strings.Contains(header, "runner: windows-2025") || !strings.Contains(header, "kernel: 10.0.26100") {
		t.Errorf("windows column header tooltip lacks its metadata: %q", header)
	}
	if injected != 0 || !strings.Contains(title, "<b>unread</b>") {
		t.Errorf("markup in a title: %d elements made of it, text shown %q", injected, title)
	}
	// Only the Windows column says WSAESHUTDOWN, in 7 rows per family:
	// shutdown-wr ×2, shutdown-rd ×3, shutdown-rdwr ×2.
	if afterFilter != 14 {
		t.Errorf("filter WSAESHUTDOWN shows %d of %d rows, want 14", afterFilter, rows)
	}
	if want := strconv.Itoa(afterFilter) + " of " + strconv.Itoa(rows) + " rows"; count != want {
		t.Errorf("row counter says %q, want %q", count, want)
	}
	if afterDisagree != m.Summary.Disagreements {
		t.Errorf("only-disagreements shows %d rows, want %d", afterDisagree, m.Summary.Disagreements)
	}
	if afterID != 7 || leads != 3 { // v6/abort/{idle: 3, peer-blocked-recv: 2, unread-at-peer: 2}
		t.Errorf("filter v6/abort shows %d rows in %d scenarios, want 7 rows, 3 scenarios", afterID, leads)
	}
}

// TestHTMLAtScaleInBrowser is the page as the reader uses it: 24
// real-shaped columns (syntheticFiles) at 1440×900 from a file:// URL. The
// default view must fit without horizontal scrolling; a click and the
// keyboard open the detail panel; the ladder of an orderly release draws
// its four captured segments; a permalink scrolls to its scenario; the
// search narrows rows and, given a platform, columns; the view switch
// swaps tables; nothing is fetched. Three screenshots are kept in
// testdata/out/: scale-default.png, scale-panel.png, scale-filtered.png.
func TestHTMLAtScaleInBrowser(t *testing.T) {
	m, err := Merge(syntheticFiles(t, 24, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Columns) != 24 {
		t.Fatalf("%d columns, want 24", len(m.Columns))
	}
	dir, pageURL := writePage(t, m, "scale.html")
	b := newBrowser(t)
	b.do(chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("filter")))

	overflow := b.int(`document.documentElement.scrollWidth - window.innerWidth`)
	tableRight := b.int(`Math.ceil(document.querySelector("section.view:not([hidden]) table.mx").getBoundingClientRect().right)`)
	width := b.int(`window.innerWidth`)
	fetched := b.int(`performance.getEntriesByType("resource").length + document.querySelectorAll("link[href], script[src], img[src]").length`)
	total := b.int(visibleRows)
	b.shot(dir, "scale-default.png")

	// A click on Linux's cell of the orderly release's wire.peer: the panel
	// and the ladder with the four segments the capture saw.
	b.click(`Array.prototype.filter.call(document.querySelectorAll('section.view:not([hidden]) tr.r[data-id="v4/close/orderly-release-wire"]'), function (r) { return r.children[1].textContent === "wire.peer"; })[0].children[2]`)
	panelOpen := b.str(`document.getElementById("detail").hidden ? "" : document.getElementById("detail-body").textContent`)
	segs := b.int(`document.querySelectorAll("#detail svg line.seg").length`)
	noCap := b.int(`document.querySelectorAll("#detail .nocap").length`)
	b.shot(dir, "scale-panel.png")
	// Windows has no capture: its ladder says so.
	b.click(`document.querySelector('section.view:not([hidden]) tr.r[data-id="v4/close/orderly-release"]').children[3]`)
	noCapWindows := b.str(`(document.querySelector("#detail .nocap") || {textContent: ""}).textContent`)
	// Linux captured the -wire twin: the plain scenario's ladder points there.
	b.click(`document.querySelector('section.view:not([hidden]) tr.r[data-id="v4/close/orderly-release"]').children[2]`)
	twin := b.str(`(document.querySelector("#detail .nocap a") || {textContent: ""}).textContent`)

	// Keyboard: from the search box, Tab past the checkboxes (only where
	// platforms differ; only where views differ, since an OS has several
	// views here), the first scenario's ladder button and permalink, to its
	// first cell.
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("detail").hidden = true; window.scrollTo(0, 0); location.hash = ""`),
		chromedp.Focus(chromedp.ID("filter")))
	for range 5 {
		b.do(chromedp.KeyEvent("\t"))
	}
	focused := b.str(`document.activeElement.closest("tr") ? document.activeElement.closest("tr").getAttribute("data-id") + " " + document.activeElement.closest("tr").children[1].textContent : document.activeElement.outerHTML.slice(0, 80)`)
	keyPanel := b.str(`document.getElementById("detail").hidden ? "" : document.querySelector("#detail h3").textContent`)
	// Arrow keys: down a row, right a column.
	b.do(chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowRight))
	arrowed := b.str(`document.querySelector("#detail h3").textContent + " | " + document.querySelector("#detail .who").textContent`)

	// A permalink opens with its scenario in view.
	b.do(chromedp.Navigate(pageURL+"#v6/shutdown-rd/idle"), chromedp.WaitVisible(chromedp.ID("filter")))
	top := b.int(`Math.round(document.getElementById("v6/shutdown-rd/idle").getBoundingClientRect().top)`)
	height := b.int(`window.innerHeight`)
	// The sticky bar and column heads cover the top of the window: the
	// scenario must open below them, not under them.
	heads := b.int(`Math.round(document.querySelector("section.view:not([hidden]) .mx thead th").getBoundingClientRect().bottom)`)

	// The search narrows rows; a platform's name narrows columns.
	b.do(chromedp.SendKeys(chromedp.ID("filter"), "ECONNRESET"))
	narrowed := b.int(visibleRows)
	b.do(chromedp.SendKeys(chromedp.ID("filter"), " windows"))
	shownCols := b.int(`Array.prototype.filter.call(document.querySelectorAll("section.view:not([hidden]) .mx thead th.plat"), function (h) { return !h.hidden; }).length`)
	b.do(chromedp.Click(chromedp.ID("only-dis")), chromedp.KeyEvent(kb.Escape))
	b.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.shot(dir, "scale-filtered.png")
	b.click(`document.querySelector('.views button[data-view="gonet"]')`)
	view := b.str(`document.querySelector("section.view:not([hidden])").getAttribute("data-view")`)
	t.Logf("screenshots: %s/scale-default.png, scale-panel.png, scale-filtered.png", dir)

	if overflow > 0 || tableRight > width {
		t.Errorf("default view overflows 1440 px: page %d px wider than the window, table ends at %d of %d", overflow, tableRight, width)
	}
	if fetched != 0 {
		t.Errorf("the page fetched or links %d resources; it must work offline", fetched)
	}
	if !strings.Contains(panelOpen, "wire.peer") || !strings.Contains(panelOpen, "FIN+ACK") {
		t.Errorf("click on the Linux wire.peer cell: panel %q", panelOpen)
	}
	if segs != 4 || noCap != 0 {
		t.Errorf("ladder of v4/close/orderly-release-wire on Linux: %d segment arrows (want 4), %d no-capture notes", segs, noCap)
	}
	if !strings.Contains(noCapWindows, "no capture on this platform") {
		t.Errorf("Windows ladder of v4/close/orderly-release says %q, want no capture on this platform", noCapWindows)
	}
	if twin != "v4/close/orderly-release-wire" {
		t.Errorf("Linux ladder of v4/close/orderly-release links %q, want its -wire twin", twin)
	}
	if !strings.HasPrefix(focused, "v4/close/idle ") || !strings.HasPrefix(keyPanel, "v4/close/idle ") {
		t.Errorf("Tab from the search box focused %q, panel shows %q; want the first cell of v4/close/idle", focused, keyPanel)
	}
	if !strings.HasPrefix(arrowed, "v4/close/idle peer.state | Windows") {
		t.Errorf("after ArrowDown, ArrowRight the panel shows %q, want v4/close/idle peer.state on Windows", arrowed)
	}
	if top < heads || top > height/2 {
		t.Errorf("permalink #v6/shutdown-rd/idle: the scenario is at %d px of %d, the sticky heads end at %d", top, height, heads)
	}
	if narrowed == 0 || narrowed >= total {
		t.Errorf("search ECONNRESET shows %d of %d rows", narrowed, total)
	}
	if shownCols != 2 { // Windows, and wine (emulated Windows)
		t.Errorf("search windows shows %d columns, want 2", shownCols)
	}
	if view != "gonet" {
		t.Errorf("the view switch shows %q, want gonet", view)
	}
}

// TestLadderCounterInBrowser: the ladder uses whichever evidence a column
// has. Where only the RSTs-sent counter ran it draws an "RST sent
// (counter)" mark and says the counter is the evidence; where the capture
// ran it draws the segments and says the counter is shown too; a zero
// counter says no RST was sent. Screenshot: testdata/out/ladder-counter.png.
func TestLadderCounterInBrowser(t *testing.T) {
	// One file per OS family, so that no two fold into one column.
	var files []*schema.File
	for _, f := range claim7Files() {
		if f.Platform.Label != "neither" {
			f.Platform.OS = map[string]string{"both": "linux", "counter-only": "windows", "wire-only": "darwin", "counter-zero": "freebsd"}[f.Platform.Label]
			files = append(files, f)
		}
	}
	m, err := Merge(files)
	if err != nil {
		t.Fatal(err)
	}
	dir, pageURL := writePage(t, m, "ladder-counter.html")
	b := newBrowser(t)
	b.do(chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("filter")))
	col := func(label string) int {
		i := b.int(`Array.prototype.findIndex.call(document.querySelectorAll("section.view:not([hidden]) .mx thead th.plat"), function (h) { return (" " + h.getAttribute("data-labels") + " ").indexOf(" ` + label + ` ") >= 0; })`)
		if i < 0 {
			t.Fatalf("no column %s", label)
		}
		return i
	}
	open := func(label string) (marks, segs int, note, who string) {
		b.click(`Array.prototype.filter.call(document.querySelectorAll('section.view:not([hidden]) tr.r[data-id="v4/close/own-blocked-recv-wire"]'), function (r) { return r.children[1].textContent === "wire.actor"; })[0].children[2 + ` + strconv.Itoa(col(label)) + `]`)
		return b.int(`document.querySelectorAll("#detail svg line.ctr").length`), b.int(`document.querySelectorAll("#detail svg line.seg").length`),
			b.str(`(document.querySelector("#detail .nocap") || {textContent: ""}).textContent`),
			b.str(`(document.querySelector("#detail .ladder .who") || {textContent: ""}).textContent`) + " | " + b.str(`document.querySelector("#detail svg").textContent`)
	}
	marks, segs, note, svg := open("counter-only")
	b.shot(dir, "ladder-counter.png")
	if marks != 1 || segs != 0 || !strings.Contains(note, "RSTs-sent counter") || !strings.Contains(svg, "RST sent (counter)") {
		t.Errorf("counter-only ladder: %d counter marks, %d segments, note %q, svg %q", marks, segs, note, svg)
	}
	marks, segs, note, svg = open("both")
	if marks != 0 || segs != 1 || note != "" || !strings.Contains(svg, "tcp.rsts-sent") {
		t.Errorf("capture+counter ladder: %d counter marks, %d segments, note %q, who|svg %q", marks, segs, note, svg)
	}
	marks, segs, note, svg = open("wire-only")
	if marks != 0 || segs != 1 || strings.Contains(svg, "counter") {
		t.Errorf("capture-only ladder: %d counter marks, %d segments, note %q, who|svg %q", marks, segs, note, svg)
	}
	marks, _, _, svg = open("counter-zero")
	if marks != 0 || !strings.Contains(svg, "no RST sent (counter)") {
		t.Errorf("zero-counter ladder: %d marks, svg %q", marks, svg)
	}
}

// viewFiles are the committed Linux raw, gonet and Wine results plus three
// runtime views made from the raw one, each with the cells a runtime
// changes here: node reports the RST after unread data as end of stream
// (abort/unread-at-peer peer.recv#2), asyncio's abort sends a FIN (abort/idle
// peer.recv).
func viewFiles(t *testing.T) []*schema.File {
	t.Helper()
	var files []*schema.File
	for _, p := range []string{"../results/linux-amd64.json", "../results/linux-amd64-gonet.json", "../results/windows-amd64-wine.json"} {
		f, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	change := map[string]map[string]schema.Class{
		"python":  {},
		"asyncio": {"v4/abort/idle peer.recv": schema.ClassEOF},
		"node":    {"v4/abort/unread-at-peer peer.recv#2": schema.ClassEOF},
	}
	for _, view := range []string{"python", "asyncio", "node"} {
		f, err := Load("../results/linux-amd64.json") // a fresh copy to change
		if err != nil {
			t.Fatal(err)
		}
		f.Platform.Label, f.Platform.View, f.Platform.Runtime = "linux-amd64-"+view, view, view+" (made from the raw file)"
		for i := range f.Scenarios {
			for j := range f.Scenarios[i].Steps {
				st := &f.Scenarios[i].Steps[j]
				if c, ok := change[view][f.Scenarios[i].ID+" "+st.Name]; ok {
					st.Outcome = schema.Outcome{Class: c}
				}
			}
		}
		files = append(files, f)
	}
	return files
}

// TestViewsInBrowser is the views as the table's second axis: five views
// of Linux and Wine's raw column. The switch offers them in Views order on
// one line; a scenario's head says where the views differ; a cell's panel
// lists its step in every view and OS, marks the OS whose views differ,
// and opens another view's cell from its line; the filter keeps the rows
// where views differ; the claims across views have every view's columns.
// Eight views fit the switch on one line. Screenshots: testdata/out/
// views-panel.png, views-claims.png, views-8.png.
func TestViewsInBrowser(t *testing.T) {
	m, err := Merge(viewFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	dir, pageURL := writePage(t, m, "views.html")
	b := newBrowser(t)
	b.do(chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("filter")))
	buttons := b.str(`Array.prototype.map.call(document.querySelectorAll(".views button"), function (x) { return x.textContent; }).join(" ")`)
	switchHeight := b.int(`Math.round(document.querySelector(".views").getBoundingClientRect().height)`)
	tip := b.str(`document.querySelector('.views button[data-view="node"]').title`)
	head := b.str(`document.querySelector('section.view:not([hidden]) tr.sh[data-id="v4/abort/unread-at-peer"] .acr').textContent`)
	b.click(`Array.prototype.filter.call(document.querySelectorAll('section.view:not([hidden]) tr.r[data-id="v4/abort/unread-at-peer"]'), function (r) { return r.children[1].textContent === "peer.recv#2"; })[0].children[2]`)
	lines := b.int(`document.querySelectorAll("#detail table.xv tr").length - 1`)
	differ := b.int(`document.querySelectorAll("#detail table.xv tr.vd").length`)
	cur := b.str(`document.querySelector("#detail table.xv tr.cur").textContent`)
	nodeLine := b.str(`Array.prototype.filter.call(document.querySelectorAll("#detail table.xv tr"), function (r) { return r.children[0].textContent === "node"; })[0].textContent`)
	b.shot(dir, "views-panel.png")
	b.click(`Array.prototype.filter.call(document.querySelectorAll("#detail table.xv tr"), function (r) { return r.children[0].textContent === "node"; })[0]`)
	view := b.str(`document.querySelector("section.view:not([hidden])").getAttribute("data-view")`)
	panel := b.str(`document.querySelector("#detail dl").textContent`)
	b.do(chromedp.KeyEvent(kb.Escape), chromedp.Click(chromedp.ID("only-dv")))
	shown := b.int(visibleRows)
	marked := b.int(`document.querySelectorAll("section.view:not([hidden]) tr.r.dv").length`)
	b.do(chromedp.Click(chromedp.ID("only-dv")))
	claimRows := b.int(`document.querySelectorAll("#claims-views tbody tr").length`)
	claimCols := b.int(`document.querySelectorAll("#claims-views tbody tr")[0].querySelectorAll("td.vx").length`)
	viewHeads := b.str(`Array.prototype.map.call(document.querySelectorAll("#claims-views th.vh"), function (x) { return x.textContent; }).join(" ")`)
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("claims-views").scrollIntoView()`))
	b.shot(dir, "views-claims.png")
	t.Logf("screenshots: %s/views-panel.png, views-claims.png", dir)

	// Eight views (java, rust and an exec agent's besides): the switch
	// stays one line and the page no wider than the window.
	more := viewFiles(t)
	for _, v := range []string{"java", "rust", "exec"} {
		f, err := Load("../results/linux-amd64.json")
		if err != nil {
			t.Fatal(err)
		}
		f.Platform.Label, f.Platform.View = "linux-amd64-"+v, v
		more = append(more, f)
	}
	m8, err := Merge(more)
	if err != nil {
		t.Fatal(err)
	}
	_, page8 := writePage(t, m8, "views-8.html")
	b.do(chromedp.Navigate(page8), chromedp.WaitVisible(chromedp.ID("filter")))
	buttons8 := b.str(`Array.prototype.map.call(document.querySelectorAll(".views button"), function (x) { return x.textContent; }).join(" ")`)
	switch8 := b.int(`Math.round(document.querySelector(".views").getBoundingClientRect().height)`)
	overflow8 := b.int(`document.documentElement.scrollWidth - window.innerWidth`)
	b.click(`Array.prototype.filter.call(document.querySelectorAll('section.view:not([hidden]) tr.r[data-id="v4/abort/unread-at-peer"]'), function (r) { return r.children[1].textContent === "peer.recv#2"; })[0].children[2]`)
	lines8 := b.int(`document.querySelectorAll("#detail table.xv tr").length - 1`)
	// The bar wraps to two lines here: the sticky column heads must sit
	// below it, not under it.
	underBar := b.int(`Math.max(0, Math.round(document.getElementById("bar").getBoundingClientRect().bottom - document.querySelector("section.view:not([hidden]) .mx thead th").getBoundingClientRect().top))`)
	b.shot(dir, "views-8.png")
	if buttons8 != "raw gonet python asyncio node java rust exec" || switch8 > 40 || overflow8 > 0 || lines8 != 9 || underBar > 0 {
		t.Errorf("eight views: switch %q %d px high, page %d px wider than the window, %d panel lines (want 9), column heads %d px under the bar",
			buttons8, switch8, overflow8, lines8, underBar)
	}

	if buttons != "raw gonet python asyncio node" || switchHeight > 40 {
		t.Errorf("view switch %q, %d px high; want the five views in Views order on one line", buttons, switchHeight)
	}
	if !strings.Contains(tip, "node (made from the raw file)") {
		t.Errorf("node's button says %q, want its runtime", tip)
	}
	if !strings.Contains(head, "peer.recv#2 on Linux: reset raw, gonet, python, asyncio · eof node") {
		t.Errorf("scenario head across views: %q", head)
	}
	// Five Linux views and Wine's raw column; Linux's views differ.
	if lines != 6 || differ != 5 || !strings.HasPrefix(cur, "rawLinux") || !strings.Contains(nodeLine, "eof") {
		t.Errorf("panel across views: %d lines (want 6), %d marked as differing (want 5), current %q, node %q", lines, differ, cur, nodeLine)
	}
	if view != "node" || !strings.Contains(panel, "eof") {
		t.Errorf("the node line opened the %s view with %q", view, panel)
	}
	if shown == 0 || shown != marked {
		t.Errorf("only where views differ shows %d rows, %d are marked", shown, marked)
	}
	if claimRows != len(Claims) || claimCols != 6 || viewHeads != "raw gonet python asyncio node" {
		t.Errorf("claims across views: %d rows × %d columns, views %q; want %d × 6", claimRows, claimCols, viewHeads, len(Claims))
	}
}
