package daemon

import (
	"errors"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// A restart that keeps forwarding: the daemon stops without telling
// anyone (no goodbye Hellos, no MRT6_DONE), hands the routing socket to the
// program it executes next (Linux.Release, app), and that program adopts
// the kernel's MIFs and MFC entries (Begin). Entries nothing wants yet are
// kept for global.restart-grace while MLD's startup queries and the PIM
// neighbors' Joins (sent again on our new Generation ID) bring the state
// back; then they are swept.

// ErrRestart is the cause (context.WithCancelCause) that makes Run stop
// for a restart (StopForRestart) instead of shutting down.
var ErrRestart = errors.New("daemon: stopping for a restart")

// restartState is what a daemon that adopted a routing table remembers.
type restartState struct {
	graceUntil time.Time // zero when no grace is running
	// adopted are the kernel's entries at the takeover, until
	// settleAdoption.
	adopted    []mrib.Kernel
	adoptedMFC int
	adoptedMIF int
	swept      int
}

// adopt takes over the kernel's entries when the routing socket was handed
// over. Called by Begin once the interfaces have their MIFs. It returns
// true when it left the MRIB holding its operations (mrib.Hold): Begin
// then restores the checkpoint and calls settleAdoption.
func (d *Daemon) adopt(now time.Time) bool {
	if !d.k.Adopted() {
		return false
	}
	entries, err := d.k.MFCs()
	if err != nil {
		d.logKernel.Error("restart: cannot read the kernel's forwarding entries; they are replaced as the state is learned", "err", err)
		return false
	}
	d.mrib.Hold()
	ks := d.kernelEntries(entries)
	d.restart.adopted = ks
	d.applyMRIB(d.mrib.Adopt(ks))
	d.restart.adoptedMFC = len(entries)
	d.restart.adoptedMIF = len(d.k.MIFTable())
	d.restart.graceUntil = now.Add(d.conf.Global.RestartGrace)
	d.log.Info("restart: took the routing table over", "mifs", d.restart.adoptedMIF, "entries", len(entries),
		"kept-until-wanted", d.mrib.Stale(), "grace", d.conf.Global.RestartGrace)
	return true
}

// settleAdoption ends the MRIB's hold once the checkpoint is restored.
// Each adopted entry forwards what arrives on its incoming interface: the
// engine is told so first, as the kernel would have told it had the entry
// been missing (a NOCACHE), so that the state data decides (the
// Keepalive Timer, the SPT bit: an RP on the source tree rather than the
// register MIF, a last-hop router on the source tree) is there before the
// restored state changes anything in the kernel. An entry whose source is
// gone meanwhile loses that state when its Keepalive Timer runs out, as
// after any source stops.
func (d *Daemon) settleAdoption(now time.Time) {
	for _, k := range d.restart.adopted {
		d.pimActions(now, d.pim.NoCache(now, k.IIF, k.Source, k.Group))
	}
	d.restart.adopted = nil
	d.applyMRIB(d.mrib.Release())
}

// sweep ends a restart's grace: kernel entries nothing asked for again
// are deleted, and so are MIFs of interfaces the daemon no longer runs
// on.
func (d *Daemon) sweep(now time.Time) {
	d.restart.graceUntil = time.Time{}
	stale := d.mrib.Stale()
	d.applyMRIB(d.mrib.Sweep())
	mifs := 0
	for _, m := range d.k.MIFTable() {
		ifindex := m.IfIndex
		if m.Register {
			ifindex = pim.RegisterIf
		}
		if own, ok := d.mrib.MIF(ifindex); ok && own == uint16(m.MIF) {
			continue
		}
		if err := d.k.DelMIF(m.MIF); err != nil {
			d.logKernel.Warn("restart: cannot remove a MIF no interface uses", "mif", m.MIF, "err", err)
			continue
		}
		mifs++
	}
	d.restart.swept = stale
	d.log.Info("restart: grace over", "entries-removed", stale, "mifs-removed", mifs)
}

// StopForRestart stops the loop's kernel side for a restart: no goodbye
// Hellos and no MLD or interface shutdown (the next instance carries on
// with them), and the routing table stays as it is (Kernel.Release).
func (d *Daemon) StopForRestart(now time.Time) error {
	d.log.Info("stopping for a restart: forwarding stays as it is")
	d.stopCheckpoint(now, true)
	return d.k.Release()
}

// restartView is the view of a restart's takeover, nil after a fresh
// start.
func (d *Daemon) restartView(now time.Time) *ctl.Restart {
	if !d.k.Adopted() {
		return nil
	}
	r := &ctl.Restart{MIFs: d.restart.adoptedMIF, Entries: d.restart.adoptedMFC, Kept: d.mrib.Stale(), Swept: d.restart.swept}
	if g := d.restart.graceUntil; !g.IsZero() && g.After(now) {
		r.GraceLeft = ctl.Duration(g.Sub(now))
	}
	return r
}

// kernelEntries converts the kernel's MFC entries for the MRIB, which
// knows the register MIF as pim.RegisterIf rather than by its pim6reg
// device.
func (d *Daemon) kernelEntries(entries []kernel.MFCEntry) []mrib.Kernel {
	reg := -1
	for _, m := range d.k.MIFTable() {
		if m.Register {
			reg = m.IfIndex
		}
	}
	ifi := func(i int) int {
		if i == reg {
			return pim.RegisterIf
		}
		return i
	}
	ks := make([]mrib.Kernel, 0, len(entries))
	for _, e := range entries {
		k := mrib.Kernel{SG: mrib.SG{Source: e.Src, Group: e.Grp}, IIF: ifi(e.IIF)}
		for _, o := range e.OIFs {
			k.OIFs = append(k.OIFs, ifi(o))
		}
		ks = append(ks, k)
	}
	return ks
}
