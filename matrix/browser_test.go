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

// TestHTMLInBrowser loads the rendered fixtures page in headless Chromium
// from a file:// URL and checks what a reader sees: the rows, a known cell,
// the column metadata, the claims, and that typing in the filter box hides
// rows. It leaves screenshots in testdata/out/ to look at. Without Chromium
// it skips, unless REQUIRE_CHROMIUM is set (for CI, where a skip would hide a
// missing install step).
func TestHTMLInBrowser(t *testing.T) {
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
	m := fixtureMatrix(t)
	out, err := filepath.Abs(filepath.Join("testdata", "out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(out, "matrix.html")
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
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// eval runs a JavaScript expression for an int or a string; any error
	// ends the test, since nothing after it would mean anything.
	evalInt := func(expr string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("chromium: %s: %v", expr, err)
		}
		return v
	}
	evalString := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("chromium: %s: %v", expr, err)
		}
		return v
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("chromium: %v", err)
		}
	}
	const visible = `document.querySelectorAll("#matrix tr.r:not([hidden])").length`

	pageURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(page)}).String()
	do(chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("filter")))
	rows := evalInt(visible)
	cols := evalInt(`document.querySelectorAll("#matrix thead th.plat").length`)
	groups := evalInt(`document.querySelectorAll("#matrix tbody.grp").length`)
	claimRows := evalInt(`document.querySelectorAll("table.claims tbody tr").length`)
	cell := evalString(`document.querySelector('#matrix tr[data-id="v4/abort/idle"] td:nth-child(5)').textContent`)
	header := evalString(`document.querySelectorAll("#matrix thead th.plat")[1].title`)
	// The title with markup must arrive as text, never as elements.
	injected := evalInt(`document.querySelectorAll("#matrix script, #matrix b").length`)
	title := evalString(`document.querySelector('#matrix tr[data-id="v4/close/unread-at-actor"] .sid small').textContent`)
	screenshot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("table.claims td.v details")[2].open = true`))
	claims, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("claims")))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}

	do(chromedp.SendKeys(chromedp.ID("filter"), "WSAESHUTDOWN"))
	afterFilter := evalInt(visible)
	count := evalString(`document.getElementById("count").textContent`)
	do(chromedp.Evaluate[chromedp.Void](`document.getElementById("filter").value = ""`), chromedp.Click(chromedp.ID("only-dis")))
	afterDisagree := evalInt(visible)
	do(chromedp.Click(chromedp.ID("only-dis")), chromedp.SendKeys(chromedp.ID("filter"), "v6/abort"))
	afterID := evalInt(visible)
	leads := evalInt(`document.querySelectorAll("#matrix tr.r.lead:not([hidden])").length`)

	for name, png := range map[string][]byte{"matrix.png": screenshot, "matrix-full.png": full, "claims.png": claims} {
		if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots: %s (first screen), matrix-full.png (whole page), claims.png", filepath.Join(out, "matrix.png"))

	if rows != m.Summary.Rows {
		t.Errorf("page shows %d rows, matrix has %d", rows, m.Summary.Rows)
	}
	if cols != len(m.Columns) {
		t.Errorf("page has %d platform columns, want %d", cols, len(m.Columns))
	}
	if groups != len(m.Groups) {
		t.Errorf("page has %d action groups, want %d", groups, len(m.Groups))
	}
	if claimRows != len(Claims) {
		t.Errorf("claims table has %d rows, want %d", claimRows, len(Claims))
	}
	if cell != "reset · WSAECONNRESET 10054" {
		t.Errorf("windows cell of v4/abort/idle peer.recv = %q", cell)
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
		t.Errorf("filter v6/abort shows %d rows with %d scenario IDs, want 7 rows, 3 IDs", afterID, leads)
	}
}
