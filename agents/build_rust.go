package agents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrBuildFailed says a built-in agent that must be compiled (rust) could
// not be: the view is then skipped with the compiler's own words.
var ErrBuildFailed = errors.New("agent build failed")

// rustBuildBound bounds one rustc run: the agent builds in about two
// seconds here; a cold runner may take several times that.
const rustBuildBound = 3 * time.Minute

var (
	rustMu    sync.Mutex
	rustBuilt = map[string]string{} // source path → binary, this process
)

// buildRust compiles the rust agent with plain rustc (no cargo, no crates)
// and returns the binary. The binary is cached under the user's cache
// directory (os.UserCacheDir; the temporary directory when there is none),
// in closematrix/agents/rust-<hash>/, the hash covering the source and
// `rustc -vV` (the compiler's version, commit and host), so a new agent or
// a new toolchain builds anew and anything else reuses the binary. The
// rustc version is given to the build (CLOSEMATRIX_RUSTC_VERSION, read by
// option_env!) so that the agent's hello can say it.
func buildRust(rustc, src string) (string, error) {
	rustMu.Lock()
	defer rustMu.Unlock()
	if bin, ok := rustBuilt[src]; ok {
		return bin, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), rustBuildBound)
	defer cancel()
	vv, err := exec.CommandContext(ctx, rustc, "-vV").Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s -vV: %v", ErrBuildFailed, rustc, err)
	}
	code, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(code)
	h.Write(vv)
	key := hex.EncodeToString(h.Sum(nil)[:8])
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "closematrix", "agents", "rust-"+key)
	bin := filepath.Join(dir, "agent")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		rustBuilt[src] = bin
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuildFailed, err)
	}
	// Built beside and renamed, so that a concurrent closematrix never
	// runs a half-written binary.
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuildFailed, err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, filepath.Base(bin))
	version := strings.SplitN(strings.TrimSpace(string(vv)), "\n", 2)[0]
	cmd := exec.CommandContext(ctx, rustc, "-O", "--edition", "2021", "-o", out, src)
	cmd.Env = append(os.Environ(), "CLOSEMATRIX_RUSTC_VERSION="+version)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s -O %s: %v: %s", ErrBuildFailed, rustc, filepath.Base(src), err, lastLines(stderr.String(), 6))
	}
	if err := os.Rename(out, bin); err != nil {
		if _, statErr := os.Stat(bin); statErr != nil { // not another build's win
			return "", fmt.Errorf("%w: %v", ErrBuildFailed, err)
		}
	}
	rustBuilt[src] = bin
	return bin, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
