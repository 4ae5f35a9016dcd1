package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// RP discovery by the Bootstrap Router mechanism (RFC 5059) and by
// Embedded-RP (RFC 3956), with no static RP anywhere.
const (
	bsrGrp = "ff0e::b5:1"
	c1Addr = "2001:db8:ff::c1"
	c2Addr = "2001:db8:ff::c2"
)

var (
	bsrGrpIP = netip.MustParseAddr(bsrGrp)
	c1IP     = netip.MustParseAddr(c1Addr)
	c2IP     = netip.MustParseAddr(c2Addr)
	rpAIP    = netip.MustParseAddr(rpA)
	rpBIP    = netip.MustParseAddr(rpB)
)

// bsrMesh is six routers:
//
//	S - lanS - fhr - lfa - ra - lal - lhr - lanR - h
//	           |  \                  /  |
//	          lf1  lfb - rb - lbl ---   ll2
//	           |                         |
//	           c1                        c2
//
// Candidate-BSRs: c2 (priority 100, the highest address of the two at
// 100: the BSR), c1 (priority 100) and ra (priority 10). Candidate-RPs:
// ra (rpA, priority 10, for ff0e::/16 and ff05::/16) and rb (rpB,
// priority 20, for ff0e::/16 and ff00::/8), with holdtime ht. The last-hop
// router stays on the RP tree (spt-switch = "never"), so that the data
// goes through the RP. ra's route to lhr's prefixes and fhr's to c2
// prefer ra (the lower ifindex) over rb.
func bsrMesh(t *testing.T, seed uint64, ht time.Duration) (*Net, map[string]*Router, []*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond, Seed: seed})
	lanS, lfa, lfb, lal, lbl, lanR, lf1, ll2 := n.AddLink("lanS"), n.AddLink("lfa"), n.AddLink("lfb"), n.AddLink("lal"),
		n.AddLink("lbl"), n.AddLink("lanR"), n.AddLink("lf1"), n.AddLink("ll2")
	roles := map[string]bsrRole{
		"fhr": {},
		"ra":  {BSRAddr: rpA, BSRPrio: 10, CRPAddr: rpA, CRPPrio: 10, CRPGroups: []string{"ff0e::/16", "ff05::/16"}, CRPHoldtime: ht},
		"rb":  {CRPAddr: rpB, CRPPrio: 20, CRPGroups: []string{"ff0e::/16", "ff00::/8"}, CRPHoldtime: ht},
		"lhr": {Extra: "[pim]\nspt-switch = \"never\"\n"},
		"c1":  {BSRAddr: c1Addr, BSRPrio: 100},
		"c2":  {BSRAddr: c2Addr, BSRPrio: 100},
	}
	rs := map[string]*Router{}
	var all []*Router
	for _, name := range []string{"fhr", "ra", "rb", "lhr", "c1", "c2"} {
		rs[name] = n.AddRouter(name, roles[name].conf(t))
		all = append(all, rs[name])
	}
	fhr, ra, rb, lhr, c1, c2 := rs["fhr"], rs["ra"], rs["rb"], rs["lhr"], rs["c1"], rs["c2"]
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-ra", lfa, "fe80::1")
	fhr.AddInterface("to-rb", lfb, "fe80::1")
	fhr.AddInterface("to-c1", lf1, "fe80::1")
	ra.AddInterface("to-fhr", lfa, "fe80::a")
	ra.AddInterface("to-lhr", lal, "fe80::a")
	ra.AddLoopback(rpA)
	rb.AddInterface("to-fhr", lfb, "fe80::b")
	rb.AddInterface("to-lhr", lbl, "fe80::b")
	rb.AddLoopback(rpB)
	lhr.AddInterface("to-ra", lal, "fe80::3")
	lhr.AddInterface("to-rb", lbl, "fe80::3")
	lhr.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	lhr.AddInterface("to-c2", ll2, "fe80::3")
	c1.AddInterface("to-fhr", lf1, "fe80::c1")
	c1.AddLoopback(c1Addr)
	c2.AddInterface("to-lhr", ll2, "fe80::c2")
	c2.AddLoopback(c2Addr)
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	return n, rs, all, s, h
}

// meshSet is the RP-set the mesh's BSR builds from both Candidate-RPs.
func meshSet(ht time.Duration) []rpSetLine {
	return set(ht, "ff0e::/16 "+rpA+" 10", "ff0e::/16 "+rpB+" 20", "ff05::/16 "+rpA+" 10", "ff00::/8 "+rpB+" 20")
}

// bsrElected builds the mesh, waits for every router to report c2 as the
// BSR with the whole RP-set, then has h join bsrGrp and s stream to it
// every 100 ms for 30 s. It returns the stream, the convergence time and
// when the stream began.
func bsrElected(t *testing.T, seed uint64, ht time.Duration) (*Net, map[string]*Router, []*Router, *Host, *Stream, time.Duration, time.Duration) {
	t.Helper()
	n, rs, all, s, h := bsrMesh(t, seed, ht)
	want := bsrView{BSR: c2IP, Priority: 100, Set: meshSet(ht)}
	conv := runUntilBSR(t, n, "every router reports c2 and the whole RP-set", func() bool { return allSee(all, want) }, time.Minute, all)
	h.Join(bsrGrp)
	n.Run(time.Second)
	tStream := n.Elapsed()
	st := s.Stream(bsrGrp, 100*time.Millisecond)
	n.Run(30 * time.Second)
	return n, rs, all, h, st, conv, tStream
}

