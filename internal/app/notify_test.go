package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/sdnotify"
)

// notifySocket is a NOTIFY_SOCKET the test owns; next reads one datagram.
func notifySocket(t *testing.T) (path string, next func() string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return path, func() string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotifySystemd(t *testing.T) {
	path, next := notifySocket(t)
	t.Setenv(sdnotify.SocketEnv, path)
	t.Setenv(sdnotify.WatchdogUSEnv, "2000000")
	t.Setenv(sdnotify.WatchdogPIDEnv, "")
	old := statusInterval
	statusInterval = 50 * time.Millisecond
	t.Cleanup(func() { statusInterval = old })

	snap := &ctl.Snapshot{
		Interfaces:   []ctl.Interface{{Name: "eth0"}, {Name: "eth1"}, {Name: "pim6reg", Register: true}},
		Neighbors:    []ctl.Neighbor{{}},
		Routes:       []ctl.Route{{}, {}, {}},
		CacheMirrors: 1,
	}
	const status = "STATUS=2 interfaces, 1 neighbors, 3 routes, 1 kernel entries"

	sd := newSystemd(slog.New(slog.NewTextHandler(io.Discard, nil)))
	o := sd.daemonOptions()
	if o.HeartbeatInterval != time.Second || o.Heartbeat == nil {
		t.Fatalf("daemon options: heartbeat every %v (func set: %v), want 1s (half of WATCHDOG_USEC)", o.HeartbeatInterval, o.Heartbeat != nil)
	}
	o.Heartbeat(time.Now())
	if got := next(); got != "WATCHDOG=1" {
		t.Errorf("heartbeat sent %q, want WATCHDOG=1", got)
	}

	sd.ready(func(context.Context) (*ctl.Snapshot, error) { return snap, nil })
	if got, want := next(), "READY=1\n"+status; got != want {
		t.Errorf("ready sent %q, want %q", got, want)
	}
	if got := next(); got != status {
		t.Errorf("periodic status %q, want %q", got, status)
	}
	sd.close() // the periodic STATUS= stops here
	sd.stopping()
	got := next()
	for got == status { // sent before close
		got = next()
	}
	if want := "STOPPING=1\nSTATUS=stopping"; got != want {
		t.Errorf("after close: %q, want %q", got, want)
	}
}

func TestNotifySystemdSequence(t *testing.T) {
	path, next := notifySocket(t)
	t.Setenv(sdnotify.SocketEnv, path)
	t.Setenv(sdnotify.WatchdogUSEnv, "")
	snap := &ctl.Snapshot{Interfaces: []ctl.Interface{{Name: "eth0"}}}
	const status = "STATUS=1 interfaces, 0 neighbors, 0 routes, 0 kernel entries"

	sd := newSystemd(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if o := sd.daemonOptions(); o.Heartbeat != nil || o.HeartbeatInterval != 0 {
		t.Errorf("no WATCHDOG_USEC: daemon options %+v, want none", o)
	}
	sd.ready(func(context.Context) (*ctl.Snapshot, error) { return snap, nil })
	sd.close()
	if got, want := next(), "READY=1\n"+status; got != want {
		t.Errorf("ready sent %q, want %q", got, want)
	}
	sd.reloading()
	if got := next(); !regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*$`).MatchString(got) {
		t.Errorf("reloading sent %q, want RELOADING=1 and MONOTONIC_USEC=", got)
	}
	sd.reloaded()
	if got, want := next(), "READY=1\n"+status; got != want {
		t.Errorf("reloaded sent %q, want %q", got, want)
	}
	sd.stopping()
	if got, want := next(), "STOPPING=1\nSTATUS=stopping"; got != want {
		t.Errorf("stopping sent %q, want %q", got, want)
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Setenv(sdnotify.SocketEnv, "")
	t.Setenv(sdnotify.WatchdogUSEnv, "2000000")
	sd := newSystemd(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if o := sd.daemonOptions(); o.Heartbeat != nil {
		t.Error("no NOTIFY_SOCKET: a heartbeat is set")
	}
	sd.ready(func(context.Context) (*ctl.Snapshot, error) {
		t.Error("snapshot taken without systemd")
		return nil, nil
	})
	sd.reloading()
	sd.reloaded()
	sd.stopping()
	sd.close()
}
