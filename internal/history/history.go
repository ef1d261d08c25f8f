// Package history encodes the raw history of a load, every request's
// load.Record and the version each serving PID carried, compactly enough
// to go into a result file, so that a host can recompute every statistic
// of a run later without the lab.
//
// The three durations are kept to the microsecond, truncated toward zero
// (the statistics are in milliseconds; nanoseconds would cost about a
// byte a field in what does not compress); everything else is exact.
//
// The encoding is a format byte, then a gzip stream (best compression)
// of varints: the record count and three tables (PIDs, error texts,
// versions), then one column per field, so that alike values lie together
// for the compressor:
//
//	Scheduled  delta of delta (an even schedule gives zeros)
//	Sent       Sent - Scheduled, the send lag
//	Latency    as is
//	PID        index into the PID table
//	Code, Class, Flags
//	Err        index into the text table, 0 for none
package history

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/gracelab/gracelab/internal/load"
)

// format is the first byte of an encoding.
const format = 1

// maxPayload bounds what Decode inflates (over 10 million records), so
// corrupt input cannot exhaust memory.
const maxPayload = 256 << 20

// Encode encodes recs, in their order, and versions (serving PID: version).
func Encode(recs []load.Record, versions map[int32]string) ([]byte, error) {
	pidIdx := map[int32]uint64{}
	var pids []int32
	textIdx := map[string]uint64{"": 0}
	var texts []string
	for i := range recs {
		r := &recs[i]
		if _, ok := pidIdx[r.PID]; !ok {
			pidIdx[r.PID] = uint64(len(pids))
			pids = append(pids, r.PID)
		}
		if _, ok := textIdx[r.Err]; !ok {
			texts = append(texts, r.Err)
			textIdx[r.Err] = uint64(len(texts))
		}
	}

	b := make([]byte, 0, 16*len(recs)+64)
	b = binary.AppendUvarint(b, uint64(len(recs)))
	b = binary.AppendUvarint(b, uint64(len(pids)))
	for _, p := range pids {
		b = binary.AppendVarint(b, int64(p))
	}
	b = binary.AppendUvarint(b, uint64(len(texts)))
	for _, s := range texts {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(versions)))
	for _, p := range slices.Sorted(maps.Keys(versions)) { // sorted: the same input gives the same bytes
		b = binary.AppendVarint(b, int64(p))
		b = appendString(b, versions[p])
	}

	// Differences wrap around on overflow, and Decode wraps back: any
	// value round-trips.
	var prev, prevDelta int64
	for i := range recs {
		s := us(recs[i].Scheduled)
		b = binary.AppendVarint(b, s-prev-prevDelta)
		prev, prevDelta = s, s-prev
	}
	for i := range recs {
		b = binary.AppendVarint(b, us(recs[i].Sent)-us(recs[i].Scheduled))
	}
	for i := range recs {
		b = binary.AppendVarint(b, us(recs[i].Latency))
	}
	for i := range recs {
		b = binary.AppendUvarint(b, pidIdx[recs[i].PID])
	}
	for i := range recs {
		b = binary.AppendUvarint(b, uint64(recs[i].Code))
	}
	for i := range recs {
		b = append(b, byte(recs[i].Class))
	}
	for i := range recs {
		b = append(b, byte(recs[i].Flags))
	}
	for i := range recs {
		b = binary.AppendUvarint(b, textIdx[recs[i].Err])
	}

	var out bytes.Buffer
	out.WriteByte(format)
	z, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := z.Write(b); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Decode reverses Encode. Any damage to b is an error: gzip's checksum
// catches most, and every count, index and value is checked.
func Decode(b []byte) ([]load.Record, map[int32]string, error) {
	if len(b) == 0 {
		return nil, nil, errors.New("history: no data")
	}
	if b[0] != format {
		return nil, nil, fmt.Errorf("history: unknown format %d (this build reads %d)", b[0], format)
	}
	in := bytes.NewReader(b[1:])
	z, err := gzip.NewReader(in)
	if err != nil {
		return nil, nil, fmt.Errorf("history: %w", err)
	}
	z.Multistream(false)
	p, err := io.ReadAll(io.LimitReader(z, maxPayload+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("history: %w", err)
	case len(p) > maxPayload:
		return nil, nil, fmt.Errorf("history: more than %d bytes inflated", maxPayload)
	case in.Len() > 0:
		return nil, nil, fmt.Errorf("history: %d bytes after the end", in.Len())
	}

	d := &decoder{b: p, at: "header"}
	n := d.count(8) // a record takes at least a byte in each of 8 columns
	pids := make([]int32, d.count(1))
	for i := range pids {
		pids[i] = d.int32()
	}
	texts := make([]string, d.count(1)+1) // texts[0] is no error
	for i := 1; i < len(texts); i++ {
		texts[i] = d.string()
	}
	nv := d.count(2)
	versions := make(map[int32]string, nv)
	for range nv {
		p := d.int32()
		versions[p] = d.string()
	}

	recs := make([]load.Record, n)
	d.at = "scheduled"
	var s, delta int64
	for i := range recs {
		delta += d.varint()
		s += delta
		recs[i].Scheduled = d.dur(s)
	}
	d.at = "sent"
	for i := range recs {
		recs[i].Sent = d.dur(us(recs[i].Scheduled) + d.varint())
	}
	d.at = "latency"
	for i := range recs {
		recs[i].Latency = d.dur(d.varint())
	}
	d.at = "pid"
	for i := range recs {
		recs[i].PID = pick(d, pids)
	}
	d.at = "code"
	for i := range recs {
		c := d.uvarint()
		if c > math.MaxUint16 {
			d.fail()
		}
		recs[i].Code = uint16(c)
	}
	d.at = "class"
	for i := range recs {
		recs[i].Class = load.Class(d.byte())
	}
	d.at = "flags"
	for i := range recs {
		recs[i].Flags = load.Flags(d.byte())
	}
	d.at = "err"
	for i := range recs {
		recs[i].Err = pick(d, texts)
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("history: %w in %s", d.err, d.at)
	}
	if len(d.b) > 0 {
		return nil, nil, fmt.Errorf("history: %w: %d bytes after the columns", errCorrupt, len(d.b))
	}
	return recs, versions, nil
}

func us(d time.Duration) int64 { return int64(d / time.Microsecond) }

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errCorrupt = errors.New("corrupt data")

// decoder reads varints off b. The first error sticks and later reads
// return zeros, so the loops need no checks of their own.
type decoder struct {
	b   []byte
	at  string // what is being read, for the error
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// count reads a count of items that take at least size bytes each: one
// the rest cannot hold is corrupt, and would allocate for nothing.
func (d *decoder) count(size int) int {
	v := d.uvarint()
	if v > uint64(len(d.b)/size) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count(1)
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) int32() int32 {
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail()
	}
	return int32(v)
}

// dur turns microseconds back into a Duration.
func (d *decoder) dur(v int64) time.Duration {
	if v < math.MinInt64/1000 || v > math.MaxInt64/1000 {
		d.fail()
		return 0
	}
	return time.Duration(v) * time.Microsecond
}

func pick[T any](d *decoder, table []T) T {
	i := d.uvarint()
	if i >= uint64(len(table)) {
		d.fail()
		var zero T
		return zero
	}
	return table[i]
}