// TestBSRElection: three Candidate-BSRs start together (each Pending for
// its start-up wait, see pim startupWait); c2 wins (priority 100, and the higher
// address against c1 at the same priority) and every router reports it
// with the same RP-set, built from both Candidate-RPs' advertisements.
// The group's RP is rpA (priority 10 beats rpB's 20 in ff0e::/16,
// RFC 7761 4.7.2): lhr joins (*,G) toward ra, fhr registers to rpA, ra
// joins toward S, and the stream reaches h through ra only.
func TestBSRElection(t *testing.T) {
	const ht = 60 * time.Second
	n, rs, all, h, st, conv, _ := bsrElected(t, 1, ht)
	fhr, ra, rb, lhr, c1, c2 := rs["fhr"], rs["ra"], rs["rb"], rs["lhr"], rs["c1"], rs["c2"]
	t.Logf("converged at %v (start-up wait %v)", conv, startupWait)
	// No BSM can go out before a Pending candidate's start-up wait; then
	// the RP-set follows within a second (the triggered BSM after the
	// advertisements).
	if conv < startupWait || conv > startupWait+3*time.Second {
		t.Errorf("converged after %v, want within 3 s of the start-up wait %v", conv, startupWait)
	}
	if !allSee(all, bsrView{BSR: c2IP, Priority: 100, Set: meshSet(ht)}) {
		t.Errorf("the routers disagree 30 s later:\n%s", views(all))
	}
	for r, want := range map[*Router]string{c2: "elected", c1: "candidate", ra: "candidate"} {
		if got := bsrState(r); got != want {
			t.Errorf("%s: Candidate-BSR state %q, want %q", r.Name(), got, want)
		}
	}
	// Now only c2's BSMs go around, every BS_Period.
	var origins []time.Duration
	for _, f := range bsmFrames(n, n.Elapsed()-20*time.Second) {
		if f.m.BSR != c2IP {
			t.Errorf("BSM of %v after convergence: %s from %s", f.m.BSR, f.link, f.from)
		}
		if f.from == "c2/to-lhr" && f.to == "" {
			origins = append(origins, f.at)
		}
	}
	for i := 1; i < len(origins); i++ {
		if d := origins[i] - origins[i-1]; d != bsrPeriod {
			t.Errorf("c2's BSMs %v apart, want BS_Period %v: %v", d, bsrPeriod, origins)
		}
	}
	if len(origins) < 3 {
		t.Errorf("c2 sent %d BSMs in 20 s", len(origins))
	}

	// The RP: rpA, lowest priority value; the data goes through ra.
	if r := starOf(lhr, bsrGrpIP); r == nil || r.RP != rpAIP || r.UpstreamNeighbor != netip.MustParseAddr("fe80::a") {
		t.Errorf("lhr (*,G) %+v, want RP rpA through ra", r)
	}
	if r := starOf(ra, bsrGrpIP); r == nil || !hasFlags(r, "WC", "RP") || !slices.Equal(mifNames(ra, r.Joined), []string{"to-lhr"}) {
		t.Errorf("ra (*,G) %+v, want the RP's entry joined on to-lhr", r)
	}
	if r := starOf(rb, bsrGrpIP); r != nil {
		t.Errorf("rb has (*,G) %+v", r)
	}
	wantEntry(t, fhr, srcAddr, bsrGrp, "eth0", "to-ra")
	wantEntry(t, ra, srcAddr, bsrGrp, "to-fhr", "to-lhr")
	wantEntry(t, lhr, srcAddr, bsrGrp, "to-ra", "eth1")
	wantEntry(t, rb, srcAddr, bsrGrp, "")
	regs := 0
	for _, e := range pimTrace(n, 0) {
		if r, ok := e.msg.(*pimmsg.Register); ok && !r.Null {
			if e.dst != rpAIP {
				t.Errorf("data Register to %v: %v", e.dst, e)
			}
			regs++
		}
	}
	if regs == 0 {
		t.Errorf("no data Register to rpA")
	}
	d := Deliveries(h.ReceivedFrom(srcAddr, bsrGrp), st.Sent()-1)
	if len(d.Missing) != 0 || d.Duplicates != 0 || d.Unique < 290 {
		t.Errorf("delivery: %d unique of %d sent, missing %v, %d duplicates", d.Unique, st.Sent(), d.Missing, d.Duplicates)
	}
	if got := udpFrames(n, "lbl", srcAddr, 0); len(got) != 0 {
		t.Errorf("rb's link to lhr carries data: %v", got)
	}
	t.Logf("%d datagrams received, none lost; %d data Registers to rpA", d.Unique, regs)
}

