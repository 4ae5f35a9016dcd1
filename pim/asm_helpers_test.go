package pim

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// ASM unit tests: the router has ifD (downstream: nbr1, and nbr2 on LAN
// rows), ifU (upstream: nbr3, the RPF neighbor of the RP and of the
// sources, and nbr4) and ifX (nbr5). The RP of ff0e::/16 is rpA, reached
// through nbr3; our own address is selfG (rpSelf makes it the RP). Rand is
// half: t_override 1.25 s, t_suppressed 75 s, the Register-Stop Timer 55 s.

var (
	gA     = addr("ff0e::1")
	rpA    = addr("2001:db8:ff::1")
	selfG  = addr("2001:db8:ff::5")
	drAddr = addr("2001:db8:77::1") // a registering DR
)

type asmOpt struct {
	lan    bool // nbr2 on ifD
	rpSelf bool // RP(G) is our address
	noNbrs bool // no neighbor on ifD (a stub LAN with receivers)
	cfg    func(*Config)
}

// asmRouter builds the router of the ASM tests at tR, its start-up done.
func asmRouter(t testing.TB, o asmOpt) *Router {
	t.Helper()
	cfg := testConfig(constRand(half))
	rp := rpA
	if o.rpSelf {
		rp = selfG
	}
	cfg.RPs = []StaticRP{{Addr: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	r, err := New(new(timerq.IDs), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{ifD, ifU, ifX} {
		mustAdd(t, r, tR, i, map[int]netip.Addr{ifD: selfD, ifU: selfU, ifX: selfX}[i])
	}
	r.SetLocalAddresses(tR, []netip.Addr{selfG})
	// Neighbors never time out (Holdtime 0xffff): long rows need no
	// Hellos.
	forever := withHoldtime(0xffff)
	if !o.noNbrs {
		hello(t, r, tR, ifD, nbr1, forever)
	}
	if o.lan {
		hello(t, r, tR, ifD, nbr2, forever)
	}
	hello(t, r, tR, ifU, nbr3, forever)
	hello(t, r, tR, ifU, nbr4, forever)
	hello(t, r, tR, ifX, nbr5, forever)
	runUntil(r, tR, at(2.5))
	return r
}

// routes answers WatchRPF: every address via ifU and nbr3 unless listed.
type routes map[netip.Addr]RPF

func (rs routes) answer(r *Router, now time.Time, acts []Action) []Action {
	var us []RPFUpdate
	for _, a := range acts {
		if w, ok := a.(WatchRPF); ok {
			rpf, ok := rs[w.Addr]
			if !ok {
				rpf = RPF{Valid: true, IfIndex: ifU, NextHop: nbr3}
			}
			us = append(us, RPFUpdate{w.Addr, rpf})
		}
	}
	if us == nil {
		return acts
	}
	return append(acts, rs.answer(r, now, r.SetRPFs(now, us))...)
}

// step is one input at a time (seconds after tR).
type step struct {
	at float64
	do func(t testing.TB, r *Router, now time.Time) []Action
}

func run(t testing.TB, r *Router, rt routes, steps []step) []Action {
	t.Helper()
	var acts []Action
	for _, s := range steps {
		now := at(s.at)
		acts = rt.answer(r, now, s.do(t, r, now))
	}
	return acts
}

func stepJP(at float64, ifindex int, from, upstream netip.Addr, ht uint16, groups ...jpg) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		return joinPrune(t, r, now, ifindex, from, upstream, ht, groups...)
	}}
}

// starJoin is Join(*,G) naming rpA from nbr1 on ifD (ht 210).
func starJoin(at float64) step { return starJoinFrom(at, nbr1, rpA) }

func starJoinFrom(at float64, from, rp netip.Addr) step {
	return stepJP(at, ifD, from, selfD, 210, jpg{g: gA, joins: []netip.Addr{rp}, wildcard: true, rpt: true})
}

func starPrune(at float64) step {
	return stepJP(at, ifD, nbr1, selfD, 210, jpg{g: gA, prunes: []netip.Addr{rpA}, wildcard: true, rpt: true})
}

func expireAt(at float64) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action { return r.Expire(now) }}
}

func listenEx(at float64, ifindex int, excluded ...netip.Addr) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		return r.SetListeners(now, ListenerInput{IfIndex: ifindex, Group: gA, Exclude: true, Sources: excluded})
	}}
}

func listenIn(at float64, ifindex int, sources ...netip.Addr) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		return r.SetListeners(now, ListenerInput{IfIndex: ifindex, Group: gA, Sources: sources})
	}}
}

func noCache(at float64, ifindex int, src netip.Addr) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action { return r.NoCache(now, ifindex, src, gA) }}
}

func wrongIIF(at float64, ifindex int, src netip.Addr) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action { return r.WrongIIF(now, ifindex, src, gA) }}
}

