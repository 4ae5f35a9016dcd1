package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pim6sd/pim6sd/internal/checkpoint"
)

// stateFile keeps the daemon's checkpoint (daemon.CheckpointStore) in
// global.state-file. A write goes to a new file next to it, is synced and
// renamed over the old one, so a reader (the next daemon, after a crash
// at any moment) finds the old checkpoint or the new one, whole. The file
// is 0600: it lists the router's neighbors, listeners and groups.
type stateFile struct{ path string }

// Load reads the checkpoint, at most one byte more than a checkpoint may
// have (checkpoint.Decode refuses it then). A missing file is
// fs.ErrNotExist; a symbolic link or anything but a regular file is
// refused.
func (s stateFile) Load() ([]byte, error) {
	f, err := os.OpenFile(s.path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", s.path)
	}
	return io.ReadAll(io.LimitReader(f, checkpoint.MaxSize+1))
}

// Save replaces the checkpoint with b.
func (s stateFile) Save(b []byte) (err error) {
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(b); err != nil {
		return err
	}
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), s.path); err != nil {
		return err
	}
	// The rename itself survives a crash of the machine once the
	// directory is synced; /run is a tmpfs, where this costs nothing.
	if d, derr := os.Open(dir); derr == nil {
		derr = d.Sync()
		d.Close()
		if derr != nil && !errors.Is(derr, syscall.EINVAL) {
			return derr
		}
	}
	return nil
}