// TestBSRTakeover: the elected BSR c2 dies (kill -9: no message). The
// other routers keep its RP-set (the RPs' holdtime, 60 s, outlasts the
// election) and the stream keeps flowing. c1 (Candidate-BSR) times c2
// out after BS_Timeout from c2's last BSM, waits rand_override (RFC 5059
// 3.1.1: 5 s + 2 log2(1 + 100 - 100) + log2(c2 - c1)/64 = 5 s) as
// Pending and becomes the BSR; the other candidate ra, of lower
// priority, would wait longer (about 20 s) and yields to c1's BSM. The
// Candidate-RPs advertise to c1 at once and every router reports c1 and
// the same RP-set. When c2 comes back it is Pending for its start-up wait
// and then takes the role back, again without the RP-set flapping.
func TestBSRTakeover(t *testing.T) {
	const ht = 60 * time.Second
	n, rs, all, h, st, _, _ := bsrElected(t, 1, ht)
	ra, lhr, c1, c2 := rs["ra"], rs["lhr"], rs["c1"], rs["c2"]
	full := meshSet(ht)

	t0 := n.Elapsed()
	var lastC2 bsmFrame
	for _, f := range bsmFrames(n, 0) {
		if f.from == "c2/to-lhr" && f.to == "" {
			lastC2 = f
		}
	}
	c2.Kill()
	others := slices.DeleteFunc(slices.Clone(all), func(r *Router) bool { return r == c2 })
	want := bsrView{BSR: c1IP, Priority: 100, Set: full}
	// Every poll: the RP-set is intact and lhr keeps rpA.
	runUntilBSR(t, n, "every router reports c1 as the BSR", func() bool {
		for _, r := range others {
			if v := viewOf(r); !slices.Equal(v.Set, full) {
				t.Fatalf("at %v (%v after the kill): %s's RP-set %v, want it kept\n%s", n.Elapsed(), n.Elapsed()-t0, r.Name(), v, views(others))
			}
		}
		if r := starOf(lhr, bsrGrpIP); r == nil || r.RP != rpAIP {
			t.Fatalf("at %v: lhr (*,G) %+v, want RP rpA kept", n.Elapsed(), r)
		}
		return allSee(others, want)
	}, time.Minute, others)

	var firstC1 bsmFrame
	for _, f := range bsmFrames(n, t0) {
		if f.m.BSR == c1IP && f.from == "c1/to-fhr" {
			firstC1 = f
			break
		}
	}
	if firstC1.m == nil || lastC2.m == nil {
		t.Fatalf("no BSM of c1 after the kill, or none of c2 before it")
	}
	takeover := firstC1.at - lastC2.at
	// c2's BSM took four hops to c1 (c2, lhr, ra, fhr, c1).
	wantTakeover := bsTimeout + 5*time.Second + 4*100*time.Microsecond
	if takeover < bsTimeout || takeover > bsTimeout+14*time.Second || takeover-wantTakeover > time.Millisecond || wantTakeover-takeover > time.Millisecond {
		t.Errorf("c1's first BSM %v after c2's last, want BS_Timeout + rand_override = %v", takeover, wantTakeover)
	}
	for r, want := range map[*Router]string{c1: "elected", ra: "candidate"} {
		if got := bsrState(r); got != want {
			t.Errorf("%s: Candidate-BSR state %q, want %q", r.Name(), got, want)
		}
	}
	for _, f := range bsmFrames(n, t0) {
		if f.m.BSR == rpAIP {
			t.Errorf("ra originated a BSM: %s at %v", f.link, f.at)
		}
	}
	// The Candidate-RPs told c1 at once.
	advs := map[string]time.Duration{}
	for _, e := range pimTrace(n, t0) {
		if m, ok := e.msg.(*pimmsg.CandidateRPAdvertisement); ok && e.dst == c1IP {
			if _, seen := advs[m.RP.String()]; !seen {
				advs[m.RP.String()] = e.at
			}
		}
	}
	for _, rp := range []string{rpA, rpB} {
		if at, ok := advs[rp]; !ok || at-firstC1.at > 10*time.Millisecond {
			t.Errorf("first C-RP-Adv of %s to c1 at %v, want right after c1's first BSM at %v", rp, at, firstC1.at)
		}
	}
	tc1 := n.Elapsed()
	// Everyone follows c1's first BSM at once (the poll's granularity).
	if tc1-firstC1.at > 2*pollStep {
		t.Errorf("every router on c1 at %v, %v after c1's first BSM", tc1, tc1-firstC1.at)
	}
	t.Logf("c2 killed at %v; its last BSM at %v; c1's first at %v: takeover %v; all routers on c1 after %v", t0, lastC2.at, firstC1.at, takeover, tc1-t0)

	// c2 comes back: Pending for its start-up wait (c1's BSMs, worse, do
	// not stop it; it forwards them), then elected; everyone follows.
	n.Run(10 * time.Second)
	tr := n.Elapsed()
	c2.Start()
	back := runUntilBSR(t, n, "every router reports c2 again", func() bool {
		for _, r := range all {
			if v := viewOf(r); r != c2 && !slices.Equal(v.Set, full) {
				t.Fatalf("at %v: %s's RP-set %v, want it kept", n.Elapsed(), r.Name(), v)
			}
		}
		return allSee(all, bsrView{BSR: c2IP, Priority: 100, Set: full})
	}, time.Minute, all)
	if back < startupWait || back > startupWait+2*time.Second {
		t.Errorf("c2 back as the BSR %v after its restart at %v, want just after the start-up wait %v", back, tr, startupWait)
	}
	if got := bsrState(c1); got != "candidate" {
		t.Errorf("c1: state %q, want candidate", got)
	}
	n.Run(5 * time.Second)
	st.Stop()
	n.Run(time.Second)
	d := Deliveries(h.ReceivedFrom(srcAddr, bsrGrp), st.Sent())
	if len(d.Missing) != 0 || d.Duplicates != 0 {
		t.Errorf("delivery across the takeovers: missing %v, %d duplicates", d.Missing, d.Duplicates)
	}
	t.Logf("c2 restarted at %v, BSR again after %v; %d datagrams, none lost", tr, back, d.Unique)
}

