package agents

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBuildRust builds the rust agent into a fresh cache, checks that a
// second build reuses the binary (cached by source and rustc -vV), and that
// a source rustc rejects is ErrBuildFailed with rustc's words.
func TestBuildRust(t *testing.T) {
	rustc, err := exec.LookPath("rustc")
	if err != nil {
		t.Skip("rustc is not on PATH")
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		// os.UserCacheDir follows HOME (darwin) or LocalAppData (Windows),
		// which a rustup proxy needs as they are.
		t.Skip("the cache is redirected with XDG_CACHE_HOME, which only Linux and the BSDs read")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Linux and the BSDs
	rustMu.Lock()
	rustBuilt = map[string]string{}
	rustMu.Unlock()

	argv, err := Command("rust")
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) != 1 || !strings.HasPrefix(argv[0], cache) {
		t.Fatalf("Command(rust) = %v, want one binary under %s", argv, cache)
	}
	st, err := os.Stat(argv[0])
	if err != nil {
		t.Fatal(err)
	}
	rustMu.Lock()
	rustBuilt = map[string]string{} // as a new process would
	rustMu.Unlock()
	again, err := Command("rust")
	if err != nil || again[0] != argv[0] {
		t.Fatalf("second Command(rust) = %v, %v; want the cached %s", again, err, argv[0])
	}
	if st2, _ := os.Stat(again[0]); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the cached binary was rebuilt")
	}

	bad := filepath.Join(t.TempDir(), "bad.rs")
	if err := os.WriteFile(bad, []byte("fn main() { this is not rust }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = buildRust(rustc, bad)
	if !errors.Is(err, ErrBuildFailed) || !strings.Contains(err.Error(), "error") {
		t.Errorf("a broken source: %v, want ErrBuildFailed with rustc's error", err)
	}
}

// TestNames lists every built-in view, java and rust among them.
func TestNames(t *testing.T) {
	got := strings.Join(Names(), " ")
	if got != "asyncio java node python rust" {
		t.Errorf("Names() = %q", got)
	}
	for _, n := range Names() {
		if src, err := Source(n); err != nil || len(src) == 0 {
			t.Errorf("Source(%s): %v", n, err)
		}
	}
}
