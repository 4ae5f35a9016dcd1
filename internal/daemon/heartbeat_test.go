package daemon

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/kernel"
)

// idleKernel is a kernel with no interfaces: what Run needs to start and
// stop. Other methods are not called (the embedded nil would panic).
type idleKernel struct{ Kernel }

func (idleKernel) Start(func(Input)) error             { return nil }
func (idleKernel) Close() error                        { return nil }
func (idleKernel) Links() ([]kernel.Link, error)       { return nil, nil }
func (idleKernel) Addrs() ([]kernel.Addr, error)       { return nil, nil }
func (idleKernel) EnablePIM(bool) error                { return nil }
func (idleKernel) AddRegisterMIF() (kernel.MIF, error) { return 0, nil }
func (idleKernel) DelMIF(kernel.MIF) error             { return nil }
func (idleKernel) Adopted() bool                       { return false }
func (idleKernel) MFCs() ([]kernel.MFCEntry, error)    { return nil, nil }
func (idleKernel) MIFTable() []kernel.MIFEntry         { return nil }

// The heartbeat (the systemd watchdog ping) comes from the loop itself:
// every HeartbeatInterval while the loop runs, none while it is stuck.
func TestHeartbeatFromLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var beats []time.Time
		d, err := NewWithOptions(conf.Default(), idleKernel{}, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{
			Heartbeat:         func(now time.Time) { beats = append(beats, now) },
			HeartbeatInterval: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx, nil) }()
		start := time.Now()

		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		count := func() (n int) { _ = d.Do(func() { n = len(beats) }); return n }
		if n := count(); n != 3 {
			t.Fatalf("%d heartbeats in 3.5s at 1s, want 3", n)
		}

		// A loop stuck in a call for 5s sends no heartbeat meanwhile.
		stuck := make(chan struct{})
		go func() { _ = d.Do(func() { <-stuck }) }()
		synctest.Wait()
		stallStart := time.Now()
		time.Sleep(5 * time.Second)
		stallEnd := time.Now()
		close(stuck)
		synctest.Wait()
		n := count()
		_ = d.Do(func() {
			for _, b := range beats {
				if b.After(stallStart) && b.Before(stallEnd) {
					t.Errorf("heartbeat at %v while the loop was stuck (%v to %v)", b.Sub(start), stallStart.Sub(start), stallEnd.Sub(start))
				}
			}
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if m := count(); m < n+2 {
			t.Errorf("%d heartbeats 2s after the stall ended, want at least %d", m, n+2)
		}
		_ = d.Do(func() {
			for i, b := range beats[:3] {
				if want := start.Add(time.Duration(i+1) * time.Second); !b.Equal(want) {
					t.Errorf("heartbeat %d at %v, want %v", i, b.Sub(start), want.Sub(start))
				}
			}
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
