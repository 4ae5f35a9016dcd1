package pim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// BSR tests use the ASM router (asmRouter): neighbors nbr1 on ifD, nbr3
// and nbr4 on ifU, nbr5 on ifX; every address is routed via ifU and nbr3
// unless a test says otherwise. The BSR is bsrA (reached via nbr3).

var (
	bsrA = addr("2001:db8:b5::1")
	bsrB = addr("2001:db8:b5::2")
	rpB  = addr("2001:db8:ff::2")
	rpC  = addr("2001:db8:ff::3")
	all  = netip.MustParsePrefix("ff00::/8")
)

// bsrRouter is asmRouter without static RPs, changed by cfg.
func bsrRouter(t testing.TB, cfg func(*Config)) *Router {
	t.Helper()
	return asmRouter(t, asmOpt{cfg: func(c *Config) {
		c.RPs = nil
		if cfg != nil {
			cfg(c)
		}
	}})
}

func bsm(bsr netip.Addr, prio uint8, tag uint16, groups ...pimmsg.BootstrapGroup) *pimmsg.Bootstrap {
	return &pimmsg.Bootstrap{FragmentTag: tag, HashMaskLen: 126, Priority: prio, BSR: bsr, Groups: groups}
}

func bsGroup(p string, rps ...pimmsg.BootstrapRP) pimmsg.BootstrapGroup {
	pf := netip.MustParsePrefix(p)
	return pimmsg.BootstrapGroup{Group: pimmsg.Group{Addr: pf.Addr(), MaskLen: uint8(pf.Bits())}, RPCount: uint8(len(rps)), RPs: rps}
}

func bsRP(a netip.Addr, prio uint8, holdtime uint16) pimmsg.BootstrapRP {
	return pimmsg.BootstrapRP{Addr: a, Priority: prio, Holdtime: holdtime}
}

// deliverBSM delivers a BSM from a neighbor to ff02::d, answering the
// route lookups it causes with rs.
func deliverBSM(t testing.TB, r *Router, now time.Time, ifindex int, from netip.Addr, m *pimmsg.Bootstrap, rs routes) []Action {
	t.Helper()
	acts := r.Receive(now, ifindex, from, AllPIMRouters, marshal(t, from, m))
	return rs.answer(r, now, acts)
}

// sent returns the messages of type T among acts, with their SendPIM.
func sent[T pimmsg.Message](acts []Action) ([]SendPIM, []T) {
	var ss []SendPIM
	var ms []T
	for _, a := range acts {
		if s, ok := a.(SendPIM); ok {
			if m, ok := s.Msg.(T); ok {
				ss = append(ss, s)
				ms = append(ms, m)
			}
		}
	}
	return ss, ms
}

func rpOf(t testing.TB, r *Router, g netip.Addr) netip.Addr {
	t.Helper()
	a, _ := r.RP(g)
	return a
}

func TestEmbeddedRP(t *testing.T) {
	for _, tc := range []struct {
		g, rp string // rp "" : not an Embedded-RP group
	}{
		{"ff7e:0140:2001:db8:beef:feed::1234", "2001:db8:beef:feed::1"}, // RFC 3956 section 5
		{"ff7e:0320:2001:db8::1", "2001:db8::3"},
		{"ff75:0f30:2001:db8:1234::2", "2001:db8:1234::f"},
		{"ff75:0f2c:2001:db8:1234::2", "2001:db8:1230::f"}, // prefix length 44: bits beyond it cleared
		{"ff7e:0101:2001:db8::1", ""},                      // prefix length 1: the RP would be ::1
		{"ff7e:0100:2001:db8::1", ""},                      // prefix length 0
		{"ff7e:0141:2001:db8::1", ""},                      // prefix length 65
		{"ff7e:0040:2001:db8::1", ""},                      // RIID 0
		{"ff7e:1140:2001:db8::1", ""},                      // reserved bits set
		{"ff3e:0140:2001:db8::1", ""},                      // SSM flags
		{"ff1e:0140:2001:db8::1", ""},                      // flags 0001
		{"ff7e:0140:fe80::1", ""},                          // a link-local RP
		{"ff7e:0140::1", ""},                               // RP ::1 (prefix zero)
	} {
		rp, ok := EmbeddedRP(addr(tc.g))
		switch {
		case tc.rp == "":
			if ok {
				t.Errorf("%s: RP %v, want none", tc.g, rp)
			}
		case !ok || rp != addr(tc.rp):
			t.Errorf("%s: RP %v %v, want %s", tc.g, rp, ok, tc.rp)
		}
	}
}

