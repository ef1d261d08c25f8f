package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/gracelab/gracelab/lab/catalog"
)

// migrateReqPath is net.ipv4.tcp_migrate_req (Linux 5.14+). It is per
// network namespace, and an nspawn lab has its own (--private-network)
// with /proc/sys/net mounted read-write, so a run can set it without
// touching the host or another lab.
const migrateReqPath = "/proc/sys/net/ipv4/tcp_migrate_req"

// migrateReq sets tcp_migrate_req to 1 for a variant tagged
// tcp-migrate-req. It returns the value the run has (read back; "" if the
// kernel has no such setting) and a function that puts the old value back.
func migrateReq(e env, v catalog.Variant) (have string, restore func(), err error) {
	restore = func() {}
	old, err := e.readFile(migrateReqPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && v.MigrateReq:
		return "", restore, &SkipError{v.ID() + " needs net.ipv4.tcp_migrate_req (Linux 5.14 or newer); this kernel has none"}
	case errors.Is(err, fs.ErrNotExist):
		return "", restore, nil
	case err != nil:
		return "", restore, fmt.Errorf("read %s: %w", migrateReqPath, err)
	}
	have = strings.TrimSpace(string(old))
	if !v.MigrateReq || have == "1" {
		return have, restore, nil
	}
	if err := e.writeFile(migrateReqPath, []byte("1\n")); err != nil {
		return "", restore, fmt.Errorf("set net.ipv4.tcp_migrate_req=1 in the lab's network namespace (is /proc/sys/net read-only here?): %w", err)
	}
	restore = func() { e.writeFile(migrateReqPath, old) }
	now, err := e.readFile(migrateReqPath)
	if err != nil {
		return "", restore, fmt.Errorf("read %s back: %w", migrateReqPath, err)
	}
	return strings.TrimSpace(string(now)), restore, nil
}
