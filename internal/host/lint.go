package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/lint"
	"github.com/gracelab/gracelab/internal/own"
	"github.com/gracelab/gracelab/lab"
)

// Lint is `lint UNIT`: the unit's known failure modes, and where a lab
// is up, what systemd-analyze verify says. An error when it finds any.
func Lint(ctx context.Context, w io.Writer, unitPath string) error {
	var p lab.Provider
	if _, prov, err := setup(); err == nil {
		if up, _, err := prov.Running(ctx); err == nil && up {
			p = prov
		}
	}
	_, err := LintIn(ctx, w, p, unitPath)
	return err
}

// LintIn lints a unit and, with a running lab p, verifies it there.
func LintIn(ctx context.Context, w io.Writer, p lab.Provider, unitPath string) ([]lint.Warning, error) {
	text, err := own.ReadFile(unitPath, "unit file")
	if err != nil {
		return nil, err
	}
	ws, err := lint.Unit(text)
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", unitPath, err)
	}
	for _, x := range ws {
		fmt.Fprintf(w, "%s:%d: %s\n\n", unitPath, x.Line, x)
	}
	if p != nil {
		vctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var out bytes.Buffer
		err := p.Exec(vctx, strings.NewReader(text), &out, &out, "sh", "-c",
			`d=$(mktemp -d) && cat > "$d/$1" && systemd-analyze verify "$d/$1"; rc=$?; rm -r "$d"; exit $rc`, "sh", filepath.Base(unitPath))
		cancel()
		fmt.Fprintf(w, "systemd-analyze verify, in the lab (%s):\n%s\n", p.Name(), indent(strings.TrimSpace(out.String()), "  ", "(nothing to say)"))
		if err != nil {
			fmt.Fprintf(w, "  (verify exited: %v)\n", err)
		}
	}
	if len(ws) > 0 {
		return ws, fmt.Errorf("lint: %d warnings about %s", len(ws), unitPath)
	}
	fmt.Fprintf(w, "lint: nothing found in %s of the failure modes the lab has measured\n", unitPath)
	return nil, nil
}

func indent(s, prefix, empty string) string {
	if s == "" {
		return prefix + empty
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
