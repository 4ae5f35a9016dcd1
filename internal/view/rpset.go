package view

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim"
)

// rpSetOf shows the BSR state and every RP: those of the BSR's RP-set,
// the static ones and the embedded ones in use, each with how it is
// reached (the next hop toward it) or that it is this router; and the
// scope zones, each with its BSR and RP-set.
func rpSetOf(st *State, static []pim.RPState, b pim.BSRInfo, zones []pim.BSRZoneInfo) ctl.RPSet {
	pc := st.PIM.Config()
	var set ctl.RPSet
	if b.BSR.IsValid() {
		set.BSR = b.BSR
		set.BSRPriority = int(b.Priority)
		set.BSRHashMaskLen = int(b.HashMaskLen)
		set.BSRTimeout = ctl.Duration(b.Timeout)
	}
	if cb := pc.CandidateBSR; cb != nil {
		set.CandidateBSR = &ctl.CandidateBSR{Address: cb.Addr, Priority: int(cb.Priority), HashMaskLen: int(cb.HashMaskLen), State: string(b.State)}
	}
	if cp := pc.CandidateRP; cp != nil {
		set.CandidateRP = &ctl.CandidateRP{Address: cp.Addr, Priority: int(cp.Priority), Holdtime: ctl.Duration(cp.Holdtime),
			Groups: cp.Groups, NextAdvertisement: ctl.Duration(b.NextAdvertisement)}
	}
	rp := func(addr netip.Addr, origin string) *ctl.RP { return rpIn(st, &set.RPs, addr, origin) }
	for _, e := range b.RPSet {
		c := rp(e.RP, ctl.RPOriginBSR)
		c.Groups = append(c.Groups, ctl.RPGroup{Prefix: e.Prefix, Priority: int(e.Priority), Holdtime: ctl.Duration(e.Holdtime), Left: ctl.Duration(e.Left)})
	}
	for _, s := range static {
		c := rp(s.Addr, ctl.RPOriginStatic)
		for _, g := range s.Groups {
			c.Groups = append(c.Groups, ctl.RPGroup{Prefix: g})
		}
	}
	for _, e := range b.Embedded {
		c := rp(e.RP, ctl.RPOriginEmbedded)
		c.Groups = append(c.Groups, ctl.RPGroup{Prefix: e.Prefix})
	}
	set.Zones = zonesOf(st, pc, zones)
	return set
}

// rpIn returns the entry of the RP addr of origin in rps, added (with how
// it is reached) when not there yet.
func rpIn(st *State, rps *[]ctl.RP, addr netip.Addr, origin string) *ctl.RP {
	for i := range *rps {
		if (*rps)[i].Address == addr && (*rps)[i].Origin == origin {
			return &(*rps)[i]
		}
	}
	c := ctl.RP{Address: addr, Origin: origin, Myself: slices.Contains(st.Local, addr)}
	if !c.Myself {
		r, ok := st.PIM.RPFOf(addr)
		if !ok {
			r = lookupRPF(st.Kernel, addr)
		}
		if r.Valid {
			// An RP on a link of ours is its own next hop.
			c.Upstream = cmp.Or(r.NextHop, addr)
			c.UpstreamIf = st.name(r.IfIndex)
		}
	}
	*rps = append(*rps, c)
	return &(*rps)[len(*rps)-1]
}

// zonesOf shows the administrative scope zones (RFC 5059 1.3): each one's
// BSR, this router's candidacy there and its RP-set.
func zonesOf(st *State, pc pim.Config, zones []pim.BSRZoneInfo) []ctl.RPSetZone {
	var out []ctl.RPSetZone
	for _, z := range zones {
		v := ctl.RPSetZone{Range: z.Range, Border: z.Border, Learned: !z.Configured, State: string(z.State), RPs: []ctl.RP{}}
		if z.BSR.IsValid() {
			v.BSR = z.BSR
			v.BSRPriority = int(z.Priority)
			v.BSRHashMaskLen = int(z.HashMaskLen)
			v.BSRTimeout = ctl.Duration(z.Timeout)
		}
		for _, zc := range pc.BSRZones {
			if cb := zc.CandidateBSR; zc.Range == z.Range && cb != nil {
				v.CandidateBSR = &ctl.CandidateBSR{Address: cb.Addr, Priority: int(cb.Priority), HashMaskLen: int(cb.HashMaskLen), State: string(z.State)}
			}
		}
		for _, e := range z.RPSet {
			c := rpIn(st, &v.RPs, e.RP, ctl.RPOriginBSR)
			c.Groups = append(c.Groups, ctl.RPGroup{Prefix: e.Prefix, Priority: int(e.Priority), Holdtime: ctl.Duration(e.Holdtime), Left: ctl.Duration(e.Left)})
		}
		out = append(out, v)
	}
	return out
}

// lookupRPF asks the kernel for the route toward an RP that PIM does not
// watch (the RP of no group with state): its next hop and interface.
func lookupRPF(k Lookup, addr netip.Addr) pim.RPF {
	r, err := k.RouteTo(addr)
	if err != nil {
		return pim.RPF{}
	}
	return pim.RPF{Valid: true, IfIndex: r.LinkIndex, NextHop: r.Gateway}
}
