package sim

import (
	"net/netip"
	"testing"
	"time"
)

// TestASMRateSPTSwitch: the last-hop router of asmTriangle has
// spt-switch = "64kbps". Two sources on lanS send to the group: a slow
// one (a 60-byte packet every 100 ms: 4.8 kbit/s) and a fast one (every
// 4 ms: 120 kbit/s). lhr measures each (S,G)'s rate from its kernel
// counters over an ActivityInterval (10 s): the fast source switches to
// the SPT (Join toward fhr over lfl, (S,G,rpt) Prune toward the RP), the
// slow one stays on the RP tree.
func TestASMRateSPTSwitch(t *testing.T) {
	const fastAddr = "2001:db8:1::11"
	fastIP := netip.MustParseAddr(fastAddr)
	n, rs, slow, h := asmTriangle(t, "[pim]\nspt-switch = \"64kbps\"\n")
	fhr, rp, lhr := rs[0], rs[1], rs[2]
	fast := n.AddHost("fast", n.Link("lanS"), "fe80::11", fastAddr)
	n.Run(10 * time.Second)
	h.Join(asmGrp)
	n.Run(time.Second)
	t0 := n.Elapsed()
	stSlow := slow.Stream(asmGrp, 100*time.Millisecond)
	stFast := fast.Stream(asmGrp, 4*time.Millisecond)

	el := runUntilASM(t, n, "lhr switching the fast source to the SPT", func() bool {
		e, ok := lhr.Entry(fastAddr, asmGrp)
		return ok && e.IIFName == "to-fhr"
	}, time.Minute)
	n.Run(time.Minute)
	stSlow.Stop()
	stFast.Stop()
	n.Run(time.Second)

	// The switch comes with the second counter reading (the first one is
	// the baseline): within two ActivityIntervals.
	if el < 10*time.Second || el > 20*time.Second+time.Second {
		t.Errorf("fast source switched %v after it started, want within two ActivityIntervals (10-20 s)", el)
	}
	wantMFC(t, lhr, fastAddr, "to-fhr", "eth1")
	wantMFC(t, lhr, srcAddr, "to-rp", "eth1")
	wantMFC(t, rp, srcAddr, "to-fhr", "to-lhr")
	// The RP, left without receivers for the fast source, pruned its SPT
	// join: leaving Joined cleared its SPT bit (RFC 7761 4.5.5), so the
	// entry is back on the Register path, forwarding nothing.
	wantMFC(t, rp, fastAddr, "pim6reg")
	if r := sgRoute(lhr, fastAddr); !hasFlags(r, "SPT") {
		t.Errorf("lhr (fast,G) %+v, want SPT", r)
	}
	if r := sgRoute(lhr, srcAddr); r == nil || hasFlags(r, "SPT") || mifName(lhr, r.Incoming) != "to-rp" {
		t.Errorf("lhr (slow,G) %+v, want on the RP tree", r)
	}
	js := jpEntries(n, t0, asmGrpIP)
	var joinFast, pruneFastRpt, slowSPT int
	for _, j := range js {
		switch {
		case j.from == "lhr/to-fhr" && j.kind == "J" && j.what == "S" && j.addr == fastIP:
			joinFast++
		case j.from == "lhr/to-rp" && j.kind == "P" && j.what == "S,rpt" && j.addr == fastIP:
			pruneFastRpt++
		case j.from == "lhr/to-fhr" && j.addr == srcIP, j.what == "S,rpt" && j.addr == srcIP:
			slowSPT++
		}
	}
	if joinFast == 0 || pruneFastRpt == 0 || slowSPT != 0 {
		t.Errorf("lhr: %d Join(fast,G) to fhr, %d Prune(fast,G,rpt) to rp, %d SPT messages for the slow source:\n%s", joinFast, pruneFastRpt, slowSPT, jpLines(js))
	}
	// After the switch, the fast source's data crosses lfl only, the slow
	// one's lfr and lrl only.
	after := t0 + el + time.Second
	if got := udpFrames(n, "lfl", fastAddr, after); got["fhr/to-lhr"] == 0 {
		t.Errorf("lfl: fast datagrams %v", got)
	}
	for _, link := range []string{"lfr", "lrl"} {
		if got := udpFrames(n, link, fastAddr, after); len(got) != 0 {
			t.Errorf("%s carried the fast source after the switch: %v", link, got)
		}
		if got := udpFrames(n, link, srcAddr, t0+time.Second); len(got) != 1 {
			t.Errorf("%s: slow datagrams by sender %v", link, got)
		}
	}
	if got := udpFrames(n, "lfl", srcAddr, t0); len(got) != 0 {
		t.Errorf("lfl carried the slow source: %v", got)
	}
	wantMFC(t, fhr, fastAddr, "eth0", "to-lhr")
	wantMFC(t, fhr, srcAddr, "eth0", "to-rp")

	dSlow := asmDelivery(h, srcAddr, stSlow)
	dFast := Deliveries(h.ReceivedFrom(fastAddr, asmGrp), stFast.Sent())
	if dSlow.Duplicates != 0 || len(dSlow.Missing) != 0 {
		t.Errorf("slow source: %d sent, %d duplicates, missing %v", stSlow.Sent(), dSlow.Duplicates, dSlow.Missing)
	}
	if dFast.Duplicates != 0 || len(dFast.Missing) > 1 {
		t.Errorf("fast source: %d sent, %d duplicates, missing %v", stFast.Sent(), dFast.Duplicates, dFast.Missing)
	}
	t.Logf("fast source on the SPT %v after it started; slow: %d sent, none lost; fast: %d sent, lost %v", el, stSlow.Sent(), stFast.Sent(), dFast.Missing)
}
