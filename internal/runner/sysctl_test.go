package runner

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/lab/catalog"
)

func migrateSpec(t *testing.T) Spec {
	t.Helper()
	s := spec(t)
	v, err := catalog.Find("reuseport", "migrate")
	if err != nil {
		t.Fatal(err)
	}
	if !v.MigrateReq {
		t.Fatal("reuseport/migrate is not tagged tcp-migrate-req")
	}
	s.Variant = v
	return s
}

// A tcp-migrate-req variant sets the sysctl before the start, records the
// value it read back, and puts the old value back after the stop.
func TestRunSetsAndRestoresMigrateReq(t *testing.T) {
	f := newFake()
	f.files[migrateReqPath] = "0\n"
	r, err := run(context.Background(), f.env(), migrateSpec(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.Env.TCPMigrateReq != "1" {
		t.Errorf("recorded tcp_migrate_req %q, want 1", r.Env.TCPMigrateReq)
	}
	set, start, stop := index(f.calls, "write "+migrateReqPath), index(f.calls, "systemctl start"), index(f.calls, "systemctl stop")
	restored := strings.LastIndex(strings.Join(f.calls, "\n"), "write "+migrateReqPath)
	if set < 0 || set > start || restored <= strings.Index(strings.Join(f.calls, "\n"), f.calls[stop]) {
		t.Errorf("set at %d, start at %d, stop at %d; want set before the start and restored after the stop:\n%s", set, start, stop, strings.Join(f.calls, "\n"))
	}
	if f.files[migrateReqPath] != "0\n" {
		t.Errorf("after the run tcp_migrate_req is %q, want the old 0", f.files[migrateReqPath])
	}
}

// Other variants leave the sysctl alone and record what it is.
func TestRunRecordsMigrateReqUntouched(t *testing.T) {
	f := newFake()
	f.files[migrateReqPath] = "0\n"
	r, err := run(context.Background(), f.env(), spec(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.Env.TCPMigrateReq != "0" || index(f.calls, "write "+migrateReqPath) >= 0 {
		t.Errorf("recorded %q, calls %v; want 0 and no write", r.Env.TCPMigrateReq, f.calls)
	}
}

// A kernel without the setting skips the variant instead of running it as
// if it had one.
func TestRunSkipsMigrateReqWithoutKernelSupport(t *testing.T) {
	f := newFake()
	_, err := run(context.Background(), f.env(), migrateSpec(t), io.Discard)
	var skip *SkipError
	if !errors.As(err, &skip) || !strings.Contains(err.Error(), "5.14") {
		t.Fatalf("err %v, want a skip naming Linux 5.14", err)
	}
}
