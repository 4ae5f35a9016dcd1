package sim

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The scenarios use the source S = 2001:db8:1::10 on lanS and the SSM
// group ff3e::1234; routers have one link-local address each (fe80::N on
// every interface of router rN) and routes from AutoRoutes unless a test
// says otherwise.
const (
	srcAddr   = "2001:db8:1::10"
	srcPrefix = "2001:db8:1::/64"
	group     = "ff3e::1234"
)

var (
	srcIP   = netip.MustParseAddr(srcAddr)
	groupIP = netip.MustParseAddr(group)
)

// hasEntry reports whether r's kernel has an MFC entry for (S,G).
func hasEntry(r *Router) bool {
	_, ok := r.Entry(srcAddr, group)
	return ok
}

// oifs returns the names of the oifs of r's (S,G) entry (nil if none).
func oifs(r *Router) []string {
	e, ok := r.Entry(srcAddr, group)
	if !ok {
		return nil
	}
	return e.OIFNames
}

// joinPrunes lists the Join/Prune messages sent on a link after `since`,
// as "from J|P" strings for (S,G).
type jp struct {
	at       time.Duration
	from     string
	upstream netip.Addr
	join     bool
}

func joinPrunes(n *Net, link string, since time.Duration) []jp {
	var out []jp
	for _, f := range n.Frames() {
		if f.Link != link || f.Elapsed() < since {
			continue
		}
		m, ok := f.PIM().(*pimmsg.JoinPrune)
		if !ok {
			continue
		}
		for _, g := range m.Groups {
			if g.Group.Addr != groupIP {
				continue
			}
			for _, s := range g.Joins {
				if s.Addr == srcIP {
					out = append(out, jp{f.Elapsed(), f.From, m.UpstreamNeighbor, true})
				}
			}
			for _, s := range g.Prunes {
				if s.Addr == srcIP {
					out = append(out, jp{f.Elapsed(), f.From, m.UpstreamNeighbor, false})
				}
			}
		}
	}
	return out
}

func countJP(l []jp, from string, join bool) int {
	c := 0
	for _, x := range l {
		if x.from == from && x.join == join {
			c++
		}
	}
	return c
}

// dump is the trace, for failure messages.
func dump(n *Net) string { return strings.Join(n.Trace(), "\n") }

// runUntil runs until cond or fails the test after max.
func runUntil(t *testing.T, n *Net, what string, cond func() bool, max time.Duration) time.Duration {
	t.Helper()
	d, ok := n.RunUntil(cond, max)
	if !ok {
		t.Fatalf("after %v: %s did not happen\n%s", max, what, dump(n))
	}
	return d
}

// checkDelivery checks what h got of st: no duplicates, at most
// maxMissing lost. The datagram sent at this very instant may still be in
// flight and is not counted.
func checkDelivery(t *testing.T, h *Host, st *Stream, maxMissing int) Delivery {
	t.Helper()
	sent := st.Sent()
	if !st.stopped && sent > 0 {
		sent--
	}
	d := Deliveries(h.ReceivedFrom(srcAddr, group), sent)
	if d.Duplicates != 0 || len(d.Missing) > maxMissing {
		t.Errorf("%s: %d sent, %d received, %d duplicates, missing %v (at most %d allowed)",
			h.Name(), st.Sent(), d.Received, d.Duplicates, d.Missing, maxMissing)
	}
	return d
}

// oneRouter: S on lanS, receiver H on lanR, r1 between.
func oneRouter(t *testing.T, delay time.Duration) (*Net, *Router, *Host, *Host) {
	n := New(t, Options{Delay: delay})
	lanS, lanR := n.AddLink("lanS"), n.AddLink("lanR")
	r := n.AddRouter("r1", nil)
	r.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r.AddInterface("eth1", lanR, "fe80::1", "2001:db8:2::1/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr+"/64")
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20/64")
	return n, r, s, h
}

func TestOneRouterJoinReceiveLeave(t *testing.T) {
	for _, delay := range []time.Duration{0, 100 * time.Microsecond, 5 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) { oneRouterJoinReceiveLeave(t, delay) })
	}
}

