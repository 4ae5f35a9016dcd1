package daemon

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/logging"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// Daemon owns all protocol state. Create it with New, run it with Run.
type Daemon struct {
	conf    *conf.Config
	log     *slog.Logger // the daemon subsystem: the loop itself
	k       Kernel
	now     func() time.Time
	started time.Time
	// configFile is the file the configuration came from ("" for none),
	// shown in the snapshot.
	configFile string

	rand          func() uint32
	deterministic bool

	ids  timerq.IDs
	mld  *mld.Router
	pim  *pim.Router
	mrib *mrib.Table

	ifs   map[int]*iface
	local []netip.Addr // every global address of the router, sorted

	// The polling clock of the counters of the (S,G) entries PIM watches
	// (activity.go): running while it watches any, next reading at
	// nextPoll, every activityInterval.
	polling          bool
	activityInterval time.Duration
	nextPoll         time.Time

	// upcalls counts the kernel's upcalls by type ("upcall/nocache"...),
	// shown as the snapshot's "kernel" counters.
	upcalls map[string]uint64
	// viewPauses are the loop's pauses for views (views.go).
	viewPauses ctl.Pauses

	in      chan Input
	calls   chan func()
	stopped chan struct{}
	wake    *time.Timer
	events  eventHub // the watchers of the control socket (watch.go)

	restart restartState    // restart.go
	audit   auditState      // audit.go
	ckpt    checkpointState // checkpoint.go

	heartbeat      func(time.Time) // Options.Heartbeat
	heartbeatEvery time.Duration

	// The other subsystems' loggers (internal/logging).
	logMLD, logPIM, logBSR, logKernel, logConf *slog.Logger
}

// cryptoRand is the engines' randomness: Generation IDs must not be
// predictable (RFC 7761 4.3.1), and timer jitter may as well use it.
func cryptoRand() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return binary.BigEndian.Uint32(b[:])
}

// Options are what a simulation replaces: the engines' randomness (a
// deterministic source instead of crypto/rand).
type Options struct {
	Rand func() uint32
	// Deterministic leaves the process ID and the Go runtime's memory out
	// of snapshots, so that a simulation can compare them run to run.
	Deterministic bool
	// Logs, if not nil, gives each subsystem its logger and level (the
	// log argument of New is then unused); when nil every subsystem logs
	// to that logger with subsys=NAME.
	Logs *logging.Set
	// Heartbeat, if not nil, is called by Run's loop itself every
	// HeartbeatInterval (the systemd watchdog ping): a loop that is stuck
	// stops calling it.
	Heartbeat         func(now time.Time)
	HeartbeatInterval time.Duration
	// Checkpoint, if not nil, keeps the state a restart after a crash
	// restores (checkpoint.go).
	Checkpoint CheckpointStore
}

// New makes a daemon that will drive k with configuration c (conf.Default()
// for none). log must not be nil.
func New(c *conf.Config, k Kernel, log *slog.Logger) (*Daemon, error) {
	return NewWithOptions(c, k, log, Options{})
}

// NewWithOptions is New with Options.
func NewWithOptions(c *conf.Config, k Kernel, log *slog.Logger, o Options) (*Daemon, error) {
	d := &Daemon{
		conf:    c,
		log:     log,
		k:       k,
		now:     time.Now,
		ifs:     make(map[int]*iface),
		mrib:    mrib.New(),
		in:      make(chan Input, 1024),
		calls:   make(chan func()),
		stopped: make(chan struct{}),
	}
	d.mld = mld.New(&d.ids)
	d.rand = cryptoRand
	d.deterministic = o.Deterministic
	d.heartbeat, d.heartbeatEvery = o.Heartbeat, o.HeartbeatInterval
	d.ckpt.store = o.Checkpoint
	logFor := logging.Fallback(log)
	if o.Logs != nil {
		logFor = o.Logs.Logger
	}
	d.log = logFor(logging.Daemon)
	d.logMLD, d.logPIM, d.logBSR = logFor(logging.MLD), logFor(logging.PIM), logFor(logging.BSR)
	d.logKernel, d.logConf = logFor(logging.Kernel), logFor(logging.Conf)
	if o.Rand != nil {
		d.rand = o.Rand
	}
	pc := d.pimConfig(c)
	p, err := pim.New(&d.ids, pc)
	if err != nil {
		return nil, fmt.Errorf("PIM configuration: %w", err)
	}
	d.pim = p
	d.activityInterval = pc.ActivityInterval
	return d, nil
}

// pimConfig returns the PIM router's configuration that c gives
// (conf.Engines) with the daemon's randomness.
func (d *Daemon) pimConfig(c *conf.Config) pim.Config {
	pc := c.Engines(conf.Link{}).PIM
	pc.Rand = d.rand
	return pc
}

// SetConfigFile records where the configuration came from, for status.
func (d *Daemon) SetConfigFile(path string) { d.configFile = path }

// ErrStopped is returned by Do once the loop has ended.
var ErrStopped = errors.New("daemon: stopped")

// post hands an input to the loop; after the loop ended it drops it, so
// that readers never block on a loop that is gone.
func (d *Daemon) post(in Input) {
	select {
	case d.in <- in:
	case <-d.stopped:
	}
}

// Do runs f on the loop and waits for it: the way to read or change state
// from another goroutine.
func (d *Daemon) Do(f func()) error { return d.DoContext(context.Background(), f) }

// DoContext is Do that gives up when ctx ends before the loop took f.
func (d *Daemon) DoContext(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case d.calls <- func() { f(); close(done) }:
	case <-d.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	<-done
	return nil
}