// A non-candidate router learns the RP-set from a BSM that passes the RPF
// check, forwards it on its other interfaces, and maps groups with it.
func TestBSMLearnForward(t *testing.T) {
	r := bsrRouter(t, nil)
	m := bsm(bsrA, 100, 7, bsGroup("ff0e::/16", bsRP(rpA, 10, 150)), bsGroup("ff00::/8", bsRP(rpB, 10, 150)))
	acts := deliverBSM(t, r, at(3), ifU, nbr3, m, nil)
	// The first BSM waits for the route to the BSR, then is accepted.
	var watched bool
	for _, a := range acts {
		if w, ok := a.(WatchRPF); ok && w.Addr == bsrA {
			watched = true
		}
	}
	if !watched {
		t.Fatalf("no WatchRPF for the BSR: %v", acts)
	}
	ss, fw := sent[*pimmsg.Bootstrap](acts)
	if len(fw) != 2 || ss[0].IfIndex != ifD || ss[1].IfIndex != ifX || ss[0].Dst != AllPIMRouters || ss[0].Src != selfD {
		t.Fatalf("forwarded: %+v", ss)
	}
	if fw[0].BSR != bsrA || fw[0].NoForward || len(fw[0].Groups) != 2 {
		t.Errorf("forwarded BSM: %+v", fw[0])
	}
	if got := rpOf(t, r, addr("ff0e::1")); got != rpA {
		t.Errorf("RP(ff0e::1) = %v, want %v (longest range)", got, rpA)
	}
	if got := rpOf(t, r, addr("ff05::1")); got != rpB {
		t.Errorf("RP(ff05::1) = %v, want %v", got, rpB)
	}
	if got := rpOf(t, r, addr("ff3e::1")); got.IsValid() {
		t.Errorf("RP of an SSM group: %v", got)
	}
	b := r.BSR(at(3))
	if b.State != BSRAcceptPreferred || b.BSR != bsrA || b.Priority != 100 || b.HashMaskLen != 126 || b.Timeout != 130*time.Second || len(b.RPSet) != 2 {
		t.Errorf("BSR state: %+v", b)
	}
	// The Bootstrap Timer runs out: Accept Any, the set stays until the
	// RPs' holdtimes end.
	runUntil(r, at(3), at(134))
	if b := r.BSR(at(134)); b.State != BSRAcceptAny || len(b.RPSet) != 2 {
		t.Errorf("after BS_Timeout: %+v", b)
	}
	runUntil(r, at(134), at(154))
	if b := r.BSR(at(154)); len(b.RPSet) != 0 {
		t.Errorf("after the RP holdtime: %+v", b.RPSet)
	}
	if got := rpOf(t, r, addr("ff0e::1")); got.IsValid() {
		t.Errorf("RP after expiry: %v", got)
	}
}

func TestBSMRPFCheck(t *testing.T) {
	r := bsrRouter(t, nil)
	rs := routes{bsrA: {Valid: true, IfIndex: ifU, NextHop: nbr3}}
	before := r.Stats(ifU).Dropped[DropBSRRPF]
	// From nbr4 on the RPF interface: not the RPF neighbor.
	deliverBSM(t, r, at(3), ifU, nbr4, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), rs)
	// From nbr5 on another interface.
	deliverBSM(t, r, at(3), ifX, nbr5, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), rs)
	if got := r.Stats(ifU).Dropped[DropBSRRPF] + r.Stats(ifX).Dropped[DropBSRRPF] - before; got != 2 {
		t.Errorf("RPF drops: %d, want 2", got)
	}
	if b := r.BSR(at(3)); b.BSR.IsValid() || len(b.RPSet) != 0 {
		t.Errorf("learned from a BSM that failed the RPF check: %+v", b)
	}
	// From a router that is no neighbor at all.
	deliverBSM(t, r, at(3), ifU, addr("fe80::99"), bsm(bsrA, 1, 1), rs)
	if r.Stats(ifU).Dropped[DropNoNeighbor] == 0 {
		t.Error("a BSM from a non-neighbor was not dropped as such")
	}
	// A unicast BSM from a neighbor is used (no RPF check) but not
	// forwarded.
	acts := r.Receive(at(4), ifX, nbr5, selfX, mustMarshalTo(t, nbr5, selfX, bsm(bsrA, 1, 2, bsGroup("ff00::/8", bsRP(rpA, 1, 150)))))
	if _, fw := sent[*pimmsg.Bootstrap](acts); len(fw) != 0 {
		t.Errorf("a unicast BSM was forwarded: %v", fw)
	}
	if got := rpOf(t, r, addr("ff0e::1")); got != rpA {
		t.Errorf("RP after a unicast BSM: %v", got)
	}
}

// unicastBSM delivers a BSM from a neighbor to our address on its link.
func unicastBSM(t testing.TB, r *Router, now time.Time, ifindex int, from, to netip.Addr, m *pimmsg.Bootstrap) []Action {
	t.Helper()
	return r.Receive(now, ifindex, from, to, mustMarshalTo(t, from, to, m))
}

