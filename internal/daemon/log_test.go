package daemon

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/logging"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// subsystems logs one record per subsystem logger of d and returns the
// subsys of each record written.
func subsystems(t *testing.T, d *Daemon, b *bytes.Buffer) []string {
	t.Helper()
	for _, l := range []*slog.Logger{d.log, d.logMLD, d.logPIM, d.logBSR, d.logKernel, d.logConf,
		d.pimLog(pimmsg.TypeHello), d.pimLog(pimmsg.TypeBootstrap), d.pimLog(pimmsg.TypeCandidateRPAdvertisement)} {
		l.Debug("x")
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, r["subsys"].(string))
	}
	return got
}

func TestLogSubsystems(t *testing.T) {
	t.Run("set", func(t *testing.T) {
		var b bytes.Buffer
		set := logging.New(&b, logging.JSON, slog.LevelDebug)
		set.SetLevel(logging.Kernel, slog.LevelInfo)
		d, err := NewWithOptions(conf.Default(), nil, nil, Options{Logs: set})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"daemon", "mld", "pim", "bsr", "conf", "pim", "bsr", "bsr"} // kernel at info
		if diff := cmp.Diff(want, subsystems(t, d, &b)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("plain logger", func(t *testing.T) {
		var b bytes.Buffer
		d, err := New(conf.Default(), nil, slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"daemon", "mld", "pim", "bsr", "kernel", "conf", "pim", "bsr", "bsr"}
		if diff := cmp.Diff(want, subsystems(t, d, &b)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