// TestBSRNewNeighbor: the Candidate-BSR c1 restarts (kill -9, then a
// new process). fhr sees its new Generation ID and unicasts it the
// current BSM with the No-Forward bit right after its Hello (RFC 5059
// 3.3), so that c1 has the BSR and the whole RP-set from that unicast
// message, before any periodic BSM, and does not try to become the BSR
// (it would otherwise claim the role after its start-up wait, then lose).
// A multicast BSM that arrives before c1 has heard fhr's Hello is
// dropped (RFC 5059 3.1.3: it must come from a PIM neighbor).
func TestBSRNewNeighbor(t *testing.T) {
	const ht = 60 * time.Second
	n, rs, all, _, _, _, _ := bsrElected(t, 1, ht)
	c1 := rs["c1"]
	want := bsrView{BSR: c2IP, Priority: 100, Set: meshSet(ht)}
	c1.Kill()
	// Without a checkpoint: a restored c1 knows fhr as a neighbor at once
	// and takes the next multicast BSM, which is not what this tests.
	c1.SetCheckpoint(nil)
	n.Run(2 * time.Second)
	tr := n.Elapsed()
	c1.Start()
	d := runUntilBSR(t, n, "c1 learns the BSR and the RP-set", func() bool { return allSee([]*Router{c1}, want) }, 2*bsrPeriod, all)
	fs := bsmFrames(n, tr)
	if len(fs) == 0 {
		t.Fatalf("no BSM since the restart")
	}
	var first *bsmFrame
	for i := range fs {
		if fs[i].from == "fhr/to-c1" && fs[i].to == "c1/to-fhr" {
			first = &fs[i]
			break
		}
	}
	if first == nil || !first.m.NoForward || first.m.BSR != c2IP {
		t.Fatalf("no unicast BSM of c2 with No-Forward from fhr to c1 after its restart: %+v", first)
	}
	// A multicast BSM that comes before c1 knows fhr as a neighbor is
	// dropped; the unicast one comes right after fhr's triggered Hello.
	if got := tr + d; got < first.at || got > first.at+pollStep+time.Millisecond {
		t.Errorf("c1 converged at %v, want right after fhr's unicast BSM at %v", got, first.at)
	}
	for _, f := range fs {
		if f.m.BSR == c1IP {
			t.Errorf("c1 originated a BSM at %v", f.at)
		}
	}
	if got := bsrState(c1); got != "candidate" {
		t.Errorf("c1: state %q, want candidate", got)
	}
	t.Logf("c1 restarted at %v: unicast BSM from fhr at %v, BSR and RP-set known %v after the restart", tr, first.at, d)
}

// TestBSRPriorityReload: c1's Candidate-BSR priority is raised by a
// reload above the elected c2's. c1 goes Pending (RFC 5059 3.1.1) for
// rand_override (5 s: same priority as the best, which is now itself)
// and then becomes the BSR; c2 yields to its BSM. The RP-set and the
// stream go on undisturbed.
func TestBSRPriorityReload(t *testing.T) {
	const ht = 60 * time.Second
	n, rs, all, h, st, _, _ := bsrElected(t, 1, ht)
	c1, c2 := rs["c1"], rs["c2"]
	t0 := n.Elapsed()
	c1.Daemon().ReloadAt(n.Now(), bsrRole{BSRAddr: c1Addr, BSRPrio: 200}.conf(t))
	want := bsrView{BSR: c1IP, Priority: 200, Set: meshSet(ht)}
	d := runUntilBSR(t, n, "every router reports c1 at priority 200", func() bool {
		for _, r := range all {
			if v := viewOf(r); !slices.Equal(v.Set, meshSet(ht)) {
				t.Fatalf("at %v: %s's RP-set %v, want it kept", n.Elapsed(), r.Name(), v)
			}
		}
		return allSee(all, want)
	}, 30*time.Second, all)
	var firstC1 time.Duration
	for _, f := range bsmFrames(n, t0) {
		if f.m.BSR == c1IP && f.from == "c1/to-fhr" {
			firstC1 = f.at
			break
		}
	}
	if firstC1-t0 != 5*time.Second {
		t.Errorf("c1's first BSM %v after the reload, want rand_override = 5s", firstC1-t0)
	}
	if got := bsrState(c2); got != "candidate" {
		t.Errorf("c2: state %q, want candidate", got)
	}
	n.Run(10 * time.Second)
	st.Stop()
	n.Run(time.Second)
	dl := Deliveries(h.ReceivedFrom(srcAddr, bsrGrp), st.Sent())
	if len(dl.Missing) != 0 || dl.Duplicates != 0 {
		t.Errorf("delivery: missing %v, %d duplicates", dl.Missing, dl.Duplicates)
	}
	t.Logf("reload at %v; c1's first BSM %v later; every router on c1 after %v; no datagram lost", t0, firstC1-t0, d)
}

