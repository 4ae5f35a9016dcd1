package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/internal/sdnotify"
)

// statusInterval is how often STATUS= is refreshed under systemd.
var statusInterval = 30 * time.Second

// systemd is pim6sd's side of systemd's Type=notify protocol
// (dist/systemd/pim6sd.service): READY=1 once the control socket listens
// and the loop runs, STATUS= with a one-line summary, WATCHDOG=1 from the
// daemon's loop itself at half of $WATCHDOG_USEC, RELOADING=1 and READY=1
// around SIGHUP, STOPPING=1 on shutdown. Without $NOTIFY_SOCKET it does
// nothing.
type systemd struct {
	n        *sdnotify.Notifier
	log      *slog.Logger
	watchdog time.Duration // $WATCHDOG_USEC; 0 for none

	failed   atomic.Bool // a send failed (logged once)
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	snapshot func(context.Context) (*ctl.Snapshot, error)
}

func newSystemd(log *slog.Logger) *systemd {
	s := &systemd{n: sdnotify.FromEnv(), log: log, stop: make(chan struct{})}
	if s.n != nil {
		s.watchdog, _ = sdnotify.WatchdogInterval()
	}
	return s
}

// daemonOptions has the daemon's loop send the watchdog pings, so that a
// stuck loop stops them and systemd restarts the daemon.
func (s *systemd) daemonOptions() daemon.Options {
	if s.n == nil || s.watchdog <= 0 {
		return daemon.Options{}
	}
	return daemon.Options{
		Heartbeat:         func(time.Time) { s.send(sdnotify.Watchdog) },
		HeartbeatInterval: s.watchdog / 2,
	}
}

// ready says READY=1 with the first STATUS= and refreshes STATUS= every
// statusInterval until close.
func (s *systemd) ready(snapshot func(context.Context) (*ctl.Snapshot, error)) {
	if s.n == nil {
		return
	}
	s.snapshot = snapshot
	s.send(sdnotify.Ready, sdnotify.Status(s.status()))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(statusInterval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.send(sdnotify.Status(s.status()))
			}
		}
	}()
}

// reloading is said before a SIGHUP reload, reloaded after it (whether
// the new configuration was taken or refused: the daemon runs either way).
func (s *systemd) reloading() {
	s.send(sdnotify.Reloading, fmt.Sprintf("MONOTONIC_USEC=%d", monotonicUsec()))
}

func (s *systemd) reloaded() {
	if s.snapshot == nil {
		return
	}
	s.send(sdnotify.Ready, sdnotify.Status(s.status()))
}

func (s *systemd) stopping() {
	s.send(sdnotify.Stopping, sdnotify.Status("stopping"))
}

// close ends the STATUS= updates.
func (s *systemd) close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
}

func (s *systemd) send(states ...string) {
	if s.n == nil {
		return
	}
	if err := s.n.Send(states...); err != nil && !s.failed.Swap(true) {
		s.log.Warn("systemd notification failed (logged once)", "err", err)
	}
}

// status is the one-line summary of STATUS=.
func (s *systemd) status() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := s.snapshot(ctx)
	if err != nil {
		return "running; no snapshot: " + err.Error()
	}
	return statusLine(snap)
}

// statusLine summarizes a snapshot: interfaces (without the register
// MIF), PIM neighbors, multicast routes and kernel forwarding entries.
func statusLine(snap *ctl.Snapshot) string {
	ifs := 0
	for _, i := range snap.Interfaces {
		if !i.Register {
			ifs++
		}
	}
	return fmt.Sprintf("%d interfaces, %d neighbors, %d routes, %d kernel entries",
		ifs, len(snap.Neighbors), len(snap.Routes), snap.CacheMirrors)
}

func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}

// storeRoutingSocket keeps a copy of the routing socket in systemd's file
// descriptor store (FileDescriptorStoreMax= in the unit): if the daemon
// dies (a crash, kill -9, the watchdog), the socket does not close, the
// kernel keeps forwarding, and systemd hands the socket to the process it
// starts next (storedHandover). Without $NOTIFY_SOCKET it does nothing.
func (s *systemd) storeRoutingSocket(k *daemon.Linux, name string) {
	if s.n == nil {
		return
	}
	f, err := k.RoutingSocket()
	if err != nil {
		s.log.Warn("cannot keep the routing socket in systemd's store", "err", err)
		return
	}
	defer f.Close()
	if err := s.n.SendFiles([]int{int(f.Fd())}, "FDSTORE=1", "FDNAME="+name); err != nil {
		s.log.Warn("cannot keep the routing socket in systemd's store", "err", err)
	}
}

// unstoreRoutingSocket takes the routing socket out of systemd's store: a
// graceful stop ends the table, and the next start must not adopt it.
func (s *systemd) unstoreRoutingSocket(name string) {
	s.send("FDSTOREREMOVE=1", "FDNAME="+name)
}
