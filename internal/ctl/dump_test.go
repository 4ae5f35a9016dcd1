package ctl_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

func TestWriteDumpFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pim6sd.dump")
	if err := os.WriteFile(path, []byte("the previous dump\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ctl.WriteDumpFile(path, ctltest.Seed()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(goldenDir, "seed-router.dump"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("dump file differs from the seed report:\n%s", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600: the report lists neighbors, groups and sources", fi.Mode(), err)
	}
	assertOnly(t, dir, "pim6sd.dump")
}

// The mode is the one asked for, whatever the umask and whatever the
// mode of the dump it replaces.
func TestWriteDumpFileMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644, 0o400} {
		dir := t.TempDir()
		path := filepath.Join(dir, "pim6sd.dump")
		if err := os.WriteFile(path, []byte("the previous dump\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := ctl.WriteDumpFileMode(path, ctltest.Seed(), mode); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("mode %v, %v; want %v", fi.Mode(), err, mode)
		}
		assertOnly(t, dir, "pim6sd.dump")
	}
}

func TestWriteDumpFileErrors(t *testing.T) {
	t.Run("no directory", func(t *testing.T) {
		if err := ctl.WriteDumpFile(filepath.Join(t.TempDir(), "none", "pim6sd.dump"), ctltest.Seed()); err == nil {
			t.Error("no error")
		}
	})
	t.Run("unrenderable snapshot leaves the old dump", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "pim6sd.dump")
		os.WriteFile(path, []byte("old\n"), 0o644)
		if err := ctl.WriteDumpFile(path, &ctl.Snapshot{Routes: []ctl.Route{{Kind: "?"}}}); err == nil {
			t.Error("no error")
		}
		if b, _ := os.ReadFile(path); string(b) != "old\n" {
			t.Errorf("dump now %q", b)
		}
		assertOnly(t, dir, "pim6sd.dump")
	})
	t.Run("rename onto a directory fails cleanly", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "pim6sd.dump")
		if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := ctl.WriteDumpFile(path, ctltest.Seed()); err == nil {
			t.Error("no error")
		}
		assertOnly(t, dir, "pim6sd.dump")
	})
}

// assertOnly fails unless dir holds just the named entries: no temporary
// file left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("directory holds %v, want %v", got, names)
		}
	}
}
