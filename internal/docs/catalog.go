package docs

import (
	"strconv"

	"github.com/gracelab/gracelab/lab/units"
)

// catalog is the list of variants the lab knows. It only orders rows and
// names variants that have no result; every finding comes from results.
// Tests replace it with a fixed list.
var catalog = units.Catalog

// serverStyle says, as static explanation, how each sample server hands
// its socket over. It is what the code does, not a finding.
var serverStyle = map[string]string{
	"grace": "[facebookgo/grace](https://github.com/facebookgo/grace): on SIGUSR2 the process starts a new one on the " +
		"inherited listener, which then stops the old one. The PID changes with every reload.",
	"starter": "[lestrrat-go/server-starter](https://github.com/lestrrat-go/server-starter): `start_server` owns the " +
		"listening socket and stays; on SIGHUP it starts a new worker and sends the old one SIGTERM.",
	"tableflip": "[cloudflare/tableflip](https://github.com/cloudflare/tableflip): on SIGHUP the process starts a new one " +
		"that inherits the listener; once the new one is ready the old one drains and exits. The PID changes with every reload.",
	"plain": "plain `net/http` with a graceful shutdown on SIGTERM and no way to hand its socket over: " +
		"the control, a restart must lose requests.",
	"socket": "plain `net/http` that takes its listener from a systemd `.socket` unit: while the service restarts, " +
		"the kernel keeps the socket and queues new connections.",
}

func catalogIndex(server, variant string) int {
	for i, v := range catalog {
		if v.Server == server && (variant == "" || v.Name == variant) {
			return i
		}
	}
	return len(catalog)
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
	for _, v := range catalog {
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
