package matrix

import (
	"cmp"
	"slices"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// osRank puts the three OSes the project is about first, in the order the
// DESIGN names them; any other OS follows, alphabetically.
func osRank(goos string) int {
	switch goos {
	case "linux":
		return 0
	case "windows":
		return 1
	case "darwin":
		return 2
	}
	return 3
}

// comparePlatforms is the column order: OS, real before emulated, label.
func comparePlatforms(a, b *schema.Platform) int {
	return cmp.Or(
		cmp.Compare(osRank(a.OS), osRank(b.OS)),
		cmp.Compare(a.OS, b.OS),
		cmp.Compare(emulated(a), emulated(b)),
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
