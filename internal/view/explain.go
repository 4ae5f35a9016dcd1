package view

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// Explain answers "why does this flow (not) reach my receivers?" for
// (source, group), or (*,group) when source is the zero Addr: it walks the
// group's mode and RP, the live RPF lookups toward the source and the RP,
// every interface's downstream state, the PIM entries and the kernel's
// forwarding entry (see ctl.Explain). The daemon calls it on its loop, so
// that everything it reads is one instant's state.
func Explain(st *State, source, group netip.Addr) *ctl.Explain {
	x := &explainer{st: st, now: st.Now, src: source.WithZone(""), grp: group.WithZone(""), pimCfg: st.PIM.Config()}
	x.run()
	return &x.e
}

// explainer is one walk.
type explainer struct {
	st       *State
	now      time.Time
	src, grp netip.Addr
	e        ctl.Explain

	ssm    bool
	pimCfg pim.Config // the engine's configuration in force
	pimIfs map[int]*pim.InterfaceState
	sg     *pim.RouteState
	star   *pim.StarGState
	// iif is the interface the flow arrives on (0: unknown).
	iif int
	// srcConnected: the source is on a link of ours.
	srcConnected bool
}

func (x *explainer) step(section, check string, v ctl.Verdict, ifname, format string, args ...any) {
	x.e.Steps = append(x.e.Steps, ctl.ExplainStep{Section: section, Check: check, Verdict: v, Interface: ifname, Reason: fmt.Sprintf(format, args...)})
}

func (x *explainer) ifname(ifindex int) string {
	if ifindex == pim.RegisterIf {
		return "pim6reg"
	}
	if n := x.st.name(ifindex); n != "" {
		return n
	}
	return fmt.Sprintf("ifindex %d", ifindex)
}

func (x *explainer) names(ifindexes []int) []string {
	var out []string
	for _, i := range ifindexes {
		out = append(out, x.ifname(i))
	}
	return out
}

func (x *explainer) run() {
	x.e = ctl.Explain{Source: x.src, Group: x.grp, Interfaces: []ctl.ExplainInterface{}, Steps: []ctl.ExplainStep{}}
	if !x.groupStep() {
		x.verdict(nil)
		return
	}
	// Only the flow's entries: the walk's cost does not grow with the
	// routing table.
	ifs := x.st.PIM.InterfaceStates(x.now)
	x.pimIfs = map[int]*pim.InterfaceState{}
	for i := range ifs {
		x.pimIfs[ifs[i].IfIndex] = &ifs[i]
	}
	if x.src.IsValid() {
		if r, ok := x.st.PIM.RouteStateOf(x.now, pim.SG{Source: x.src, Group: x.grp}); ok {
			x.sg = &r
		}
	}
	if g, ok := x.st.PIM.StarGStateOf(x.now, x.grp); ok {
		x.star = &g
	}
	x.upstream()
	olist := x.downstream()
	x.entries()
	x.kernelSteps()
	x.verdict(olist)
}

// groupStep checks the group and, for ASM, its RP; false when the walk
// cannot go on.
func (x *explainer) groupStep() bool {
	g := x.grp
	if scope := g.As16()[1] & 0x0f; scope < 3 {
		x.e.Mode = "invalid"
		x.step(ctl.SectionGroup, ctl.CheckGroup, ctl.VerdictProblem, "", "%s has scope %d (interface- or link-local): it never leaves the link and is never routed", g, scope)
		return false
	}
	for _, p := range x.pimCfg.SSMRange {
		if p.Contains(g) {
			x.ssm = true
			x.e.Mode = "ssm"
			if !x.src.IsValid() {
				x.step(ctl.SectionGroup, ctl.CheckGroup, ctl.VerdictProblem, "", "%s is an SSM group (in %s): receivers must name a source; ask with pim6stat explain SOURCE %s", g, p, g)
				return true
			}
			x.step(ctl.SectionGroup, ctl.CheckGroup, ctl.VerdictOK, "", "%s is an SSM group (in %s): the flow comes down the source's tree, no RP", g, p)
			return true
		}
	}
	x.e.Mode = "asm"
	x.step(ctl.SectionGroup, ctl.CheckGroup, ctl.VerdictInfo, "", "%s is an ASM group (not in the SSM range): the flow needs an RP", g)
	rp, ok := x.st.PIM.RP(g)
	if !ok {
		x.step(ctl.SectionGroup, ctl.CheckRP, ctl.VerdictProblem, "", "no RP for the group (%s)", x.noRPHint())
		return true
	}
	r := &ctl.ExplainRP{Address: rp, Self: slices.Contains(x.st.Local, rp)}
	r.Origin, r.BSR, r.Zone = x.origin(rp)
	x.e.RP = r
	zone := ""
	if r.Zone.IsValid() {
		zone = " of scope zone " + r.Zone.String()
	}
	why := map[string]string{
		ctl.RPOriginStatic:   "static mapping",
		ctl.RPOriginOverride: "static mapping with override",
		ctl.RPOriginBSR:      "from the BSR " + r.BSR.String() + zone,
		ctl.RPOriginEmbedded: "embedded in the group address (RFC 3956)",
	}[r.Origin]
	if why == "" {
		why = "origin unknown"
	}
	self := ""
	if r.Self {
		self = "; this router is the RP"
	}
	x.step(ctl.SectionGroup, ctl.CheckRP, ctl.VerdictOK, "", "RP %s (%s)%s", rp, why, self)
	return true
}

