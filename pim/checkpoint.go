package pim

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Checkpoints: the state of an interface that a restarted router cannot
// derive, exported so that a daemon killed without a goodbye (kill -9:
// Linux removes what its routing socket installed) forwards again as soon
// as it is back. Per interface that is what its neighbors told it: their
// Hellos (RFC 7761 4.3.1: liveness, Generation ID, DR Priority, LAN Prune
// Delay, Address List), which make the DR and RPF' (4.3.2, 4.5), and the
// downstream Join/Prune state their Join/Prune messages made ((*,G) 4.5.1,
// (S,G) 4.5.2, (S,G,rpt) 4.5.3) with the Expiry and Prune-Pending Timers.
// The rest follows from it when restored: the upstream machines and
// routes are run again from the downstream state and the local receivers
// (which MLD's restore gives), and Joins go out as they would for new
// state. Not kept: our Generation ID (a restarted router sends a new one,
// 4.3.1, which makes the neighbors send their Joins again), Assert state
// (data on a LAN brings the Asserts back at once, 4.6), and what data
// makes (the Keepalive Timer, SPT bit, Register state, cache entries: the
// kernel's upcalls bring them back with the first packets).

// InterfaceCheckpoint is the state one interface learned from its
// neighbors.
type InterfaceCheckpoint struct {
	// Name is the interface's name: interfaces are matched by name, as
	// their indexes change when they are made again.
	Name      string               `json:"name"`
	Neighbors []NeighborCheckpoint `json:"neighbors,omitempty"`
	// StarG, SG and SGRpt are the downstream (*,G), (S,G) and (S,G,rpt)
	// machines of the interface out of NoInfo, by group then source.
	StarG []JoinCheckpoint `json:"star_g,omitempty"`
	SG    []JoinCheckpoint `json:"sg,omitempty"`
	SGRpt []JoinCheckpoint `json:"sg_rpt,omitempty"`
}

// NeighborCheckpoint is one neighbor: what its last Hello said, and the
// time left on its Neighbor Liveness Timer.
type NeighborCheckpoint struct {
	Address   netip.Addr   `json:"address"`
	Secondary []netip.Addr `json:"secondary,omitempty"`
	// Holdtime is the Hello's, in seconds (65535: never expires; Left is
	// then 0).
	Holdtime      uint16                `json:"holdtime"`
	Left          time.Duration         `json:"left,omitempty"`
	UpSince       time.Time             `json:"up_since"`
	GenerationID  *uint32               `json:"generation_id,omitempty"`
	DRPriority    *uint32               `json:"dr_priority,omitempty"`
	LANPruneDelay *pimmsg.LANPruneDelay `json:"lan_prune_delay,omitempty"`
}

// JoinCheckpoint is one downstream machine out of NoInfo: Join or
// Prune-Pending for (*,G) and (S,G), Prune or Prune-Pending for
// (S,G,rpt).
type JoinCheckpoint struct {
	Source netip.Addr `json:"source,omitzero"` // (S,G), (S,G,rpt)
	Group  netip.Addr `json:"group"`
	RP     netip.Addr `json:"rp,omitzero"` // (*,G): RP(G) when it was taken
	// PrunePending: in Prune-Pending, with PrunePendingLeft on the
	// Prune-Pending Timer.
	PrunePending     bool          `json:"prune_pending,omitempty"`
	PrunePendingLeft time.Duration `json:"prune_pending_left,omitempty"`
	// Forever: the Holdtime was 65535, which holds the state until a
	// Prune (4.9.5); otherwise ExpiryLeft is the time left on the Expiry
	// Timer.
	Forever    bool          `json:"forever,omitempty"`
	ExpiryLeft time.Duration `json:"expiry_left,omitempty"`
}

