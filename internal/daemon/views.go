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
// that drives the loop itself.

// Snapshot returns the daemon's state for pim6stat, read on the loop.
func (d *Daemon) Snapshot(ctx context.Context) (*ctl.Snapshot, error) {
	var s *ctl.Snapshot
	err := d.DoContext(ctx, func() { s = d.SnapshotAt(d.now()) })
	return s, err
}

// SnapshotAt builds the snapshot at now without going through the loop:
// for simulations that drive the daemon themselves.
func (d *Daemon) SnapshotAt(now time.Time) *ctl.Snapshot { return view.Snapshot(d.viewState(now)) }

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
	return view.Explain(d.viewState(now), source, group)
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
