package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Administrative scope zones (RFC 5059 1.3): the site-local range
// ff15::/16 is two zones, A and B, joined by the border router b, whose
// interface to-r2 is the border of zone A:
//
//	hA - lanA - ra - l1 - r1 - l2 - b -|- l3 - r2 - l4 - rb - lanB - hB
//	            zone A                       zone B
//
// r1 is the global Candidate-BSR (c1Addr) and zone A's (zoneA); r2 is
// zone B's (zoneB). ra is a Candidate-RP (rpA) for ff0e::/16 and
// ff15::/16, rb one (rpB) for ff15::/16; both know the zone ([[bsr-zone]]
// without border) so that their ff15::/16 goes to their zone's BSR.
const (
	zoneRange = "ff15::/16"
	zoneA     = "2001:db8:ff::a5"
	zoneB     = "2001:db8:ff::b5"
	siteGrp   = "ff15::5:1"
	hAAddr    = "2001:db8:a::10"
	hBAddr    = "2001:db8:b::20"
)

var (
	zoneRangeP = netip.MustParsePrefix(zoneRange)
	zoneAIP    = netip.MustParseAddr(zoneA)
	zoneBIP    = netip.MustParseAddr(zoneB)
	siteGrpIP  = netip.MustParseAddr(siteGrp)
)

// zoneTOML is a [[bsr-zone]] entry for ff15::/16: its border interfaces
// and, when addr is set, a Candidate-BSR of priority 50.
func zoneTOML(addr string, border ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[[bsr-zone]]\nrange = %q\n", zoneRange)
	if len(border) > 0 {
		fmt.Fprintf(&b, "border = [%q]\n", strings.Join(border, `", "`))
	}
	if addr != "" {
		fmt.Fprintf(&b, "candidate = true\naddress = %q\npriority = 50\n", addr)
	}
	return b.String()
}

func twoZones(t *testing.T) (*Net, map[string]*Router, []*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond, Seed: 5})
	lanA, l1, l2, l3, l4, lanB := n.AddLink("lanA"), n.AddLink("l1"), n.AddLink("l2"), n.AddLink("l3"), n.AddLink("l4"), n.AddLink("lanB")
	roles := map[string]bsrRole{
		"ra": {CRPAddr: rpA, CRPPrio: 10, CRPGroups: []string{"ff0e::/16", zoneRange}, Extra: zoneTOML("")},
		"r1": {BSRAddr: c1Addr, BSRPrio: 100, Extra: zoneTOML(zoneA)},
		"b":  {Extra: zoneTOML("", "to-r2")},
		"r2": {Extra: zoneTOML(zoneB)},
		"rb": {CRPAddr: rpB, CRPPrio: 10, CRPGroups: []string{zoneRange}, Extra: zoneTOML("")},
	}
	rs := map[string]*Router{}
	var all []*Router
	for _, name := range []string{"ra", "r1", "b", "r2", "rb"} {
		rs[name] = n.AddRouter(name, roles[name].conf(t))
		all = append(all, rs[name])
	}
	ra, r1, b, r2, rb := rs["ra"], rs["r1"], rs["b"], rs["r2"], rs["rb"]
	ra.AddInterface("eth0", lanA, "fe80::a", "2001:db8:a::1/64")
	ra.AddInterface("to-r1", l1, "fe80::a")
	ra.AddLoopback(rpA)
	r1.AddInterface("to-ra", l1, "fe80::1")
	r1.AddInterface("to-b", l2, "fe80::1")
	r1.AddLoopback(c1Addr)
	r1.AddLoopback(zoneA)
	b.AddInterface("to-r1", l2, "fe80::b")
	b.AddInterface("to-r2", l3, "fe80::b")
	r2.AddInterface("to-b", l3, "fe80::2")
	r2.AddInterface("to-rb", l4, "fe80::2")
	r2.AddLoopback(zoneB)
	rb.AddInterface("to-r2", l4, "fe80::c")
	rb.AddInterface("eth0", lanB, "fe80::c", "2001:db8:b::1/64")
	rb.AddLoopback(rpB)
	hA := n.AddHost("hA", lanA, "fe80::10", hAAddr)
	hB := n.AddHost("hB", lanB, "fe80::20", hBAddr)
	n.AutoRoutes()
	return n, rs, all, hA, hB
}

