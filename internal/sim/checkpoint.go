package sim

import (
	"io/fs"
	"slices"
)

// A router's checkpoint (internal/daemon, checkpoint.go) is kept in
// memory, as the file in /run is kept by the machine: it outlives the
// daemon (Kill, Stop, Restart) and is read by the next one. It is on when
// the router's configuration has a global.state-file (conf.Default does);
// write state-file = "" to run without.

// memStore is a daemon.CheckpointStore in memory.
type memStore struct {
	b     []byte
	saves int
	err   error // Save fails with it (a full disk), when set
}

func (m *memStore) Load() ([]byte, error) {
	if m.b == nil {
		return nil, fs.ErrNotExist
	}
	return slices.Clone(m.b), nil
}

func (m *memStore) Save(b []byte) error {
	if m.err != nil {
		return m.err
	}
	m.b = slices.Clone(b)
	m.saves++
	return nil
}

// Checkpoint is the router's last checkpoint (nil: none yet) and how many
// times one was written.
func (r *Router) Checkpoint() ([]byte, int) { return slices.Clone(r.store.b), r.store.saves }

// SetCheckpoint replaces the router's checkpoint, as if the file had been
// written by someone else (nil: removed).
func (r *Router) SetCheckpoint(b []byte) { r.store.b = slices.Clone(b) }