func oneRouterJoinReceiveLeave(t *testing.T, delay time.Duration) {
	n, r, s, h := oneRouter(t, delay)
	n.Run(time.Second)
	h.JoinSource(group, srcAddr)
	runUntil(t, n, "the MFC entry", func() bool { return hasEntry(r) }, 5*time.Second)
	if e, _ := r.Entry(srcAddr, group); e.IIFName != "eth0" || !slices.Equal(e.OIFNames, []string{"eth1"}) {
		t.Fatalf("entry %v, want iif eth0 and oifs [eth1]", e)
	}
	st := s.Stream(group, 100*time.Millisecond)
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)
	d := checkDelivery(t, h, st, 0)
	if d.Received != int(st.Sent()) {
		t.Fatalf("received %d of %d", d.Received, st.Sent())
	}
	for _, dg := range h.Received() {
		if dg.HopLimit != 63 {
			t.Fatalf("datagram with hop limit %d, want 63", dg.HopLimit)
		}
	}
	e, _ := r.Entry(srcAddr, group)
	if e.Packets != st.Sent() || e.WrongIf != 0 {
		t.Errorf("counters %+v, want %d packets", e, st.Sent())
	}
	// The snapshot shows the same route with the kernel's counters.
	snap := r.Snapshot()
	if len(snap.Routes) != 1 || snap.Routes[0].Packets != st.Sent() {
		t.Errorf("snapshot routes %+v", snap.Routes)
	}

	// Leave: the last-listener queries go unanswered and the entry goes
	// within the Last Listener Query Time (2 x 1 s).
	h.LeaveSource(group, srcAddr)
	el := runUntil(t, n, "the entry's removal", func() bool { return !hasEntry(r) }, 10*time.Second)
	if llqt := 2 * time.Second; el > llqt+3*delay {
		t.Errorf("entry removed %v after the leave, want within LLQT %v", el, llqt)
	}
	// Later data is not forwarded: the kernel reports it once (NOCACHE).
	before := len(h.Received())
	s.Send(group, []byte("late"))
	n.Run(time.Second)
	if len(h.Received()) != before {
		t.Errorf("data forwarded after the leave")
	}
	if u := r.Upcalls(); len(u) != 1 || u[0].Type.String() != "NOCACHE" {
		t.Errorf("upcalls %v, want one NOCACHE", u)
	}
}

// TestTwoListenersOneLeaves: when one of two listeners on a LAN blocks
// the source, the router's Group-and-Source-specific Query is answered by
// the other (IS_IN), and forwarding goes on. An MLDv1 listener cannot
// join in the SSM range (RFC 4604): no state, no forwarding.
func TestTwoListenersOneLeaves(t *testing.T) {
	n, r, s, h := oneRouter(t, 100*time.Microsecond)
	h2 := n.AddHost("h2", n.Link("lanR"), "fe80::21", "2001:db8:2::21")
	v1 := n.AddHost("v1", n.Link("lanR"), "fe80::22", "2001:db8:2::22")
	v1.ForceMLDv1()
	n.Run(time.Second)
	v1.JoinSource("ff3e::99", srcAddr)
	h.JoinSource(group, srcAddr)
	h2.JoinSource(group, srcAddr)
	st := s.Stream(group, 100*time.Millisecond)
	n.Run(5 * time.Second)
	t0 := n.Elapsed()
	h.LeaveSource(group, srcAddr)
	n.Run(10 * time.Second)
	if !hasEntry(r) {
		t.Fatalf("the entry went with one listener left")
	}
	answered := false
	for _, f := range n.Frames() {
		if f.Elapsed() > t0 && f.From == "h2/eth0" && strings.Contains(f.String(), "IS_IN ff3e::1234 [2001:db8:1::10]") {
			answered = true
		}
	}
	if !answered {
		t.Errorf("h2 did not answer the query with IS_IN\n%s", dump(n))
	}
	st.Stop()
	n.Run(time.Second)
	checkDelivery(t, h2, st, 0)
	if _, ok := r.Entry(srcAddr, "ff3e::99"); ok {
		t.Errorf("an MLDv1 report made SSM state")
	}
}