// zoneView is a router's view of the scope zone ff15::/16: its BSR and
// RP-set, as the snapshot shows them.
func zoneView(r *Router) bsrView {
	for _, z := range r.Snapshot().RPSet.Zones {
		if z.Range != zoneRangeP {
			continue
		}
		v := bsrView{BSR: z.BSR, Priority: z.BSRPriority}
		for _, rp := range z.RPs {
			for _, g := range rp.Groups {
				v.Set = append(v.Set, rpSetLine{g.Prefix, rp.Address, g.Priority, time.Duration(g.Holdtime)})
			}
		}
		return v
	}
	return bsrView{}
}

// bsmZone is the scope zone a BSM is for: its first range when that has
// the Z bit, else the zero Prefix (the global zone).
func bsmZone(m *pimmsg.Bootstrap) netip.Prefix {
	if len(m.Groups) > 0 && m.Groups[0].Group.AdminScope {
		return m.Groups[0].Group.Prefix()
	}
	return netip.Prefix{}
}

// TestScopeZones: two zones of ff15::/16 joined by a border router elect
// a BSR each, while the whole network shares the global BSR. No BSM of a
// zone is seen on the other zone's links; each Candidate-RP advertises
// ff15::/16 to its own zone's BSR and ff0e::/16 to the global one. So
// ff15::5:1 maps to rpA in zone A and rpB in zone B, and the global group
// to rpA everywhere: a receiver of the scoped group in zone A gets
// nothing from a sender in zone B, and the global group's stream crosses.
func TestScopeZones(t *testing.T) {
	n, rs, all, hA, hB := twoZones(t)
	ra, r1, b, r2, rb := rs["ra"], rs["r1"], rs["b"], rs["r2"], rs["rb"]
	const ht = 60 * time.Second
	global := bsrView{BSR: c1IP, Priority: 100, Set: set(ht, "ff0e::/16 "+rpA+" 10")}
	inA := bsrView{BSR: zoneAIP, Priority: 50, Set: set(ht, zoneRange+" "+rpA+" 10")}
	inB := bsrView{BSR: zoneBIP, Priority: 50, Set: set(ht, zoneRange+" "+rpB+" 10")}
	zoneViews := func() string {
		var s strings.Builder
		for _, r := range all {
			fmt.Fprintf(&s, "  %s: zone %v\n", r.Name(), zoneView(r))
		}
		return s.String()
	}
	runUntilBSR(t, n, "every router reports its zone's BSR and RP-set and the global ones", func() bool {
		for _, r := range all {
			want := inA
			if r == r2 || r == rb {
				want = inB
			}
			if !viewOf(r).equal(global) || !zoneView(r).equal(want) {
				return false
			}
		}
		return true
	}, time.Minute, all)
	t.Logf("converged at %v\n%s", n.Elapsed(), zoneViews())

	hA.Join(siteGrp)
	hA.Join(bsrGrp)
	hB.Join(siteGrp)
	hB.Join(bsrGrp)
	n.Run(2 * time.Second)
	// RP(G): the scoped group's RP is each zone's own, the global group's
	// is rpA everywhere.
	for _, c := range []struct {
		r    *Router
		g    netip.Addr
		want netip.Addr
	}{
		{ra, siteGrpIP, rpAIP}, {rb, siteGrpIP, rpBIP},
		{ra, bsrGrpIP, rpAIP}, {rb, bsrGrpIP, rpAIP}, {r2, bsrGrpIP, rpAIP}, {b, bsrGrpIP, rpAIP},
	} {
		if st := starOf(c.r, c.g); st == nil || st.RP != c.want {
			t.Errorf("%s: (*,%v) %+v, want RP %v", c.r.Name(), c.g, st, c.want)
		}
	}
	if st := starOf(b, siteGrpIP); st != nil {
		t.Errorf("b holds (*,%v) %+v: zone B's interest crossed the border", siteGrpIP, st)
	}
	if st := starOf(r2, siteGrpIP); st != nil {
		t.Errorf("r2 holds (*,%v) %+v: rb is zone B's RP", siteGrpIP, st)
	}

	// Streams from zone B: the global group reaches hA, the scoped group
	// does not leave zone B.
	t0 := n.Elapsed()
	sSite := hB.Stream(siteGrp, 100*time.Millisecond)
	sGlobal := hB.Stream(bsrGrp, 100*time.Millisecond)
	n.Run(10 * time.Second)
	sSite.Stop()
	sGlobal.Stop()
	n.Run(time.Second)
	if got := hA.ReceivedFrom(hBAddr, siteGrp); len(got) != 0 {
		t.Errorf("hA received %d datagrams of zone B's %s", len(got), siteGrp)
	}
	if d := Deliveries(hA.ReceivedFrom(hBAddr, bsrGrp), sGlobal.Sent()); d.Unique < int(sGlobal.Sent())-10 {
		t.Errorf("hA received %d of the %d datagrams of the global group", d.Unique, sGlobal.Sent())
	}
	for _, f := range n.Frames() {
		if f.Elapsed() >= t0 && f.Proto == protoUDP && f.Dst == siteGrpIP && (f.Link == "l3" || f.Link == "l2" || f.Link == "l1" || f.Link == "lanA") {
			t.Errorf("zone B's %s data on %s: %v", siteGrp, f.Link, f)
			break
		}
	}

	// No BSM of a zone on the other zone's links (l3, the border link,
	// is zone B's); the global BSMs go everywhere.
	sideA := []string{"lanA", "l1", "l2"}
	sideB := []string{"l3", "l4", "lanB"}
	globalOn := map[string]bool{}
	for _, f := range bsmFrames(n, 0) {
		z := bsmZone(f.m)
		switch {
		case !z.IsValid():
			globalOn[f.link] = true
			if f.m.BSR != c1IP {
				t.Errorf("global BSM of %v on %s", f.m.BSR, f.link)
			}
		case z != zoneRangeP:
			t.Errorf("BSM of zone %v on %s", z, f.link)
		case f.m.BSR == zoneAIP && slices.Contains(sideB, f.link):
			t.Errorf("zone A's BSM on %s (zone B) at %v from %s", f.link, f.at, f.from)
		case f.m.BSR == zoneBIP && slices.Contains(sideA, f.link):
			t.Errorf("zone B's BSM on %s (zone A) at %v from %s", f.link, f.at, f.from)
		}
	}
	for _, l := range append(sideA, sideB...) {
		if !globalOn[l] && l != "lanA" && l != "lanB" {
			t.Errorf("no global BSM on %s", l)
		}
	}
	// b drops zone B's BSMs at its border, counted.
	if c := b.Snapshot().Counters["pim/to-r2"]["dropped/scope-border"]; c == 0 {
		t.Errorf("b counted no scope-border drop on to-r2: %v", b.Snapshot().Counters["pim/to-r2"])
	}

	// C-RP-Advs: ff15::/16 to the zone's BSR, ff0e::/16 to the global one.
	advs := map[string]bool{}
	for _, e := range pimTrace(n, 0) {
		m, ok := e.msg.(*pimmsg.CandidateRPAdvertisement)
		if !ok {
			continue
		}
		for _, g := range m.Groups {
			advs[fmt.Sprintf("%v %v->%v", m.RP, g.Prefix(), e.dst)] = true
		}
	}
	want := map[string]bool{
		rpA + " ff0e::/16->" + c1Addr:        true,
		rpA + " " + zoneRange + "->" + zoneA: true,
		rpB + " " + zoneRange + "->" + zoneB: true,
	}
	if !mapsEqual(advs, want) {
		t.Errorf("C-RP-Adv (RP range->BSR) %v, want %v", keys(advs), keys(want))
	}
	for r, st := range map[*Router]string{r1: "elected", r2: "elected"} {
		if z := zoneOf(r); z == nil || z.CandidateBSR == nil || z.CandidateBSR.State != st {
			t.Errorf("%s: zone %+v, want its candidacy %s", r.Name(), z, st)
		}
	}
}

func zoneOf(r *Router) *ctl.RPSetZone {
	for _, z := range r.Snapshot().RPSet.Zones {
		if z.Range == zoneRangeP {
			return &z
		}
	}
	return nil
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