// A BSM that skips the RPF check, unicast to one of our addresses or
// multicast with the No-Forward bit, is only the quick refresh a neighbor
// gives a router that has just started (RFC 5059 3.1.3, 3.3): used while
// no BSM has been accepted and within BS_Period of start-up (60 s from
// tR), with every fragment of that one BSM; refused and counted
// (bsm-not-startup) after a BSM from the RPF neighbor, after another
// refresh, and after BS_Period. Refused, it changes neither the BSR nor
// the RP-set, and nothing moves.
func TestBSMStartupRefresh(t *testing.T) {
	ff0e := bsGroup("ff0e::/16", bsRP(rpA, 1, 150))
	rogue := bsm(bsrB, 200, 9, bsGroup("ff0e::/16", bsRP(rpC, 0, 150)))
	drops := func(r *Router) uint64 {
		var n uint64
		for _, i := range []int{ifD, ifU, ifX} {
			n += r.Stats(i).Dropped[DropBSMNotStartup]
		}
		return n
	}
	// refused checks that a refresh was dropped and counted, and that the
	// router still has BSR bsrA, rpA as RP(ff0e::1) and no rpC.
	refused := func(t *testing.T, r *Router, now time.Time, acts []Action, want uint64) {
		t.Helper()
		if got := drops(r); got != want {
			t.Errorf("bsm-not-startup drops: %d, want %d", got, want)
		}
		b := r.BSR(now)
		if b.BSR != bsrA || rpOf(t, r, gA) != rpA {
			t.Errorf("a refused refresh changed the BSR state: %+v, RP(G) %v", b, rpOf(t, r, gA))
		}
		for _, e := range b.RPSet {
			if e.RP != rpA && e.RP != rpB {
				t.Errorf("a refused refresh changed the RP-set: %+v", b.RPSet)
			}
		}
		if _, fw := sent[*pimmsg.Bootstrap](acts); len(fw) != 0 {
			t.Errorf("a refused refresh was forwarded: %+v", fw)
		}
	}
	t.Run("unicast at start-up, in two fragments", func(t *testing.T) {
		r := bsrRouter(t, nil)
		f1 := bsm(bsrA, 1, 5, ff0e)
		f2 := bsm(bsrA, 1, 5, bsGroup("ff05::/16", bsRP(rpB, 1, 150)))
		acts := unicastBSM(t, r, at(3), ifU, nbr4, selfU, f1)
		acts = append(acts, unicastBSM(t, r, at(3), ifU, nbr4, selfU, f2)...)
		if b := r.BSR(at(3)); b.BSR != bsrA || len(b.RPSet) != 2 {
			t.Errorf("the start-up refresh was not used: %+v", b)
		}
		if _, fw := sent[*pimmsg.Bootstrap](acts); len(fw) != 0 {
			t.Errorf("the start-up refresh was forwarded: %+v", fw)
		}
		// Another BSM (another fragment tag) as a refresh: refused.
		refused(t, r, at(4), unicastBSM(t, r, at(4), ifU, nbr4, selfG, rogue), 1)
	})
	t.Run("multicast No-Forward at start-up", func(t *testing.T) {
		r := bsrRouter(t, nil)
		m := bsm(bsrA, 1, 5, ff0e)
		m.NoForward = true
		// From nbr5 on ifX, not the RPF neighbor toward bsrA: the bit
		// waives the RPF check.
		acts := deliverBSM(t, r, at(3), ifX, nbr5, m, nil)
		if b := r.BSR(at(3)); b.BSR != bsrA || len(b.RPSet) != 1 {
			t.Errorf("the No-Forward refresh was not used: %+v", b)
		}
		if _, fw := sent[*pimmsg.Bootstrap](acts); len(fw) != 0 {
			t.Errorf("a No-Forward BSM was forwarded: %+v", fw)
		}
	})
	t.Run("after a BSM from the RPF neighbor", func(t *testing.T) {
		r := bsrRouter(t, nil)
		deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, ff0e), nil)
		refused(t, r, at(10), unicastBSM(t, r, at(10), ifX, nbr5, selfX, rogue), 1)
		// With the fragment tag of the accepted BSM: refused as well.
		refused(t, r, at(11), unicastBSM(t, r, at(11), ifU, nbr4, selfU, bsm(bsrA, 1, 1, bsGroup("ff0e::/16", bsRP(rpB, 0, 150)))), 2)
		nf := *rogue
		nf.NoForward = true
		refused(t, r, at(12), deliverBSM(t, r, at(12), ifU, nbr3, &nf, nil), 3)
	})
	t.Run("after BS_Period", func(t *testing.T) {
		r := bsrRouter(t, nil)
		deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, ff0e), nil)
		r2 := bsrRouter(t, nil)
		// r2 has no BSM at all, but started more than BS_Period ago.
		unicastBSM(t, r2, at(61), ifX, nbr5, selfX, bsm(bsrA, 1, 1, ff0e))
		if b := r2.BSR(at(61)); b.BSR.IsValid() || len(b.RPSet) != 0 || drops(r2) != 1 {
			t.Errorf("a unicast BSM after BS_Period was used: %+v, drops %d", b, drops(r2))
		}
		// r, with a BSM, after BS_Period.
		refused(t, r, at(100), unicastBSM(t, r, at(100), ifX, nbr5, selfX, rogue), 1)
	})
}