// Checkpoint exports the state every interface learned from its
// neighbors at now, sorted by interface name; neighbors by address,
// downstream machines by group then source. Interfaces without such
// state are left out.
func (r *Router) Checkpoint(now time.Time) []InterfaceCheckpoint {
	n := r.rel(now)
	byIf := make(map[int]*InterfaceCheckpoint, len(r.ifaces))
	of := func(i int32) *InterfaceCheckpoint {
		c := byIf[int(i)]
		if c == nil {
			ifc := r.ifaces[int(i)]
			if ifc == nil {
				return nil
			}
			c = &InterfaceCheckpoint{Name: ifc.name}
			byIf[int(i)] = c
		}
		return c
	}
	join := func(d downstream) JoinCheckpoint {
		jc := JoinCheckpoint{PrunePending: d.state == PrunePending, Forever: d.forever}
		if d.et.running() {
			jc.ExpiryLeft = left(d.et.at, n)
		}
		if jc.PrunePending {
			jc.PrunePendingLeft = r.q.Remaining(d.ppt, now)
		}
		return jc
	}
	for _, ifc := range r.ifaces {
		for _, nb := range ifc.sortedNeighbors() {
			nc := NeighborCheckpoint{Address: nb.addr, Secondary: slices.Clone(nb.secondary), Holdtime: nb.holdtime, UpSince: nb.upSince}
			if nb.nlt.running() {
				nc.Left = left(nb.nlt.at, n)
			}
			if nb.hasGenID {
				nc.GenerationID = new(nb.genID)
			}
			if nb.hasDRPriority {
				nc.DRPriority = new(nb.drPriority)
			}
			if nb.hasLANPruneDelay {
				nc.LANPruneDelay = new(nb.lanPruneDelay)
			}
			c := of(int32(ifc.index))
			c.Neighbors = append(c.Neighbors, nc)
		}
	}
	for _, g := range r.groups {
		st := g.star
		if st == nil {
			continue
		}
		for _, d := range st.down {
			if c := of(d.ifindex); c != nil {
				jc := join(d)
				jc.Group = g.key.Addr()
				if g.hasRP {
					jc.RP = g.rp.Addr()
				}
				c.StarG = append(c.StarG, jc)
			}
		}
	}
	for _, sg := range r.sgs {
		for _, d := range sg.down {
			if c := of(d.ifindex); c != nil {
				jc := join(d)
				jc.Source, jc.Group = sg.key.s.Addr(), sg.key.g.Addr()
				c.SG = append(c.SG, jc)
			}
		}
		if sg.x == nil {
			continue
		}
		for _, d := range sg.x.rptDown {
			c := of(d.ifindex)
			if c == nil {
				continue
			}
			// The Tmp states live only within a message.
			pending := d.state == RPTPrunePending || d.state == RPTPrunePendingTmp
			jc := JoinCheckpoint{Source: sg.key.s.Addr(), Group: sg.key.g.Addr(), PrunePending: pending, Forever: d.forever}
			if d.et.running() {
				jc.ExpiryLeft = left(d.et.at, n)
			}
			if pending {
				jc.PrunePendingLeft = r.q.Remaining(d.ppt, now)
			}
			c.SGRpt = append(c.SGRpt, jc)
		}
	}
	out := make([]InterfaceCheckpoint, 0, len(byIf))
	for _, c := range byIf {
		for _, l := range [][]JoinCheckpoint{c.StarG, c.SG, c.SGRpt} {
			slices.SortFunc(l, compareJoin)
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b InterfaceCheckpoint) int { return strings.Compare(a.Name, b.Name) })
	if len(out) == 0 {
		return nil
	}
	return out
}

func compareJoin(a, b JoinCheckpoint) int {
	if c := a.Group.Compare(b.Group); c != 0 {
		return c
	}
	return a.Source.Compare(b.Source)
}

// RestoreOptions say how a checkpoint is restored.
type RestoreOptions struct {
	// Taken is when the checkpoint was taken: the time from Taken to the
	// restore's now is taken off every timer, and what ran out meanwhile
	// has expired (as its timer's expiry would have done it). Zero: now.
	Taken time.Time
	// Hold, if positive, is the most time a restored Neighbor Liveness or
	// Expiry Timer is given (a Holdtime of 65535 included): the restored
	// state is provisional until the neighbors confirm it. It is never
	// cut below the time the neighbors need to confirm it: our first
	// Hello (with its new Generation ID), then their triggered Hellos
	// (4.3.1) and their Joins within t_override (4.5.4, 4.5.5: "RPF'
	// GenID changes"). Zero keeps the timers as they were.
	Hold time.Duration
}

// Restored counts what a restore did.
type Restored struct {
	Neighbors int
	// Joins are the downstream machines restored: (*,G), (S,G) and
	// (S,G,rpt).
	Joins int
	// Expired is the neighbors and machines whose timers ran out since
	// the checkpoint; Refused those the router refuses now (invalid
	// addresses, SSM groups for (*,G) and (S,G,rpt), a scope zone border,
	// another RP, state it has already, its limits).
	Expired int
	Refused int
}

// NeighborRestored is the NeighborChange reason of a neighbor a Restore
// brought back.
const NeighborRestored = "restored"