// chain: S - lanS - r1 - l12 - r2 - l23 - r3 - lanR - H.
func chain(t *testing.T, o Options) (*Net, []*Router, *Host, *Host) {
	n := New(t, o)
	lanS, l12, l23, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l23"), n.AddLink("lanR")
	r1, r2, r3 := n.AddRouter("r1", nil), n.AddRouter("r2", nil), n.AddRouter("r3", nil)
	r1.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r1.AddInterface("to-r2", l12, "fe80::1")
	r2.AddInterface("to-r1", l12, "fe80::2")
	r2.AddInterface("to-r3", l23, "fe80::2")
	r3.AddInterface("to-r2", l23, "fe80::3")
	r3.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	return n, []*Router{r1, r2, r3}, s, h
}

func TestChainJoinRefreshPrune(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r1, r2, r3 := rs[0], rs[1], rs[2]
	n.Run(10 * time.Second) // Hellos: neighbors up
	t0 := n.Elapsed()
	h.JoinSource(group, srcAddr)
	runUntil(t, n, "the join reaching r1", func() bool { return hasEntry(r1) }, 5*time.Second)

	// Hop by hop: r3 joins toward r2, r2 toward r1, each once so far.
	if j := joinPrunes(n, "l23", t0); len(j) != 1 || !j[0].join || j[0].from != "r3/to-r2" || j[0].upstream != netip.MustParseAddr("fe80::2") {
		t.Fatalf("Join/Prunes on l23: %+v", j)
	}
	if j := joinPrunes(n, "l12", t0); len(j) != 1 || !j[0].join || j[0].from != "r2/to-r1" || j[0].upstream != netip.MustParseAddr("fe80::1") {
		t.Fatalf("Join/Prunes on l12: %+v", j)
	}
	for _, r := range rs {
		if len(oifs(r)) != 1 {
			t.Fatalf("%s: entry %v", r.Name(), r.MFC())
		}
	}

	// Ten minutes of traffic: periodic Joins (every 60 s) keep the state
	// far past the J/P holdtime (210 s).
	st := s.Stream(group, time.Second)
	n.Run(10 * time.Minute)
	st.Stop()
	n.Run(time.Second)
	checkDelivery(t, h, st, 0)
	for _, link := range []string{"l23", "l12"} {
		if c := len(joinPrunes(n, link, t0)); c < 10 {
			t.Errorf("%s: %d Joins in 10 minutes, want periodic ones", link, c)
		}
	}
	for _, r := range rs {
		if !hasEntry(r) {
			t.Fatalf("%s lost its entry", r.Name())
		}
	}

	// Prune: the leave clears every router.
	t1 := n.Elapsed()
	h.LeaveSource(group, srcAddr)
	runUntil(t, n, "every entry gone", func() bool { return !hasEntry(r1) && !hasEntry(r2) && !hasEntry(r3) }, 10*time.Second)
	if j := joinPrunes(n, "l23", t1); countJP(j, "r3/to-r2", false) != 1 {
		t.Errorf("Prunes on l23: %+v", j)
	}
	if j := joinPrunes(n, "l12", t1); countJP(j, "r2/to-r1", false) != 1 {
		t.Errorf("Prunes on l12: %+v", j)
	}
	// Nothing is forwarded any more, and no Join is sent later.
	t2 := n.Elapsed()
	st2 := s.Stream(group, time.Second)
	n.Run(3 * time.Minute)
	st2.Stop()
	if c := len(h.Received()); c != int(st.Sent()) {
		t.Errorf("h received %d datagrams, want only the %d of the first stream", c, st.Sent())
	}
	for _, link := range []string{"l23", "l12"} {
		if j := joinPrunes(n, link, t2); len(j) != 0 {
			t.Errorf("%s: Join/Prunes after the prune: %+v", link, j)
		}
	}
}