// noRPHint says why no mapping covers the group.
func (x *explainer) noRPHint() string {
	bsr, zone := x.st.PIM.BSRFor(x.grp)
	var parts []string
	if len(x.pimCfg.RPs) == 0 {
		parts = append(parts, "no static RP configured")
	} else {
		parts = append(parts, "no static RP covers it")
	}
	switch {
	case bsr.IsValid() && zone.IsValid():
		parts = append(parts, fmt.Sprintf("the RP-set of the BSR %s of its scope zone %v has no RP for it", bsr, zone))
	case bsr.IsValid():
		parts = append(parts, fmt.Sprintf("the BSR %s's RP-set has no RP for it", bsr))
	case zone.IsValid():
		parts = append(parts, fmt.Sprintf("no BSR known for its scope zone %v", zone))
	default:
		parts = append(parts, "no BSR known")
	}
	if _, ok := pim.EmbeddedRP(x.grp); ok {
		if x.pimCfg.EmbeddedRP {
			parts = append(parts, "Embedded-RP group refused (limit of Embedded-RP groups reached?)")
		} else {
			parts = append(parts, "an Embedded-RP group but embedded-rp is off")
		}
	}
	return strings.Join(parts, ", ")
}

// origin says where RP(G) came from, as the engine decided it
// (ctl.RPOrigin...), and for an RP from an RP-set the elected BSR and its
// scope zone (zero: the global zone).
func (x *explainer) origin(rp netip.Addr) (string, netip.Addr, netip.Prefix) {
	got, origin, ok := x.st.PIM.RPOrigin(x.grp)
	if !ok || got != rp {
		return "", netip.Addr{}, netip.Prefix{}
	}
	if origin == pim.OriginBSR {
		bsr, zone := x.st.PIM.BSRFor(x.grp)
		return rpOrigin(origin), bsr, zone
	}
	return rpOrigin(origin), netip.Addr{}, netip.Prefix{}
}

// upstream walks the RPF lookups: toward the source (SSM, and the SPT of
// ASM) and toward the RP (ASM).
func (x *explainer) upstream() {
	if x.src.IsValid() {
		rpf := x.rpf(ctl.RPFTargetSource, x.src)
		if rpf.Found && !rpf.Local {
			x.iif = x.st.ifIndexOf(rpf.Interface)
		}
	}
	if x.e.Mode == "asm" && x.e.RP != nil {
		rpf := x.rpf(ctl.RPFTargetRP, x.e.RP.Address)
		if !x.src.IsValid() && rpf.Found && !rpf.Local {
			x.iif = x.st.ifIndexOf(rpf.Interface)
		}
	}
	// Where an (S,G) entry forwards from elsewhere (the RP tree before the
	// SPT switch, the register MIF at the RP), its incoming interface
	// counts.
	if x.sg != nil && x.sg.IIF != 0 {
		x.iif = x.sg.IIF
	}
}

// ifIndexOf is the index of the interface named name, 0 when none is.
func (s *State) ifIndexOf(name string) int {
	for _, i := range s.Interfaces {
		if i.Name == name {
			return i.Index
		}
	}
	return 0
}

