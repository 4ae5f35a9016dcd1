package sim

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// asmTriangle: S - lanS - fhr; fhr - lfr - rp; rp - lrl - lhr; fhr - lfl -
// lhr; lhr - lanR - h. The RP address is on rp's loopback. lhr's route
// to S goes over lfl, straight to fhr; its route to the RP over lrl.
func asmTriangle(t *testing.T, lhrExtra string) (*Net, [3]*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, lfr, lrl, lfl, lanR := n.AddLink("lanS"), n.AddLink("lfr"), n.AddLink("lrl"), n.AddLink("lfl"), n.AddLink("lanR")
	fhr := n.AddRouter("fhr", asmConf(t, rpAddr, ""))
	rp := n.AddRouter("rp", asmConf(t, rpAddr, ""))
	lhr := n.AddRouter("lhr", asmConf(t, rpAddr, lhrExtra))
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-rp", lfr, "fe80::1")
	fhr.AddInterface("to-lhr", lfl, "fe80::1")
	rp.AddInterface("to-fhr", lfr, "fe80::2")
	rp.AddInterface("to-lhr", lrl, "fe80::2")
	rp.AddLoopback(rpAddr)
	lhr.AddInterface("to-rp", lrl, "fe80::3")
	lhr.AddInterface("to-fhr", lfl, "fe80::3")
	lhr.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	return n, [3]*Router{fhr, rp, lhr}, s, h
}

// TestASMSPTSwitchover: the last-hop router gets the first packet down
// the RP tree, joins (S,G) straight toward the first-hop router (its
// route to S), and when the packets arrive there (WRONGMIF: the SPT has
// reached it) moves its MFC iif to that link and prunes S off the RP tree
// with an (S,G,rpt) Prune toward the RP. The RP, left without receivers
// for S, stops forwarding down the RP tree and prunes its own SPT join.
// After the switch the data crosses only lanS, lfl and lanR.
func TestASMSPTSwitchover(t *testing.T) {
	n, rs, s, h := asmTriangle(t, "")
	fhr, rp, lhr := rs[0], rs[1], rs[2]
	n.Run(10 * time.Second)
	h.Join(asmGrp)
	n.Run(time.Second)
	t0 := n.Elapsed()
	st := s.Stream(asmGrp, 100*time.Millisecond)
	el := runUntilASM(t, n, "lhr's MFC iif moving to to-fhr", func() bool {
		e, ok := lhr.Entry(srcAddr, asmGrp)
		return ok && e.IIFName == "to-fhr"
	}, 10*time.Second)
	t.Logf("lhr on the SPT %v after the first packet", el)
	n.Run(time.Minute)

	js := jpEntries(n, t0, asmGrpIP)
	fhrLL, rpLL := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
	joinS := filterJP(js, "lhr/to-fhr", "J", "S")
	pruneRpt := filterJP(js, "lhr/to-rp", "P", "S,rpt")
	if len(joinS) == 0 || joinS[0].upstream != fhrLL || joinS[0].link != "lfl" {
		t.Fatalf("want lhr's Join(S,G) to fhr on lfl:\n%s", jpLines(js))
	}
	if len(pruneRpt) == 0 || pruneRpt[0].upstream != rpLL || pruneRpt[0].at < joinS[0].at {
		t.Fatalf("want lhr's Prune(S,G,rpt) to rp on lrl after its Join(S,G):\n%s", jpLines(js))
	}
	if j := filterJP(js, "lhr/to-rp", "", "S"); len(j) != 0 {
		t.Errorf("lhr sent (S,G) Join/Prunes toward the RP:\n%s", jpLines(j))
	}
	// The RP pruned its own SPT join once lhr's (S,G,rpt) Prune left it
	// without receivers for S.
	rpPrune := filterJP(js, "rp/to-fhr", "P", "S")
	if len(rpPrune) != 1 || rpPrune[0].at < pruneRpt[0].at {
		t.Errorf("want one Prune(S,G) from rp to fhr after lhr's (S,G,rpt) Prune:\n%s", jpLines(js))
	}
	// The periodic Join(*,G) carries the (S,G,rpt) Prune.
	var periodic bool
	for _, e := range pimTrace(n, t0+30*time.Second) {
		if e.from == "lhr/to-rp" && describePIM(e.msg) == "PIM Join/Prune upstream=fe80::2 hold=210 [ff0e::4000:1/128 J(*2001:db8:ff::2,rpt) P(2001:db8:1::10,rpt)]" {
			periodic = true
		}
	}
	if !periodic {
		t.Errorf("no periodic Join(*,G) with the (S,G,rpt) Prune:\n%s", eventLines(pimTrace(n, t0)))
	}
	t.Logf("Join(S,G) at %v, Prune(S,G,rpt) at %v, rp's Prune(S,G) at %v", joinS[0].at, pruneRpt[0].at, rpPrune[0].at)

	// Every hop's MFC, and pim6stat.
	wantMFC(t, fhr, srcAddr, "eth0", "to-lhr")
	// The RP's Prune(S,G) took it out of Joined, which cleared its SPT bit
	// (RFC 7761 4.5.5): its entry is back on the Register path (the
	// Registers it still gets are answered with Register-Stops).
	wantMFC(t, rp, srcAddr, "pim6reg")
	wantMFC(t, lhr, srcAddr, "to-fhr", "eth1")
	if r := sgRoute(lhr, srcAddr); !hasFlags(r, "SPT") || mifName(lhr, r.Incoming) != "to-fhr" || r.UpstreamNeighbor != fhrLL {
		t.Errorf("lhr (S,G) %+v", r)
	}
	if r := sgRoute(rp, srcAddr); r == nil || r.UpstreamState != "NotJoined" || hasFlags(r, "SPT") || !slices.Equal(mifNames(rp, r.Pruned), []string{"to-lhr"}) || len(r.Outgoing) != 0 {
		t.Errorf("rp (S,G) %+v, want NotJoined without the SPT bit, (S,G,rpt) pruned on to-lhr, no oif", r)
	}
	if r := starRoute(rp); r == nil || !slices.Equal(mifNames(rp, r.Joined), []string{"to-lhr"}) {
		t.Errorf("rp (*,G) %+v, want still joined on to-lhr", r)
	}
	if r := sgRoute(fhr, srcAddr); !hasFlags(r, "SPT", "REG_SUPP") || !slices.Equal(mifNames(fhr, r.Outgoing), []string{"to-lhr"}) {
		t.Errorf("fhr (S,G) %+v", r)
	}

	// After the switch, no data on the RP tree's links.
	tAfter := t0 + el + time.Second
	for _, link := range []string{"lfr", "lrl"} {
		if got := udpFrames(n, link, srcAddr, tAfter); len(got) != 0 {
			t.Errorf("%s carried data after the switch: %v", link, got)
		}
	}
	if got := udpFrames(n, "lfl", srcAddr, tAfter); got["fhr/to-lhr"] < 590 {
		t.Errorf("lfl: %v", got)
	}

	// The receiver: no duplicates (one iif at a time at lhr); at most one
	// datagram lost at the switch: the first one on the SPT is dropped by
	// lhr's kernel as arriving on the wrong MIF (it only causes the
	// WRONGMIF upcall that moves the iif), and its RP-tree copy arrives
	// after the move, on what is now the wrong MIF.
	st.Stop()
	n.Run(time.Second)
	d := asmDelivery(h, srcAddr, st)
	firstSPT := uint64(0)
	for _, f := range n.Link("lfl").Frames() {
		if data, ok := f.UDP(); ok {
			firstSPT, _ = Seq(data)
			break
		}
	}
	if d.Duplicates != 0 || len(d.Missing) > 1 || len(d.Missing) == 1 && d.Missing[0] != firstSPT {
		t.Errorf("receiver: %d sent, %d received, %d duplicates, missing %v (at most %d, the first on the SPT)", st.Sent(), d.Received, d.Duplicates, d.Missing, firstSPT)
	}
	t.Logf("receiver: %d sent, %d duplicates, lost %v", st.Sent(), d.Duplicates, d.Missing)
}