// TestBSRCandidateRPLoss: the RP of the group, rpA, goes away; the BSR
// drops it from the RP-set, the group's RP becomes rpB, and the stream
// comes back through rb. The range ff05::/16, which only rpA served, is
// advertised empty and leaves every router's RP-set.
//
//   - withdraw: ra's candidate-rp is disabled by a reload: ra sends a
//     C-RP-Adv with holdtime 0, the BSR sends a BSM within a second, and
//     little is lost;
//   - crash: ra dies with its links (power loss; the IGP routes around
//     it): the BSR keeps rpA until its holdtime (15 s) runs out from its
//     last advertisement; the stream is lost meanwhile.
func TestBSRCandidateRPLoss(t *testing.T) {
	for _, c := range []string{"withdraw", "crash"} {
		t.Run(c, func(t *testing.T) { bsrCRPLoss(t, c) })
	}
}

func bsrCRPLoss(t *testing.T, how string) {
	const ht = 15 * time.Second
	n, rs, all, h, st, _, tStream := bsrElected(t, 1, ht)
	fhr, ra, rb, lhr := rs["fhr"], rs["ra"], rs["rb"], rs["lhr"]
	before := Deliveries(h.ReceivedFrom(srcAddr, bsrGrp), st.Sent()-1)
	if len(before.Missing) != 0 {
		t.Fatalf("before the change: missing %v", before.Missing)
	}

	t0 := n.Elapsed()
	var lastAdv time.Duration
	for _, e := range pimTrace(n, 0) {
		if m, ok := e.msg.(*pimmsg.CandidateRPAdvertisement); ok && m.RP == rpAIP && e.from == "ra/to-lhr" {
			lastAdv = e.at
		}
	}
	live := all
	switch how {
	case "withdraw":
		ra.Daemon().ReloadAt(n.Now(), bsrRole{BSRAddr: rpA, BSRPrio: 10}.conf(t))
	case "crash":
		ra.Kill()
		n.Link("lfa").SetUp(false)
		n.Link("lal").SetUp(false)
		n.AutoRoutes()
		live = slices.DeleteFunc(slices.Clone(all), func(r *Router) bool { return r == ra })
	}
	want := bsrView{BSR: c2IP, Priority: 100, Set: set(ht, "ff0e::/16 "+rpB+" 20", "ff00::/8 "+rpB+" 20")}
	conv := runUntilBSR(t, n, "every router drops rpA", func() bool { return allSee(live, want) }, time.Minute, live)
	switch how {
	case "withdraw":
		// ra's holdtime-0 advertisement, then the BSR's triggered BSM at
		// most a second after its last one.
		if conv > time.Second+pollStep {
			t.Errorf("RP-set converged %v after the withdrawal, want within a second", conv)
		}
		if got := bsrState(ra); got != "candidate" {
			t.Errorf("ra: Candidate-BSR state %q, want candidate", got)
		}
	case "crash":
		// The BSR drops rpA a holdtime after its last advertisement and
		// sends a BSM within the second.
		if at := t0 + conv; at < lastAdv+ht || at > lastAdv+ht+time.Second+pollStep {
			t.Errorf("RP-set converged at %v, want within a second of rpA's last advertisement (%v) + holdtime %v", at, lastAdv, ht)
		}
	}
	tConv := n.Elapsed()
	runUntilBSR(t, n, "lhr's (*,G) moves to rpB", func() bool {
		r := starOf(lhr, bsrGrpIP)
		return r != nil && r.RP == rpBIP && r.UpstreamNeighbor == netip.MustParseAddr("fe80::b")
	}, 5*time.Second, live)
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)

	if r := starOf(rb, bsrGrpIP); r == nil || !hasFlags(r, "WC", "RP") || !slices.Equal(mifNames(rb, r.Joined), []string{"to-lhr"}) {
		t.Errorf("rb (*,G) %+v, want the RP's entry joined on to-lhr", r)
	}
	wantEntry(t, fhr, srcAddr, bsrGrp, "eth0", "to-rb")
	wantEntry(t, rb, srcAddr, bsrGrp, "to-fhr", "to-lhr")
	wantEntry(t, lhr, srcAddr, bsrGrp, "to-rb", "eth1")
	if how == "withdraw" {
		if r := starOf(ra, bsrGrpIP); r != nil {
			t.Errorf("ra still has (*,G) %+v", r)
		}
		wantEntry(t, ra, srcAddr, bsrGrp, "")
		if got := udpFrames(n, "lal", srcAddr, tConv+5*time.Second); len(got) != 0 {
			t.Errorf("ra still forwards to lhr: %v", got)
		}
	}
	var regs int
	for _, e := range pimTrace(n, tConv) {
		if r, ok := e.msg.(*pimmsg.Register); ok && !r.Null {
			if e.dst != rpBIP {
				t.Errorf("data Register to %v after the change: %v", e.dst, e)
			}
			regs++
		}
	}
	ds := h.ReceivedFrom(srcAddr, bsrGrp)
	d := Deliveries(ds, st.Sent())
	g, at := gap(ds, t0)
	if d.Duplicates != 0 {
		t.Errorf("%d duplicates", d.Duplicates)
	}
	// What is lost was sent between the change and a second after the
	// RP-set converged.
	var outside []uint64
	for _, x := range d.Missing {
		if sentAt := tStream + time.Duration(x)*100*time.Millisecond; sentAt < t0 || sentAt > tConv+time.Second {
			outside = append(outside, x)
		}
	}
	if len(outside) != 0 {
		t.Errorf("datagrams lost outside the change: %v", outside)
	}
	if how == "withdraw" && len(d.Missing) > 12 {
		t.Errorf("withdraw: %d datagrams lost, want at most the ~1 s to the triggered BSM", len(d.Missing))
	}
	if last := seqs(ds); len(last) == 0 || last[len(last)-1] != st.Sent()-1 {
		t.Errorf("the stream did not recover: last received %v of %d", last[max(0, len(last)-1):], st.Sent())
	}
	t.Logf("%s at %v (rpA's last C-RP-Adv at %v): RP-set converged after %v, lhr on rpB at %v; %d datagrams sent, %d received, %d lost, gap %v from %v; %d data Registers to rpB",
		how, t0, lastAdv, conv, tConv, st.Sent(), d.Unique, len(d.Missing), g, at, regs)
}

