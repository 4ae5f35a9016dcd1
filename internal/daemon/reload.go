package daemon

import (
	"reflect"
	"time"

	"github.com/pim6sd/pim6sd/conf"
)

// Reload applies a new configuration on the loop, changing only what
// differs: interfaces started or stopped, MLD and PIM settings of the
// interfaces whose effective values changed. Settings that need a restart
// (conf.Changes.RestartNeeded) keep their old values. It returns what
// changed.
func (d *Daemon) Reload(c *conf.Config) (conf.Changes, error) {
	var ch conf.Changes
	err := d.Do(func() { ch = d.ReloadAt(d.now(), c) })
	return ch, err
}

// ReloadAt is Reload for a simulation that drives the daemon itself.
func (d *Daemon) ReloadAt(now time.Time, c *conf.Config) conf.Changes {
	ch := conf.Diff(d.conf, c)
	if ch.Empty() {
		return ch
	}
	old := d.conf
	// What needs a restart keeps its running value.
	c.Global.MRTTable = old.Global.MRTTable
	c.Global.Socket = old.Global.Socket
	c.Global.PIDFile = old.Global.PIDFile
	c.Global.StateFile = old.Global.StateFile
	defer d.stateChanged(now) // a new fingerprint, state added or removed
	d.conf = c
	pc := d.pimConfig(c)
	acts, err := d.pim.SetConfig(now, pc)
	if err != nil {
		d.logConf.Error("new PIM router settings refused (RPs, SSM range, timers); the old ones stay", "err", err)
	}
	d.pimActions(now, acts)
	d.activityInterval = pc.ActivityInterval
	for _, i := range d.sortedIfs() {
		before := [2]bool{i.mldOn, i.pimOn}
		d.reconcile(now, i)
		after := [2]bool{i.mldOn, i.pimOn}
		ne := c.Engines(i.link())
		if i.mldOn && before[0] == after[0] {
			if oldCfg := old.Engines(i.link()).MLD; !reflect.DeepEqual(oldCfg, ne.MLD) {
				acts, err := d.mld.SetConfig(now, i.index, ne.MLD)
				if err != nil {
					d.logConf.Error("new MLD configuration refused for this interface", "iface", i.name, "err", err)
				}
				d.mldActions(now, acts)
			}
		}
		if i.pimOn && before[1] == after[1] {
			acts, err := d.pim.SetInterfaceConfig(now, i.index, ne.PIMInterface)
			if err != nil {
				d.logConf.Error("new PIM configuration refused for this interface", "iface", i.name, "err", err)
			}
			d.pimActions(now, acts)
		}
	}
	return ch
}
