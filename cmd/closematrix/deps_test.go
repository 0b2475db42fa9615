package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps DESIGN §1's rule now that the command runs the
// catalogue too: nothing imports harness but its own tests and this
// command, and matrix imports neither harness nor probes (it reads JSON only,
// so any platform's file renders anywhere).
func TestDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	const mod = "github.com/closematrix/closematrix/"
	out, err := exec.Command("go", "list", "-f",
		"{{.ImportPath}}|{{join .Imports \" \"}} {{join .TestImports \" \"}} {{join .XTestImports \" \"}}|{{join .Deps \" \"}}",
		mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		pkg, imports, deps := f[0], strings.Fields(f[1]), strings.Fields(f[2])
		for _, imp := range imports {
			if imp == mod+"harness" && pkg != mod+"harness" && pkg != mod+"cmd/closematrix" {
				t.Errorf("%s imports harness: only harness's tests and cmd/closematrix may", pkg)
			}
		}
		if pkg == mod+"matrix" {
			for _, d := range deps {
				if d == mod+"harness" || d == mod+"probes" {
					t.Errorf("matrix depends on %s: it must read result files only", d)
				}
			}
		}
	}
}