// TestBSRFragmentedBSM: the RP-set is too big for one packet on most
// links. Six routers in a ring:
//
//	bsr =lj= big - l6 - r6 - l56 - r5 - l45 - r4 - l34 - r3 - l3 - bsr
//
// lj is a jumbo link (MTU 9000), every other interface has MTU 1280.
// big is a Candidate-RP for 120 ranges (its advertisement, about 2.5 kB,
// crosses lj only), r5 for 40; both also for ff0e::/16. The BSR's BSM
// (about 7.5 kB) goes out whole on lj and in fragments of at most 1280
// bytes on l3; big forwards the whole one it gets as fragments on l6.
// Every router ends up with the same complete RP-set of 162 pairs, and
// no frame is ever dropped for its size.
func TestBSRFragmentedBSM(t *testing.T) {
	const (
		bsrAddr = "2001:db8:ff::b5"
		bigAddr = "2001:db8:ff::1b"
		r5Addr  = "2001:db8:ff::5"
		ht      = 60 * time.Second
	)
	n := New(t, Options{Delay: 100 * time.Microsecond, Seed: 1})
	lj, l3, l34, l45, l56, l6 := n.AddLink("lj"), n.AddLink("l3"), n.AddLink("l34"), n.AddLink("l45"), n.AddLink("l56"), n.AddLink("l6")
	var bigGroups, r5Groups []string
	pairs := []string{"ff0e::/16 " + bigAddr + " 50", "ff0e::/16 " + r5Addr + " 60"}
	for i := 1; i <= 120; i++ {
		p := fmt.Sprintf("ff0e:%x::/32", i)
		bigGroups = append(bigGroups, p)
		pairs = append(pairs, p+" "+bigAddr+" 50")
	}
	for i := 1; i <= 40; i++ {
		p := fmt.Sprintf("ff05:%x::/32", i)
		r5Groups = append(r5Groups, p)
		pairs = append(pairs, p+" "+r5Addr+" 60")
	}
	roles := map[string]bsrRole{
		"bsr": {BSRAddr: bsrAddr, BSRPrio: 1},
		"big": {CRPAddr: bigAddr, CRPPrio: 50, CRPGroups: append([]string{"ff0e::/16"}, bigGroups...), CRPHoldtime: ht},
		"r3":  {}, "r4": {}, "r6": {},
		"r5": {CRPAddr: r5Addr, CRPPrio: 60, CRPGroups: append([]string{"ff0e::/16"}, r5Groups...), CRPHoldtime: ht},
	}
	rs := map[string]*Router{}
	var all []*Router
	for _, name := range []string{"bsr", "big", "r3", "r4", "r5", "r6"} {
		rs[name] = n.AddRouter(name, roles[name].conf(t))
		all = append(all, rs[name])
	}
	small := func(r *Router, name string, l *Link, ll string) {
		r.AddInterface(name, l, ll).SetMTU(1280)
	}
	rs["bsr"].AddInterface("to-big", lj, "fe80::b5").SetMTU(9000)
	small(rs["bsr"], "to-r3", l3, "fe80::b5")
	rs["bsr"].AddLoopback(bsrAddr)
	rs["big"].AddInterface("to-bsr", lj, "fe80::1b").SetMTU(9000)
	small(rs["big"], "to-r6", l6, "fe80::1b")
	rs["big"].AddLoopback(bigAddr)
	small(rs["r3"], "to-bsr", l3, "fe80::3")
	small(rs["r3"], "to-r4", l34, "fe80::3")
	small(rs["r4"], "to-r3", l34, "fe80::4")
	small(rs["r4"], "to-r5", l45, "fe80::4")
	small(rs["r5"], "to-r4", l45, "fe80::5")
	small(rs["r5"], "to-r6", l56, "fe80::5")
	rs["r5"].AddLoopback(r5Addr)
	small(rs["r6"], "to-r5", l56, "fe80::6")
	small(rs["r6"], "to-big", l6, "fe80::6")
	n.AutoRoutes()

	want := bsrView{BSR: netip.MustParseAddr(bsrAddr), Priority: 1, Set: set(ht, pairs...)}
	conv := runUntilBSR(t, n, "every router has the whole RP-set", func() bool { return allSee(all, want) }, time.Minute, all)
	tConv := n.Elapsed()
	// Three more BSMs, each fragmented as the first.
	n.Run(3*bsrPeriod + time.Second)
	if !allSee(all, want) {
		t.Errorf("the RP-set did not stay complete:\n%s", views(all))
	}
	if d := mtuDrops(all); len(d) != 0 {
		t.Errorf("frames dropped for their size: %v", d)
	}

	// Fragments of each BSM by link and sender (multicast only).
	type key struct {
		tag  uint16
		from string
	}
	frags := map[key]int{}
	sizes := map[string]int{} // the largest frame by sender
	var tags []uint16
	for _, f := range bsmFrames(n, tConv) {
		if f.to != "" {
			continue
		}
		k := key{f.m.FragmentTag, f.from}
		if f.from == "bsr/to-r3" && frags[k] == 0 {
			tags = append(tags, f.m.FragmentTag)
		}
		frags[k]++
		sizes[f.from] = max(sizes[f.from], f.len)
	}
	if len(tags) < 3 {
		t.Fatalf("%d BSMs after convergence", len(tags))
	}
	for from, sz := range sizes {
		lim := 1280
		if from == "bsr/to-big" || from == "big/to-bsr" {
			lim = 9000
		}
		if sz > lim {
			t.Errorf("%s sent a %d-byte BSM fragment (MTU %d)", from, sz, lim)
		}
	}
	// The BSM's PIM size in one piece: 26 bytes of header, 24 per range
	// (161: ff0e::/16 has both RPs) and 22 per RP (162), with the encoded
	// addresses of RFC 7761 4.9.1. A 1280 link carries 1240 of it a frame.
	whole := 26 + 24*(len(pairs)-1) + 22*len(pairs)
	wantFrags := 0
	for _, tag := range tags {
		onSmall := frags[key{tag, "bsr/to-r3"}]
		onJumbo := frags[key{tag, "bsr/to-big"}]
		refrag := frags[key{tag, "big/to-r6"}]
		if wantFrags == 0 {
			wantFrags = onSmall
		}
		if onJumbo != 1 || onSmall < (whole+1239)/1240 || onSmall != wantFrags || refrag < (whole+1239)/1240 {
			t.Errorf("BSM %#04x: %d fragments on lj, %d on l3, %d forwarded by big on l6; want 1, and at least %d on each 1280 link",
				tag, onJumbo, onSmall, refrag, (whole+1239)/1240)
		}
	}
	t.Logf("RP-set of %d pairs everywhere after %v; the BSM (%d bytes of PIM) in %d fragments on l3 (largest frame %d bytes), 1 on lj, %d re-split by big on l6",
		len(pairs), conv, whole, wantFrags, sizes["bsr/to-r3"], frags[key{tags[0], "big/to-r6"}])
}

