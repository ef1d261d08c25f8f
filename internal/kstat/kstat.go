// Package kstat reads the kernel's TCP counters of the current network
// namespace (/proc/net/netstat and /proc/net/snmp): listen-queue overflows
// and drops, resets sent, aborts on close. The lab runs in a network
// namespace of its own (systemd-nspawn --private-network), so inside it
// they count the lab's traffic only.
package kstat

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Names are the counters kept, each "Table.Name" as /proc prints it.
// Why each: ListenOverflows/ListenDrops and TCPReqQFullDrop count SYNs and
// handshakes a full queue dropped (a client then times out or retries);
// OutRsts counts every RST sent (a refused SYN, a flushed accept queue, an
// abort); AttemptFails counts connects that failed (refused); EstabResets
// established connections ended by a reset; TCPAbortOnClose a close with
// unread data (RST), TCPAbortOnData data arriving after the close (RST);
// TCPMigrateReq* the requests SO_REUSEPORT moved to another listener when
// one closed. ActiveOpens/PassiveOpens give the traffic's scale.
var Names = []string{
	"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
	"TcpExt.TCPAbortOnClose", "TcpExt.TCPAbortOnData", "TcpExt.TCPAbortOnTimeout", "TcpExt.TCPAbortOnLinger",
	"TcpExt.TCPMigrateReqSuccess", "TcpExt.TCPMigrateReqFailure",
	"Tcp.OutRsts", "Tcp.EstabResets", "Tcp.AttemptFails", "Tcp.ActiveOpens", "Tcp.PassiveOpens",
}

// Counters are counter values by name ("Tcp.OutRsts").
type Counters map[string]int64

// Read reads the kept counters of this network namespace.
func Read() (Counters, error) {
	c := Counters{}
	for _, p := range []string{"/proc/net/netstat", "/proc/net/snmp"} {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("read TCP counters: %w (is /proc mounted?)", err)
		}
		err = parse(f, c)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return c, nil
}

// Parse reads /proc/net/netstat or /proc/net/snmp text into c (kept
// counters only): each table is a line of names and a line of values,
// both starting with "Table:".
func Parse(r io.Reader, c Counters) error { return parse(r, c) }

func parse(r io.Reader, c Counters) error {
	keep := map[string]bool{}
	for _, n := range Names {
		keep[n] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var head []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if head == nil || head[0] != f[0] {
			head = f
			continue
		}
		if len(f) != len(head) {
			return fmt.Errorf("table %s has %d names and %d values", f[0], len(head), len(f))
		}
		table := strings.TrimSuffix(f[0], ":")
		for i := 1; i < len(f); i++ {
			name := table + "." + head[i]
			if !keep[name] {
				continue
			}
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			c[name] = v
		}
		head = nil
	}
	return sc.Err()
}

// Delta is after minus before, for the counters both have; zeros are
// left out. Nil when either is nil.
func Delta(before, after Counters) map[string]int64 {
	if before == nil || after == nil {
		return nil
	}
	d := map[string]int64{}
	for n, a := range after {
		if b, ok := before[n]; ok && a != b {
			d[n] = a - b
		}
	}
	return d
}
