package ctl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// fakeLevels is a daemon's log levels behind the LogLevel handler.
type fakeLevels struct {
	mu     sync.Mutex
	names  []string
	levels map[string]string
	calls  [][2]string
}

func newFakeLevels() *fakeLevels {
	return &fakeLevels{names: []string{"daemon", "mld", "pim"}, levels: map[string]string{"daemon": "info", "mld": "info", "pim": "info"}}
}

func (f *fakeLevels) handle(_ context.Context, sub, level string) ([]ctl.LogLevel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]string{sub, level})
	if sub != "" {
		if _, ok := f.levels[sub]; !ok {
			return nil, fmt.Errorf("unknown log subsystem %q", sub)
		}
		f.levels[sub] = level
	}
	var out []ctl.LogLevel
	for _, n := range f.names {
		out = append(out, ctl.LogLevel{Subsystem: n, Level: f.levels[n]})
	}
	return out, nil
}

func TestServerLogLevel(t *testing.T) {
	f := newFakeLevels()
	s := serve(t, ctl.ServerConfig{}, ctl.Handler{LogLevel: f.handle})
	cl := &ctl.Client{Path: s.Path()}
	ctx := context.Background()

	got, err := cl.LogLevels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ctl.LogLevel{{"daemon", "info"}, {"mld", "info"}, {"pim", "info"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	got, err = cl.SetLogLevel(ctx, "pim", "debug")
	if err != nil {
		t.Fatal(err)
	}
	want[2].Level = "debug"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after set (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][2]string{{"", ""}, {"pim", "debug"}}, f.calls); diff != "" {
		t.Errorf("handler calls (-want +got):\n%s", diff)
	}

	// The handler's refusal comes back as the daemon's error.
	_, err = cl.SetLogLevel(ctx, "routing", "debug")
	var de *ctl.DaemonError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), `log-level: unknown log subsystem "routing"`) {
		t.Errorf("unknown subsystem: %v", err)
	}

	// On the wire: one argument alone is refused before the handler runs.
	n := len(f.calls)
	r := decode(t, raw(t, s.Path(), `{"version":1,"command":"log-level","subsystem":"pim"}`))
	if r.OK || !strings.Contains(r.Error, "give both a subsystem and a level") || len(f.calls) != n {
		t.Errorf("subsystem alone: %+v", r)
	}
	r = decode(t, raw(t, s.Path(), `{"version":1,"command":"log-level","subsystem":"mld","level":"warn"}`))
	if !r.OK || len(r.LogLevels) != 3 || r.LogLevels[1] != (ctl.LogLevel{Subsystem: "mld", Level: "warn"}) || r.Snapshot != nil {
		t.Errorf("raw set: %+v", r)
	}
	if s := raw(t, s.Path(), `{"version":1,"command":"log-level"}`); !strings.Contains(s, `"log_levels":[{"subsystem":"daemon","level":"info"},`) {
		t.Errorf("wire form: %s", s)
	}
}

func TestServerLogLevelNotSupported(t *testing.T) {
	s := serve(t, ctl.ServerConfig{}, seedHandler())
	_, err := (&ctl.Client{Path: s.Path()}).LogLevels(context.Background())
	if err == nil || !strings.Contains(err.Error(), "log-level: not supported by this daemon") {
		t.Errorf("no handler: %v", err)
	}
}