// rpf looks up the route toward addr now and checks it leads to a PIM
// neighbor (or that addr is on a link of ours).
func (x *explainer) rpf(target string, addr netip.Addr) ctl.ExplainRPF {
	what := map[string]string{ctl.RPFTargetSource: "the source", ctl.RPFTargetRP: "the RP"}[target]
	check := map[string]string{ctl.RPFTargetSource: ctl.CheckRouteSource, ctl.RPFTargetRP: ctl.CheckRouteRP}[target]
	r := ctl.ExplainRPF{Target: target, Address: addr}
	defer func() { x.e.RPF = append(x.e.RPF, r) }()
	if slices.Contains(x.st.Local, addr) {
		r.Found, r.Local = true, true
		if target == ctl.RPFTargetRP {
			x.step(ctl.SectionUpstream, check, ctl.VerdictInfo, "", "this router is the RP %s: (*,G) Joins end here, sources reach it by Register or (S,G) Joins", addr)
		} else {
			x.step(ctl.SectionUpstream, check, ctl.VerdictInfo, "", "the source %s is an address of this router", addr)
		}
		return r
	}
	kr, err := x.st.Kernel.RouteTo(addr)
	switch {
	case errors.Is(err, kernel.ErrNoRoute):
		x.step(ctl.SectionUpstream, check, ctl.VerdictProblem, "", "no route to %s %s", what, addr)
		return r
	case err != nil:
		x.step(ctl.SectionUpstream, check, ctl.VerdictProblem, "", "route lookup toward %s %s failed: %v", what, addr, err)
		return r
	}
	r.Found = true
	r.Prefix, r.NextHop, r.Metric = kr.Dst, kr.Gateway.WithZone(""), kr.Metric
	r.Interface = x.ifname(kr.LinkIndex)
	r.Connected = !r.NextHop.IsValid()
	if r.Connected {
		x.step(ctl.SectionUpstream, check, ctl.VerdictOK, r.Interface, "%s %s is directly connected: route %s dev %s metric %d", what, addr, kr.Dst, r.Interface, kr.Metric)
	} else {
		x.step(ctl.SectionUpstream, check, ctl.VerdictOK, r.Interface, "route to %s %s: %s via %s dev %s metric %d", what, addr, kr.Dst, r.NextHop, r.Interface, kr.Metric)
	}
	i := x.st.iface(kr.LinkIndex)
	pif := x.pimIfs[kr.LinkIndex]
	r.PIM = i != nil && i.PIM && pif != nil
	if target == ctl.RPFTargetSource && r.Connected {
		// A first-hop router: no Join goes upstream; the flow enters from
		// the source's link, which needs a MIF.
		x.srcConnected = true
		if _, has := x.st.mif(kr.LinkIndex); i == nil || !has {
			x.step(ctl.SectionUpstream, ctl.CheckRPFInterface, ctl.VerdictProblem, r.Interface, "%s is not a multicast interface of pim6sd (MLD and PIM off, or not eligible): packets from the source cannot be forwarded", r.Interface)
			return r
		}
		x.firstHop(r.Interface, pif)
		return r
	}
	if !r.PIM {
		x.step(ctl.SectionUpstream, ctl.CheckRPFInterface, ctl.VerdictProblem, r.Interface, "PIM does not run on %s, the RPF interface toward %s: no Join can go upstream", r.Interface, what)
		return r
	}
	x.step(ctl.SectionUpstream, ctl.CheckRPFInterface, ctl.VerdictOK, r.Interface, "PIM runs on %s, the RPF interface toward %s", r.Interface, what)
	nh := r.NextHop
	if !nh.IsValid() {
		nh = addr // an RP on a link of ours is its own next hop
	}
	var others []string
	for _, n := range pif.Neighbors {
		if n.Address.WithZone("") == nh || slices.ContainsFunc(n.Secondary, func(a netip.Addr) bool { return a.WithZone("") == nh }) {
			r.Neighbor = n.Address.WithZone("")
		}
		others = append(others, n.Address.String())
	}
	switch {
	case r.Neighbor.IsValid():
		x.step(ctl.SectionUpstream, ctl.CheckUpstreamNbr, ctl.VerdictOK, r.Interface, "PIM neighbor %s upstream on %s", r.Neighbor, r.Interface)
	case len(others) == 0:
		x.step(ctl.SectionUpstream, ctl.CheckUpstreamNbr, ctl.VerdictProblem, r.Interface, "no PIM neighbor upstream on %s (next hop %s sends no PIM Hellos)", r.Interface, nh)
	default:
		x.step(ctl.SectionUpstream, ctl.CheckUpstreamNbr, ctl.VerdictProblem, r.Interface, "no PIM neighbor upstream on %s: the next hop %s is not one (neighbors there: %s)", r.Interface, nh, strings.Join(others, ", "))
	}
	return r
}

