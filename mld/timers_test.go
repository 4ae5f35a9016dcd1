package mld

import (
	"testing"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// event is one input of a scripted test: a packet received at At (seconds
// after tR), or Expire at At when Pkt is nil.
type event struct {
	At  float64
	Pkt *Packet
}

func recv(at float64, p Packet) event { return event{At: at, Pkt: &p} }
func expire(at float64) event         { return event{At: at} }

func play(r *Router, evs []event) actlog {
	var l actlog
	for _, e := range evs {
		now := at(e.At)
		if e.Pkt != nil {
			l.add(now, r.Receive(now, ifx, *e.Pkt))
		} else {
			l.add(now, r.Expire(now))
		}
	}
	return l
}

// TestTimerExpiry covers RFC 3810 section 7.5 (and the tables of 7.2.2 and
// 7.2.3): the Filter Timer switching EXCLUDE to INCLUDE, and source timers.
func TestTimerExpiry(t *testing.T) {
	g := grp.String()
	cases := []struct {
		name   string
		seed   seed
		events []event
		end    float64 // state checked at tR+end
		want   *gview
		log    actlog
	}{
		{
			name:   "filter-timer/EXCLUDE-to-INCLUDE",
			seed:   seed{mode: Exclude, filter: 5, sources: src4{"a": 100, "b": 0}},
			events: []event{expire(4.9), expire(5)},
			end:    5,
			want:   inc(src4{"a": 95}),
			log:    actlog{Updates: []upd{{5, g, Include, []string{"a"}}}},
		},
		{
			name:   "filter-timer/empty-requested-list-deletes-record",
			seed:   seed{mode: Exclude, filter: 5, sources: src4{"b": 0}},
			events: []event{expire(5)},
			end:    5,
			log:    actlog{Updates: []upd{{5, g, Include, nil}}},
		},
		{
			name:   "source-timer/INCLUDE-deletes-source",
			seed:   seed{mode: Include, sources: src4{"a": 5, "b": 100}},
			events: []event{expire(5)},
			end:    5,
			want:   inc(src4{"b": 95}),
			log:    actlog{Updates: []upd{{5, g, Include, []string{"b"}}}},
		},
		{
			name:   "source-timer/INCLUDE-last-source-deletes-record",
			seed:   seed{mode: Include, sources: src4{"a": 5}},
			events: []event{expire(5)},
			end:    5,
			log:    actlog{Updates: []upd{{5, g, Include, nil}}},
		},
		{
			name:   "source-timer/EXCLUDE-moves-to-exclude-list",
			seed:   seed{mode: Exclude, filter: 100, sources: src4{"a": 5, "b": 0}},
			events: []event{expire(5)},
			end:    5,
			want:   exc(95, src4{"a": 0, "b": 0}),
			log:    actlog{Updates: []upd{{5, g, Exclude, []string{"a", "b"}}}},
		},
		{
			// Both expire in one Expire: one update, whatever the order.
			name:   "source-and-filter-timer-together",
			seed:   seed{mode: Exclude, filter: 5, sources: src4{"a": 5, "b": 0}},
			events: []event{expire(5)},
			end:    5,
			log:    actlog{Updates: []upd{{5, g, Include, nil}}},
		},
		{
			// A refresh only writes the new deadline down; the queued
			// timer fires at the old one, finds it later and waits again.
			name: "refreshed-source-outlives-its-first-deadline",
			seed: seed{mode: Include, sources: src4{"a": 100}},
			events: []event{
				recv(50, report(t, rec(mldmsg.ModeIsInclude, grp, "a"))),
				expire(100), expire(309.9),
			},
			end:  309.9,
			want: inc(src4{"a": 0.1}),
		},
		{
			name: "refreshed-filter-timer-outlives-its-first-deadline",
			seed: seed{mode: Exclude, filter: 100},
			events: []event{
				recv(50, report(t, rec(mldmsg.ModeIsExclude, grp))),
				expire(100), expire(310),
			},
			end: 310,
			log: actlog{Updates: []upd{{310, g, Include, nil}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t, tR, DefaultConfig())
			seedGroup(r, tR, grp, c.seed)
			got := play(r, c.events)
			got.Queries = specific(got.Queries)
			diff(t, "actions", c.log, got)
			diff(t, "state", c.want, view(r, at(c.end), grp))
		})
	}
}

// TestLazyTimerDeadline: after a refresh, NextDeadline is the old (early)
// deadline; once that fires, the true one. The ID stays the same.
func TestLazyTimerDeadline(t *testing.T) {
	r := newRouter(t, tR, DefaultConfig())
	r.Receive(tR, ifx, packet(t, lower, allNodes, generalV2())) // no General Queries in the way
	r.Receive(at(0), ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "a")))
	id := r.Snapshot(at(0))[0].Groups[0].Sources[0].Timer
	r.Receive(at(100), ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "a")))
	if d, _ := r.NextDeadline(); !d.Equal(at(255)) { // OQPI
		t.Fatalf("NextDeadline = %v, want the Other Querier Present timer at +255s", d.Sub(tR))
	}
	r.Expire(at(255)) // the querier timer: we become Querier and query
	if d, _ := r.NextDeadline(); !d.Equal(at(260)) {
		t.Fatalf("NextDeadline = +%v, want the first deadline +260s", d.Sub(tR))
	}
	r.Expire(at(260))
	if d, _ := r.NextDeadline(); !d.Equal(at(360)) {
		t.Fatalf("NextDeadline = +%v, want the refreshed deadline +360s", d.Sub(tR))
	}
	if got := r.Snapshot(at(260))[0].Groups[0].Sources[0].Timer; got != id {
		t.Errorf("timer ID changed from %d to %d when re-armed", id, got)
	}
}
