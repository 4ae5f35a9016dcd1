package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

// SIGUSR1 writes the dump with global.dump-file-mode: 0600 by default.
func TestDumpMode(t *testing.T) {
	snapshot := func(context.Context) (*ctl.Snapshot, error) { return ctltest.Seed(), nil }
	for _, tt := range []struct {
		name string
		doc  string
		want os.FileMode
	}{
		{"default", "", 0o600},
		{"dump-file-mode 0640", "[global]\ndump-file-mode = \"0640\"\n", 0o640},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := conf.Parse([]byte(tt.doc), "pim6sd.toml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Global.DumpFile = filepath.Join(t.TempDir(), "pim6sd.dump")
			dump(snapshot, cfg, slog.New(slog.DiscardHandler))
			fi, err := os.Stat(cfg.Global.DumpFile)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.want {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tt.want)
			}
		})
	}
}