// firstHop describes this router as the source's first-hop router.
func (x *explainer) firstHop(ifname string, pif *pim.InterfaceState) {
	var b strings.Builder
	fmt.Fprintf(&b, "the source is on %s: this router is a first-hop router", ifname)
	switch {
	case pif == nil:
		b.WriteString(" (PIM does not run there)")
	case pif.DRSelf:
		b.WriteString(" and the DR there")
	default:
		fmt.Fprintf(&b, "; the DR there is %s", pif.DR)
	}
	if x.e.Mode == "asm" {
		switch {
		case x.sg != nil && x.sg.Register != pim.RegisterNoInfo:
			fmt.Fprintf(&b, "; Register state %s", x.sg.Register)
		case pif != nil && pif.DRSelf:
			b.WriteString("; Register state NoInfo (no packet from the source seen, or this router is the RP)")
		default:
			b.WriteString("; the DR registers the source to the RP")
		}
	}
	x.step(ctl.SectionUpstream, ctl.CheckFirstHop, ctl.VerdictInfo, ifname, "%s", b.String())
}

// olist is the desired outgoing list of the flow.
func (x *explainer) olist() []int {
	switch {
	case x.src.IsValid() && x.sg != nil:
		return x.sg.InheritedOlist
	case x.star != nil && !x.ssm:
		return x.star.ImmediateOlist
	}
	return nil
}

// downstream walks every interface; it returns the names of those the flow
// goes out of.
func (x *explainer) downstream() []string {
	olist := x.olist()
	var out []string
	for k := range x.st.Interfaces {
		i := &x.st.Interfaces[k]
		mif, has := x.st.mif(i.Index)
		if !has {
			continue
		}
		ei := x.iface(i, mif, olist)
		x.e.Interfaces = append(x.e.Interfaces, ei)
		if ei.Forwards {
			out = append(out, ei.Name)
		}
	}
	return out
}