func mustMarshalTo(t testing.TB, src, dst netip.Addr, m pimmsg.Message) []byte {
	t.Helper()
	b, err := pimmsg.Marshal(m, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Candidate-BSR alone becomes the BSR after its start-up wait (10 s
// hold-off + 5 s rand_override, from tR) and sends its BSM every
// BS_Period; as a Candidate-RP it is in its own set.
func TestCandidateBSRElected(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.CandidateBSR = &CandidateBSR{Addr: selfG, Priority: 10, HashMaskLen: 126}
		c.CandidateRP = &CandidateRP{Addr: selfG, Priority: 5, Holdtime: 150 * time.Second, Interval: 60 * time.Second}
	})
	if b := r.BSR(at(3)); b.State != BSRPending {
		t.Fatalf("start: %+v", b)
	}
	if acts := runActs(r, at(2.5), at(14.9)); len(onlyBSM(acts)) != 0 {
		t.Fatalf("a BSM before the start-up wait ended")
	}
	acts := runActs(r, at(14.9), at(15))
	ss, ms := sent[*pimmsg.Bootstrap](acts)
	if len(ms) != 3 { // one per interface
		t.Fatalf("BSMs at election: %d %+v", len(ms), ss)
	}
	m := ms[0]
	if m.BSR != selfG || m.Priority != 10 || m.HashMaskLen != 126 || len(m.Groups) != 1 || m.Groups[0].RPs[0].Addr != selfG || m.Groups[0].RPs[0].Holdtime != 150 {
		t.Errorf("BSM: %+v", m)
	}
	if b := r.BSR(at(15)); b.State != BSRElected || b.BSR != selfG {
		t.Errorf("after the start-up wait: %+v", b)
	}
	if got := rpOf(t, r, asmG); got != selfG {
		t.Errorf("RP(G) at the BSR: %v", got)
	}
	acts = runActs(r, at(15), at(75.5))
	if _, ms := sent[*pimmsg.Bootstrap](acts); len(ms) != 3 {
		t.Errorf("BSMs in the next BS_Period: %d", len(ms))
	}
	// The candidate RP stays in the set (it refreshes itself).
	acts = runActs(r, at(190.5), at(400))
	if got := rpOf(t, r, asmG); got != selfG {
		t.Errorf("RP(G) later: %v", got)
	}
	_ = acts
}

// The zone's refusals and receipts land in the Router's counters: on the
// interface of the message, or on the router for the RP-set's limit.
func TestBSRCounters(t *testing.T) {
	r := bsrRouter(t, func(c *Config) { c.MaxRPSet = 1 })
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrB, 100, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
	acts := deliverBSM(t, r, at(4), ifU, nbr3, bsm(bsrA, 100, 2, bsGroup("ff00::/8", bsRP(rpB, 1, 150))), nil)
	if got := r.Stats(ifU); got.Dropped[DropBSMNotPreferred] != 1 || got.Received[RecvBootstrap] != 2 {
		t.Errorf("counters after a less preferred BSM: %+v", got)
	}
	if _, fw := sent[*pimmsg.Bootstrap](acts); len(fw) != 0 {
		t.Errorf("a less preferred BSM was forwarded: %v", fw)
	}
	// The RP-set's limit: counted on the router, with one LimitHit.
	acts = deliverBSM(t, r, at(5), ifU, nbr3, bsm(bsrB, 100, 3, bsGroup("ff00::/8", bsRP(rpA, 1, 150), bsRP(rpB, 1, 150))), nil)
	var hit bool
	for _, a := range acts {
		if l, ok := a.(LimitHit); ok && l == (LimitHit{Kind: LimitRPSet, Limit: 1}) {
			hit = true
		}
	}
	if got := r.Stats(0); !hit || got.Dropped[DropRPSetLimit] != 1 || got.LimitHits[LimitRPSet] != 1 {
		t.Errorf("RP-set limit: LimitHit %v, router counters %+v", hit, got)
	}
	// A C-RP-Adv at a router that is not the BSR, on a PIM interface and
	// on another one.
	adv := &pimmsg.CandidateRPAdvertisement{RP: rpA, Priority: 1, Holdtime: 150}
	r.Receive(at(6), ifU, rpA, selfG, mustMarshalTo(t, rpA, selfG, adv))
	r.Receive(at(6), 9, rpA, selfG, mustMarshalTo(t, rpA, selfG, adv))
	if r.Stats(ifU).Dropped[DropNotBSR] != 1 || r.Stats(0).Dropped[DropNotBSR] != 1 {
		t.Errorf("C-RP-Adv at a non-BSR: %v, router %v", r.Stats(ifU).Dropped, r.Stats(0).Dropped)
	}
	// At the BSR it is received.
	r = bsrRouter(t, func(c *Config) {
		c.CandidateBSR = &CandidateBSR{Addr: selfG, Priority: 10, HashMaskLen: 126}
	})
	runUntil(r, at(2.5), at(20))
	r.Receive(at(21), ifU, rpA, selfG, mustMarshalTo(t, rpA, selfG, adv))
	if got := r.Stats(ifU); got.Received[RecvCRPAdv] != 1 || len(got.Dropped) != 0 {
		t.Errorf("C-RP-Adv at the BSR: %+v", got)
	}
	runUntil(r, at(21), at(21)) // the BSM it triggers
	if got := rpOf(t, r, gA); got != rpA {
		t.Errorf("RP(G) at the BSR: %v", got)
	}
}

// A Candidate-RP advertises to the BSR once it knows it, every interval,
// and says goodbye at shutdown.
func TestCandidateRPAdvertises(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.CandidateRP = &CandidateRP{Addr: selfG, Priority: 7, Holdtime: 150 * time.Second, Interval: 60 * time.Second,
			Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}
	})
	if acts := runActs(r, at(2.5), at(10)); len(onlyCRP(acts)) != 0 {
		t.Fatalf("advertised with no BSR known")
	}
	deliverBSM(t, r, at(10), ifU, nbr3, bsm(bsrA, 1, 1), nil)
	acts := runActs(r, at(10), at(10))
	as := onlyCRP(acts)
	if len(as) != 1 || as[0].Dst != bsrA || as[0].Src != selfG || as[0].IfIndex != 0 {
		t.Fatalf("advertisement after the BSR is known: %+v", as)
	}
	m := as[0].Msg.(*pimmsg.CandidateRPAdvertisement)
	if m.RP != selfG || m.Priority != 7 || m.Holdtime != 150 || len(m.Groups) != 1 || m.Groups[0].Addr != addr("ff0e::") || m.Groups[0].MaskLen != 16 {
		t.Errorf("advertisement: %+v", m)
	}
	if as := onlyCRP(runActs(r, at(10), at(70.5))); len(as) != 1 {
		t.Errorf("advertisements in the next interval: %d", len(as))
	}
	as = onlyCRP(r.Shutdown(at(71)))
	if len(as) != 1 || as[0].Msg.(*pimmsg.CandidateRPAdvertisement).Holdtime != 0 {
		t.Errorf("goodbye: %+v", as)
	}
}

