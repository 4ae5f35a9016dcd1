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
// (RFC 7761 section 4.1.5: local_receiver_include(S,G,I) for SSM groups,
// from an INCLUDE list). They count in immediate_olist(S,G) where we are
// the DR (pim_include). It replaces what the interface had for the group.
//
// Only SSM groups are routed in this stage: other groups are counted
// ("not-ssm") and ignored. EXCLUDE for an SSM group (which MLD does not
// produce, RFC 4604) is counted ("ssm-exclude") and read as no listeners.
// Updates for an interface PIM does not run on are ignored: the daemon
// enables PIM on every interface that forwards (a stub LAN is a PIM
// interface without neighbors, where we are the DR).
func (r *Router) SetListeners(now time.Time, u ListenerInput) []Action {
	ifc := r.ifaces[u.IfIndex]
	if ifc == nil || r.closed {
		return nil
	}
	n := r.begin(now)
	r.setListeners(ifc, u)
	return r.finish(n)
}

func (r *Router) setListeners(ifc *iface, u ListenerInput) {
	g := u.Group.WithZone("")
	switch {
	case !validGroup(g):
		ifc.stats.drop(DropGroup)
		return
	case !r.cfg.isSSM(g):
		ifc.stats.drop(DropNotSSM)
		return
	}
	var want []addrKey
	if u.Exclude {
		ifc.stats.drop(DropSSMExclude)
	} else {
		for _, s := range u.Sources {
			if s = s.WithZone(""); !validSource(s) {
				ifc.stats.drop(DropSource)
				continue
			}
			want = append(want, keyOf(s))
		}
		slices.SortFunc(want, addrKey.compare)
		want = slices.Compact(want)
	}
	gk := keyOf(g)
	old := ifc.listeners[gk]
	i := int32(ifc.index)
	// Walk both sorted lists: sources only in old leave, only in want join.
	for a, b := 0, 0; a < len(old) || b < len(want); {
		var c int
		switch {
		case a == len(old):
			c = 1
		case b == len(want):
			c = -1
		default:
			c = old[a].compare(want[b])
		}
		switch {
		case c < 0:
			if sg := r.sgs[sgKey{gk, old[a]}]; sg != nil {
				if k, ok := slices.BinarySearch(sg.local, i); ok {
					sg.local = slices.Delete(sg.local, k, k+1)
				}
				r.touch(sg)
			}
			a++
		case c > 0:
			if sg := r.getSG(sgKey{gk, want[b]}, ifc); sg != nil {
				if k, ok := slices.BinarySearch(sg.local, i); !ok {
					sg.local = slices.Insert(sg.local, k, i)
				}
				r.touch(sg)
			}
			b++
		default:
			a++
			b++
		}
	}
	if len(want) == 0 {
		delete(ifc.listeners, gk)
	} else {
		ifc.listeners[gk] = want
	}
}
