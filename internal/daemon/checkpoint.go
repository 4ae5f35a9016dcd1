package daemon

import (
	"errors"
	"io/fs"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/checkpoint"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// The checkpoint (docs/OPERATIONS.md, "Checkpoint"): after kill -9 or a
// crash Linux removes every MIF and MFC entry the daemon's routing socket
// made, and a daemon started again would forward only once its MLD
// queries and PIM Hellos are answered (seconds). So the loop keeps what
// it learned from listeners and neighbors in a CheckpointStore (written
// within checkpointInterval of a change, and when it stops), and Begin
// restores it, through the engines, as if the Reports, Hellos and Joins
// had been heard again: the routes are back at once. The restored state
// is provisional for global.restart-grace (longer where the engines need
// longer to have it confirmed): the startup queries and our new
// Generation ID make the listeners and neighbors confirm it, and what
// nobody confirms goes when its hold ends.

// CheckpointStore keeps the daemon's checkpoint from one process to the
// next: a file for the daemon (internal/app), memory in a simulation.
type CheckpointStore interface {
	// Load returns the last checkpoint saved, or an error that matches
	// fs.ErrNotExist when there is none.
	Load() ([]byte, error)
	// Save replaces the checkpoint, whole or not at all.
	Save([]byte) error
}

// checkpointInterval is the least time between two writes: a change is
// written within it. A large state waits longer, an interval per
// checkpointBytes it takes (a router at its limits, with tens of
// thousands of routes, writes megabytes): the loop's time spent on
// writing stays bounded, and the wait does not depend on the machine's
// speed (simulations stay deterministic).
const (
	checkpointInterval = time.Second
	checkpointBytes    = 1 << 20
)

// checkpointState is the loop's side of the checkpoint.
type checkpointState struct {
	store CheckpointStore
	// dirty: state changed since the last write; due is when the next
	// write may happen (zero: none pending).
	dirty     bool
	due       time.Time
	lastWrite time.Time
	wait      time.Duration
	// fingerprint of the configuration cfg (conf.Config.Fingerprint).
	cfg         *conf.Config
	fingerprint string
	// counters, shown as the snapshot's "checkpoint" counters:
	// "written", "write-error", "restored", "none" (nothing to restore),
	// "refused/REASON" (checkpoint.Reason..., or "unreadable").
	counters map[string]uint64
}

func (d *Daemon) countCheckpoint(what string) {
	if d.ckpt.counters == nil {
		d.ckpt.counters = make(map[string]uint64)
	}
	d.ckpt.counters[what]++
}

// configFingerprint is the running configuration's fingerprint.
func (d *Daemon) configFingerprint() string {
	if d.ckpt.cfg != d.conf {
		d.ckpt.cfg, d.ckpt.fingerprint = d.conf, d.conf.Fingerprint()
	}
	return d.ckpt.fingerprint
}

// stateChanged notes that what the checkpoint holds may have changed:
// it is written within checkpointInterval.
func (d *Daemon) stateChanged(now time.Time) {
	if d.ckpt.store == nil {
		return
	}
	d.ckpt.dirty = true
	if d.ckpt.due.IsZero() {
		d.ckpt.due = now
		if !d.ckpt.lastWrite.IsZero() {
			d.ckpt.due = maxTime(now, d.ckpt.lastWrite.Add(max(checkpointInterval, d.ckpt.wait)))
		}
	}
}

// checkpointDue writes the checkpoint when a write is due at now.
func (d *Daemon) checkpointDue(now time.Time) {
	if d.ckpt.due.IsZero() || now.Before(d.ckpt.due) {
		return
	}
	d.ckpt.due = time.Time{}
	if d.ckpt.dirty {
		d.writeCheckpoint(now, "")
	}
}

// writeCheckpoint saves the engines' state at now; stopped says why the
// daemon stops (checkpoint.Stopped...), "" while it runs.
func (d *Daemon) writeCheckpoint(now time.Time, stopped string) {
	if d.ckpt.store == nil {
		return
	}
	d.ckpt.dirty = false
	d.ckpt.lastWrite = now
	f := checkpoint.File{
		Written: now,
		Config:  d.configFingerprint(),
		Table:   d.conf.Global.MRTTable,
		Stopped: stopped,
		MLD:     d.mld.Checkpoint(now),
		PIM:     d.pim.Checkpoint(now),
	}
	b, err := checkpoint.Encode(f)
	if err == nil {
		err = d.ckpt.store.Save(b)
	}
	size := len(b)
	if errors.Is(err, checkpoint.ErrTooLarge) {
		size = checkpoint.MaxSize // try again as seldom as the largest one is written
	}
	d.ckpt.wait = checkpointInterval * time.Duration(1+size/checkpointBytes)
	if err != nil {
		d.countCheckpoint("write-error")
		d.log.Error("cannot write the checkpoint; a restart after a crash restores an older one or none", "err", err)
		// Not written: try again after the wait.
		d.ckpt.dirty, d.ckpt.due = true, now.Add(d.ckpt.wait)
		return
	}
	d.countCheckpoint("written")
	d.log.Debug("checkpoint written", "bytes", len(b), "stopped", stopped)
}

// stopCheckpoint writes the last checkpoint of a daemon that stops (for
// a restart: SIGUSR2), before the state goes. A graceful stop's
// checkpoint is restored like any other: the listeners and neighbors are
// still there, and the hold drops what they do not confirm.
func (d *Daemon) stopCheckpoint(now time.Time, restart bool) {
	why := checkpoint.StoppedGracefully
	if restart {
		why = checkpoint.StoppedForRestart
	}
	d.ckpt.due = time.Time{}
	d.writeCheckpoint(now, why)
}

// restoreCheckpoint gives the engines the state of the last checkpoint,
// if there is one this daemon may trust. Called by Begin once the
// interfaces run MLD and PIM.
func (d *Daemon) restoreCheckpoint(now time.Time) {
	if d.ckpt.store == nil {
		return
	}
	defer d.stateChanged(now)
	b, err := d.ckpt.store.Load()
	if errors.Is(err, fs.ErrNotExist) {
		d.countCheckpoint("none")
		d.log.Debug("no checkpoint to restore")
		return
	}
	if err != nil {
		d.countCheckpoint("refused/unreadable")
		d.log.Warn("checkpoint not restored: cannot read it", "reason", "unreadable", "err", err)
		return
	}
	f, err := checkpoint.Decode(b, checkpoint.Expect{
		Config: d.configFingerprint(),
		Table:  d.conf.Global.MRTTable,
		Now:    now,
		MaxAge: d.conf.Global.StateMaxAge,
	})
	if err != nil {
		reason := checkpoint.ReasonOf(err)
		d.countCheckpoint("refused/" + reason)
		d.log.Warn("checkpoint not restored", "reason", reason, "err", err)
		return
	}
	hold := d.conf.Global.RestartGrace
	byName := make(map[string]*iface, len(d.ifs))
	for _, i := range d.ifs {
		if i.mldOn || i.pimOn {
			byName[i.name] = i
		}
	}
	var missing []string
	// PIM first: the restored neighbors make the DR, which decides where
	// MLD's listeners count (4.1.5: local receivers at the DR only).
	var pr pim.Restored
	for _, c := range f.PIM {
		i := byName[c.Name]
		if i == nil || !i.pimOn {
			missing = append(missing, "pim/"+c.Name)
			continue
		}
		acts, res := d.pim.Restore(now, i.index, c, pim.RestoreOptions{Taken: f.Written, Hold: hold})
		d.pimActions(now, acts)
		pr.Neighbors, pr.Joins = pr.Neighbors+res.Neighbors, pr.Joins+res.Joins
		pr.Expired, pr.Refused = pr.Expired+res.Expired, pr.Refused+res.Refused
	}
	var mr mld.Restored
	for _, c := range f.MLD {
		i := byName[c.Name]
		if i == nil || !i.mldOn {
			missing = append(missing, "mld/"+c.Name)
			continue
		}
		acts, res := d.mld.Restore(now, i.index, c, mld.RestoreOptions{Taken: f.Written, Hold: hold})
		d.mldActions(now, acts)
		mr.Groups, mr.Sources = mr.Groups+res.Groups, mr.Sources+res.Sources
		mr.Expired, mr.Refused = mr.Expired+res.Expired, mr.Refused+res.Refused
	}
	d.countCheckpoint("restored")
	stopped := f.Stopped
	if stopped == "" {
		stopped = "killed" // it ran when it wrote this
	}
	d.log.Info("restored the checkpoint; listeners and neighbors confirm it within the hold",
		"age", now.Sub(f.Written).Round(time.Millisecond), "previous", stopped, "hold", hold,
		"neighbors", pr.Neighbors, "joins", pr.Joins, "groups", mr.Groups, "sources", mr.Sources,
		"expired", pr.Expired+mr.Expired, "refused", pr.Refused+mr.Refused, "interfaces-gone", missing)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
