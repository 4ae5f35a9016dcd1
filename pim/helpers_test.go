package pim

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Test conventions: the router under test has a downstream interface ifD
// (our address selfD) and an upstream one ifU (selfU). Neighbors are
// fe80::1, fe80::2, ... Sources are 2001:db8::N, shown as SN; SSM groups
// ff3e::N, shown as GN. Times are seconds after tR.

const (
	ifD = 2
	ifU = 3
	ifX = 4 // a third interface, for RPF moves
)

var (
	tR    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	selfD = addr("fe80::d:1")
	selfU = addr("fe80::e:1")
	selfX = addr("fe80::f:1")
	nbr1  = addr("fe80::1")
	nbr2  = addr("fe80::2")
	nbr3  = addr("fe80::3")
	s1    = addr("2001:db8::1")
	s2    = addr("2001:db8::2")
	g1    = addr("ff3e::1")
	g2    = addr("ff3e::2")
	asmG  = addr("ff0e::1")
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// at returns tR plus s seconds.
func at(s float64) time.Time { return tR.Add(secs(s)) }

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Rand sources. half makes every random delay the middle of its range:
// first Hello 2.5 s, t_override 1.25 s, t_suppressed 75 s.
const half = 1 << 31

func constRand(v uint32) func() uint32 { return func() uint32 { return v } }

// seqRand returns vals in turn, then repeats the last one.
func seqRand(vals ...uint32) func() uint32 {
	i := 0
	return func() uint32 {
		v := vals[min(i, len(vals)-1)]
		i++
		return v
	}
}

func testConfig(rnd func() uint32) Config {
	c := DefaultConfig()
	c.Rand = rnd
	return c
}

// newRouter returns a router with the interfaces ifD and ifU (default
// configuration) added at tR with Rand 0, so that their first Hellos go
// out at tR; the start-up actions are dropped.
func newRouter(t testing.TB) *Router {
	t.Helper()
	return newRouterRand(t, constRand(0))
}

func newRouterRand(t testing.TB, rnd func() uint32) *Router {
	t.Helper()
	r, err := New(new(timerq.IDs), testConfig(rnd))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, r, tR, ifD, selfD)
	mustAdd(t, r, tR, ifU, selfU)
	r.Expire(tR)
	return r
}

