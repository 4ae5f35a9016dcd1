package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

// watchDaemon serves a watch that gets evs and then, if end, ends as a
// stopping daemon's does.
func watchDaemon(t *testing.T, end bool, evs ...ctl.Event) string {
	t.Helper()
	return daemonWith(t, ctl.Handler{Watch: func(context.Context) (<-chan ctl.Event, func(), error) {
		ch := make(chan ctl.Event, len(evs))
		for _, e := range evs {
			ch <- e
		}
		if end {
			close(ch)
		}
		return ch, func() {}, nil
	}})
}

var watchEvents = []ctl.Event{
	{Time: time.Date(2025, 6, 1, 10, 0, 1, 0, time.UTC), Type: ctl.EventNeighborUp, Iface: "eth1", Neighbor: netip.MustParseAddr("fe80::2"), Reason: "new"},
	{Time: time.Date(2025, 6, 1, 10, 0, 2, 0, time.UTC), Type: ctl.EventRouteRemoved, Source: netip.MustParseAddr("2001:db8::10"), Group: netip.MustParseAddr("ff3e::1")},
}

func TestWatchEventsText(t *testing.T) {
	sock := watchDaemon(t, false, watchEvents...)
	code, out, errOut := runPim6stat("watch", "--socket", sock, "--count", "2")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := watchEvents[0].Text() + "\n" + watchEvents[1].Text() + "\n"
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "watching the events of pim6sd at "+sock) {
		t.Errorf("stderr %q says not what is watched", errOut)
	}
}

// --json prints the daemon's events as JSON lines; the daemon going away
// is exit 1 with a clear message.
func TestWatchEventsJSONDaemonGone(t *testing.T) {
	sock := watchDaemon(t, true, watchEvents...)
	code, out, errOut := runPim6stat("--socket", sock, "watch", "--json")
	if code != 1 || !strings.Contains(errOut, "closed the event stream: the daemon stopped or went away") {
		t.Errorf("exit %d, stderr %q; want 1 and the daemon gone", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), out)
	}
	for i, l := range lines {
		var e ctl.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if e.Type != watchEvents[i].Type || !e.Time.Equal(watchEvents[i].Time) {
			t.Errorf("line %d: %+v, want %+v", i, e, watchEvents[i])
		}
	}
}

func TestWatchNoDaemon(t *testing.T) {
	code, _, errOut := runPim6stat("watch", "--socket", t.TempDir()+"/none.sock")
	if code != 1 || !strings.Contains(errOut, "is the daemon running?") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestWatchInterval(t *testing.T) {
	snap := ctltest.Seed()
	sock := daemon(t, snap)
	code, out, errOut := runPim6stat("watch", "--socket", sock, "--interval", "10ms", "--count", "2", "--view", "neighbors")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var view bytes.Buffer
	if err := neighborsView(&view, snap); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, view.String()); n != 2 {
		t.Errorf("the neighbors view is printed %d times, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "Every 10ms: pim6stat neighbors"); n != 2 {
		t.Errorf("%d headers, want 2:\n%s", n, out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("the screen is cleared on a pipe")
	}
}

// The daemon goes away between two refreshes: exit 1, saying so.
func TestWatchIntervalDaemonGone(t *testing.T) {
	path := ctltest.SocketPath(t)
	// The second request is the signal: the first answer is written by
	// then.
	served := make(chan struct{}, 1)
	var calls atomic.Int32
	s, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{Snapshot: func(context.Context, ctl.Query) (*ctl.Snapshot, error) {
		if calls.Add(1) == 2 {
			served <- struct{}{}
		}
		return ctltest.Seed(), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	go func() {
		<-served
		s.Close()
	}()
	code, out, errOut := runPim6stat("watch", "--socket", path, "--interval", "100ms")
	if code != 1 || !strings.Contains(errOut, "went away") {
		t.Errorf("exit %d, stderr %q; want 1 and the daemon gone", code, errOut)
	}
	if !strings.Contains(out, "Multicast Interface Table") {
		t.Errorf("the first report was not printed:\n%s", out)
	}
}

func TestWatchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"watch", "--interval", "1s", "--view", "nope"},
		{"watch", "--view", "routes"},
		{"watch", "extra"},
	} {
		if code, _, errOut := runPim6stat(args...); code != 2 {
			t.Errorf("%v: exit %d (stderr %q), want 2", args, code, errOut)
		}
	}
}
