package app

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pim6sd/pim6sd/internal/checkpoint"
	"github.com/pim6sd/pim6sd/internal/daemon"
)

var _ daemon.CheckpointStore = stateFile{}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	s := stateFile{filepath.Join(dir, "pim6sd.state")}
	if _, err := s.Load(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of no file: %v, want fs.ErrNotExist", err)
	}
	for _, b := range [][]byte{[]byte(`{"version":1}`), []byte(`{"version":1,"table":2}`)} {
		if err := s.Save(b); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load()
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Load: %q, %v; want %q", got, err, b)
		}
	}
	st, err := os.Stat(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("files left in the directory: %v", es)
	}

	// Larger than a checkpoint can be: read up to one byte more, which
	// checkpoint.Decode refuses.
	big := make([]byte, checkpoint.MaxSize+100)
	if err := os.WriteFile(s.path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(); err != nil || len(got) != checkpoint.MaxSize+1 {
		t.Errorf("Load of a large file: %d bytes, %v", len(got), err)
	}

	// Not a regular file, or a symbolic link: refused.
	link := stateFile{filepath.Join(dir, "link")}
	if err := os.Symlink(s.path, link.path); err != nil {
		t.Fatal(err)
	}
	if _, err := link.Load(); err == nil {
		t.Error("Load followed a symbolic link")
	}
	if _, err := (stateFile{dir}).Load(); err == nil {
		t.Error("Load of a directory")
	}
	// A write into a directory that is not there fails, and says so.
	if err := (stateFile{filepath.Join(dir, "no", "such")}).Save([]byte("x")); err == nil {
		t.Error("Save into a missing directory")
	}
}