// dualLAN: r1 upstream; r2 and r3 both on the receivers' LAN (r3 is the
// DR: same priority, higher address), each linked to r1.
func dualLAN(t *testing.T) (*Net, []*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, l12, l13, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l13"), n.AddLink("lanR")
	r1, r2, r3 := n.AddRouter("r1", nil), n.AddRouter("r2", nil), n.AddRouter("r3", nil)
	r1.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r1.AddInterface("to-r2", l12, "fe80::1")
	r1.AddInterface("to-r3", l13, "fe80::1")
	r2.AddInterface("to-r1", l12, "fe80::2")
	r2.AddInterface("eth1", lanR, "fe80::2", "2001:db8:2::2/64")
	r3.AddInterface("to-r1", l13, "fe80::3")
	r3.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	return n, []*Router{r1, r2, r3}, s, h
}

func TestLANOnlyDRForwardsAndTakeover(t *testing.T) {
	for _, how := range []string{"stop", "kill"} {
		t.Run(how, func(t *testing.T) {
			n, rs, s, h := dualLAN(t)
			r1, r2, r3 := rs[0], rs[1], rs[2]
			n.Run(10 * time.Second)
			if !dr(r3, "eth1") || dr(r2, "eth1") {
				t.Fatalf("r3 should be the DR of lanR")
			}
			h.JoinSource(group, srcAddr)
			st := s.Stream(group, 100*time.Millisecond)
			n.Run(time.Minute)
			d := checkDelivery(t, h, st, 0)
			if d.Received == 0 {
				t.Fatal("nothing received")
			}
			if hasEntry(r2) || !slices.Equal(oifs(r1), []string{"to-r3"}) {
				t.Fatalf("only the DR's path should forward: r1 %v, r2 %v", r1.MFC(), r2.MFC())
			}

			// The DR goes away; r2 takes over within the neighbor
			// holdtime (at once with a goodbye Hello).
			got := len(h.Received())
			tDown := n.Elapsed()
			if how == "stop" {
				r3.Stop()
			} else {
				r3.Kill()
			}
			max := 3 * time.Second
			if how == "kill" {
				max = 105*time.Second + 5*time.Second
			}
			el := runUntil(t, n, "traffic resuming through r2", func() bool {
				return len(h.Received()) > got+10 && hasEntry(r2)
			}, max)
			t.Logf("%s: traffic resumed %v after r3 went away (at %v)", how, el, tDown)
			if !dr(r2, "eth1") {
				t.Errorf("r2 is not the DR")
			}
			// r1 keeps r3's downstream state until its Expiry Timer (the
			// J/P holdtime, 210 s): a stopping daemon sends goodbye
			// Hellos but no Prunes (docs/PIM.md).
			n.Run(211 * time.Second)
			st.Stop()
			n.Run(time.Second)
			d = Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent())
			if d.Duplicates != 0 {
				t.Errorf("%d duplicates", d.Duplicates)
			}
			if how == "stop" && len(d.Missing) > 5 {
				t.Errorf("lost %v with a graceful stop", d.Missing)
			}
			if !slices.Equal(oifs(r1), []string{"to-r2"}) {
				t.Errorf("r1 oifs %v, want [to-r2] once r3's Join expired", oifs(r1))
			}
		})
	}
}

// dr reports whether r is the DR on its interface ifname.
func dr(r *Router, ifname string) bool {
	for _, i := range r.Snapshot().Interfaces {
		if i.Name == ifname {
			return i.DR
		}
	}
	return false
}