// Run runs the loop until ctx is cancelled, then shuts down gracefully:
// PIM says goodbye (Hello with holdtime 0) on every interface, MLD stops,
// and the kernel state is released (MRT6_DONE removes our MIFs and MFCs).
// ready, if not nil, is closed once the loop runs.
func (d *Daemon) Run(ctx context.Context, ready chan<- struct{}) error {
	defer close(d.stopped)
	d.wake = time.NewTimer(time.Hour)
	defer d.wake.Stop()
	if err := d.Begin(d.now()); err != nil {
		return err
	}
	if ready != nil {
		close(ready)
	}
	var beat <-chan time.Time
	if d.heartbeat != nil && d.heartbeatEvery > 0 {
		t := time.NewTicker(d.heartbeatEvery)
		defer t.Stop()
		beat = t.C
	}
	for {
		d.arm()
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), ErrRestart) {
				return d.StopForRestart(d.now())
			}
			return d.Stop(d.now())
		case <-beat:
			d.heartbeat(d.now())
		case in := <-d.in:
			d.Handle(d.now(), in)
		case f := <-d.calls:
			f()
		case <-d.wake.C:
			d.Expire(d.now())
		}
	}
}

// Begin starts the kernel side (its readers post to the loop) and reads
// the interfaces. Run calls it; a simulation (internal/sim) calls Begin,
// Handle, Expire, NextDeadline and Stop itself with its own clock, on one
// goroutine, instead of Run.
func (d *Daemon) Begin(now time.Time) error {
	d.started = now
	if err := d.k.Start(d.post); err != nil {
		d.k.Close()
		return err
	}
	d.setupRegister()
	d.resync(now)
	d.localAddresses(now)
	held := d.adopt(now)
	d.restoreCheckpoint(now)
	if held {
		d.settleAdoption(now)
	}
	d.audit.next = now.Add(d.auditInterval())
	return nil
}

// Stop shuts down gracefully and releases the kernel.
func (d *Daemon) Stop(now time.Time) error {
	d.stopCheckpoint(now, false)
	d.shutdown(now)
	return d.k.Close()
}

// NextDeadline is the earliest deadline of every engine's timers.
func (d *Daemon) NextDeadline() (time.Time, bool) {
	next, ok := d.mld.NextDeadline()
	if p, pok := d.pim.NextDeadline(); pok && (!ok || p.Before(next)) {
		next, ok = p, true
	}
	if d.polling && (!ok || d.nextPoll.Before(next)) {
		next, ok = d.nextPoll, true
	}
	if g := d.restart.graceUntil; !g.IsZero() && (!ok || g.Before(next)) {
		next, ok = g, true
	}
	if a := d.audit.next; !a.IsZero() && (!ok || a.Before(next)) {
		next, ok = a, true
	}
	if c := d.ckpt.due; !c.IsZero() && (!ok || c.Before(next)) {
		next, ok = c, true
	}
	return next, ok
}

// arm sets the one real timer to the earliest deadline of the engines.
func (d *Daemon) arm() {
	wait := time.Hour
	if next, ok := d.NextDeadline(); ok {
		wait = max(time.Until(next), 0)
	}
	d.wake.Reset(wait)
}

// Expire fires every engine timer that is due at now.
func (d *Daemon) Expire(now time.Time) {
	d.mldActions(now, d.mld.Expire(now))
	d.pimActions(now, d.pim.Expire(now))
	d.pollActivity(now)
	if g := d.restart.graceUntil; !g.IsZero() && !now.Before(g) {
		d.sweep(now)
	}
	if a := d.audit.next; !a.IsZero() && !now.Before(a) {
		d.runAudit(now)
	}
	d.checkpointDue(now)
}

// Handle processes one input (what the kernel readers post). Input is a
// closed set, so every kind has its case here; the default case is
// reached only by a nil Input or a programming error (a new Input type
// without its case, or a new kernel.Event), and panics rather than drop
// the input silently.
func (d *Daemon) Handle(now time.Time, in Input) {
	switch in := in.(type) {
	case MLDInput:
		d.receiveMLD(now, in)
		d.stateChanged(now)
	case PIMInput:
		d.receivePIM(now, in)
		d.stateChanged(now)
	case UpcallInput:
		d.upcall(now, in.Upcall)
	case NetlinkInput:
		d.netlink(now, in.Event)
		d.stateChanged(now)
	case MFCChangedInput:
		d.mfcChanged(now)
	case ReaderError:
		d.logKernel.Warn("read failed", "reader", in.What, "err", in.Err)
	default:
		panic(fmt.Sprintf("daemon: Handle: unknown input %T", in))
	}
}

// netlink processes one netlink event. Every change may move a route
// toward a watched address, so each ends with the RPF lookups again.
func (d *Daemon) netlink(now time.Time, ev kernel.Event) {
	switch ev := ev.(type) {
	case kernel.LinkEvent:
		d.linkEvent(now, ev)
		d.refreshRPF(now)
	case kernel.AddrEvent:
		d.addrEvent(now, ev)
		d.localAddresses(now)
		d.refreshRPF(now)
	case kernel.RouteEvent:
		d.refreshRPF(now)
	case kernel.ResyncEvent:
		d.logKernel.Warn("netlink events were lost; reading links, addresses and routes again", "err", ev.Err)
		d.resync(now)
		d.localAddresses(now)
		d.refreshRPF(now)
	case kernel.ErrorEvent:
		d.logKernel.Error("netlink subscription failed; interface and route changes are no longer seen", "err", ev.Err)
	default:
		panic(fmt.Sprintf("daemon: Handle: unknown netlink event %T", ev))
	}
}

func (d *Daemon) shutdown(now time.Time) {
	d.pimActions(now, d.pim.Shutdown(now))
	for _, ifc := range d.sortedIfs() {
		d.stopInterface(now, ifc)
	}
	d.log.Info("stopped: goodbye Hellos sent, kernel state released")
}
