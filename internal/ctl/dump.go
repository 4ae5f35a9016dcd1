package ctl

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DumpFileMode is the default mode of the dump file: like the control
// socket, only root (the daemon's user) reads it. The report lists the
// router's neighbors, listeners, groups and sources; the configuration
// (global.dump-file-mode) can open it to a group.
const DumpFileMode fs.FileMode = 0o600

// WriteDumpFile is WriteDumpFileMode with DumpFileMode.
func WriteDumpFile(path string, s *Snapshot) error {
	return WriteDumpFileMode(path, s, DumpFileMode)
}

// WriteDumpFileMode writes the report of s to path (the SIGUSR1 dump) as
// one atomic replacement: the text goes to a temporary file in the same
// directory, which gets mode (permission bits), is synced and renamed over
// path, so that a reader sees the previous dump or this one, never a
// part, and never this one with another mode.
func WriteDumpFileMode(path string, s *Snapshot, mode fs.FileMode) (err error) {
	b, err := AppendReport(nil, s)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("ctl: dump: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("ctl: dump %s: %w", path, err)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Chmod(mode.Perm()); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
