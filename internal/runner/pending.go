package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
)

// Each result stays in protocol.PendingDir until the host has it: if the
// host dies mid-run (killed, or out of patience after Ctrl-C), the next
// command collects the result there instead of losing it.

// KeepPending stores r in protocol.PendingDir.
func KeepPending(r *result.Result) error {
	_, err := result.Write(protocol.PendingDir, r)
	return err
}

// CollectPending returns the pending results and removes them. Unreadable
// files are removed too, and reported as errors.
func CollectPending() ([]json.RawMessage, []error) {
	paths, _ := filepath.Glob(filepath.Join(protocol.PendingDir, "*.json"))
	var out []json.RawMessage
	var errs []error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil {
			_, err = result.Decode(b)
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, b)
		}
		os.Remove(p)
	}
	return out, errs
}

// ForgetPending removes one pending result (the host has it).
func ForgetPending(id string) error {
	if id == "" || filepath.Base(id) != id {
		return fmt.Errorf("bad result id %q", id)
	}
	err := os.Remove(filepath.Join(protocol.PendingDir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
