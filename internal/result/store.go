package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// FileName is the result's file name: its ID, which starts with the start
// time so that a directory listing is in run order.
func FileName(r *Result) string { return r.ID + ".json" }

// Write stores r in dir atomically (temp file, fsync, link) and refuses to
// replace an existing file: a result is never overwritten.
func Write(dir string, r *Result) (string, error) {
	if r.ID == "" {
		return "", errors.New("result has no ID")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return "", err
	}
	data = append(data, '\n')
	final := filepath.Join(dir, FileName(r))
	tmp, err := os.CreateTemp(dir, ".tmp-*.json")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes 0600; results are for everyone to read.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	// link fails if final exists, unlike rename: that is the no-overwrite rule.
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("result %s already exists; results are never overwritten: %w", final, os.ErrExist)
		}
		return "", err
	}
	return final, nil
}

// Decode parses one result strictly: unknown fields, trailing data, a wrong
// schema or missing identity are errors.
func Decode(data []byte) (*Result, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a valid result (truncated or corrupt?): %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the result object")
	}
	if !slices.Contains(readable, r.Schema) {
		return nil, fmt.Errorf("schema %d, this gracelab reads schemas %v", r.Schema, readable)
	}
	if r.ID == "" || r.Server == "" || r.Variant == "" || r.Experiment == "" {
		return nil, errors.New("missing id, experiment, server or variant")
	}
	return &r, nil
}

// Read reads one result file.
func Read(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ReadDir reads every *.json in dir, in name order. Any bad file is an
// error naming it: a renderer must not silently drop a run.
func ReadDir(dir string) ([]*Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []*Result
	var errs []error
	for _, n := range names {
		r, err := Read(filepath.Join(dir, n))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}