func activity(at float64, src netip.Addr, pkts, bytes uint64) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		return r.DataActivity(now, src, gA, pkts, bytes)
	}}
}

func wholePacket(at float64, src netip.Addr) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		return r.WholePacket(now, src, gA, dataPacket(src, gA))
	}}
}

// unicast delivers a Register or Register-Stop from src to dst on ifU.
func unicast(at float64, src, dst netip.Addr, m pimmsg.Message) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		b, err := pimmsg.Marshal(m, src, dst)
		if err != nil {
			t.Fatal(err)
		}
		return r.Receive(now, ifU, src, dst, b)
	}}
}

func registerMsg(at float64, src netip.Addr, null bool) step {
	m := &pimmsg.Register{Null: null, Packet: dataPacket(src, gA)}
	if null {
		m.Packet = nullRegisterHeader(sgKey{keyOf(gA), keyOf(src)})
	}
	return unicast(at, drAddr, selfG, m)
}

func registerStop(at float64, src netip.Addr) step {
	return unicast(at, selfG, selfG, &pimmsg.RegisterStop{Group: pimmsg.Group{Addr: gA, MaskLen: 128}, Source: src})
}

func assertFrom(at float64, ifindex int, from, src netip.Addr, rpt bool, pref, metric uint32) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		return r.Receive(now, ifindex, from, AllPIMRouters, marshal(t, from, &pimmsg.Assert{
			Group: pimmsg.Group{Addr: gA, MaskLen: 128}, Source: src, RPT: rpt, MetricPreference: pref, Metric: metric}))
	}}
}

func setRPF(at float64, a netip.Addr, rpf RPF) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action { return r.SetRPF(now, a, rpf) }}
}

func helloStep(at float64, ifindex int, from netip.Addr, mods ...func(*pimmsg.Hello)) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action { return hello(t, r, now, ifindex, from, mods...) }}
}

// Views of the machines, in test terms (seconds left).

func starOf(r *Router, now time.Time) *StarGState {
	for _, st := range r.Snapshot(now).StarG {
		if st.Group == gA {
			return &st
		}
	}
	return nil
}

func starDownView(r *Router, now time.Time, ifindex int) dsView {
	st := starOf(r, now)
	if st == nil {
		return dsView{}
	}
	for _, d := range st.Downstream {
		if d.IfIndex == ifindex {
			return dsView{State: d.State, ET: d.ExpiryLeft.Seconds(), PPT: d.PrunePendingLeft.Seconds(), Forever: d.Forever}
		}
	}
	return dsView{}
}

func starUpView(r *Router, now time.Time) upView {
	st := starOf(r, now)
	if st == nil {
		return upView{}
	}
	v := upView{State: st.Upstream, JT: st.JoinTimerLeft.Seconds(), JoinOK: st.JoinDesired}
	if st.RPFNeighbor.IsValid() {
		v.RPF = nm(st.RPFNeighbor)
	}
	return v
}

type rptView struct {
	Up   RPTState
	RPF  string
	OT   float64
	Down RPTDownState
	ET   float64
	PPT  float64
}

func rptOf(r *Router, now time.Time, src netip.Addr, ifindex int) rptView {
	rs := route(r, now, src, gA)
	if rs == nil {
		return rptView{}
	}
	v := rptView{Up: rs.RPT, OT: rs.OverrideLeft.Seconds()}
	if rs.RPTNeighbor.IsValid() {
		v.RPF = nm(rs.RPTNeighbor)
	}
	for _, d := range rs.RPTDownstream {
		if d.IfIndex == ifindex {
			v.Down, v.ET, v.PPT = d.State, d.ExpiryLeft.Seconds(), d.PrunePendingLeft.Seconds()
		}
	}
	return v
}

type assertView struct {
	State  AssertState
	Winner string
	AT     float64
}

func sgAssertView(r *Router, now time.Time, src netip.Addr, ifindex int) assertView {
	rs := route(r, now, src, gA)
	if rs == nil {
		return assertView{}
	}
	return assertOn(rs.Asserts, ifindex)
}

func starAssertView(r *Router, now time.Time, ifindex int) assertView {
	st := starOf(r, now)
	if st == nil {
		return assertView{}
	}
	return assertOn(st.Asserts, ifindex)
}

func assertOn(l []AssertInfo, ifindex int) assertView {
	for _, a := range l {
		if a.IfIndex == ifindex {
			return assertView{State: a.State, Winner: nm(a.Winner), AT: a.Left.Seconds()}
		}
	}
	return assertView{}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// then returns a copy of steps with more appended (the table rows share
// their common beginnings).
func then(steps []step, more ...step) []step {
	return append(append([]step(nil), steps...), more...)
}
