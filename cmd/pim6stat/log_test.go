package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/logging"
)

// logDaemon serves the log-level command over a real logging.Set, as
// pim6sd does.
func logDaemon(t *testing.T) (string, *logging.Set) {
	t.Helper()
	set := logging.New(io.Discard, logging.Text, slog.LevelInfo)
	h := ctl.Handler{LogLevel: func(_ context.Context, sub, level string) ([]ctl.LogLevel, error) {
		if sub != "" {
			if err := set.SetLevelText(sub, level); err != nil {
				return nil, err
			}
		}
		var out []ctl.LogLevel
		for _, l := range set.Levels() {
			out = append(out, ctl.LogLevel{Subsystem: l.Subsystem, Level: logging.LevelName(l.Level)})
		}
		return out, nil
	}}
	return daemonWith(t, h), set
}

func TestLogCommand(t *testing.T) {
	sock, set := logDaemon(t)
	code, out, errOut := runPim6stat("log", "--socket", sock)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := "SUBSYSTEM  LEVEL\n" +
		"daemon     info\n" +
		"mld        info\n" +
		"pim        info\n" +
		"bsr        info\n" +
		"kernel     info\n" +
		"ctl        info\n" +
		"conf       info\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	// Set one: the table after the change; the others stay.
	code, out, errOut = runPim6stat("--socket", sock, "log", "pim", "debug")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "pim        debug\n") || !strings.Contains(out, "mld        info\n") {
		t.Errorf("after pim debug:\n%s", out)
	}
	if l, _ := set.Level(logging.PIM); l != slog.LevelDebug {
		t.Errorf("pim at %v", l)
	}

	// all, and --json.
	code, out, errOut = runPim6stat("log", "--json", "--socket", sock, "all", "warn")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []ctl.LogLevel
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(got) != len(logging.Subsystems) {
		t.Fatalf("%d levels", len(got))
	}
	for _, l := range got {
		if l.Level != "warn" {
			t.Errorf("after all warn: %+v", l)
		}
	}
}

func TestLogCommandErrors(t *testing.T) {
	sock, _ := logDaemon(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown subsystem", []string{"log", "routing", "debug"}, 1, `pim6stat: pim6sd: log-level: unknown log subsystem "routing" (use daemon, mld, pim, bsr, kernel, ctl, conf or all)`},
		{"unknown level", []string{"log", "pim", "loud"}, 1, `pim6stat: pim6sd: log-level: unknown log level "loud" (use debug, info, warn or error)`},
		{"one argument", []string{"log", "pim"}, 2, "pim6stat log: give nothing to list the levels, or a subsystem and a level"},
		{"three arguments", []string{"log", "pim", "debug", "now"}, 2, "pim6stat log: give nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Flags go before the arguments (urfave/cli).
			code, _, errOut := runPim6stat(append([]string{"--socket", sock}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d stderr %q; want exit %d with %q", code, errOut, c.code, c.want)
			}
		})
	}
	// No daemon.
	code, _, errOut := runPim6stat("log", "--socket", sock+".none")
	if code != 1 || !strings.Contains(errOut, "cannot reach pim6sd") {
		t.Errorf("no daemon: exit %d stderr %q", code, errOut)
	}
}