// TestEmbeddedRP: no RP is configured anywhere and there is no BSR; the
// group ff7e:140:2001:db8:e:0:0:1234 carries its RP, 2001:db8:e::1 (RIID
// 1, prefix 2001:db8:e::/64, RFC 3956), a loopback address of the middle
// router of a chain of five:
//
//	S - lanS - fhr - l12 - r2 - l23 - rp - l34 - r4 - l45 - lhr - lanR - h
//
// lhr joins (*,G) toward the embedded RP, fhr registers to it, and the
// stream flows down the RP tree (lhr stays on it).
func TestEmbeddedRP(t *testing.T) {
	const (
		embGrp = "ff7e:140:2001:db8:e:0:0:1234"
		embRP  = "2001:db8:e::1"
	)
	embRPIP, embGrpIP := netip.MustParseAddr(embRP), netip.MustParseAddr(embGrp)
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, l12, l23, l34, l45, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l23"), n.AddLink("l34"), n.AddLink("l45"), n.AddLink("lanR")
	names := []string{"fhr", "r2", "rp", "r4", "lhr"}
	var all []*Router
	for _, name := range names {
		extra := ""
		if name == "lhr" {
			extra = "[pim]\nspt-switch = \"never\"\n"
		}
		all = append(all, n.AddRouter(name, bsrRole{Extra: extra}.conf(t)))
	}
	fhr, r2, rp, r4, lhr := all[0], all[1], all[2], all[3], all[4]
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("up", l12, "fe80::1")
	r2.AddInterface("down", l12, "fe80::2")
	r2.AddInterface("up", l23, "fe80::2")
	rp.AddInterface("down", l23, "fe80::3")
	rp.AddInterface("up", l34, "fe80::3")
	rp.AddLoopback(embRP)
	r4.AddInterface("down", l34, "fe80::4")
	r4.AddInterface("up", l45, "fe80::4")
	lhr.AddInterface("down", l45, "fe80::5")
	lhr.AddInterface("eth1", lanR, "fe80::5", "2001:db8:2::5/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()

	n.Run(10 * time.Second)
	h.Join(embGrp)
	n.Run(time.Second)
	st := s.Stream(embGrp, 100*time.Millisecond)
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)

	for _, r := range all {
		rs := r.Snapshot().RPSet
		if rs.BSR.IsValid() {
			t.Errorf("%s: BSR %v", r.Name(), rs.BSR)
		}
		for _, x := range rs.RPs {
			if x.Origin != "embedded" {
				t.Errorf("%s: RP %v of origin %q", r.Name(), x.Address, x.Origin)
			}
		}
	}
	// lhr, r4 and rp map the group (they hold its state); the snapshot
	// shows the group as a /128 of the embedded RP.
	for _, r := range []*Router{lhr, r4, rp} {
		found := false
		for _, x := range r.Snapshot().RPSet.RPs {
			if x.Origin == "embedded" && x.Address == embRPIP && slices.ContainsFunc(x.Groups, func(g ctl.RPGroup) bool { return g.Prefix == netip.PrefixFrom(embGrpIP, 128) }) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no embedded RP %s for %s: %+v", r.Name(), embRP, embGrp, r.Snapshot().RPSet.RPs)
		}
	}
	if r := starOf(lhr, embGrpIP); r == nil || r.RP != embRPIP || r.UpstreamNeighbor != netip.MustParseAddr("fe80::4") {
		t.Errorf("lhr (*,G) %+v, want RP %s through r4", r, embRP)
	}
	if r := starOf(rp, embGrpIP); r == nil || !hasFlags(r, "WC", "RP") {
		t.Errorf("rp (*,G) %+v, want the RP's entry", r)
	}
	for _, c := range []struct {
		r         *Router
		iif, oifs string
	}{{fhr, "eth0", "up"}, {r2, "down", "up"}, {rp, "down", "up"}, {r4, "down", "up"}, {lhr, "down", "eth1"}} {
		wantEntry(t, c.r, srcAddr, embGrp, c.iif, c.oifs)
	}
	regs := 0
	for _, e := range pimTrace(n, 0) {
		if r, ok := e.msg.(*pimmsg.Register); ok && !r.Null {
			if e.dst != embRPIP {
				t.Errorf("data Register to %v", e.dst)
			}
			regs++
		}
	}
	d := Deliveries(h.ReceivedFrom(srcAddr, embGrp), st.Sent())
	if regs == 0 || len(d.Missing) != 0 || d.Duplicates != 0 {
		t.Errorf("%d data Registers to the embedded RP; delivery: missing %v, %d duplicates", regs, d.Missing, d.Duplicates)
	}
	t.Logf("%d datagrams through the embedded RP %s, none lost; %d data Registers", d.Unique, embRP, regs)
}

// TestBSRDeterminism: the election, the stream, the BSR's death and the
// takeover give the same trace twice with one seed (random fragment tags,
// Generation IDs, Hello and Join/Prune jitter), another with another.
func TestBSRDeterminism(t *testing.T) {
	run := func(seed uint64) []string {
		const ht = 60 * time.Second
		n, rs, _, s, h := bsrMesh(t, seed, ht)
		n.Run(25 * time.Second)
		h.Join(bsrGrp)
		st := s.Stream(bsrGrp, 200*time.Millisecond)
		n.Run(10 * time.Second)
		rs["c2"].Kill()
		n.Run(30 * time.Second)
		st.Stop()
		return n.Trace()
	}
	a, b := run(1), run(1)
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("traces differ at line %d:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("traces differ in length: %d and %d lines", len(a), len(b))
	}
	if slices.Equal(a, run(2)) {
		t.Errorf("another seed gave the same trace")
	}
	t.Logf("%d trace lines", len(a))
}
