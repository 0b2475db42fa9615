// Package agents holds closematrix's built-in agents (docs/agent-protocol.md),
// one program per runtime in that runtime's standard library only, embedded
// so that a copied closematrix binary can run them wherever the runtime is
// on PATH: it writes them to a directory of its own under the system's
// temporary directory and starts the runtime on them (the rust agent is
// compiled first, with the rustc on PATH, and its binary cached:
// build_rust.go).
package agents

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
)

//go:embed python/agent.py asyncio/agent.py node/agent.js java/Agent.java rust/agent.rs
var files embed.FS

// builtin says, for each built-in view, the agent's file and the
// interpreters that may run it, first found on PATH wins: python3 is the
// name on Linux and macOS; Windows' python.org installer and GitHub's
// images put python on PATH (python3 there may be the Store's stub).
// java runs its file as a single-file source program (JEP 330, JDK 11+);
// rust's "interpreter" is the compiler, and the agent is the program it
// builds (buildRust), cached between runs.
var builtin = map[string]struct {
	file   string
	interp []string
	build  func(rustc, src string) (string, error)
}{
	"python":  {"python/agent.py", []string{"python3", "python"}, nil},
	"asyncio": {"asyncio/agent.py", []string{"python3", "python"}, nil},
	"node":    {"node/agent.js", []string{"node"}, nil},
	"java":    {"java/Agent.java", []string{"java"}, nil},
	"rust":    {"rust/agent.rs", []string{"rustc"}, buildRust},
}

// Names are the built-in agents' view names, sorted.
func Names() []string {
	var out []string
	for n := range builtin {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ErrRuntimeMissing says the runtime an agent needs is not on PATH.
var ErrRuntimeMissing = errors.New("runtime not on PATH")

// Source returns an embedded agent's source, by view name.
func Source(name string) ([]byte, error) {
	b, ok := builtin[name]
	if !ok {
		return nil, fmt.Errorf("no built-in agent %q (have %v)", name, Names())
	}
	return files.ReadFile(b.file)
}

var (
	writeMu sync.Mutex
	written = map[string]string{}
)

// Command returns the command line that runs the built-in agent name: the
// runtime found on PATH and the agent's file, written under
// $TMPDIR/closematrix-agents-<hash of the file>/ (once per content, so a
// run leaves one small file per agent version behind, never one per run);
// for rust, the binary built from that file (buildRust). It wraps
// ErrRuntimeMissing when no interpreter is found, ErrBuildFailed when the
// agent could not be compiled.
func Command(name string) ([]string, error) {
	b, ok := builtin[name]
	if !ok {
		return nil, fmt.Errorf("no built-in agent %q (have %v)", name, Names())
	}
	var interp string
	for _, c := range interpreters(name, b.interp) {
		if p, err := exec.LookPath(c); err == nil {
			interp = p
			break
		}
	}
	if interp == "" {
		return nil, fmt.Errorf("%w: the %s agent needs one of %v", ErrRuntimeMissing, name, b.interp)
	}
	path, err := write(b.file)
	if err != nil {
		return nil, err
	}
	if b.build != nil {
		bin, err := b.build(interp, path)
		if err != nil {
			return nil, err
		}
		return []string{bin}, nil
	}
	return []string{interp, path}, nil
}

func write(file string) (string, error) {
	writeMu.Lock()
	defer writeMu.Unlock()
	if p, ok := written[file]; ok {
		return p, nil
	}
	src, err := files.ReadFile(file)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(src)
	dir := filepath.Join(os.TempDir(), "closematrix-agents-"+hex.EncodeToString(sum[:8]))
	path := filepath.Join(dir, filepath.FromSlash(file))
	if got, err := os.ReadFile(path); err == nil && string(got) == string(src) {
		written[file] = path
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	// Write beside and rename, so that a concurrent closematrix never
	// runs a half-written file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".agent-*")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(src); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	written[file] = path
	return path, nil
}

// interpreters is the order to look for a built-in agent's runtime in. On
// Windows a python3.exe on PATH may be the Microsoft Store's stub, which
// exits at once (WindowsApps\python3.exe: "App execution aliases"), while
// python.exe and the py launcher are what the python.org and GitHub
// runner installs provide: those come first there.
func interpreters(name string, list []string) []string {
	if runtime.GOOS == "windows" && (name == "python" || name == "asyncio") {
		return []string{"python", "py", "python3"}
	}
	return list
}