func mustAdd(t testing.TB, r *Router, now time.Time, ifindex int, self netip.Addr) []Action {
	t.Helper()
	acts, err := r.AddInterface(now, ifindex, fmt.Sprintf("eth%d", ifindex), self, nil, DefaultIfConfig())
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

// marshal encodes m from src to ff02::d.
func marshal(t testing.TB, src netip.Addr, m pimmsg.Message) []byte {
	t.Helper()
	b, err := pimmsg.Marshal(m, src, AllPIMRouters)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }

// nbrHello is a neighbor's Hello with the default options (Holdtime 105,
// DR Priority 1, Generation ID 1, LAN Prune Delay 500/2500 ms), changed by
// the given functions.
func nbrHello(mods ...func(*pimmsg.Hello)) *pimmsg.Hello {
	h := &pimmsg.Hello{
		Holdtime:      u16(105),
		LANPruneDelay: &pimmsg.LANPruneDelay{PropagationDelay: 500, OverrideInterval: 2500},
		DRPriority:    u32(1),
		GenerationID:  u32(1),
	}
	for _, m := range mods {
		m(h)
	}
	return h
}

func withHoldtime(v uint16) func(*pimmsg.Hello) { return func(h *pimmsg.Hello) { h.Holdtime = u16(v) } }
func withGenID(v uint32) func(*pimmsg.Hello) {
	return func(h *pimmsg.Hello) { h.GenerationID = u32(v) }
}
func withPrio(v uint32) func(*pimmsg.Hello) { return func(h *pimmsg.Hello) { h.DRPriority = u32(v) } }
func noPrio(h *pimmsg.Hello)                { h.DRPriority = nil }
func noHoldtime(h *pimmsg.Hello)            { h.Holdtime = nil }
func noLPD(h *pimmsg.Hello)                 { h.LANPruneDelay = nil }
func withLPD(t bool, pd, oi uint16) func(*pimmsg.Hello) {
	return func(h *pimmsg.Hello) {
		h.LANPruneDelay = &pimmsg.LANPruneDelay{T: t, PropagationDelay: pd, OverrideInterval: oi}
	}
}
func withAddrs(as ...netip.Addr) func(*pimmsg.Hello) {
	return func(h *pimmsg.Hello) { h.AddressList = as }
}

// hello delivers a neighbor's Hello.
func hello(t testing.TB, r *Router, now time.Time, ifindex int, from netip.Addr, mods ...func(*pimmsg.Hello)) []Action {
	t.Helper()
	return r.Receive(now, ifindex, from, AllPIMRouters, marshal(t, from, nbrHello(mods...)))
}

// jpg is one group set of a Join/Prune in test terms.
type jpg struct {
	g              netip.Addr
	joins, prunes  []netip.Addr
	wildcard, rpt  bool
	srcMask, grpMk uint8 // 0: 128
}

func jpMsg(upstream netip.Addr, holdtime uint16, groups ...jpg) *pimmsg.JoinPrune {
	jp := &pimmsg.JoinPrune{UpstreamNeighbor: upstream, Holdtime: holdtime}
	for _, g := range groups {
		mk := func(as []netip.Addr) []pimmsg.Source {
			var out []pimmsg.Source
			for _, a := range as {
				m := g.srcMask
				if m == 0 {
					m = 128
				}
				out = append(out, pimmsg.Source{Addr: a, MaskLen: m, Sparse: true, WildCard: g.wildcard, RPT: g.rpt})
			}
			return out
		}
		gm := g.grpMk
		if gm == 0 {
			gm = 128
		}
		jp.Groups = append(jp.Groups, pimmsg.JoinPruneGroup{
			Group: pimmsg.Group{Addr: g.g, MaskLen: gm}, Joins: mk(g.joins), Prunes: mk(g.prunes),
		})
	}
	return jp
}

// joinPrune delivers a Join/Prune from a neighbor.
func joinPrune(t testing.TB, r *Router, now time.Time, ifindex int, from, upstream netip.Addr, holdtime uint16, groups ...jpg) []Action {
	t.Helper()
	return r.Receive(now, ifindex, from, AllPIMRouters, marshal(t, from, jpMsg(upstream, holdtime, groups...)))
}

func join(g netip.Addr, ss ...netip.Addr) jpg  { return jpg{g: g, joins: ss} }
func prune(g netip.Addr, ss ...netip.Addr) jpg { return jpg{g: g, prunes: ss} }

// rpf answers a WatchRPF: S reached through ifindex via next hop nh
// (invalid: directly connected).
func rpf(r *Router, now time.Time, s netip.Addr, ifindex int, nh netip.Addr) []Action {
	return r.SetRPF(now, s, RPF{Valid: true, IfIndex: ifindex, NextHop: nh})
}

// short makes addresses readable in test output.
var short = strings.NewReplacer("2001:db8::", "S", "ff3e::", "G")

func nm(a netip.Addr) string { return short.Replace(a.String()) }

// jpSources renders Join/Prune sources: (*,G) as *RP, (S,G,rpt) as
// rpt:S, (S,G) as S.
func jpSources(ss []pimmsg.Source) string {
	var out []string
	for _, s := range ss {
		switch {
		case s.WildCard:
			out = append(out, "*"+nm(s.Addr))
		case s.RPT:
			out = append(out, "rpt:"+nm(s.Addr))
		default:
			out = append(out, nm(s.Addr))
		}
	}
	return strings.Join(out, " ")
}

// innerAddrs returns the source and destination of an IPv6 packet.
func innerAddrs(p []byte) (netip.Addr, netip.Addr) {
	if len(p) < 40 {
		return netip.Addr{}, netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
}

// render describes actions as one line each.
func render(acts []Action) []string {
	var out []string
	for _, a := range acts {
		out = append(out, renderOne(a)...)
	}
	return out
}

func renderOne(a Action) []string {
	switch a := a.(type) {
	case SendPIM:
		switch m := a.Msg.(type) {
		case *pimmsg.Hello:
			ht := "-"
			if m.Holdtime != nil {
				ht = fmt.Sprint(*m.Holdtime)
			}
			return []string{fmt.Sprintf("hello(%d) from %s ht=%s", a.IfIndex, nm(a.Src), ht)}
		case *pimmsg.JoinPrune:
			var out []string
			for _, g := range m.Groups {
				out = append(out, fmt.Sprintf("jp(%d) to %s ht=%d %s join[%s] prune[%s]",
					a.IfIndex, nm(m.UpstreamNeighbor), m.Holdtime, nm(g.Group.Addr), jpSources(g.Joins), jpSources(g.Prunes)))
			}
			return out
		case *pimmsg.Register:
			kind := "register"
			if m.Null {
				kind = "null-register"
			}
			s, g := innerAddrs(m.Packet)
			return []string{fmt.Sprintf("%s to %s from %s %s,%s", kind, nm(a.Dst), nm(a.Src), nm(s), nm(g))}
		case *pimmsg.RegisterStop:
			return []string{fmt.Sprintf("register-stop to %s from %s %s,%s", nm(a.Dst), nm(a.Src), nm(m.Source), nm(m.Group.Addr))}
		case *pimmsg.Assert:
			kind := "assert"
			if m.MetricPreference == infPref && m.Metric == infMetric {
				kind = "assert-cancel"
			}
			return []string{fmt.Sprintf("%s(%d) %s,%s rpt=%v %d/%d", kind, a.IfIndex, nm(m.Source), nm(m.Group.Addr), m.RPT, m.MetricPreference, m.Metric)}
		}
		return []string{fmt.Sprintf("send(%d) %v", a.IfIndex, a.Msg.Type())}
	case Route:
		return []string{fmt.Sprintf("route %s,%s iif=%d oifs=%v", nm(a.Source), nm(a.Group), a.IIF, a.OIFs)}
	case WatchRPF:
		return []string{"watch " + nm(a.Addr)}
	case WatchActivity:
		return []string{fmt.Sprintf("count %s,%s", nm(a.Source), nm(a.Group))}
	case UnwatchActivity:
		return []string{fmt.Sprintf("uncount %s,%s", nm(a.Source), nm(a.Group))}
	case UnwatchRPF:
		return []string{"unwatch " + nm(a.Addr)}
	case NeighborChange:
		up := "down"
		if a.Up {
			up = "up"
		}
		return []string{fmt.Sprintf("nbr(%d) %s %s %s", a.IfIndex, nm(a.Neighbor), up, a.Reason)}
	case DRChange:
		return []string{fmt.Sprintf("dr(%d) %s self=%v", a.IfIndex, nm(a.DR), a.Self)}
	case LimitHit:
		return []string{fmt.Sprintf("limit(%d) %s %d", a.IfIndex, a.Kind, a.Limit)}
	}
	return []string{fmt.Sprintf("%#v", a)}
}

// only keeps the rendered lines that start with one of the prefixes.
func only(lines []string, prefixes ...string) []string {
	var out []string
	for _, l := range lines {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

func diff(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{}), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// route returns the (S,G) entry from Snapshot, nil when there is none.
func route(r *Router, now time.Time, s, g netip.Addr) *RouteState {
	for _, rs := range r.Snapshot(now).Routes {
		if rs.Source == s && rs.Group == g {
			return &rs
		}
	}
	return nil
}

// dsView is a downstream machine in test terms (seconds left).
type dsView struct {
	State   JoinState
	ET, PPT float64
	Forever bool
}

func downView(r *Router, now time.Time, s, g netip.Addr, ifindex int) dsView {
	rs := route(r, now, s, g)
	if rs == nil {
		return dsView{}
	}
	for _, d := range rs.Downstream {
		if d.IfIndex == ifindex {
			return dsView{State: d.State, ET: d.ExpiryLeft.Seconds(), PPT: d.PrunePendingLeft.Seconds(), Forever: d.Forever}
		}
	}
	return dsView{}
}

// upView is an upstream machine in test terms.
type upView struct {
	State  UpstreamState
	RPF    string // RPF'(S,G), "" for NULL
	JT     float64
	JoinOK bool // JoinDesired
}

func upstreamView(r *Router, now time.Time, s, g netip.Addr) upView {
	rs := route(r, now, s, g)
	if rs == nil {
		return upView{}
	}
	v := upView{State: rs.Upstream, JT: rs.JoinTimerLeft.Seconds(), JoinOK: rs.JoinDesired}
	if rs.RPFNeighbor.IsValid() {
		v.RPF = nm(rs.RPFNeighbor)
	}
	return v
}

// neighbors lists the neighbors of an interface with their time left.
func neighbors(r *Router, now time.Time, ifindex int) map[string]float64 {
	out := map[string]float64{}
	for _, is := range r.Snapshot(now).Interfaces {
		if is.IfIndex != ifindex {
			continue
		}
		for _, n := range is.Neighbors {
			v := n.Expires.Seconds()
			if n.Forever {
				v = -1
			}
			out[nm(n.Address)] = v
		}
	}
	return out
}

func ifaceState(r *Router, now time.Time, ifindex int) InterfaceState {
	for _, is := range r.Snapshot(now).Interfaces {
		if is.IfIndex == ifindex {
			return is
		}
	}
	return InterfaceState{}
}

// runUntil calls Expire at every deadline up to and including `until` and
// returns the rendered actions, each prefixed with its time.
func runUntil(r *Router, from, until time.Time) []string {
	var out []string
	expireUntil(r, from, until, func(d time.Time, acts []Action) {
		for _, l := range render(acts) {
			out = append(out, fmt.Sprintf("%g %s", d.Sub(tR).Seconds(), l))
		}
	})
	return out
}

// expireUntil calls Expire at every deadline up to and including `until`
// (never before `from`) and gives each call's actions to f.
func expireUntil(r *Router, from, until time.Time, f func(time.Time, []Action)) {
	for {
		d, ok := r.NextDeadline()
		if !ok || d.After(until) {
			return
		}
		d = maxTime(d, from)
		f(d, r.Expire(d))
		from = d
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