func (x *explainer) iface(i *Interface, mif kernel.MIF, olist []int) ctl.ExplainInterface {
	ei := ctl.ExplainInterface{Name: i.Name, MIF: int(mif)}
	pif := x.pimIfs[i.Index]
	if pif != nil {
		ei.PIM, ei.DR, ei.DRSelf = true, pif.DR, pif.DRSelf
		for _, n := range pif.Neighbors {
			ei.Neighbors = append(ei.Neighbors, n.Address)
		}
	}
	// MLD listeners.
	partial := false
	if l, ok := x.st.listener(i.Index, x.grp); ok {
		ei.Listeners = "include"
		if l.Mode == mld.Exclude {
			ei.Listeners = "exclude"
		}
		ei.ListenerSources = slices.Clone(l.Sources)
		has := slices.Contains(l.Sources, x.src)
		switch {
		case !x.src.IsValid():
			ei.ListenersWant = l.Mode == mld.Exclude
			partial = l.Mode == mld.Include && len(l.Sources) > 0
		case l.Mode == mld.Exclude:
			ei.ListenersWant = !has
		default:
			ei.ListenersWant = has
			partial = !has && len(l.Sources) > 0
		}
	}
	// Downstream PIM state.
	joined, rptPruned := false, false
	var expiry time.Duration
	add := func(kind string, ds []pim.DownstreamState) {
		for _, d := range ds {
			if d.IfIndex != i.Index {
				continue
			}
			ei.Joins = append(ei.Joins, ctl.ExplainJoin{Kind: kind, State: d.State.String(), ExpiryLeft: ctl.Duration(d.ExpiryLeft), Forever: d.Forever})
			joined = true
			expiry = max(expiry, d.ExpiryLeft)
		}
	}
	if x.sg != nil {
		add("(S,G)", x.sg.Downstream)
		for _, d := range x.sg.RPTDownstream {
			if d.IfIndex == i.Index {
				ei.Joins = append(ei.Joins, ctl.ExplainJoin{Kind: "(S,G,rpt)", State: d.State.String(), ExpiryLeft: ctl.Duration(d.ExpiryLeft), Forever: d.Forever})
				rptPruned = true
			}
		}
		if slices.Contains(x.sg.ExcludedOn, i.Index) {
			rptPruned = true
		}
	}
	if x.star != nil && !x.ssm {
		add("(*,G)", x.star.Downstream)
	}
	var lost *pim.AssertInfo
	for _, as := range x.asserts() {
		if as.IfIndex == i.Index && as.State == pim.AssertLoser {
			lost = &as
		}
	}

	inOlist := slices.Contains(olist, i.Index)
	why := func() string {
		var w []string
		if ei.ListenersWant {
			w = append(w, fmt.Sprintf("MLD listeners (%s)", listenerWords(ei)))
		}
		if joined {
			j := "a downstream PIM Join"
			if len(ei.Neighbors) > 0 {
				j += fmt.Sprintf(" (neighbors: %s)", joinAddrs(ei.Neighbors))
			}
			if expiry > 0 {
				j += fmt.Sprintf(", expires in %s", roundUp(expiry))
			}
			w = append(w, j)
		}
		if len(w) == 0 {
			return "in the outgoing list"
		}
		return strings.Join(w, " and ")
	}
	verdict := func(v ctl.Verdict, state, format string, args ...any) {
		ei.State = state
		x.step(ctl.SectionDownstream, ctl.CheckDownstream, v, i.Name, format, args...)
	}
	switch {
	case i.Index == x.iif && x.iif != 0:
		verdict(ctl.VerdictInfo, ctl.DownstreamUpstream, "%s is the incoming (RPF) interface of the flow: it arrives here, it is not sent back out", i.Name)
	case inOlist && lost == nil:
		ei.Forwards = true
		verdict(ctl.VerdictOK, ctl.DownstreamForwards, "forwards here: %s", why())
	case lost != nil:
		verdict(ctl.VerdictInfo, ctl.DownstreamLostAssert, "lost the assert on %s to %s: it forwards onto this link, not this router", i.Name, lost.Winner)
	case ei.ListenersWant && !ei.PIM:
		verdict(ctl.VerdictProblem, ctl.DownstreamNoPIM, "receiver on %s but PIM does not run there: pim6sd forwards only to PIM interfaces", i.Name)
	case ei.ListenersWant && !ei.DRSelf && !joined:
		verdict(ctl.VerdictProblem, ctl.DownstreamNotDR, "receiver on a link where this router is not DR (DR is %s)", ei.DR)
	case (ei.ListenersWant || joined) && rptPruned:
		verdict(ctl.VerdictInfo, ctl.DownstreamNothing, "the source is pruned off the RP tree here ((S,G,rpt) Prune or MLD exclude)")
	case ei.ListenersWant || joined:
		verdict(ctl.VerdictProblem, ctl.DownstreamNotInList, "wanted here (%s) but not in the outgoing list", why())
	case partial:
		verdict(ctl.VerdictInfo, ctl.DownstreamNothing, "listeners here want other sources only (%s)", listenerWords(ei))
	default:
		verdict(ctl.VerdictInfo, ctl.DownstreamNothing, "nothing wanted: no MLD listeners or PIM Joins for the flow")
	}
	return ei
}

func listenerWords(ei ctl.ExplainInterface) string {
	if len(ei.ListenerSources) == 0 {
		return ei.Listeners + " {}"
	}
	return fmt.Sprintf("%s {%s}", ei.Listeners, joinAddrs(ei.ListenerSources))
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for k, a := range as {
		s[k] = a.String()
	}
	return strings.Join(s, ", ")
}

func roundUp(d time.Duration) time.Duration { return (d + time.Second - 1).Truncate(time.Second) }

// asserts are the Assert machines of the flow's entries.
func (x *explainer) asserts() []pim.AssertInfo {
	var out []pim.AssertInfo
	if x.sg != nil {
		out = append(out, x.sg.Asserts...)
	}
	if x.star != nil && !x.ssm {
		out = append(out, x.star.Asserts...)
	}
	return out
}

