package matrix

import (
	"cmp"
	"slices"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// osRank puts the three OSes the project is about first, in the order the
// DESIGN names them, then FreeBSD; any other OS follows, alphabetically.
func osRank(goos string) int {
	switch goos {
	case "linux":
		return 0
	case "windows":
		return 1
	case "darwin":
		return 2
	case "freebsd":
		return 3
	}
	return 4
}

// osFamilyName is the OS as a reader calls it, the title of its columns.
func osFamilyName(goos string) string {
	switch goos {
	case "linux":
		return "Linux"
	case "windows":
		return "Windows"
	case "darwin":
		return "macOS"
	case "freebsd":
		return "FreeBSD"
	}
	return goos
}

// Views are the views the matrix knows, in the order the page offers them:
// the raw calls, Go's net, then the built-in agents' runtimes in the order
// closematrix issue 19 names them. A file names its view in platform.view;
// a view not listed here (an exec agent's) is still a view of its own,
// after these, alphabetically.
var Views = []string{schema.ViewRaw, "gonet", "python", "asyncio", "node", "java", "rust"}

// labelViews are the views a file written before platform.view existed can
// have been recorded through, other than raw: the harness then appended
// -gonet to its default label (linux-amd64-gonet) and ci-suite.sh to its
// own (linux-amd64-ubuntu-24.04-gonet).
var labelViews = []string{"gonet"}

// ViewOf is the view a column was recorded through: platform.view; for a
// file without it (written before the field existed) its label's last
// segment when that is a view such files had, raw otherwise. Merge puts the
// answer into every Column's Platform.View.
func ViewOf(p *schema.Platform) string {
	if p.View != "" {
		return p.View
	}
	if i := strings.LastIndexByte(p.Label, '-'); i >= 0 && slices.Contains(labelViews, p.Label[i+1:]) {
		return p.Label[i+1:]
	}
	return schema.ViewRaw
}

// compareViews orders views as Views lists them, the others after,
// alphabetically.
func compareViews(a, b string) int {
	return cmp.Or(cmp.Compare(viewRank(a), viewRank(b)), cmp.Compare(a, b))
}

func viewRank(v string) int {
	if i := slices.Index(Views, v); i >= 0 {
		return i
	}
	return len(Views)
}

// comparePlatforms is the column order: real systems before emulated ones
// (Wine after every real OS), then OS (Linux, Windows, macOS, FreeBSD,
// others alphabetically), then view (raw, gonet, others alphabetically),
// then label.
func comparePlatforms(a, b *schema.Platform) int {
	return cmp.Or(
		cmp.Compare(emulated(a), emulated(b)),
		cmp.Compare(osRank(a.OS), osRank(b.OS)),
		cmp.Compare(a.OS, b.OS),
		compareViews(ViewOf(a), ViewOf(b)),
		cmp.Compare(a.Label, b.Label),
	)
}

// emulated is 1 for a column recorded under an emulation layer (Wine), so
// that it sorts after the real OS it imitates.
func emulated(p *schema.Platform) int {
	if p.Emulator != "" {
		return 1
	}
	return 0
}

// familyRank puts v4 before v6 and any other family after, alphabetically.
func familyRank(f string) int {
	switch f {
	case "v4":
		return 0
	case "v6":
		return 1
	}
	return 2
}

// splitID splits <family>/<action>/<condition>. Validation guarantees three
// segments for loaded files; anything else yields empty parts.
func splitID(id string) (family, action, condition string) {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}

// mergeOrder merges ordered lists into one order that keeps each list's
// order where they agree: an item is placed at its first sighting, right
// after the item that preceded it in the list that first had it. So a step
// that only one platform records lands next to its neighbours instead of at
// the end.
func mergeOrder(lists [][]string) []string {
	var out []string
	pos := map[string]int{}
	for _, list := range lists {
		prev := -1
		for _, item := range list {
			if p, ok := pos[item]; ok {
				prev = p
				continue
			}
			at := prev + 1
			out = slices.Insert(out, at, item)
			for i := at; i < len(out); i++ {
				pos[out[i]] = i
			}
			prev = at
		}
	}
	return out
}