// Restore gives the interface ifindex (added with AddInterface just
// before) the state of a checkpoint, as if the Hellos and Join/Prune
// messages that made it had been heard here, neighbors first (they make
// the DR and RPF'). It returns the actions, as for those messages (the
// routes, the Joins upstream, NeighborChanges with reason
// NeighborRestored) and what it restored. State the interface has
// already is kept as it is; what the router now refuses is left out. An
// unknown ifindex restores nothing.
func (r *Router) Restore(now time.Time, ifindex int, c InterfaceCheckpoint, o RestoreOptions) ([]Action, Restored) {
	var res Restored
	ifc := r.ifaces[ifindex]
	if ifc == nil || r.closed {
		return nil, res
	}
	n := r.begin(now)
	rs := restore{r: r, ifc: ifc, now: n, res: &res}
	if !o.Taken.IsZero() && now.After(o.Taken) {
		rs.elapsed = now.Sub(o.Taken)
	}
	nbrHold := o.Hold
	if nbrHold > 0 {
		nbrHold = max(nbrHold, r.confirmWindow(ifc, n))
	}
	restored := false
	for _, nc := range c.Neighbors {
		restored = rs.neighbor(nc, nbrHold) || restored
	}
	if restored {
		r.electDR(ifc)
		r.touchRPFInterface(ifc)
	}
	if o.Hold > 0 {
		// Again: the neighbors' LAN Prune Delays make the override
		// interval.
		rs.hold = max(o.Hold, r.confirmWindow(ifc, n))
	}
	for _, jc := range c.StarG {
		rs.join(jc, jpStarG)
	}
	for _, jc := range c.SGRpt {
		rs.join(jc, jpSGRpt)
	}
	for _, jc := range c.SG {
		rs.join(jc, jpSG)
	}
	return r.finish(n), res
}

// restore is one Restore under way.
type restore struct {
	r       *Router
	ifc     *iface
	now     int64
	elapsed time.Duration
	hold    time.Duration // for the downstream machines
	res     *Restored
}

// deadline is the restored deadline of a timer that had left time left
// (at most limit) when the checkpoint was taken, cut to hold; false when it
// has run out since.
func (rs *restore) deadline(left, limit, hold time.Duration) (int64, bool) {
	l := min(left, limit) - rs.elapsed
	if l <= 0 {
		return 0, false
	}
	if hold > 0 {
		l = min(l, hold)
	}
	return rs.now + int64(l), true
}

// neighbor restores one neighbor and reports whether it did.
func (rs *restore) neighbor(nc NeighborCheckpoint, hold time.Duration) bool {
	r, ifc := rs.r, rs.ifc
	a := nc.Address.WithZone("")
	if !isLinkLocal6(a) || a == ifc.self || nc.Holdtime == 0 || ifc.neighbors[keyOf(a)] != nil {
		rs.res.Refused++
		return false
	}
	var at int64
	running := nc.Holdtime != holdtimeForever
	if running {
		var ok bool
		if at, ok = rs.deadline(nc.Left, time.Duration(nc.Holdtime)*time.Second, hold); !ok {
			rs.res.Expired++
			return false
		}
	} else if hold > 0 {
		// Even a neighbor that never expires is held only until it
		// confirms itself with a Hello.
		at, running = rs.now+int64(hold), true
	}
	nb := r.newNeighbor(ifc, rs.now, a)
	if nb == nil {
		rs.res.Refused++
		return false
	}
	if !nc.UpSince.IsZero() {
		nb.upSince = nc.UpSince
	}
	nb.holdtime = nc.Holdtime
	if nc.GenerationID != nil {
		nb.hasGenID, nb.genID = true, *nc.GenerationID
	}
	if nc.DRPriority != nil {
		nb.hasDRPriority, nb.drPriority = true, *nc.DRPriority
	}
	if nc.LANPruneDelay != nil {
		nb.hasLANPruneDelay, nb.lanPruneDelay = true, *nc.LANPruneDelay
	}
	r.setSecondary(nb, nc.Secondary)
	if running {
		r.setLazy(&nb.nlt, at, timerRef{nbr: nb, kind: timerNeighbor})
	}
	r.emit(NeighborChange{IfIndex: ifc.index, Neighbor: a, Up: true, Reason: NeighborRestored})
	rs.res.Neighbors++
	return true
}

