package pim

import (
	"net/netip"
	"slices"
	"time"
)

// ListenerInput is what MLD says about the listeners of a group on an
// interface (mld.ListenerUpdate): Include with Sources, forward those
// sources; Exclude, forward all but Sources; Include with no Sources, no
// listeners.
type ListenerInput struct {
	IfIndex int
	Group   netip.Addr
	Exclude bool
	Sources []netip.Addr
}

// SetListeners records the local receivers of a group on an interface
// (RFC 7761 section 4.1.5), replacing what the interface had for it. They
// count where we are the DR (pim_include, pim_exclude):
//
//   - INCLUDE with sources: local_receiver_include(S,G,I) for each: (S,G)
//     state and Joins toward S, for SSM and ASM groups alike;
//   - EXCLUDE (ASM groups): local_receiver_include(*,G,I), so (*,G) state
//     and a Join toward the RP, and local_receiver_exclude(S,G,I) for each
//     listed source: S is not forwarded there (pim_exclude), and when no
//     interface wants it the (S,G,rpt) Prune takes it off the RP tree;
//   - INCLUDE with no sources: no listeners.
//
// EXCLUDE for an SSM group (which MLD does not produce, RFC 4604) is
// counted ("ssm-exclude") and read as no listeners. Updates for an
// interface PIM does not run on are ignored: the daemon enables PIM on
// every interface that forwards (a stub LAN is a PIM interface without
// neighbors, where we are the DR).
func (r *Router) SetListeners(now time.Time, u ListenerInput) []Action {
	ifc := r.ifaces[u.IfIndex]
	if ifc == nil || r.closed {
		return nil
	}
	n := r.begin(now)
	r.setListeners(ifc, u)
	return r.finish(n)
}

// listenerSet is what MLD asked for a group on an interface: the sources
// included, or (exclude) those excluded, sorted.
type listenerSet struct {
	exclude bool
	sources []addrKey
}

func (r *Router) setListeners(ifc *iface, u ListenerInput) {
	g := u.Group.WithZone("")
	if !validGroup(g) {
		ifc.stats.drop(DropGroup)
		return
	}
	u = r.borderListeners(ifc, g, u) // zones.go
	ssm := r.cfg.isSSM(g)
	var want listenerSet
	if u.Exclude && ssm {
		ifc.stats.drop(DropSSMExclude)
	} else {
		want.exclude = u.Exclude
		for _, s := range u.Sources {
			if s = s.WithZone(""); !validSource(s) {
				ifc.stats.drop(DropSource)
				continue
			}
			want.sources = append(want.sources, keyOf(s))
		}
		slices.SortFunc(want.sources, addrKey.Compare)
		want.sources = slices.Compact(want.sources)
	}
	gk := keyOf(g)
	old := ifc.listeners[gk]
	i := int32(ifc.index)
	pick := func(ls listenerSet, exclude bool) []addrKey {
		if ls.exclude == exclude {
			return ls.sources
		}
		return nil
	}
	// local_receiver_include(S,G,I)
	diffSorted(pick(old, false), pick(want, false), func(s addrKey) {
		if sg := r.sgs[sgKey{gk, s}]; sg != nil {
			deleteSorted(&sg.local, i)
			r.touch(sg)
		}
	}, func(s addrKey) {
		if sg := r.getSG(sgKey{gk, s}, ifc); sg != nil {
			insertSorted(&sg.local, i)
			r.touch(sg)
		}
	})
	// local_receiver_include(*,G,I)
	switch {
	case want.exclude && !old.exclude:
		if st := r.getStar(gk, ifc); st != nil {
			insertSorted(&st.local, i)
			r.touchStar(st)
		}
	case !want.exclude && old.exclude:
		if grp := r.groups[gk]; grp != nil && grp.star != nil {
			deleteSorted(&grp.star.local, i)
			r.touchStar(grp.star)
		}
	}
	// local_receiver_exclude(S,G,I)
	diffSorted(pick(old, true), pick(want, true), func(s addrKey) {
		if sg := r.sgs[sgKey{gk, s}]; sg != nil && sg.x != nil {
			deleteSorted(&sg.x.excl, i)
			r.touch(sg)
		}
	}, func(s addrKey) {
		if sg := r.getSG(sgKey{gk, s}, ifc); sg != nil {
			insertSorted(&sg.ext().excl, i)
			r.touch(sg)
		}
	})
	if !want.exclude && len(want.sources) == 0 {
		delete(ifc.listeners, gk)
	} else {
		ifc.listeners[gk] = want
	}
}

// diffSorted walks two sorted lists: gone is called for what is only in
// old, added for what is only in next.
func diffSorted(old, next []addrKey, gone, added func(addrKey)) {
	for a, b := 0, 0; a < len(old) || b < len(next); {
		var c int
		switch {
		case a == len(old):
			c = 1
		case b == len(next):
			c = -1
		default:
			c = old[a].Compare(next[b])
		}
		switch {
		case c < 0:
			gone(old[a])
			a++
		case c > 0:
			added(next[b])
			b++
		default:
			a++
			b++
		}
	}
}