// entries reports the PIM routing entries of the flow.
func (x *explainer) entries() {
	found := false
	if x.src.IsValid() && x.sg != nil {
		found = true
		r := x.sg
		e := ctl.ExplainEntry{Kind: "(S,G)", Upstream: r.Upstream.String(), JoinDesired: r.JoinDesired, SPTBit: r.SPTBit,
			RPFNeighbor: r.RPFNeighbor, KeepaliveLeft: ctl.Duration(r.KeepaliveLeft), Outgoing: x.names(r.OIFs)}
		if r.RPFNeighborIf != 0 {
			e.RPFInterface = x.ifname(r.RPFNeighborIf)
		}
		if !r.SSM {
			e.Register = r.Register.String()
		}
		if r.IIF != 0 {
			e.Incoming = x.ifname(r.IIF)
		}
		e.Asserts = x.explainAsserts(r.Asserts)
		x.e.Entries = append(x.e.Entries, e)
		desc := fmt.Sprintf("(S,G): upstream %s", e.Upstream)
		if e.RPFNeighbor.IsValid() {
			desc += fmt.Sprintf(", RPF' %s on %s", e.RPFNeighbor, e.RPFInterface)
		}
		desc += fmt.Sprintf(", JoinDesired %v, SPT bit %v", e.JoinDesired, e.SPTBit)
		if e.Register != "" {
			desc += ", Register " + e.Register
		}
		if e.Incoming != "" {
			desc += fmt.Sprintf("; iif %s, oifs %s", e.Incoming, orNone(e.Outgoing))
		}
		switch {
		case r.JoinDesired && !r.RPFNeighbor.IsValid() && !x.srcConnected && !slices.Contains(x.st.Local, x.src):
			x.step(ctl.SectionPIM, ctl.CheckEntry, ctl.VerdictProblem, "", "%s: wants to join toward the source but RPF'(S,G) is NULL: no Join goes upstream", desc)
		default:
			x.step(ctl.SectionPIM, ctl.CheckEntry, ctl.VerdictInfo, "", "%s", desc)
		}
		if r.HasRPTState {
			e := ctl.ExplainEntry{Kind: "(S,G,rpt)", Upstream: r.RPT.String(), RPFNeighbor: r.RPTNeighbor}
			if r.RPTNeighborIf != 0 {
				e.RPFInterface = x.ifname(r.RPTNeighborIf)
			}
			x.e.Entries = append(x.e.Entries, e)
			x.step(ctl.SectionPIM, ctl.CheckEntry, ctl.VerdictInfo, "", "(S,G,rpt): %s; pruned on %s", e.Upstream, orNone(x.rptPrunedOn()))
		}
	}
	if x.star != nil && !x.ssm {
		found = true
		g := x.star
		e := ctl.ExplainEntry{Kind: "(*,G)", Upstream: g.Upstream.String(), JoinDesired: g.JoinDesired, RPFNeighbor: g.RPFNeighbor,
			Outgoing: x.names(g.ImmediateOlist), Asserts: x.explainAsserts(g.Asserts)}
		if g.RPFNeighborIf != 0 {
			e.RPFInterface = x.ifname(g.RPFNeighborIf)
		}
		if g.RPF.Valid {
			e.Incoming = x.ifname(g.RPF.IfIndex)
		}
		if g.IAmRP {
			e.Incoming = "pim6reg"
		}
		x.e.Entries = append(x.e.Entries, e)
		desc := fmt.Sprintf("(*,G): upstream %s", e.Upstream)
		if e.RPFNeighbor.IsValid() {
			desc += fmt.Sprintf(", RPF' %s on %s", e.RPFNeighbor, e.RPFInterface)
		}
		desc += fmt.Sprintf(", JoinDesired %v; oifs %s", e.JoinDesired, orNone(e.Outgoing))
		if g.IAmRP {
			desc += "; this router is the RP"
		}
		if g.JoinDesired && !g.RPFNeighbor.IsValid() && !g.IAmRP {
			x.step(ctl.SectionPIM, ctl.CheckEntry, ctl.VerdictProblem, "", "%s: wants to join toward the RP but RPF'(*,G) is NULL: no Join goes upstream", desc)
		} else {
			x.step(ctl.SectionPIM, ctl.CheckEntry, ctl.VerdictInfo, "", "%s", desc)
		}
	}
	if !found {
		what := "(S,G)"
		if !x.src.IsValid() {
			what = "(*,G)"
		} else if !x.ssm {
			what = "(S,G) or (*,G)"
		}
		x.step(ctl.SectionPIM, ctl.CheckEntry, ctl.VerdictInfo, "", "no %s state: no receiver or downstream router asked for the flow here", what)
	}
	for _, a := range x.asserts() {
		name := x.ifname(a.IfIndex)
		switch a.State {
		case pim.AssertLoser:
			x.step(ctl.SectionPIM, ctl.CheckAssert, ctl.VerdictInfo, name, "assert loser on %s: the winner %s forwards onto the link", name, a.Winner)
		case pim.AssertWinner:
			x.step(ctl.SectionPIM, ctl.CheckAssert, ctl.VerdictInfo, name, "assert winner on %s: this router forwards onto the link", name)
		}
	}
}