// join restores one downstream machine of kind k.
func (rs *restore) join(jc JoinCheckpoint, k jpKind) {
	r, ifc := rs.r, rs.ifc
	i := int32(ifc.index)
	g := jc.Group.WithZone("")
	s := jc.Source.WithZone("")
	ssm := r.cfg.isSSM(g)
	refuse := !validGroup(g) || r.scopeBorder(ifc, g) || k != jpSG && ssm || k != jpStarG && !validSource(s)
	if !refuse && k == jpStarG && jc.RP.IsValid() {
		// A Join(*,G) names RP(G) (4.5.1); with the RP not known yet (a
		// BSR's RP-set to come) the state waits for it.
		want, ok := r.rpFor(g)
		refuse = ok && want != keyOf(jc.RP.WithZone(""))
	}
	if refuse {
		rs.res.Refused++
		return
	}
	// The Expiry Timer: at most the largest Holdtime (65534 s); a state
	// held forever is held until confirmed when there is a hold.
	var etAt int64
	forever := jc.Forever
	if forever && rs.hold > 0 {
		etAt, forever = rs.now+int64(rs.hold), false
	} else if !forever {
		var ok bool
		if etAt, ok = rs.deadline(jc.ExpiryLeft, time.Duration(holdtimeForever-1)*time.Second, rs.hold); !ok {
			rs.res.Expired++
			return
		}
	}
	pending := jc.PrunePending
	var pptAt int64
	if pending {
		var ok bool
		pptAt, ok = rs.deadline(jc.PrunePendingLeft, ifc.jpOverrideInterval(), 0)
		if !ok {
			if k != jpSGRpt {
				// PPT expired: Prune-Pending -> NoInfo (4.5.1, 4.5.2).
				rs.res.Expired++
				return
			}
			// PPT(S,G,rpt) expired: Prune-Pending -> Prune (4.5.3).
			pending = false
		}
	}
	gk := keyOf(g)
	switch k {
	case jpStarG, jpSG:
		var h dsHost
		if k == jpStarG {
			if grp := r.groups[gk]; grp != nil && grp.star != nil && grp.star.inJoins(i) {
				rs.res.Refused++
				return
			}
			st := r.getStar(gk, ifc)
			if st == nil {
				rs.res.Refused++
				return
			}
			h = dsHost{star: st}
		} else {
			sk := sgKey{gk, keyOf(s)}
			if sg := r.sgs[sk]; sg != nil {
				if _, ok := sg.findDownstream(i); ok {
					rs.res.Refused++
					return
				}
			}
			sg := r.getSG(sk, ifc)
			if sg == nil {
				rs.res.Refused++
				return
			}
			h = dsHost{sg: sg}
		}
		d := h.addDownstream(i)
		d.state, d.forever = Join, forever
		if !forever {
			r.setLazy(&d.et, etAt, h.etRef(i))
		}
		if pending {
			d.state = PrunePending
			r.q.Set(&d.ppt, r.abs(pptAt), h.pptRef(i))
		}
		r.touchHost(h)
	case jpSGRpt:
		sk := sgKey{gk, keyOf(s)}
		if sg := r.sgs[sk]; sg != nil && sg.x != nil && sg.x.rptDownstream(i) != nil {
			rs.res.Refused++
			return
		}
		sg := r.getSG(sk, ifc)
		if sg == nil {
			rs.res.Refused++
			return
		}
		x := sg.ext()
		at, _ := x.findRpt(i)
		x.rptDown = slices.Insert(x.rptDown, at, rptDownstream{ifindex: i, state: RPTPrune, forever: forever})
		d := &x.rptDown[at]
		if !forever {
			r.setLazy(&d.et, etAt, sg.rptETRef(i))
		}
		if pending {
			d.state = RPTPrunePending
			r.q.Set(&d.ppt, r.abs(pptAt), timerRef{sg: sg, ifindex: i, kind: timerRptPrunePending})
		}
		r.touch(sg)
	}
	rs.res.Joins++
}

// confirmWindow is the time from now until the neighbors on the
// interface have confirmed restored state: our next Hello (the first with
// our new Generation ID), then a neighbor's triggered Hello within
// Triggered_Hello_Delay (assumed to be ours) and its Joins within
// t_override, at most the LAN's J/P override interval (4.3.1, 4.3.3).
func (r *Router) confirmWindow(ifc *iface, now int64) time.Duration {
	var hello time.Duration
	if at, ok := r.q.When(ifc.hello); ok {
		hello = time.Duration(max(r.rel(at)-now, 0))
	}
	return hello + max(ifc.cfg.TriggeredHelloDelay, ifc.jpOverrideInterval())
}
