package daemon

import (
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/mrib"
)

// The (S,G) entries' kernel counters, polled for the PIM engine: they are
// how it learns that data still flows (the Keepalive Timer) and at what
// rate (the SPT switch). It names the entries it wants with
// WatchActivity.

// pollActivity reads the counters of the entries PIM watches and reports
// them, every ActivityInterval.
func (d *Daemon) pollActivity(now time.Time) {
	if len(d.activity) == 0 || now.Before(d.nextPoll) {
		return
	}
	sgs := make([]mrib.SG, 0, len(d.activity))
	for sg := range d.activity {
		sgs = append(sgs, sg)
	}
	slices.SortFunc(sgs, func(a, b mrib.SG) int {
		if c := a.Group.Compare(b.Group); c != 0 {
			return c
		}
		return a.Source.Compare(b.Source)
	})
	for _, sg := range sgs {
		c, err := d.k.SGCount(sg.Source, sg.Group)
		if err != nil {
			continue // not installed (yet or any more)
		}
		d.pimActions(now, d.pim.DataActivity(now, sg.Source, sg.Group, c.Packets, c.Bytes))
	}
	d.nextPoll = now.Add(d.activityInterval)
}

func (d *Daemon) watchActivity(now time.Time, sg mrib.SG, on bool) {
	if !on {
		delete(d.activity, sg)
		return
	}
	if len(d.activity) == 0 {
		d.nextPoll = now.Add(d.activityInterval)
	}
	d.activity[sg] = struct{}{}
}
