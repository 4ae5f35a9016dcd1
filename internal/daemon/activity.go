package daemon

import (
	"time"
)

// The (S,G) entries' kernel counters, polled for the PIM engine: they are
// how it learns that data still flows (the Keepalive Timer) and at what
// rate (the SPT switch). The engine names the entries it wants with
// WatchActivity and is the one record of them (pim.Router.WatchedActivity);
// the loop keeps only its polling clock.

// pollActivity reads the counters of the entries PIM watches and reports
// them, every ActivityInterval while it watches any.
func (d *Daemon) pollActivity(now time.Time) {
	if !d.polling || now.Before(d.nextPoll) {
		return
	}
	for _, w := range d.pim.WatchedActivity() {
		c, err := d.k.SGCount(w.Source, w.Group)
		if err != nil {
			continue // not installed (yet or any more)
		}
		d.pimActions(now, d.pim.DataActivity(now, w.Source, w.Group, c.Packets, c.Bytes))
	}
	d.polling = d.pim.WatchingActivity()
	d.nextPoll = now.Add(d.activityInterval)
}

// watchActivity starts the polling clock, if it is not running, for an
// entry the engine began to watch: its first reading comes at most
// ActivityInterval later.
func (d *Daemon) watchActivity(now time.Time) {
	if !d.polling {
		d.polling = true
		d.nextPoll = now.Add(d.activityInterval)
	}
}