// TestASMSPTSwitchNever: with spt-switch = "never" at the last-hop router
// the traffic stays on the RP tree: its MFC iif stays the link to the RP,
// it never joins toward S nor prunes (S,G,rpt), and lfl carries nothing.
func TestASMSPTSwitchNever(t *testing.T) {
	n, rs, s, h := asmTriangle(t, "[pim]\nspt-switch = \"never\"\n")
	fhr, rp, lhr := rs[0], rs[1], rs[2]
	n.Run(10 * time.Second)
	h.Join(asmGrp)
	n.Run(time.Second)
	t0 := n.Elapsed()
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(2 * time.Minute)
	st.Stop()
	n.Run(time.Second)

	wantMFC(t, lhr, srcAddr, "to-rp", "eth1")
	wantMFC(t, rp, srcAddr, "to-fhr", "to-lhr") // the RP itself switches to the SPT of a registering source
	wantMFC(t, fhr, srcAddr, "eth0", "to-rp")
	if r := sgRoute(lhr, srcAddr); r == nil || hasFlags(r, "SPT") || mifName(lhr, r.Incoming) != "to-rp" {
		t.Errorf("lhr (S,G) %+v, want on the RP tree", r)
	}
	js := jpEntries(n, t0, asmGrpIP)
	if j := filterJP(js, "lhr/to-fhr", "", ""); len(j) != 0 {
		t.Errorf("lhr joined toward S:\n%s", jpLines(j))
	}
	if j := filterJP(js, "lhr/to-rp", "", "S,rpt"); len(j) != 0 {
		t.Errorf("lhr pruned (S,G,rpt):\n%s", jpLines(j))
	}
	if got := udpFrames(n, "lfl", srcAddr, t0); len(got) != 0 {
		t.Errorf("lfl carried data: %v", got)
	}
	if got := udpFrames(n, "lrl", srcAddr, t0); got["rp/to-lhr"] != int(st.Sent()) {
		t.Errorf("lrl: %v, want all %d datagrams from rp", got, st.Sent())
	}
	d := asmDelivery(h, srcAddr, st)
	if d.Duplicates != 0 || len(d.Missing) != 0 {
		t.Errorf("receiver: %d sent, %d received, %d duplicates, missing %v", st.Sent(), d.Received, d.Duplicates, d.Missing)
	}
}

// TestASMDeterminism: an ASM scenario (Register, Register-Stop, SPT
// switchover, Null-Registers, the source stopping) gives the same trace
// twice.
func TestASMDeterminism(t *testing.T) {
	run := func() []string {
		n, _, s, h := asmTriangle(t, "")
		n.Run(10 * time.Second)
		h.Join(asmGrp)
		st := s.Stream(asmGrp, 50*time.Millisecond)
		n.Run(2 * time.Minute)
		st.Stop()
		h.Leave(asmGrp)
		n.Run(5 * time.Minute)
		return n.Trace()
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("traces differ at line %d:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("traces differ in length: %d and %d lines", len(a), len(b))
	}
}
