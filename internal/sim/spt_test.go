package sim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The SPT bit (RFC 7761 4.2.2 Update_SPTbit, 4.5.5) where the last-hop
// router reaches S and the RP through the same interface.

// sptLANNet: S - lanS - fhr; fhr - lr - rp (the RP on rp's loopback);
// rp - la - a; fhr - lb - b; a, b and d on the LAN mid; d - lanR - h.
// d reaches the RP through a and S through b, both on mid:
// RPF_interface(S) == RPF_interface(RP(G)) at d, RPF'(*,G) = a, RPF'(S,G)
// = b. a reaches S through the RP, b the RP through fhr.
func sptLANNet(t *testing.T) (*Net, map[string]*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, lr, la, lb, mid, lanR := n.AddLink("lanS"), n.AddLink("lr"), n.AddLink("la"), n.AddLink("lb"), n.AddLink("mid"), n.AddLink("lanR")
	rs := map[string]*Router{}
	for _, name := range []string{"fhr", "rp", "a", "b", "d"} {
		rs[name] = n.AddRouter(name, asmConf(t, rpAddr, ""))
	}
	fhr, rp, a, b, d := rs["fhr"], rs["rp"], rs["a"], rs["b"], rs["d"]
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-rp", lr, "fe80::1")
	fhr.AddInterface("to-b", lb, "fe80::1")
	rp.AddInterface("to-fhr", lr, "fe80::2")
	rp.AddInterface("to-a", la, "fe80::2")
	rp.AddLoopback(rpAddr)
	a.AddInterface("to-rp", la, "fe80::a")
	a.AddInterface("mid", mid, "fe80::a", "2001:db8:99::a/64")
	b.AddInterface("to-fhr", lb, "fe80::b")
	b.AddInterface("mid", mid, "fe80::b", "2001:db8:99::b/64")
	d.AddInterface("mid", mid, "fe80::d", "2001:db8:99::d/64")
	d.AddInterface("eth1", lanR, "fe80::d", "2001:db8:2::1/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	d.Route(srcPrefix, "fe80::b", "mid")
	d.Route(rpAddr+"/128", "fe80::a", "mid")
	a.Route(srcPrefix, "fe80::2", "to-rp")
	b.Route(rpAddr+"/128", "fe80::1", "to-fhr")
	return n, rs, s, h
}

// TestSPTBitSameInterface: d gets the first packet down the RP tree from
// a and joins (S,G) toward b, on the same LAN. Update_SPTbit does not set
// the bit for packets on that interface: S is not directly connected,
// RPF_interface(S) is RPF_interface(RP(G)), inherited_olist(S,G,rpt)
// holds d's receivers and RPF'(S,G) (b) is not RPF'(*,G) (a): the packets
// may still be a's. So d keeps taking the RP tree's copy and sends no
// Prune(S,G,rpt), however long b takes to forward (here b has no route to
// S at first: it cannot join toward S). Once b forwards too, the
// duplicates on mid bring the Asserts; b's (S,G) Assert wins, a stops,
// and d, an Assert loser to b on RPF_interface(S), sets the bit (4.6.1
// A6; I_Am_Assert_Loser in Update_SPTbit) and only then prunes (S,G,rpt).
// The receiver loses nothing.
func TestSPTBitSameInterface(t *testing.T) {
	n, rs, s, h := sptLANNet(t)
	b, d := rs["b"], rs["d"]
	b.DelRoute(srcPrefix)
	n.Run(10 * time.Second)
	h.Join(asmGrp)
	n.Run(time.Second)
	t0 := n.Elapsed()
	st := s.Stream(asmGrp, 100*time.Millisecond)
	const period = 100 * time.Millisecond

	bLL := netip.MustParseAddr("fe80::b")
	// 30 s: the counters of d's entry are polled (DataActivity) three
	// times, each a packet that arrived on RPF_interface(S).
	n.Run(30 * time.Second)
	js := jpEntries(n, t0, asmGrpIP)
	if j := filterJP(js, "d/mid", "J", "S"); len(j) == 0 || j[0].upstream != bLL {
		t.Fatalf("want d's Join(S,G) to b (%v) on mid:\n%s", bLL, jpLines(js))
	}
	if p := filterJP(js, "d/mid", "P", ""); len(p) != 0 {
		t.Errorf("d pruned while b does not forward S (the packets on mid are a's):\n%s", jpLines(p))
	}
	if rt := sgRoute(d, srcAddr); rt == nil || rt.UpstreamState != "Joined" || hasFlags(rt, "SPT") || rt.UpstreamNeighbor != bLL {
		t.Errorf("d's (S,G) with only a forwarding on mid: %+v; want Joined toward b without the SPT bit", rt)
	}
	wantMFC(t, d, srcAddr, "mid", "eth1")
	if got := udpFrames(n, "mid", srcAddr, t0); got["b/mid"] != 0 || got["a/mid"] == 0 {
		t.Errorf("mid: %v, want a's datagrams only", got)
	}
	if dl := asmDelivery(h, srcAddr, st); len(dl.Missing) != 0 || dl.Duplicates != 0 {
		t.Errorf("receiver while on the RP tree: %d sent, %d received, %d duplicates, missing %v", st.Sent(), dl.Received, dl.Duplicates, dl.Missing)
	}

	// b gets its route: it joins toward S and forwards onto mid too (40 s:
	// d's periodic Joins go out once more).
	t1 := n.Elapsed()
	b.Route(srcPrefix, "fe80::1", "to-fhr")
	n.Run(40 * time.Second)
	st.Stop()
	n.Run(time.Second)

	var sgAssert time.Duration
	var assertTrace []pimEvent
	for _, e := range pimTrace(n, t0) {
		if m, ok := e.msg.(*pimmsg.Assert); ok && e.link == "mid" {
			assertTrace = append(assertTrace, e)
			if !m.RPT && sgAssert == 0 {
				sgAssert = e.at
				if e.from != "b/mid" {
					t.Errorf("the first (S,G) Assert on mid is %v, want b's", e)
				}
			}
		}
	}
	if sgAssert == 0 || sgAssert < t1 {
		t.Fatalf("want b's (S,G) Assert on mid after %v:\n%s", t1, eventLines(assertTrace))
	}
	js = jpEntries(n, t0, asmGrpIP)
	pr := filterJP(js, "d/mid", "P", "S,rpt")
	// It goes to RPF'(S,G,rpt): the (S,G) Assert winner on
	// RPF_interface(RP(G)), b; a is held off mid by the Assert it lost.
	if len(pr) == 0 || pr[0].at < sgAssert || pr[0].upstream != bLL {
		t.Errorf("want d's first Prune(S,G,rpt) after b's (S,G) Assert (%v), to b:\n%s", sgAssert, jpLines(js))
	}
	t.Logf("Asserts on mid:\n%s", eventLines(assertTrace))
	t.Logf("d's Join/Prunes:\n%s", jpLines(filterJP(js, "d/mid", "", "")))

	wantMFC(t, d, srcAddr, "mid", "eth1")
	if rt := sgRoute(d, srcAddr); !hasFlags(rt, "SPT") || rt.UpstreamNeighbor != bLL {
		t.Errorf("d's (S,G) %+v; want the SPT bit, upstream b", rt)
	}
	// a lost the Assert and stopped forwarding S on mid.
	if got := udpFrames(n, "mid", srcAddr, sgAssert+time.Second); got["a/mid"] != 0 || got["b/mid"] == 0 {
		t.Errorf("mid a second after the (S,G) Assert: %v; want b's datagrams only", got)
	}
	dl := asmDelivery(h, srcAddr, st)
	if len(dl.Missing) != 0 {
		t.Errorf("receiver: %d sent, %d received, missing %v", st.Sent(), dl.Received, dl.Missing)
	}
	if dup := dupsFrom(h, uint64((sgAssert-t0+time.Second)/period)); dup != 0 {
		t.Errorf("receiver: %d duplicates of datagrams sent a second after the (S,G) Assert", dup)
	}
}