func onlyBSM(acts []Action) []SendPIM {
	ss, _ := sent[*pimmsg.Bootstrap](acts)
	return ss
}

func onlyCRP(acts []Action) []SendPIM {
	ss, _ := sent[*pimmsg.CandidateRPAdvertisement](acts)
	return ss
}

// A new neighbor gets the BSM unicast with the No-Forward bit after our
// Hello; only the DR sends it.
func TestBSMToNewNeighbor(t *testing.T) {
	r := bsrRouter(t, nil)
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
	acts := hello(t, r, at(4), ifX, addr("fe80::9"), withHoldtime(0xffff))
	acts = append(acts, runActs(r, at(4), at(10))...)
	ss, ms := sent[*pimmsg.Bootstrap](acts)
	if len(ms) != 1 || ss[0].Dst != addr("fe80::9") || ss[0].IfIndex != ifX || !ms[0].NoForward || ms[0].BSR != bsrA {
		t.Fatalf("unicast BSM: %+v %+v", ss, ms)
	}
	var helloFirst bool
	for _, a := range acts {
		if s, ok := a.(SendPIM); ok && s.IfIndex == ifX {
			_, helloFirst = s.Msg.(*pimmsg.Hello)
			break
		}
	}
	if !helloFirst {
		t.Error("the BSM went out before our Hello")
	}
}

// RP(G) precedence: embedded, static override, BSR, static.
func TestRPPrecedence(t *testing.T) {
	emb := addr("ff7e:0140:2001:db8:beef:feed::1234")
	r := bsrRouter(t, func(c *Config) {
		c.RPs = []StaticRP{
			{Addr: rpC, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}},
			{Addr: rpB, Groups: []netip.Prefix{netip.MustParsePrefix("ff05::/16"), netip.MustParsePrefix("ff7e::/16")}, Override: true},
		}
	})
	if got := rpOf(t, r, gA); got != rpC {
		t.Errorf("static only: %v", got)
	}
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
	for g, want := range map[netip.Addr]netip.Addr{
		gA:                rpA, // BSR before static
		addr("ff05::1"):   rpB, // override before BSR
		emb:               addr("2001:db8:beef:feed::1"),
		addr("ff7e::1:2"): rpB, // not a valid embedded group: override
	} {
		if got := rpOf(t, r, g); got != want {
			t.Errorf("RP(%v) = %v, want %v", g, got, want)
		}
	}
	for g, want := range map[netip.Addr]string{gA: OriginBSR, addr("ff05::1"): OriginStaticOverride, emb: OriginEmbedded, addr("ff3e::1"): ""} {
		if _, got, _ := r.RPOrigin(g); got != want {
			t.Errorf("RPOrigin(%v) = %q, want %q", g, got, want)
		}
	}
	cfg := r.cfg
	cfg.EmbeddedRP = false
	if _, err := r.SetConfig(at(4), cfg); err != nil {
		t.Fatal(err)
	}
	if got := rpOf(t, r, emb); got != rpB {
		t.Errorf("embedded off: RP = %v, want %v", got, rpB)
	}
}