func (x *explainer) rptPrunedOn() []string {
	var out []string
	for _, d := range x.sg.RPTDownstream {
		out = append(out, x.ifname(d.IfIndex))
	}
	return out
}

func (x *explainer) explainAsserts(as []pim.AssertInfo) []ctl.ExplainAssert {
	var out []ctl.ExplainAssert
	for _, a := range as {
		out = append(out, ctl.ExplainAssert{Interface: x.ifname(a.IfIndex), State: a.State.String(), Winner: a.Winner, Left: ctl.Duration(a.Left)})
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

// mifName names a MIF.
func (x *explainer) mifName(m uint16) string {
	if ifindex, ok := x.st.MRIB.IfIndex(m); ok {
		if ifindex == pim.RegisterIf {
			return "pim6reg"
		}
		if name := x.st.name(ifindex); name != "" {
			return name
		}
	}
	return fmt.Sprintf("mif%d", m)
}

// mifOf is the MIF of an interface the engines name.
func (x *explainer) mifOf(ifindex int) (uint16, bool) {
	if ifindex != pim.RegisterIf && x.st.iface(ifindex) == nil {
		return 0, false
	}
	m, ok := x.st.mif(ifindex)
	return uint16(m), ok
}

// kernelSteps compare the kernel's entries of the flow with what the daemon
// wants, and read their counters.
func (x *explainer) kernelSteps() {
	installed := x.st.MRIB.Installed()
	if !x.src.IsValid() {
		var lines []string
		for _, in := range installed {
			if in.SG.Group != x.grp {
				continue
			}
			m := x.mfc(in.SG, &in)
			x.e.Kernel = append(x.e.Kernel, m)
			lines = append(lines, fmt.Sprintf("%s: iif %s, oifs %s, %d packets", in.SG.Source, m.IIF, orNone(m.OIFs), m.Packets))
		}
		if len(lines) == 0 {
			x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictInfo, "", "no kernel entries for the group (they are per source, made when packets arrive)")
		} else {
			x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictInfo, "", "%d kernel entries for the group: %s", len(lines), strings.Join(lines, "; "))
		}
		return
	}
	sg := mrib.SG{Source: x.src, Group: x.grp}
	var in *mrib.Installed
	for k := range installed {
		if installed[k].SG == sg {
			in = &installed[k]
		}
	}
	m := x.mfc(sg, in)
	x.e.Kernel = append(x.e.Kernel, m)
	switch {
	case m.Installed && len(m.OIFs) == 0:
		x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictInfo, m.IIF, "installed with iif %s and no outgoing interface: the flow is dropped here on purpose (nobody wants it, or Registers are suppressed); %d packets, %d bytes", m.IIF, m.Packets, m.Bytes)
	case m.Installed:
		idle := ""
		if m.Packets == 0 {
			idle = " (no packet yet: is the source sending?)"
		}
		x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictOK, m.IIF, "installed: iif %s, oifs %s; %d packets, %d bytes%s", m.IIF, strings.Join(m.OIFs, ","), m.Packets, m.Bytes, idle)
	case x.ssm:
		x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictInfo, "", "no kernel entry for the flow")
	default:
		x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictInfo, "", "no kernel entry for the flow (ASM entries are made when the first packet arrives)")
	}
	if m.WrongIf > 0 {
		if m.WrongIf == m.Packets {
			x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictProblem, m.IIF, "all %d packets arrived on an interface other than the iif %s: the flow comes in elsewhere than the RPF route toward it", m.WrongIf, m.IIF)
		} else {
			x.step(ctl.SectionKernel, ctl.CheckMFC, ctl.VerdictInfo, m.IIF, "%d of %d packets arrived on an interface other than the iif %s (an SPT switch or an Assert)", m.WrongIf, m.Packets, m.IIF)
		}
	}
	switch {
	case m.Consistent && !m.Desired:
		x.step(ctl.SectionKernel, ctl.CheckMRIB, ctl.VerdictOK, "", "nothing desired, nothing installed")
	case m.Consistent:
		x.step(ctl.SectionKernel, ctl.CheckMRIB, ctl.VerdictOK, "", "the kernel holds the desired forwarding (iif %s, oifs %s)", m.DesiredIIF, orNone(m.DesiredOIFs))
	case m.Desired && !m.Installed:
		x.step(ctl.SectionKernel, ctl.CheckMRIB, ctl.VerdictProblem, "", "desired forwarding (iif %s, oifs %s) is not installed in the kernel (pending, or it failed: see the log)", m.DesiredIIF, orNone(m.DesiredOIFs))
	case !m.Desired:
		x.step(ctl.SectionKernel, ctl.CheckMRIB, ctl.VerdictProblem, "", "the kernel holds an entry (iif %s, oifs %s) that is no longer desired (removal pending, or it failed: see the log)", m.IIF, orNone(m.OIFs))
	default:
		x.step(ctl.SectionKernel, ctl.CheckMRIB, ctl.VerdictProblem, "", "desired iif %s, oifs %s but the kernel holds iif %s, oifs %s (update pending, or it failed: see the log)", m.DesiredIIF, orNone(m.DesiredOIFs), m.IIF, orNone(m.OIFs))
	}
}