// TestPruneOverride: r2 and r3 share the upstream LAN of r1; r2's
// receiver leaves and r2 prunes; r3 overrides with a Join and r1 never
// stops forwarding onto the LAN.
func TestPruneOverride(t *testing.T) {
	n, h2, h3, s, rs := pruneOverrideNet(t, Options{Delay: 100 * time.Microsecond})
	r1, r2, r3 := rs[0], rs[1], rs[2]
	n.Run(10 * time.Second)
	h2.JoinSource(group, srcAddr)
	h3.JoinSource(group, srcAddr)
	st := s.Stream(group, 50*time.Millisecond)
	n.Run(30 * time.Second)
	if !hasEntry(r2) || !hasEntry(r3) || !slices.Equal(oifs(r1), []string{"lanC"}) {
		t.Fatalf("r1 %v r2 %v r3 %v", r1.MFC(), r2.MFC(), r3.MFC())
	}

	tLeave := n.Elapsed()
	h2.LeaveSource(group, srcAddr)
	// Watch r1's oif every step until things settle.
	lostOIF := false
	n.RunUntil(func() bool {
		if !slices.Equal(oifs(r1), []string{"lanC"}) {
			lostOIF = true
		}
		return false
	}, 20*time.Second)
	if lostOIF {
		t.Errorf("r1 stopped forwarding onto lanC during the prune override")
	}
	j := joinPrunes(n, "lanC", tLeave)
	var prune, override *jp
	for k := range j {
		if j[k].from == "r2/up" && !j[k].join && prune == nil {
			prune = &j[k]
		}
		if j[k].from == "r3/up" && j[k].join && prune != nil && override == nil {
			override = &j[k]
		}
	}
	if prune == nil || override == nil {
		t.Fatalf("want a Prune from r2 then a Join from r3 on lanC: %+v", j)
	}
	if gap := override.at - prune.at; gap <= 0 || gap > 2500*time.Millisecond {
		t.Errorf("override Join %v after the Prune, want within the override interval (2.5 s)", gap)
	}
	t.Logf("Prune at %v, override Join at %v", prune.at, override.at)
	if hasEntry(r2) {
		t.Errorf("r2 still forwards: %v", r2.MFC())
	}
	st.Stop()
	n.Run(time.Second)
	checkDelivery(t, h3, st, 0)
	if d := Deliveries(h2.ReceivedFrom(srcAddr, group), st.Sent()); d.Duplicates != 0 {
		t.Errorf("h2 got duplicates")
	}
}

// pruneOverrideNet: S - lanS - r1 - lanC - {r2, r3}; r2 - lanA - h2;
// r3 - lanB - h3.
func pruneOverrideNet(t *testing.T, o Options) (*Net, *Host, *Host, *Host, []*Router) {
	n := New(t, o)
	lanS, lanC, lanA, lanB := n.AddLink("lanS"), n.AddLink("lanC"), n.AddLink("lanA"), n.AddLink("lanB")
	r1, r2, r3 := n.AddRouter("r1", nil), n.AddRouter("r2", nil), n.AddRouter("r3", nil)
	r1.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r1.AddInterface("lanC", lanC, "fe80::1")
	r2.AddInterface("up", lanC, "fe80::2")
	r2.AddInterface("eth1", lanA, "fe80::2", "2001:db8:a::2/64")
	r3.AddInterface("up", lanC, "fe80::3")
	r3.AddInterface("eth1", lanB, "fe80::3", "2001:db8:b::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h2 := n.AddHost("h2", lanA, "fe80::20", "2001:db8:a::20")
	h3 := n.AddHost("h3", lanB, "fe80::30", "2001:db8:b::30")
	n.AutoRoutes()
	return n, h2, h3, s, []*Router{r1, r2, r3}
}

// TestRPFChange: a diamond r1 -> {r2, r3} -> r4; r4's route to the
// source moves from r2 to r3: r4 prunes toward r2, joins toward r3, and
// the traffic keeps flowing.
func TestRPFChange(t *testing.T) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, l12, l13, l24, l34, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l13"), n.AddLink("l24"), n.AddLink("l34"), n.AddLink("lanR")
	r1, r2, r3, r4 := n.AddRouter("r1", nil), n.AddRouter("r2", nil), n.AddRouter("r3", nil), n.AddRouter("r4", nil)
	r1.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r1.AddInterface("to-r2", l12, "fe80::1")
	r1.AddInterface("to-r3", l13, "fe80::1")
	r2.AddInterface("to-r1", l12, "fe80::2")
	r2.AddInterface("to-r4", l24, "fe80::2")
	r3.AddInterface("to-r1", l13, "fe80::3")
	r3.AddInterface("to-r4", l34, "fe80::3")
	r4.AddInterface("to-r2", l24, "fe80::4")
	r4.AddInterface("to-r3", l34, "fe80::4")
	r4.AddInterface("eth1", lanR, "fe80::4", "2001:db8:2::4/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	for _, r := range []*Router{r2, r3} {
		r.Route(srcPrefix, "fe80::1", "to-r1")
	}
	r4.Route(srcPrefix, "fe80::2", "to-r2")

	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 100*time.Millisecond)
	n.Run(30 * time.Second)
	if !hasEntry(r2) || hasEntry(r3) {
		t.Fatalf("the tree should go through r2: r2 %v r3 %v", r2.MFC(), r3.MFC())
	}

	tMove := n.Elapsed()
	r4.Route(srcPrefix, "fe80::3", "to-r3") // replaces the route (same metric)
	runUntil(t, n, "the tree moving to r3", func() bool {
		e, ok := r4.Entry(srcAddr, group)
		return ok && e.IIFName == "to-r3" && hasEntry(r3) && !hasEntry(r2)
	}, 10*time.Second)
	if j := joinPrunes(n, "l24", tMove); countJP(j, "r4/to-r2", false) != 1 {
		t.Errorf("want one Prune toward r2: %+v", j)
	}
	if j := joinPrunes(n, "l34", tMove); countJP(j, "r4/to-r3", true) != 1 {
		t.Errorf("want one Join toward r3: %+v", j)
	}
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)
	checkDelivery(t, h, st, 2)
	if !slices.Equal(oifs(r1), []string{"to-r3"}) {
		t.Errorf("r1 oifs %v, want [to-r3]", oifs(r1))
	}
}