// At most MaxEmbeddedRPGroups groups take their RP from their address.
func TestEmbeddedRPLimit(t *testing.T) {
	r := bsrRouter(t, func(c *Config) { c.MaxEmbeddedRPGroups = 1 })
	e1, e2 := addr("ff7e:0140:2001:db8:beef:feed::1"), addr("ff7e:0140:2001:db8:beef:feed::2")
	listen := func(g netip.Addr) []Action {
		return routes(nil).answer(r, at(3), r.SetListeners(at(3), ListenerInput{IfIndex: ifD, Group: g, Exclude: true}))
	}
	listen(e1)
	acts := listen(e2)
	var hit bool
	for _, a := range acts {
		if l, ok := a.(LimitHit); ok && l.Kind == LimitEmbeddedRP && l.Limit == 1 {
			hit = true
		}
	}
	if !hit {
		t.Errorf("no LimitHit: %v", acts)
	}
	if got := rpOf(t, r, e1); got != addr("2001:db8:beef:feed::1") {
		t.Errorf("first group: %v", got)
	}
	if r.Stats(0).Dropped[DropEmbeddedRPLimit] == 0 {
		t.Error("second group not counted")
	}
	b := r.BSR(at(3))
	if len(b.Embedded) != 1 || b.Embedded[0].Prefix.Addr() != e1 {
		t.Errorf("embedded in use: %+v", b.Embedded)
	}
	// The first group goes: the second can have its RP.
	r.SetListeners(at(4), ListenerInput{IfIndex: ifD, Group: e1})
	runUntil(r, at(4), at(10))
	listen(e2)
	if got := rpOf(t, r, e2); got != addr("2001:db8:beef:feed::1") {
		t.Errorf("second group after the first left: %v", got)
	}
}

// When the BSR's set moves a group to another RP, the (*,G) state follows:
// a Prune toward the old RP and a Join toward the new one.
func TestBSRRPChangeMovesStarG(t *testing.T) {
	r := bsrRouter(t, nil)
	rs := routes{rpB: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), rs)
	rs.answer(r, at(4), r.SetListeners(at(4), ListenerInput{IfIndex: ifD, Group: gA, Exclude: true}))
	runUntil(r, at(4), at(5))
	acts := deliverBSM(t, r, at(6), ifU, nbr3, bsm(bsrA, 1, 2, bsGroup("ff00::/8", bsRP(rpB, 1, 150))), rs)
	lines := render(acts)
	var pruned, joined bool
	for _, l := range lines {
		if l == "jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[*2001:db8:ff::1]" {
			pruned = true
		}
		if l == "jp(4) to fe80::5 ht=210 ff0e::1 join[*2001:db8:ff::2] prune[]" {
			joined = true
		}
	}
	if !pruned || !joined {
		t.Errorf("RP change: prune to old %v, join to new %v:\n%v", pruned, joined, lines)
	}
	var changes []RPChange
	for _, a := range acts {
		if c, ok := a.(RPChange); ok {
			changes = append(changes, c)
		}
	}
	if len(changes) != 1 || changes[0] != (RPChange{Group: gA, RP: rpB, Origin: OriginBSR}) {
		t.Errorf("RPChange actions: %+v", changes)
	}
	if rp, origin, ok := r.RPOrigin(gA); !ok || rp != rpB || origin != OriginBSR {
		t.Errorf("RPOrigin = %v %q %v", rp, origin, ok)
	}
	if got := rpOf(t, r, gA); got != rpB {
		t.Errorf("RP(G) = %v", got)
	}
}

// A Candidate-BSR follows bsrA, whose BSMs carry a hash mask length of 64,
// then takes over when bsrA falls silent and originates its own BSMs with
// its length, 126, and the same RP-set. The new length moves groups
// between the two RPs of equal priority (RFC 7761 4.7.2): every group
// holding (*,G) state moves with them at once (RPChange, Prune to the old
// RP, Join to the new), not at the next change of the RP-set.
func TestHashMaskChangeMovesStarG(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.CandidateBSR = &CandidateBSR{Addr: selfG, Priority: 10, HashMaskLen: 126}
	})
	m := bsm(bsrA, 20, 1, bsGroup("ff00::/8", bsRP(rpB, 1, 300), bsRP(rpC, 1, 300)))
	m.HashMaskLen = 64
	deliverBSM(t, r, at(3), ifU, nbr3, m, nil)
	// Groups of ff0e::/16 that differ in their last 64 bits only: one RP
	// for all with bsrA's length.
	var gs []netip.Addr
	for i := range 16 {
		b := addr("ff0e::").As16()
		b[12], b[15] = byte(i*37), byte(i)
		g := netip.AddrFrom16(b)
		gs = append(gs, g)
		routes(nil).answer(r, at(4), r.SetListeners(at(4), ListenerInput{IfIndex: ifD, Group: g, Exclude: true}))
	}
	runActs(r, at(4), at(5))
	before := make([]netip.Addr, len(gs))
	for i, g := range gs {
		before[i] = rpOf(t, r, g)
	}
	acts := runActs(r, at(5), at(160))
	if b := r.BSR(at(160)); b.State != BSRElected || b.HashMaskLen != 126 || len(b.RPSet) != 2 {
		t.Fatalf("not the BSR with both RPs: %+v", b)
	}
	changes := map[netip.Addr]netip.Addr{}
	for _, a := range acts {
		if c, ok := a.(RPChange); ok {
			changes[c.Group] = c.RP
		}
	}
	// RP(G) from the RP-set and the length in use, against the RP the
	// group's state uses (rpOf).
	moved := 0
	for i, g := range gs {
		k, _, ok := r.rpLookup(g)
		if !ok || k.Addr() == before[i] {
			continue
		}
		moved++
		if got := rpOf(t, r, g); got != k.Addr() || changes[g] != k.Addr() {
			t.Errorf("%v: RP(G) went from %v to %v; its state uses %v, RPChange %v", g, before[i], k.Addr(), got, changes[g])
		}
	}
	if moved == 0 {
		t.Fatal("no group moved: the test does not change the hash in use")
	}
	if len(changes) != moved {
		t.Errorf("%d RPChange actions for %d groups moved", len(changes), moved)
	}
}

