package daemon

import (
	"context"
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/view"
)

// The control socket's queries are views (package view) of the loop's
// state. They run as closures on the loop, so that each reads one
// instant's state without locks; the ...At forms are for a simulation
// that drives the loop itself. A snapshot is read a piece at a time
// (view.Build), so that a large one does not stall the loop: between
// pieces the loop goes on with its inputs and timers. The time each
// closure holds the loop is a view pause (ctl.Pauses), shown in the
// snapshot and the metrics.

// Snapshot returns the daemon's whole state for pim6stat, the metrics and
// the dump, read on the loop.
func (d *Daemon) Snapshot(ctx context.Context) (*ctl.Snapshot, error) {
	return d.SnapshotOf(ctx, ctl.Query{})
}

// SnapshotOf returns the part of the daemon's state q asks for (see
// ctl.Query), read on the loop a piece at a time.
func (d *Daemon) SnapshotOf(ctx context.Context, q ctl.Query) (*ctl.Snapshot, error) {
	return d.build(q, func(f func(*view.State)) error {
		return d.DoContext(ctx, func() { d.readView(d.now(), f) })
	})
}

// SnapshotAt builds the whole snapshot at now without going through the
// loop: for simulations that drive the daemon themselves.
func (d *Daemon) SnapshotAt(now time.Time) *ctl.Snapshot {
	s, err := d.SnapshotOfAt(now, ctl.Query{})
	if err != nil {
		panic("daemon: the whole snapshot failed: " + err.Error()) // the zero query cannot
	}
	return s
}

// SnapshotOfAt is SnapshotOf at now without going through the loop: for
// simulations that drive the daemon themselves.
func (d *Daemon) SnapshotOfAt(now time.Time, q ctl.Query) (*ctl.Snapshot, error) {
	return d.build(q, func(f func(*view.State)) error {
		d.readView(now, f)
		return nil
	})
}

// build makes the snapshot of q, each of its reads run by onLoop.
func (d *Daemon) build(q ctl.Query, onLoop func(func(*view.State)) error) (*ctl.Snapshot, error) {
	b := view.NewBuild(q)
	for {
		var err error
		if lerr := onLoop(func(st *view.State) { err = b.Read(st) }); lerr != nil {
			return nil, lerr
		}
		if err != nil {
			return nil, err
		}
		if b.Work() {
			return b.Snapshot(), nil
		}
	}
}

// readView runs a view's closure f on the loop's state at now (it must be
// on the loop), and counts the time it held the loop as a view pause.
func (d *Daemon) readView(now time.Time, f func(*view.State)) {
	start := time.Now()
	f(d.viewState(now))
	d.viewPauses.Add(time.Since(start))
}

// Explain answers "why does this flow (not) reach my receivers?" for
// (source, group), or (*,group) when source is the zero Addr (see
// view.Explain), on the loop.
func (d *Daemon) Explain(ctx context.Context, source, group netip.Addr) (*ctl.Explain, error) {
	var e *ctl.Explain
	err := d.DoContext(ctx, func() { e = d.ExplainAt(d.now(), source, group) })
	return e, err
}

// ExplainAt is Explain without going through the loop: for simulations
// that drive the daemon themselves.
func (d *Daemon) ExplainAt(now time.Time, source, group netip.Addr) *ctl.Explain {
	var e *ctl.Explain
	d.readView(now, func(st *view.State) { e = view.Explain(st, source, group) })
	return e
}

// viewState lends the loop's state to one view at now. The view only
// reads it, and it must not outlive the closure on the loop that made it:
// the maps and engines in it are the daemon's own. The kernel is lent as
// a view.Lookup: route lookups and counters only.
func (d *Daemon) viewState(now time.Time) *view.State {
	s := &view.State{
		Now:           now,
		Started:       d.started,
		ConfigFile:    d.configFile,
		Table:         d.conf.Global.MRTTable,
		Deterministic: d.deterministic,
		MLD:           d.mld,
		PIM:           d.pim,
		MRIB:          d.mrib,
		Local:         d.local,
		Upcalls:       d.upcalls,
		Checkpoint:    d.ckpt.counters,
		Kernel:        d.k,
		Restart:       d.restartView(now),
		Audit:         d.auditView(),
		Pauses:        &d.viewPauses,
	}
	for _, i := range d.sortedIfs() {
		mldCfg, _ := d.conf.InterfaceMLD(i.name)
		vi := view.Interface{
			Index: i.index, Name: i.name, Up: i.up, MTU: i.mtu, Globals: i.globals,
			MLD: i.mldOn, PIM: i.pimOn, MLDConfig: mldCfg,
		}
		if i.linkLocal.IsValid() {
			vi.LinkLocal = netip.PrefixFrom(i.linkLocal, i.llBits)
		}
		s.Interfaces = append(s.Interfaces, vi)
	}
	return s
}