// TestInterfaceDownUp: r2's downstream interface goes administratively
// down (PIM stops there, the tree is cut) and up again (r3 sees a new
// Generation ID and joins again); then r3's upstream interface goes down
// and up, which on Linux removes the routes through it: traffic resumes
// once routing puts them back.
func TestInterfaceDownUp(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r2, r3 := rs[1], rs[2]
	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 100*time.Millisecond)
	n.Run(20 * time.Second)
	checkDelivery(t, h, st, 0)

	// r2's downstream interface down for 20 s.
	r2.Iface("to-r3").SetUp(false)
	n.Run(time.Second)
	if slices.Contains(oifs(r2), "to-r3") {
		t.Errorf("r2 still forwards out of its down interface: %v", r2.MFC())
	}
	for _, i := range r2.Snapshot().Interfaces {
		if i.Name == "to-r3" {
			t.Errorf("r2's snapshot still has to-r3 as a MIF: %+v", i)
		}
	}
	got := len(h.Received())
	n.Run(19 * time.Second)
	if len(h.Received()) != got {
		t.Errorf("traffic flowed through a down interface")
	}
	r2.Iface("to-r3").SetUp(true)
	el := runUntil(t, n, "traffic after r2's interface came up", func() bool { return len(h.Received()) > got }, 10*time.Second)
	t.Logf("traffic resumed %v after r2's interface came up", el)

	// r3's upstream interface down and up: its route to the source is
	// gone (Linux), so RPF fails until the route is back.
	r3.Iface("to-r2").SetUp(false)
	n.Run(time.Second)
	if _, err := r3.Kernel().RouteTo(srcIP); err == nil {
		t.Fatalf("r3 still has a route to the source through a down interface")
	}
	r3.Iface("to-r2").SetUp(true)
	n.Run(5 * time.Second)
	got = len(h.Received())
	n.Run(5 * time.Second)
	if len(h.Received()) != got {
		t.Errorf("traffic flows without a route to the source")
	}
	n.AutoRoutes()
	el = runUntil(t, n, "traffic after the route came back", func() bool { return len(h.Received()) > got }, 10*time.Second)
	t.Logf("traffic resumed %v after the route came back", el)
	st.Stop()
	n.Run(time.Second)
	if d := Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent()); d.Duplicates != 0 {
		t.Errorf("duplicates: %+v", d)
	}
}