// runActs is runUntil returning the actions, with route lookups answered
// by the default routes.
func runActs(r *Router, from, until time.Time) []Action {
	var out []Action
	expireUntil(r, from, until, func(d time.Time, acts []Action) {
		out = append(out, routes(nil).answer(r, d, acts)...)
	})
	return out
}

// A Register to our Candidate-RP address for a group whose RP is another
// (here rpA, from the BSR's set) gets the Register-Stop of RFC 7761
// 4.4.2's else branch, from the address it was sent to, back to the DR
// (outer.src), for the Register's (S,G), even though a BSM could make us
// RP(G) later; it is counted as register-not-rp. Once a BSM makes us
// RP(G), the DR's next Register is ours.
func TestRegisterToCandidateRPNotRP(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.CandidateRP = &CandidateRP{Addr: selfG, Priority: 20, Holdtime: 150 * time.Second, Interval: 60 * time.Second,
			Groups: []netip.Prefix{all}}
	})
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 10, 150), bsRP(selfG, 20, 150))), nil)
	if got := rpOf(t, r, gA); got != rpA {
		t.Fatalf("RP(G) = %v, want %v", got, rpA)
	}
	register := func(now time.Time) []Action {
		reg := &pimmsg.Register{Packet: dataPacket(s1, gA)}
		return r.Receive(now, ifU, drAddr, selfG, mustMarshalTo(t, drAddr, selfG, reg))
	}
	ss, ms := sent[*pimmsg.RegisterStop](register(at(4)))
	if len(ss) != 1 || ss[0].Src != selfG || ss[0].Dst != drAddr ||
		ms[0].Source != s1 || ms[0].Group != (pimmsg.Group{Addr: gA, MaskLen: 128}) {
		t.Fatalf("Register-Stop for a group we are not the RP of: %+v %+v", ss, ms)
	}
	if got := r.Stats(ifU).Dropped[DropRegisterNotRP]; got != 1 {
		t.Errorf("register-not-rp drops: %d (%v)", got, r.Stats(ifU).Dropped)
	}
	// The BSM that makes us the RP arrives: the next Register is ours.
	deliverBSM(t, r, at(5), ifU, nbr3, bsm(bsrA, 1, 2, bsGroup("ff00::/8", bsRP(selfG, 20, 150))), nil)
	if got := rpOf(t, r, gA); got != selfG {
		t.Fatalf("RP(G) = %v", got)
	}
	register(at(6))
	if got := r.Stats(ifU).Dropped[DropRegisterNotRP]; got != 1 {
		t.Errorf("a Register to the RP was dropped: %v", r.Stats(ifU).Dropped)
	}
	if sg := r.sgs[sgKey{keyOf(gA), keyOf(s1)}]; sg == nil {
		t.Errorf("no (S,G) state at the RP after the Register")
	}
}

// StarGChange: a (*,G) entry that outlives its event is announced once,
// and its removal too; one made and dropped in one event is not.
func TestStarGChange(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	count := func(acts []Action) (added, removed int) {
		for _, a := range acts {
			if c, ok := a.(StarGChange); ok && c.Group == gA {
				if c.Added {
					added++
				} else {
					removed++
				}
			}
		}
		return
	}
	// A Prune(*,G) for a group without state: nothing to announce.
	acts := r.Receive(at(3), ifD, nbr1, AllPIMRouters, marshal(t, nbr1, jpMsg(selfD, 210, jpg{g: gA, prunes: []netip.Addr{rpA}, wildcard: true, rpt: true})))
	if a, d := count(acts); a != 0 || d != 0 {
		t.Errorf("transient (*,G): added %d removed %d", a, d)
	}
	acts = routes(nil).answer(r, at(4), r.SetListeners(at(4), ListenerInput{IfIndex: ifD, Group: gA, Exclude: true}))
	if a, d := count(acts); a != 1 || d != 0 {
		t.Errorf("join: added %d removed %d", a, d)
	}
	acts = r.SetListeners(at(5), ListenerInput{IfIndex: ifD, Group: gA, Exclude: true, Sources: []netip.Addr{s1}})
	if a, d := count(acts); a != 0 || d != 0 {
		t.Errorf("a change of the entry: added %d removed %d", a, d)
	}
	acts = r.SetListeners(at(6), ListenerInput{IfIndex: ifD, Group: gA})
	acts = append(acts, runActs(r, at(6), at(20))...)
	if a, d := count(acts); a != 0 || d != 1 {
		t.Errorf("leave: added %d removed %d", a, d)
	}
}

