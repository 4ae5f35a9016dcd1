package sim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

const rpF = "2001:db8:ff::f" // the RP of the Assert scenarios: f's loopback

// asmAssertNet: S - lanS - f (the RP); f - la - ra; f - lb - rb; ra, rb,
// rc and rd on the LAN mid; rc - lanC - hc; rd - lanD - hd. rc reaches S
// and the RP through ra, rd through rb, so both ra and rb forward onto
// mid until they Assert. ra's routes toward S and the RP have the better
// metric (10 against 1024): ra wins.
func asmAssertNet(t *testing.T) (*Net, map[string]*Router, *Host, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, la, lb, mid, lanC, lanD := n.AddLink("lanS"), n.AddLink("la"), n.AddLink("lb"), n.AddLink("mid"), n.AddLink("lanC"), n.AddLink("lanD")
	rs := map[string]*Router{}
	for _, name := range []string{"f", "ra", "rb", "rc", "rd"} {
		rs[name] = n.AddRouter(name, asmConf(t, rpF, ""))
	}
	f, ra, rb, rc, rd := rs["f"], rs["ra"], rs["rb"], rs["rc"], rs["rd"]
	f.AddInterface("eth0", lanS, "fe80::f", "2001:db8:1::1/64")
	f.AddInterface("to-a", la, "fe80::f")
	f.AddInterface("to-b", lb, "fe80::f")
	f.AddLoopback(rpF)
	ra.AddInterface("to-f", la, "fe80::a")
	ra.AddInterface("mid", mid, "fe80::a", "2001:db8:99::a/64")
	rb.AddInterface("to-f", lb, "fe80::b")
	rb.AddInterface("mid", mid, "fe80::b", "2001:db8:99::b/64")
	rc.AddInterface("mid", mid, "fe80::c", "2001:db8:99::c/64")
	rc.AddInterface("eth1", lanC, "fe80::c", "2001:db8:c::1/64")
	rd.AddInterface("mid", mid, "fe80::d", "2001:db8:99::d/64")
	rd.AddInterface("eth1", lanD, "fe80::d", "2001:db8:d::1/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	hc := n.AddHost("hc", lanC, "fe80::20", "2001:db8:c::20")
	hd := n.AddHost("hd", lanD, "fe80::20", "2001:db8:d::20")
	n.AutoRoutes()
	for _, p := range []string{srcPrefix, rpF + "/128"} {
		rc.Route(p, "fe80::a", "mid")
		rd.Route(p, "fe80::b", "mid")
		ra.AddRoute(StaticRoute{Dst: p, Via: "fe80::f", Dev: "to-f", Metric: 10})
	}
	return n, rs, s, hc, hd
}

// asserts lists the Assert messages on mid since `since`.
func asserts(n *Net, since time.Duration) []pimEvent {
	var out []pimEvent
	for _, e := range pimTrace(n, since) {
		if _, ok := e.msg.(*pimmsg.Assert); ok && e.link == "mid" {
			out = append(out, e)
		}
	}
	return out
}

func isAssertCancel(m pimmsg.Message) bool {
	a, ok := m.(*pimmsg.Assert)
	return ok && a.RPT && a.MetricPreference == 1<<31-1 && a.Metric == 1<<32-1
}

// dupsFrom counts the datagrams with sequence numbers from `from` on
// that h received more than once.
func dupsFrom(h *Host, from uint64) int {
	seen := map[uint64]int{}
	dups := 0
	for _, s := range seqs(h.ReceivedFrom(srcAddr, asmGrp)) {
		if s >= from {
			if seen[s]++; seen[s] > 1 {
				dups++
			}
		}
	}
	return dups
}

// TestASMAssert: ra and rb both forward onto mid, rc having joined through
// ra and rd through rb. Each sees the other's packets on an outgoing
// interface (WRONGMIF) and asserts: first (*,G) (RPT bit: neither has
// the SPT bit yet), then (S,G) once they have it. ra, with the better
// metric, wins both; rb's MFC loses mid, and rd sends its Joins to the
// winner. From the last Assert on there is one forwarder and no
// duplicate. Then the winner goes: its route to S moves onto mid (it can
// no longer assert: AssertCancel, and rb takes over at once), or its
// daemon stops (goodbye Hello: at once), or it is killed (rb's Assert
// state lasts until ra's Neighbor Liveness Timer expires).
func TestASMAssert(t *testing.T) {
	for _, how := range []string{"cancel", "stop", "kill"} {
		t.Run(how, func(t *testing.T) { asmAssert(t, how) })
	}
}

func asmAssert(t *testing.T, how string) {
	n, rs, s, hc, hd := asmAssertNet(t)
	ra, rb, rd := rs["ra"], rs["rb"], rs["rd"]
	hosts := []*Host{hc, hd}
	raLL, rbLL := netip.MustParseAddr("fe80::a"), netip.MustParseAddr("fe80::b")
	n.Run(10 * time.Second)
	hc.Join(asmGrp)
	hd.Join(asmGrp)
	n.Run(time.Second)
	t0 := n.Elapsed()
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(time.Minute)

	as := asserts(n, t0)
	var starAsserts, sgAsserts []pimEvent
	for _, e := range as {
		if e.msg.(*pimmsg.Assert).RPT {
			starAsserts = append(starAsserts, e)
		} else {
			sgAsserts = append(sgAsserts, e)
		}
	}
	// Both routers assert (*,G) at the first packet; the (S,G) Assert comes
	// from ra as soon as both have the SPT bit, and rb, the worse, loses
	// on hearing it without asserting back.
	if len(starAsserts) < 2 || len(sgAsserts) < 1 || sgAsserts[0].from != "ra/mid" {
		t.Fatalf("want (*,G) Asserts from ra and rb and an (S,G) Assert from ra on mid:\n%s", eventLines(as))
	}
	for _, e := range as {
		a := e.msg.(*pimmsg.Assert)
		want := map[string]uint32{"ra/mid": 10, "rb/mid": 1024}[e.from]
		if a.Metric != want || a.MetricPreference != 1 || a.Group.Addr != asmGrpIP || a.Source != srcIP {
			t.Errorf("Assert %v, want metric %d", e, want)
		}
	}
	lastAssert := as[len(as)-1].at
	t.Logf("first Assert at %v, (S,G) Asserts at %v, last at %v", as[0].at, sgAsserts[0].at, lastAssert)

	// One forwarder: ra. rb's MFC lost mid; its pim6stat routes show the
	// lost Asserts; rd's RPF' is the winner, and its Joins go there.
	wantMFC(t, ra, srcAddr, "to-f", "mid")
	wantMFC(t, rb, srcAddr, "to-f")
	if r := sgRoute(rb, srcAddr); !hasFlags(r, "ASSERTED") || !slices.Equal(mifNames(rb, r.Asserted), []string{"mid"}) || len(r.Outgoing) != 0 {
		t.Errorf("rb (S,G) %+v", r)
	}
	if r := starRoute(rb); r == nil || !slices.Equal(mifNames(rb, r.Asserted), []string{"mid"}) {
		t.Errorf("rb (*,G) %+v", r)
	}
	if r := sgRoute(rd, srcAddr); r == nil || r.UpstreamNeighbor != raLL {
		t.Errorf("rd (S,G) %+v, want the Assert winner fe80::a upstream", r)
	}
	if r := starRoute(rd); r == nil || r.UpstreamNeighbor != raLL {
		t.Errorf("rd (*,G) %+v, want the Assert winner fe80::a upstream", r)
	}
	// After the Assert the downstream routers' Join(S,G)s name the winner.
	// rd may send none of its own for a while: rc's Join(S,G) to the same
	// neighbor suppresses it (4.5.5, t_suppressed).
	var j []jpEntry
	for _, e := range filterJP(jpEntries(n, lastAssert, asmGrpIP), "", "J", "S") {
		if e.link == "mid" {
			j = append(j, e)
		}
	}
	if len(j) == 0 || j[len(j)-1].upstream != raLL || j[len(j)-1].at <= lastAssert {
		t.Errorf("Join(S,G)s on mid after the Assert:\n%s", jpLines(j))
	}
	after := lastAssert + time.Millisecond
	if got := udpFrames(n, "mid", srcAddr, after); got["rb/mid"] != 0 || got["ra/mid"] < 360 {
		t.Errorf("datagrams on mid after the last Assert by sender %v, want ra's only", got)
	}
	firstAfter := uint64((after-t0)/(100*time.Millisecond)) + 1
	for _, h := range hosts {
		all := asmDelivery(h, srcAddr, st)
		if d := dupsFrom(h, firstAfter); d != 0 || len(all.Missing) != 0 {
			t.Errorf("%s: %d duplicates after the last Assert (of %d in all), missing %v", h.Name(), d, all.Duplicates, all.Missing)
		}
		t.Logf("%s: %d duplicates before the last Assert (%v after the first packet), none after", h.Name(), all.Duplicates, lastAssert-t0)
	}

	// The winner goes.
	tGo := n.Elapsed()
	seqGo := uint64((tGo - t0) / (100 * time.Millisecond)) // sent now, in flight
	switch how {
	case "cancel":
		ra.AddRoute(StaticRoute{Dst: srcPrefix, Via: "fe80::b", Dev: "mid", Metric: 10})
	case "stop":
		ra.Stop()
	case "kill":
		ra.Kill()
	}
	el := runUntilASM(t, n, "rb forwarding onto mid", func() bool {
		e, ok := rb.Entry(srcAddr, asmGrp)
		return ok && slices.Contains(e.OIFNames, "mid")
	}, 2*time.Minute)
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)
	cancels := 0
	for _, e := range asserts(n, tGo) {
		if isAssertCancel(e.msg) && e.from == "ra/mid" {
			cancels++
		}
	}
	switch how {
	case "cancel":
		if cancels != 1 || el > time.Millisecond {
			t.Errorf("ra sent %d AssertCancels; rb took over after %v:\n%s", cancels, el, eventLines(asserts(n, tGo)))
		}
		wantMFC(t, ra, srcAddr, "mid")
	case "stop":
		if cancels != 0 || el > time.Millisecond {
			t.Errorf("%d AssertCancels; rb took over after %v", cancels, el)
		}
	case "kill":
		// The Neighbor Liveness Timer (105 s) from ra's last Hello, at
		// most a Hello period (30 s) before the kill.
		if el < 75*time.Second || el > 105*time.Second+time.Millisecond {
			t.Errorf("rb took over %v after the kill, want when ra's Neighbor Liveness Timer expires", el)
		}
	}
	if r := sgRoute(rb, srcAddr); r == nil || len(r.Asserted) != 0 {
		t.Errorf("rb (S,G) %+v, want no Assert state", r)
	}
	if r := sgRoute(rd, srcAddr); r == nil || r.UpstreamNeighbor != rbLL {
		t.Errorf("rd (S,G) %+v, want rb upstream again", r)
	}
	if got := udpFrames(n, "mid", srcAddr, tGo+el+time.Millisecond); got["ra/mid"] != 0 || got["rb/mid"] < 290 {
		t.Errorf("datagrams on mid after the takeover by sender %v, want rb's only", got)
	}
	for _, h := range hosts {
		d := asmDelivery(h, srcAddr, st)
		g, at := gap(h.ReceivedFrom(srcAddr, asmGrp), tGo)
		var lost []uint64
		for _, m := range d.Missing {
			if m >= seqGo {
				lost = append(lost, m)
			}
		}
		if dupsFrom(h, seqGo) != 0 || g > el+200*time.Millisecond {
			t.Errorf("%s: %d duplicates, gap %v at %v, after the winner went", h.Name(), dupsFrom(h, seqGo), g, at)
		}
		t.Logf("%s: %s: rb took over %v later; gap %v, %d datagrams lost", h.Name(), how, el, g, len(lost))
	}
}