// TestNeighborLossAndRecovery: r2's upstream path goes silent (no carrier
// change): r2 loses r1 as a neighbor within the Hello holdtime; when the
// path comes back the adjacency and the tree come back.
func TestNeighborLossAndRecovery(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r2 := rs[1]
	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 100*time.Millisecond)
	n.Run(20 * time.Second)
	checkDelivery(t, h, st, 0)

	neighbor := func(r *Router, ifname string) bool {
		for _, nb := range r.Snapshot().Neighbors {
			if nb.Interface == ifname {
				return true
			}
		}
		return false
	}
	r2.Iface("to-r1").SetSilent(true)
	el := runUntil(t, n, "r2 losing r1", func() bool { return !neighbor(r2, "to-r1") }, 106*time.Second)
	t.Logf("r2 lost r1 %v after the path went silent", el)
	if rt := r2.Snapshot().Routes; len(rt) != 1 || rt[0].UpstreamNeighbor.IsValid() {
		t.Errorf("r2's route should have no upstream neighbor: %+v", rt)
	}

	got := len(h.Received())
	r2.Iface("to-r1").SetSilent(false)
	el = runUntil(t, n, "r2 finding r1 again and traffic flowing", func() bool {
		return neighbor(r2, "to-r1") && len(h.Received()) > got
	}, 35*time.Second)
	t.Logf("traffic resumed %v after the path came back", el)
	n.Run(10 * time.Second)
	st.Stop()
	n.Run(time.Second)
	if d := Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent()); d.Duplicates != 0 {
		t.Errorf("duplicates: %+v", d)
	}
}

// TestRestart: r2 is killed (no goodbye, its kernel state goes with its
// sockets) and started again; r3 sees a new Generation ID and joins
// again, r2 joins toward r1, and the traffic comes back.
func TestRestart(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r2 := rs[1]
	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 100*time.Millisecond)
	n.Run(20 * time.Second)
	checkDelivery(t, h, st, 0)
	genID := func() uint32 {
		for _, i := range r2.Snapshot().Interfaces {
			if i.Name == "to-r3" {
				return i.GenerationID
			}
		}
		return 0
	}
	old := genID()
	r2.Kill()
	if len(r2.MFC()) != 0 {
		t.Fatalf("the kernel kept the MFC of a dead daemon: %v", r2.MFC())
	}
	n.Run(10 * time.Second)
	got := len(h.Received())
	r2.Start()
	el := runUntil(t, n, "traffic through the restarted r2", func() bool { return len(h.Received()) > got }, 40*time.Second)
	t.Logf("traffic resumed %v after the restart", el)
	if genID() == old {
		t.Errorf("the restarted daemon kept Generation ID %#x", old)
	}
	st.Stop()
	n.Run(time.Second)
	if d := Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent()); d.Duplicates != 0 {
		t.Errorf("duplicates: %+v", d)
	}
}

// TestDeterminism runs a scenario twice: the traces (every frame on every
// link, every MFC change and upcall) are identical. Another seed changes
// the random choices (Generation IDs, Hello and report delays).
func TestDeterminism(t *testing.T) {
	scenario := func(seed uint64) []string {
		n, h2, h3, s, rs := pruneOverrideNet(t, Options{Delay: 100 * time.Microsecond, Seed: seed})
		n.Run(5 * time.Second)
		h2.JoinSource(group, srcAddr)
		h3.JoinSource(group, srcAddr)
		for _, src := range []string{"2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13"} {
			h3.JoinSource(group, src)
			h3.JoinSource("ff3e::1", src)
		}
		h2.JoinSource("ff3e::1", srcAddr)
		st := s.Stream(group, 500*time.Millisecond)
		n.Run(time.Minute)
		// A route flap moves several sources' RPF at once.
		rs[2].DelRoute(srcPrefix)
		n.Run(5 * time.Second)
		rs[2].Route(srcPrefix, "fe80::1", "up")
		n.Run(time.Minute)
		h2.LeaveSource(group, srcAddr)
		n.Run(time.Minute)
		h3.Leave(group)
		st.Stop()
		n.Run(30 * time.Second)
		return n.Trace()
	}
	a, b := scenario(1), scenario(1)
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("traces differ at line %d:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("traces differ in length: %d and %d lines", len(a), len(b))
	}
	if len(a) < 100 {
		t.Fatalf("trace of %d lines: too short to mean much", len(a))
	}
	if c := scenario(2); slices.Equal(a, c) {
		t.Errorf("another seed gave the same trace")
	}
	t.Logf("%d trace lines, e.g.\n%s", len(a), strings.Join(a[:min(12, len(a))], "\n"))
}
