package ctl

import (
	"fmt"
	"os"
	"path/filepath"
)

// DumpFileMode is the mode of the dump file. The report holds no secret
// (addresses and timers a neighbor can see too) and the original's dump
// was world-readable, so anyone may read it, unlike the control socket.
const DumpFileMode = 0o644

// WriteDumpFile writes the report of s to path (the SIGUSR1 dump) as one
// atomic replacement: the text goes to a temporary file in the same
// directory, which is synced and renamed over path, so that a reader sees
// the previous dump or this one, never a part.
func WriteDumpFile(path string, s *Snapshot) (err error) {
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
	if err = f.Chmod(DumpFileMode); err != nil {
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