// mfc describes one kernel entry (in nil: none installed) against the
// desired forwarding.
func (x *explainer) mfc(sg mrib.SG, in *mrib.Installed) ctl.ExplainMFC {
	m := ctl.ExplainMFC{Source: sg.Source, Group: sg.Group}
	var haveIIF uint16
	var haveOIFs []uint16
	if in != nil {
		m.Installed, haveIIF, haveOIFs = true, in.IIF, in.OIFs
		m.IIF = x.mifName(in.IIF)
		for _, o := range in.OIFs {
			m.OIFs = append(m.OIFs, x.mifName(o))
		}
		if c, err := x.st.Kernel.SGCount(sg.Source, sg.Group); err == nil {
			m.Packets, m.Bytes, m.WrongIf = c.Packets, c.Bytes, c.WrongIf
		}
	}
	// What the MRIB installs for the desired route (as mrib.want does):
	// nothing without a MIF for the iif, or when every wanted oif lacks
	// one.
	var wantIIF uint16
	var wantOIFs []uint16
	want := false
	if r, ok := x.st.MRIB.Desired(sg); ok && r.IIF != 0 {
		m.Desired = true
		m.DesiredIIF = x.ifname(r.IIF)
		m.DesiredOIFs = x.names(r.OIFs)
		if iif, ok := x.mifOf(r.IIF); ok {
			wantIIF, want = iif, true
			for _, o := range r.OIFs {
				if mo, ok := x.mifOf(o); ok && o != r.IIF {
					wantOIFs = append(wantOIFs, mo)
				}
			}
			if len(wantOIFs) == 0 && len(r.OIFs) > 0 {
				want = false
			}
		}
	}
	slices.Sort(wantOIFs)
	wantOIFs = slices.Compact(wantOIFs)
	haveOIFs = slices.Sorted(slices.Values(haveOIFs))
	m.Consistent = want == m.Installed && (!want || wantIIF == haveIIF && slices.Equal(wantOIFs, haveOIFs))
	return m
}

// verdict concludes: forwarding when nothing upstream is broken and some
// interface gets the flow; otherwise the first problem.
func (x *explainer) verdict(olist []string) {
	v := &x.e.Verdict
	var first, firstUp string
	for _, s := range x.e.Steps {
		if s.Verdict != ctl.VerdictProblem {
			continue
		}
		v.Problems++
		if first == "" {
			first = s.Reason
		}
		if firstUp == "" && (s.Section == ctl.SectionGroup || s.Section == ctl.SectionUpstream) {
			firstUp = s.Reason
		}
	}
	switch {
	case firstUp == "" && len(olist) > 0:
		v.Forwarding, v.Interfaces = true, olist
		v.Summary = "forwarding to " + strings.Join(olist, ", ")
	case first != "":
		v.Summary = "not forwarding: " + first
	default:
		v.Summary = "not forwarding: no receivers (no MLD listeners or PIM Joins for the flow on any interface)"
	}
}
