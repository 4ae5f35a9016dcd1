package pim

import (
	"net/netip"
	"slices"
	"time"
)

// The data plane's inputs. Linux forwards multicast only by (S,G) entries
// (its (::,G) entries are not PIM's (*,G)), so (*,G) forwarding is done by
// installing an (S,G) "cache" entry for each source that a NOCACHE upcall
// reports, with the RP tree's incoming interface and inherited_olist(S,G,rpt)
// (forward.go), kept in step with the (*,G) state while data flows.
//
//   - NoCache: the first packet of an (S,G) that has no kernel entry. For
//     a non-SSM group it creates the entry (a cache entry: state kept while
//     its data flows) and counts as data arriving (spt.go): the first-hop
//     DR starts its Keepalive Timer and registers, a last-hop router on the
//     RP tree may switch to the SPT, the RP forwards decapsulated packets
//     (arrival on RegisterIf).
//   - WrongIIF: a packet arrived on another interface than the entry's
//     incoming one: the SPT has reached us (Update_SPTbit), or another
//     router forwards onto one of our outgoing interfaces (Assert).
//   - DataActivity: the counters of an entry the daemon was asked to watch
//     (WatchActivity); growth is data on the entry's incoming interface:
//     it keeps the Keepalive Timer and the cache entry alive and measures
//     the rate for Config.SPT.
//
// A cache entry whose counters have not grown for KeepalivePeriod is
// removed with what it alone kept.

// NoCache reports a NOCACHE upcall: a packet from src to grp arrived on
// ifindex (RegisterIf: decapsulated from a Register by the kernel) and the
// kernel has no entry for it.
func (r *Router) NoCache(now time.Time, ifindex int, src, grp netip.Addr) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	r.noCache(n, int32(ifindex), src.WithZone(""), grp.WithZone(""))
	return r.finish(n)
}

func (r *Router) noCache(now int64, iif int32, s, g netip.Addr) {
	r.stats.recv(RecvNoCache)
	if !validSource(s) || !validGroup(g) || iif <= 0 && iif != RegisterIf {
		r.stats.drop(DropBadData)
		return
	}
	k := sgKey{keyOf(g), keyOf(s)}
	if r.cfg.isSSM(g) {
		// SSM entries are installed from Joins and listeners alone.
		if sg := r.sgs[k]; sg != nil {
			r.dataArrived(sg, iif, now)
		} else {
			r.stats.drop(DropDataSSM)
		}
		return
	}
	if iif == RegisterIf {
		// The kernel decapsulates every Register; only the RP forwards.
		if rp, ok := r.rpFor(g); !ok || !r.isLocal(rp) {
			r.stats.drop(DropDataNotRP)
			return
		}
	}
	sg := r.getSG(k, nil)
	if sg == nil {
		return
	}
	x := sg.ext()
	x.cache = true
	r.setLazy(&x.dataIdle, now+int64(r.cfg.KeepalivePeriod), timerRef{sg: sg, kind: timerDataIdle})
	r.touch(sg)
	r.dataArrived(sg, iif, now)
}

// WrongIIF reports a WRONGMIF (or WRMIFWHOLE) upcall: a packet from src to
// grp arrived on ifindex, which is not the incoming interface of the
// kernel's entry. The kernel sends at most one per entry every few
// seconds; duplicates are harmless.
func (r *Router) WrongIIF(now time.Time, ifindex int, src, grp netip.Addr) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	r.stats.recv(RecvWrongIIF)
	sg := r.sgs[sgKey{keyOf(grp.WithZone("")), keyOf(src.WithZone(""))}]
	iif := int32(ifindex)
	switch {
	case sg == nil:
		r.stats.drop(DropDataNoState)
	case iif <= 0 && iif != RegisterIf:
		r.stats.drop(DropBadData)
	default:
		r.refreshCache(sg, n)
		r.dataArrived(sg, iif, n)
	}
	return r.finish(n)
}

// WatchedActivity returns the entries whose counters the engine wants
// (each WatchActivity not yet ended by UnwatchActivity), sorted by group
// and then source: the engine is their one record, and the daemon polls
// what it lists every Config.ActivityInterval.
func (r *Router) WatchedActivity() []WatchActivity {
	if r.nWatching == 0 {
		return nil
	}
	out := make([]WatchActivity, 0, r.nWatching)
	for _, sg := range r.sgs {
		if sg.x != nil && sg.x.watching {
			out = append(out, WatchActivity{Source: sg.key.s.Addr(), Group: sg.key.g.Addr()})
		}
	}
	slices.SortFunc(out, func(a, b WatchActivity) int {
		if c := a.Group.Compare(b.Group); c != 0 {
			return c
		}
		return a.Source.Compare(b.Source)
	})
	return out
}

// WatchingActivity reports whether any entry is under WatchActivity.
func (r *Router) WatchingActivity() bool { return r.nWatching > 0 }

// DataActivity gives the kernel's counters of the (src, grp) entry
// (packets and bytes since it was installed, wrong-interface arrivals
// included, as Linux counts them), polled every Config.ActivityInterval
// for each entry under WatchActivity. Smaller values than last time mean
// the entry was installed again; they start a new count.
func (r *Router) DataActivity(now time.Time, src, grp netip.Addr, packets, bytes uint64) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	sg := r.sgs[sgKey{keyOf(grp.WithZone("")), keyOf(src.WithZone(""))}]
	if sg == nil {
		r.stats.drop(DropDataNoState)
		return r.finish(n)
	}
	x := sg.ext()
	prevP, prevB := x.pkts, x.bytes
	if packets < prevP || bytes < prevB {
		prevP, prevB = 0, 0
	}
	if x.counted && n > x.countAt && r.cfg.SPT.Rate != 0 {
		bps := float64(bytes-prevB) * 8 / time.Duration(n-x.countAt).Seconds()
		x.rateHigh = bps > float64(r.cfg.SPT.Rate)
	}
	x.pkts, x.bytes, x.countAt, x.counted = packets, bytes, n, true
	if packets > prevP {
		r.refreshCache(sg, n)
		if sg.iif != 0 {
			r.dataArrived(sg, sg.iif, n)
		}
	}
	return r.finish(n)
}

// refreshCache pushes a cache entry's idle timer: its data still flows.
func (r *Router) refreshCache(sg *sgEntry, now int64) {
	if x := sg.x; x != nil && x.cache {
		r.setLazy(&x.dataIdle, now+int64(r.cfg.KeepalivePeriod), timerRef{sg: sg, kind: timerDataIdle})
	}
}

// dataIdleExpired: no data for KeepalivePeriod; the cache entry goes (and
// with it the entry, unless PIM state keeps it).
func (r *Router) dataIdleExpired(sg *sgEntry) {
	sg.x.cache, sg.x.pending = false, false
	r.touch(sg)
}
