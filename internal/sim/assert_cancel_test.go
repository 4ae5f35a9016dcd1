package sim

import (
	"net/netip"
	"testing"
	"time"
)

// assertCancelNet: S - lanS - f (the RP); f - la - ra; f - lz - rz; ra,
// rz, rd and the host hx on the LAN mid; rd - lanD - hd. rz (fe80::f0)
// has the highest address on mid: it is mid's DR, so hx's membership
// makes it forward onto mid, and it wins an Assert against ra, whose
// metric is equal. rd reaches S and the RP through ra (fe80::a); rd's
// own address (fe80::d) is below rz's. SPT switch never: the Asserts
// are (*,G) ones.
func assertCancelNet(t *testing.T) (n *Net, ra, rz, rd *Router, s, hx, hd *Host) {
	n = New(t, Options{Delay: 100 * time.Microsecond})
	lanS, la, lz, mid, lanD := n.AddLink("lanS"), n.AddLink("la"), n.AddLink("lz"), n.AddLink("mid"), n.AddLink("lanD")
	f := n.AddRouter("f", asmConf(t, rpF, "[pim]\nspt-switch = \"never\"\n"))
	ra = n.AddRouter("ra", asmConf(t, rpF, "[pim]\nspt-switch = \"never\"\n"))
	rz = n.AddRouter("rz", asmConf(t, rpF, "[pim]\nspt-switch = \"never\"\n"))
	rd = n.AddRouter("rd", asmConf(t, rpF, "[pim]\nspt-switch = \"never\"\n"))
	f.AddInterface("eth0", lanS, "fe80::f", "2001:db8:1::1/64")
	f.AddInterface("to-a", la, "fe80::f")
	f.AddInterface("to-z", lz, "fe80::f")
	f.AddLoopback(rpF)
	ra.AddInterface("to-f", la, "fe80::a")
	ra.AddInterface("mid", mid, "fe80::a", "2001:db8:99::a/64")
	rz.AddInterface("to-f", lz, "fe80::f0")
	rz.AddInterface("mid", mid, "fe80::f0", "2001:db8:99::f0/64")
	rd.AddInterface("mid", mid, "fe80::d", "2001:db8:99::d/64")
	rd.AddInterface("eth1", lanD, "fe80::d", "2001:db8:d::1/64")
	s = n.AddHost("s", lanS, "fe80::10", srcAddr)
	hx = n.AddHost("hx", mid, "fe80::20", "2001:db8:99::20")
	hd = n.AddHost("hd", lanD, "fe80::20", "2001:db8:d::20")
	n.AutoRoutes()
	for _, p := range []string{srcPrefix, rpF + "/128"} {
		rd.Route(p, "fe80::a", "mid")
	}
	return n, ra, rz, rd, s, hx, hd
}

// TestASMAssertCancelNotAcceptable: an AssertCancel is never an
// acceptable Assert (RFC 7761 4.6.2): it must not make a router on its
// RPF interface, where its own assert metric is infinite, a loser toward
// the canceller on the address tie-break.
//
// ra and rz both forward onto mid (rd joined through ra, hx is rz's
// listener) and Assert; rz wins, and rd, a loser, sends its Joins to rz.
// The source stops; hd leaves and joins again, so rd's (*,G) machine on
// mid starts anew from NoInfo and its Join goes to ra (which takes ra
// out of Loser). Then hx leaves: rz can no longer assert and sends an
// AssertCancel(*,G). ra misses it (a lost frame: had it heard it, ra, in
// NoInfo with rd's Join, would answer with its own Assert, acceptable to
// rd, which would hide what rd did with the AssertCancel). rd must stay
// in NoInfo and keep sending its Joins to ra. Before the fix rd became
// loser toward rz (fe80::f0 is above its fe80::d) for Assert_Time and
// sent its Join(*,G) there within t_override, and rz, which had just
// left the tree, joined it again toward f for rd.
//
// The other way an AssertCancel is taken, from the winner by a loser, is
// TestASMAssert's "cancel" case.
func TestASMAssertCancelNotAcceptable(t *testing.T) {
	n, ra, rz, rd, s, hx, hd := assertCancelNet(t)
	raLL, rzLL := netip.MustParseAddr("fe80::a"), netip.MustParseAddr("fe80::f0")
	n.Run(10 * time.Second)
	hx.Join(asmGrp)
	hd.Join(asmGrp)
	n.Run(2 * time.Second)
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(5 * time.Second)
	st.Stop()
	if r := starRoute(rd); r == nil || r.UpstreamNeighbor != rzLL {
		t.Fatalf("rd (*,G) %+v, want the Assert winner fe80::f0 upstream\n%s", r, asmDump(n))
	}
	n.Run(5 * time.Second)
	hd.Leave(asmGrp)
	n.Run(10 * time.Second)
	hd.Join(asmGrp)
	n.Run(5 * time.Second)
	if r := starRoute(rd); r == nil || r.UpstreamNeighbor != raLL || len(r.Asserted) != 0 {
		t.Fatalf("rd (*,G) after joining again %+v, want fe80::a upstream and no Assert state\n%s", r, asmDump(n))
	}

	tLeave := n.Elapsed()
	hx.Leave(asmGrp)
	var cancel pimEvent
	runUntilASM(t, n, "rz's AssertCancel", func() bool {
		for _, e := range asserts(n, tLeave) {
			if isAssertCancel(e.msg) && e.from == "rz/mid" {
				cancel = e
				return true
			}
		}
		return false
	}, time.Minute)
	// ra loses the frame: it is silent while the frame is in flight.
	ra.Iface("mid").SetSilent(true)
	n.Run(100 * time.Microsecond)
	ra.Iface("mid").SetSilent(false)
	n.Run(10 * time.Second)

	if as := asserts(n, cancel.at+time.Nanosecond); len(as) != 0 {
		t.Errorf("Asserts after rz's AssertCancel:\n%s", eventLines(as))
	}
	var joins []jpEntry
	for _, e := range jpEntries(n, cancel.at, asmGrpIP) {
		if e.kind == "J" && (e.from == "rd/mid" && e.upstream != raLL || e.from == "rz/to-f") {
			joins = append(joins, e)
		}
	}
	if len(joins) != 0 {
		t.Errorf("after rz's AssertCancel at %s, want rd's Joins to fe80::a only and rz off the tree; got:\n%s",
			fmtElapsed(cancel.at), jpLines(joins))
	}
	if r := starRoute(rd); r == nil || r.UpstreamNeighbor != raLL || len(r.Asserted) != 0 {
		t.Errorf("rd (*,G) %+v, want fe80::a upstream and no Assert state", r)
	}
	if r := starRoute(rz); r != nil && r.UpstreamState == "Joined" {
		t.Errorf("rz (*,G) %+v, want it off the tree", r)
	}
}
