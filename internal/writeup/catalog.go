package writeup

import (
	"strconv"

	"github.com/gracelab/gracelab/lab/catalog"
)

// variants is the catalog's variants. It only orders rows and names
// variants that have no result; every finding comes from results. Tests
// replace it with a fixed list, and describe with a fixed text.
var (
	variants   = catalog.Variants()
	describe   = catalog.Describe
	describeJa = catalog.DescribeJa
)

func catalogIndex(server, variant string) int {
	for i, v := range variants {
		if v.Server == server && (variant == "" || v.Name == variant) {
			return i
		}
	}
	return len(variants)
}

// serverLess orders servers as the catalog does, unknown ones last in
// alphabetical order.
func serverLess(a, b string) bool {
	if x, y := catalogIndex(a, ""), catalogIndex(b, ""); x != y {
		return x < y
	}
	return a < b
}

func variantLess(server, a, b string) bool {
	if x, y := catalogIndex(server, a), catalogIndex(server, b); x != y {
		return x < y
	}
	return a < b
}

// missingVariant is a catalog variant with no result, and why if the
// results show why.
type missingVariant struct {
	server, variant, summary, why string
}

// notRun lists the catalog's variants that no result has, with the reason
// when a variant needs a newer systemd than every environment had.
func (m *model) notRun() []missingVariant {
	var out []missingVariant
	for _, v := range variants {
		found := false
		for _, c := range m.cells {
			found = found || c.key.Server == v.Server && c.key.Variant == v.Name
		}
		if found {
			continue
		}
		mv := missingVariant{server: v.Server, variant: v.Name, summary: v.Summary}
		if v.MinSystemd > 0 && len(m.envs) > 0 {
			older := true
			var versions []string
			for _, e := range m.envs {
				n, err := strconv.Atoi(e.systemdMajor())
				older = older && err == nil && n < v.MinSystemd
				versions = addUniq(versions, orUnknown(e.systemdMajor()))
			}
			if older {
				mv.why = "needs systemd " + strconv.Itoa(v.MinSystemd) + " or newer; the results come from systemd " + joinAnd(versions)
			}
		}
		out = append(out, mv)
	}
	return out
}