// TestRefusedRegisterAdoptedWhenRP: a Register to our Candidate-RP
// address that races the BSM making us RP(G) gets its Register-Stop
// (4.4.2), and when the BSM arrives the RP does what the Register would
// have made it do: KAT(S,G) starts and, with receivers on the shared tree,
// Join(S,G) goes toward S at once, instead of the flow waiting up to
// 1.5 * Register_Suppression_Time for the DR's probe.
func TestRefusedRegisterAdoptedWhenRP(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.CandidateRP = &CandidateRP{Addr: selfG, Priority: 20, Holdtime: 150 * time.Second, Interval: 60 * time.Second,
			Groups: []netip.Prefix{all}}
	})
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 10, 150), bsRP(selfG, 20, 150))), nil)
	routes(nil).answer(r, at(3), r.SetListeners(at(3), ListenerInput{IfIndex: ifD, Group: gA, Exclude: true}))
	reg := &pimmsg.Register{Packet: dataPacket(s1, gA)}
	if ss, _ := sent[*pimmsg.RegisterStop](r.Receive(at(4), ifU, drAddr, selfG, mustMarshalTo(t, drAddr, selfG, reg))); len(ss) != 1 {
		t.Fatalf("Register-Stop for a group we are not the RP of: %+v", ss)
	}
	acts := deliverBSM(t, r, at(5), ifU, nbr3, bsm(bsrA, 1, 2, bsGroup("ff00::/8", bsRP(selfG, 20, 150))), nil)
	if got := rpOf(t, r, gA); got != selfG {
		t.Fatalf("RP(G) = %v, want us", got)
	}
	_, jps := sent[*pimmsg.JoinPrune](acts)
	joined := false
	for _, jp := range jps {
		for _, g := range jp.Groups {
			if g.Group.Addr == gA && slices.ContainsFunc(g.Joins, func(s pimmsg.Source) bool { return s.Addr == s1 && !s.RPT && !s.WildCard }) {
				joined = true
			}
		}
	}
	if !joined {
		t.Fatalf("no Join(S,G) toward S when RP(G) became ours: %v", render(acts))
	}
	if rs := route(r, at(5), s1, gA); rs == nil || rs.KeepaliveLeft <= 0 {
		t.Errorf("(S,G) at the new RP: %+v, want KAT running", rs)
	}
	// The refusal is used once: a later RP change does nothing more.
	if len(r.refused) != 0 {
		t.Errorf("refusals left: %v", r.refused)
	}
}

// A BSM with a hash mask length above 128 (no length of an IPv6 group
// address) is dropped and counted as bad-hash-mask on its interface
// before anything else: no route is watched for its BSR, a scoped one
// teaches no zone, nothing is forwarded, and the BSR info does not show
// it.
func TestBSMBadHashMask(t *testing.T) {
	r := bsrRouter(t, nil)
	m := bsm(bsrA, 100, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150)))
	m.HashMaskLen = 200
	z := zoneBSM(bsrB, 1, 1, "ff15::/16", []pimmsg.BootstrapRP{bsRP(rpB, 1, 150)})
	z.HashMaskLen = 129
	var acts []Action
	acts = append(acts, deliverBSM(t, r, at(3), ifU, nbr3, m, nil)...)
	acts = append(acts, deliverBSM(t, r, at(3), ifU, nbr3, z, nil)...)
	if len(acts) != 0 {
		t.Errorf("actions of bad BSMs: %+v", acts)
	}
	if got := r.Stats(ifU).Dropped[DropBSMHashMask]; got != 2 {
		t.Errorf("%s drops: %d, want 2 (%v)", DropBSMHashMask, got, r.Stats(ifU).Dropped)
	}
	if b := r.BSR(at(3)); b.BSR.IsValid() || b.HashMaskLen != 0 {
		t.Errorf("BSR info after a bad BSM: %+v", b)
	}
	if zs := r.BSRZones(at(3)); len(zs) != 0 {
		t.Errorf("zones learned from a bad BSM: %+v", zs)
	}
	if got := rpOf(t, r, gA); got.IsValid() {
		t.Errorf("RP(G) from a bad BSM: %v", got)
	}
	// 128 is a length: the BSM is used.
	m.HashMaskLen = 128
	deliverBSM(t, r, at(4), ifU, nbr3, m, nil)
	if b := r.BSR(at(4)); b.BSR != bsrA || b.HashMaskLen != 128 {
		t.Errorf("BSR info after a BSM with hash mask length 128: %+v", b)
	}
}
