package host

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// The PID file lives in a RuntimeDirectory= owned by the unprivileged
// service user. Whatever that user writes there, systemd must not adopt a
// PID outside the unit's control group as its main process. This checks
// the lab's systemd does refuse it.
func TestE2EPIDFileCannotPointOutsideTheUnit(t *testing.T) {
	_, p := needLab(t)
	const script = `set -e
cat > /etc/systemd/system/gracelab-pidtrust.service <<'U'
[Service]
Type=simple
User=gracelab
RuntimeDirectory=gracelab-pidtrust
PIDFile=/run/gracelab-pidtrust/pid
ExecStart=/bin/sh -c 'echo $$ > /run/gracelab-pidtrust/pid; exec sleep 300'
ExecReload=/bin/true
U
systemctl daemon-reload
systemctl start gracelab-pidtrust
for i in $(seq 50); do [ -s /run/gracelab-pidtrust/pid ] && break; sleep 0.1; done
before=$(systemctl show -p MainPID --value gracelab-pidtrust)
# The service user names journald, a root process outside its control group.
foreign=$(systemctl show -p MainPID --value systemd-journald)
echo "foreign=$foreign"
runuser -u gracelab -- sh -c "echo $foreign > /run/gracelab-pidtrust/pid"
stat -c 'owner=%U' /run/gracelab-pidtrust
systemctl reload gracelab-pidtrust || true
after=$(systemctl show -p MainPID --value gracelab-pidtrust)
echo "before=$before after=$after"
journalctl --sync
journalctl -u gracelab-pidtrust --no-pager -o cat | grep -i 'pid' || true
systemctl stop gracelab-pidtrust
rm /etc/systemd/system/gracelab-pidtrust.service
systemctl daemon-reload
`
	var out bytes.Buffer
	if err := p.Exec(context.Background(), strings.NewReader(script), &out, io.MultiWriter(&out, t.Output()), "sh"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	t.Log(text)
	if !strings.Contains(text, "owner=gracelab") {
		t.Fatalf("setup: the runtime directory is not the service user's:\n%s", text)
	}
	var before, after, foreign string
	for _, f := range strings.Fields(text) {
		if k, v, ok := strings.Cut(f, "="); ok {
			switch k {
			case "before":
				before = v
			case "after":
				after = v
			case "foreign":
				foreign = v
			}
		}
	}
	if foreign == "" || foreign == "0" || before == "" {
		t.Fatalf("setup: no foreign PID or no main PID:\n%s", text)
	}
	if after == foreign || after != before {
		t.Fatalf("systemd's MainPID went from %s to %s after the service user wrote PID %s:\n%s", before, after, foreign, text)
	}
	if !strings.Contains(text, "Refusing") {
		t.Errorf("systemd did not say it refused the PID:\n%s", text)
	}
}
