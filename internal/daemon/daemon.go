package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
)

// Config is what the loop runs with.
type Config struct {
	// MLD is the MLD configuration of every interface.
	MLD mld.Config
}

// Daemon owns all protocol state. Create it with New, run it with Run.
type Daemon struct {
	cfg Config
	log *slog.Logger
	k   Kernel
	now func() time.Time

	ids timerq.IDs
	mld *mld.Router

	ifs       map[int]*iface
	listeners map[listenerKey]mld.ListenerUpdate

	in      chan any
	calls   chan func()
	stopped chan struct{}
	wake    *time.Timer
}

type listenerKey struct {
	ifindex int
	group   netip.Addr
}

// New makes a daemon that will drive k. log must not be nil.
func New(cfg Config, k Kernel, log *slog.Logger) *Daemon {
	d := &Daemon{
		cfg:       cfg,
		log:       log,
		k:         k,
		now:       time.Now,
		ifs:       make(map[int]*iface),
		listeners: make(map[listenerKey]mld.ListenerUpdate),
		in:        make(chan any, 1024),
		calls:     make(chan func()),
		stopped:   make(chan struct{}),
	}
	d.mld = mld.New(&d.ids)
	return d
}

// ErrStopped is returned by Do once the loop has ended.
var ErrStopped = errors.New("daemon: stopped")

// post hands an input to the loop; after the loop ended it drops it, so
// that readers never block on a loop that is gone.
func (d *Daemon) post(ev any) {
	select {
	case d.in <- ev:
	case <-d.stopped:
	}
}

// Do runs f on the loop and waits for it: the way to read state
// consistently from another goroutine.
func (d *Daemon) Do(f func()) error {
	done := make(chan struct{})
	select {
	case d.calls <- func() { f(); close(done) }:
	case <-d.stopped:
		return ErrStopped
	}
	<-done
	return nil
}

// Run runs the loop until ctx is cancelled, then shuts down: every
// interface leaves MLD and the kernel state is released.
func (d *Daemon) Run(ctx context.Context) error {
	defer close(d.stopped)
	d.wake = time.NewTimer(time.Hour)
	defer d.wake.Stop()
	if err := d.k.Start(d.post); err != nil {
		d.k.Close()
		return err
	}
	d.resync(d.now())
	for {
		d.arm()
		select {
		case <-ctx.Done():
			d.shutdown(d.now())
			return d.k.Close()
		case ev := <-d.in:
			d.handle(d.now(), ev)
		case f := <-d.calls:
			f()
		case <-d.wake.C:
			d.expire(d.now())
		}
	}
}

// arm sets the one real timer to the earliest deadline of the engines.
func (d *Daemon) arm() {
	next, ok := d.mld.NextDeadline()
	wait := time.Hour
	if ok {
		wait = max(time.Until(next), 0)
	}
	d.wake.Reset(wait)
}

func (d *Daemon) expire(now time.Time) {
	d.mldActions(now, d.mld.Expire(now))
}

func (d *Daemon) handle(now time.Time, ev any) {
	switch ev := ev.(type) {
	case MLDInput:
		d.receiveMLD(now, ev)
	case kernel.LinkEvent:
		d.linkEvent(now, ev)
	case kernel.AddrEvent:
		d.addrEvent(now, ev)
	case kernel.RouteEvent:
		// RPF is PIM's; nothing uses routes yet.
	case kernel.ResyncEvent:
		d.log.Warn("netlink events were lost; reading links and addresses again", "err", ev.Err)
		d.resync(now)
	case kernel.ErrorEvent:
		d.log.Error("netlink subscription failed; interface changes are no longer seen", "err", ev.Err)
	case ReaderError:
		d.log.Warn("read failed", "reader", ev.What, "err", ev.Err)
	}
}

func (d *Daemon) shutdown(now time.Time) {
	for _, ifc := range d.sortedIfs() {
		if ifc.active {
			d.deactivate(now, ifc)
		}
	}
}
