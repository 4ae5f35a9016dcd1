package pim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Administrative scope zones (RFC 5059 1.3, zones.go). The zone of these
// tests is ff15::/16 (site-local); its BSR is bsrB, the global BSR bsrA.
// The router's interfaces are named eth2 (ifD), eth3 (ifU) and eth4 (ifX).

var (
	siteZone = netip.MustParsePrefix("ff15::/16")
	siteG    = addr("ff15::1")
)

// zoneBSM is a BSM of the scope zone zone: its first range is the zone's,
// with the Z bit, then groups.
func zoneBSM(bsr netip.Addr, prio uint8, tag uint16, zone string, first []pimmsg.BootstrapRP, groups ...pimmsg.BootstrapGroup) *pimmsg.Bootstrap {
	g := bsGroup(zone, first...)
	g.Group.AdminScope = true
	return bsm(bsr, prio, tag, append([]pimmsg.BootstrapGroup{g}, groups...)...)
}

// withZone configures the zone ff15::/16 with the given border
// interfaces.
func withZone(border ...string) func(*Config) {
	return func(c *Config) {
		c.BSRZones = append(c.BSRZones, BSRZone{Range: siteZone, Border: border})
	}
}

func bsmIfaces(acts []Action) []int {
	var out []int
	for _, s := range onlyBSM(acts) {
		out = append(out, s.IfIndex)
	}
	return out
}

// RP(G) comes from the RP-set of the most specific scope zone containing
// G, else from the global zone's. A group of a scope zone does not take
// an RP from the global RP-set, even while the zone's set is empty.
func TestZoneRPOfGroup(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		withZone()(c)
		c.BSRZones = append(c.BSRZones, BSRZone{Range: netip.MustParsePrefix("ff15:1::/32")})
	})
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
	if got := rpOf(t, r, gA); got != rpA {
		t.Errorf("RP(%v) = %v, want the global zone's %v", gA, got, rpA)
	}
	if got := rpOf(t, r, siteG); got.IsValid() {
		t.Errorf("RP(%v) = %v from the global RP-set, want none while its zone has no RP-set", siteG, got)
	}
	acts := deliverBSM(t, r, at(4), ifU, nbr3, zoneBSM(bsrB, 1, 1, "ff15::/16", []pimmsg.BootstrapRP{bsRP(rpB, 1, 150)}), nil)
	var change BSRChange
	for _, a := range acts {
		if c, ok := a.(BSRChange); ok {
			change = c
		}
	}
	if change != (BSRChange{BSR: bsrB, Priority: 1, State: BSRAcceptPreferred, Zone: siteZone}) {
		t.Errorf("BSR change of the zone: %+v", change)
	}
	deliverBSM(t, r, at(5), ifU, nbr3, zoneBSM(bsrC, 1, 1, "ff15:1::/32", []pimmsg.BootstrapRP{bsRP(rpC, 1, 150)}), nil)
	for g, want := range map[netip.Addr]netip.Addr{
		gA:                 rpA, // in no scope zone
		siteG:              rpB, // ff15::/16
		addr("ff15:1::1"):  rpC, // ff15:1::/32, the more specific zone
		addr("ff15:2::1"):  rpB,
		addr("ff18::1234"): rpA, // a scope no zone is configured or learned for
	} {
		if got := rpOf(t, r, g); got != want {
			t.Errorf("RP(%v) = %v, want %v", g, got, want)
		}
	}
	if b := r.BSR(at(5)); b.BSR != bsrA || len(b.RPSet) != 1 {
		t.Errorf("global zone: %+v", b)
	}
	zs := r.BSRZones(at(5))
	if len(zs) != 2 || zs[0].Range != netip.MustParsePrefix("ff15:1::/32") || zs[0].BSR != bsrC || zs[1].Range != siteZone ||
		zs[1].BSR != bsrB || !zs[1].Configured || len(zs[1].RPSet) != 1 || zs[1].RPSet[0].RP != rpB {
		t.Errorf("scope zones: %+v", zs)
	}
}

var bsrC = addr("2001:db8:b5::3")

// A BSM of a scope zone is forwarded on the other interfaces except
// those at the zone's border; one that comes in at the border is dropped
// and counted, and changes nothing. A global BSM crosses the border.
func TestZoneBorderBSM(t *testing.T) {
	r := bsrRouter(t, withZone("eth4"))
	zm := zoneBSM(bsrB, 1, 1, "ff15::/16", []pimmsg.BootstrapRP{bsRP(rpB, 1, 150)})
	acts := deliverBSM(t, r, at(3), ifU, nbr3, zm, nil)
	if got := bsmIfaces(acts); !slices.Equal(got, []int{ifD}) {
		t.Errorf("the zone's BSM went out on %v, want %v only (eth4 is the border)", got, []int{ifD})
	}
	// The zone's BSM at the border, from the RPF neighbor there.
	rs := routes{bsrC: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	acts = deliverBSM(t, r, at(4), ifX, nbr5, zoneBSM(bsrC, 200, 1, "ff15::/16", []pimmsg.BootstrapRP{bsRP(rpC, 1, 150)}), rs)
	if got := onlyBSM(acts); len(got) != 0 {
		t.Errorf("a BSM from across the border went out: %+v", got)
	}
	if got := r.Stats(ifX).Dropped[DropScopeBorder]; got != 1 {
		t.Errorf("scope-border drops on eth4: %d, want 1", got)
	}
	if got := rpOf(t, r, siteG); got != rpB {
		t.Errorf("RP(%v) = %v after a BSM from across the border, want %v kept", siteG, got, rpB)
	}
	// A global BSM goes everywhere.
	acts = deliverBSM(t, r, at(5), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
	if got := bsmIfaces(acts); !slices.Equal(got, []int{ifD, ifX}) {
		t.Errorf("the global BSM went out on %v, want %v", got, []int{ifD, ifX})
	}
	// A new neighbor at the border gets the global BSM only.
	acts = hello(t, r, at(6), ifX, addr("fe80::9"), withHoldtime(0xffff))
	acts = append(acts, runActs(r, at(6), at(12))...)
	_, ms := sent[*pimmsg.Bootstrap](acts)
	if len(ms) != 1 || ms[0].BSR != bsrA {
		t.Errorf("BSMs to a new neighbor at the border: %+v", ms)
	}
}

// The elected BSR of a scope zone originates its BSMs on every interface
// but those at the border; they begin with the zone's range (Z bit).
func TestZoneBorderOriginate(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.BSRZones = []BSRZone{{Range: siteZone, Border: []string{"eth4"}, CandidateBSR: &CandidateBSR{Addr: selfG, Priority: 1, HashMaskLen: 126}}}
	})
	acts := runActs(r, at(2.5), at(20))
	ss, ms := sent[*pimmsg.Bootstrap](acts)
	if len(ms) == 0 {
		t.Fatal("the zone's candidate originated no BSM")
	}
	for i, s := range ss {
		if s.IfIndex == ifX || len(ms[i].Groups) == 0 || ms[i].Groups[0].Group.Prefix() != siteZone || !ms[i].Groups[0].Group.AdminScope {
			t.Errorf("BSM on %d: %+v", s.IfIndex, ms[i])
		}
	}
	if zs := r.BSRZones(at(20)); len(zs) != 1 || zs[0].State != BSRElected || zs[0].BSR != selfG {
		t.Errorf("zone: %+v", zs)
	}
	if b := r.BSR(at(20)); b.State != BSRNoInfo || b.BSR.IsValid() {
		t.Errorf("the global zone: %+v", b)
	}
}

// A Candidate-RP sends the ranges within a scope zone to the zone's BSR,
// and the others to the global BSR.
func TestZoneCRPAdvToZoneBSR(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		withZone()(c)
		c.CandidateRP = &CandidateRP{Addr: selfG, Priority: 7, Holdtime: 150 * time.Second, Interval: 60 * time.Second,
			Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16"), netip.MustParsePrefix("ff15:1::/32"), netip.MustParsePrefix("ff00::/8")}}
	})
	acts := deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1), nil)
	acts = append(acts, deliverBSM(t, r, at(3), ifU, nbr3, zoneBSM(bsrB, 1, 1, "ff15::/16", nil), nil)...)
	acts = append(acts, runActs(r, at(3), at(3))...)
	got := map[netip.Addr][]netip.Prefix{}
	for _, s := range onlyCRP(acts) {
		for _, g := range s.Msg.(*pimmsg.CandidateRPAdvertisement).Groups {
			got[s.Dst] = append(got[s.Dst], g.Prefix())
		}
	}
	want := map[netip.Addr][]netip.Prefix{
		bsrA: {netip.MustParsePrefix("ff0e::/16"), netip.MustParsePrefix("ff00::/8")},
		bsrB: {netip.MustParsePrefix("ff15:1::/32")},
	}
	if len(got) != 2 || !slices.Equal(got[bsrA], want[bsrA]) || !slices.Equal(got[bsrB], want[bsrB]) {
		t.Errorf("advertised %v, want %v", got, want)
	}
	// Goodbye to both.
	dsts := map[netip.Addr]bool{}
	for _, s := range onlyCRP(r.Shutdown(at(10))) {
		if s.Msg.(*pimmsg.CandidateRPAdvertisement).Holdtime == 0 {
			dsts[s.Dst] = true
		}
	}
	if !dsts[bsrA] || !dsts[bsrB] {
		t.Errorf("goodbyes to %v, want both BSRs", dsts)
	}
}

// At the BSR of a scope zone a C-RP-Adv's ranges within the zone go to
// the zone; the others to the global zone, whose BSR we are not here.
func TestZoneCRPAdvAtZoneBSR(t *testing.T) {
	r := bsrRouter(t, func(c *Config) {
		c.BSRZones = []BSRZone{{Range: siteZone, CandidateBSR: &CandidateBSR{Addr: selfG, Priority: 1, HashMaskLen: 126}}}
	})
	runUntil(r, at(2.5), at(20))
	adv := &pimmsg.CandidateRPAdvertisement{RP: rpA, Priority: 1, Holdtime: 150, Groups: []pimmsg.Group{
		{Addr: addr("ff15:1::"), MaskLen: 32}, {Addr: addr("ff0e::"), MaskLen: 16},
	}}
	r.Receive(at(21), ifU, rpA, selfG, mustMarshalTo(t, rpA, selfG, adv))
	st := r.Stats(ifU)
	if st.Received[RecvCRPAdv] != 1 || st.Dropped[DropNotBSR] != 1 {
		t.Errorf("counters: received %v, dropped %v; want 1 received, the global range not-bsr", st.Received, st.Dropped)
	}
	acts := runActs(r, at(21), at(22))
	_, ms := sent[*pimmsg.Bootstrap](acts)
	if len(ms) == 0 || len(ms[0].Groups) != 2 || ms[0].Groups[1].Group.Prefix() != netip.MustParsePrefix("ff15:1::/32") {
		t.Errorf("the zone's BSM after the C-RP-Adv: %+v", ms)
	}
	if got := rpOf(t, r, addr("ff15:1::1")); got != rpA {
		t.Errorf("RP(ff15:1::1) = %v, want %v", got, rpA)
	}
	if got := rpOf(t, r, gA); got.IsValid() {
		t.Errorf("RP(%v) = %v: the global range was taken", gA, got)
	}
}

// A router learns the scope zones of the BSMs it gets (no border, no
// candidacy), at most MaxBSRZones of them; a BSM of one more is dropped
// and counted, with one LimitHit. A learned zone is forgotten once its
// BSR timed out and its RP-set expired; its groups go back to the global
// RP-set. A Z bit on a range that is no admin scope range drops the BSM.
func TestZoneLearnedAndLimit(t *testing.T) {
	r := bsrRouter(t, func(c *Config) { c.MaxBSRZones = 1 })
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
	acts := deliverBSM(t, r, at(3), ifU, nbr3, zoneBSM(bsrB, 1, 1, "ff15::/16", []pimmsg.BootstrapRP{bsRP(rpB, 1, 20)}), nil)
	if got := bsmIfaces(acts); !slices.Equal(got, []int{ifD, ifX}) {
		t.Errorf("the learned zone's BSM went out on %v", got)
	}
	if got := rpOf(t, r, siteG); got != rpB {
		t.Errorf("RP(%v) = %v, want the learned zone's %v", siteG, got, rpB)
	}
	acts = deliverBSM(t, r, at(4), ifU, nbr3, zoneBSM(bsrC, 1, 1, "ff18::/16", []pimmsg.BootstrapRP{bsRP(rpC, 1, 150)}), nil)
	acts = append(acts, deliverBSM(t, r, at(4), ifU, nbr3, zoneBSM(bsrC, 1, 2, "ff14::/16", nil), nil)...)
	var hits []LimitHit
	for _, a := range acts {
		if l, ok := a.(LimitHit); ok {
			hits = append(hits, l)
		}
	}
	if st := r.Stats(ifU); st.Dropped[DropZoneLimit] != 2 || len(hits) != 1 || hits[0] != (LimitHit{IfIndex: ifU, Kind: LimitBSRZones, Limit: 1}) {
		t.Errorf("zone limit: drops %v, LimitHits %+v", st.Dropped, hits)
	}
	if got := onlyBSM(acts); len(got) != 0 || rpOf(t, r, addr("ff18::1")) != rpA {
		t.Errorf("a zone beyond the limit was used: sent %+v, RP(ff18::1) %v", got, rpOf(t, r, addr("ff18::1")))
	}
	// Bad zone ranges: global scope, and /8.
	deliverBSM(t, r, at(5), ifU, nbr3, zoneBSM(bsrC, 1, 1, "ff0e::/16", nil), nil)
	deliverBSM(t, r, at(5), ifU, nbr3, zoneBSM(bsrC, 1, 1, "ff00::/8", nil), nil)
	if got := r.Stats(ifU).Dropped[DropGroup]; got != 2 {
		t.Errorf("bad-group drops of BSMs with a Z bit on no admin scope range: %d", got)
	}
	// bsrB stops: after BS_Timeout the zone accepts any BSR; after its
	// RP's holdtime (20 s) it has nothing and is forgotten; ff15::1 maps
	// to the global RP-set again. Keep the global BSR alive meanwhile.
	for s := 60.0; s <= 180; s += 60 {
		deliverBSM(t, r, at(s), ifU, nbr3, bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), nil)
		runUntil(r, at(s), at(s+59))
	}
	if zs := r.BSRZones(at(240)); len(zs) != 0 {
		t.Errorf("learned zone kept after its BSR timed out and its RP-set expired: %+v", zs)
	}
	if got := rpOf(t, r, siteG); got != rpA {
		t.Errorf("RP(%v) = %v after its learned zone went, want the global %v", siteG, got, rpA)
	}
	// Room again: a new zone is learned.
	deliverBSM(t, r, at(241), ifU, nbr3, zoneBSM(bsrC, 1, 3, "ff18::/16", []pimmsg.BootstrapRP{bsRP(rpC, 1, 150)}), nil)
	if got := rpOf(t, r, addr("ff18::1")); got != rpC {
		t.Errorf("RP(ff18::1) = %v, want %v from a zone learned once there was room", got, rpC)
	}
}

// Config.Validate: the zones' ranges, borders, candidates and count.
func TestZoneConfigValidate(t *testing.T) {
	cb := &CandidateBSR{Addr: selfG, Priority: 1, HashMaskLen: 126}
	for _, tc := range []struct {
		zones   []BSRZone
		max     int
		field   string // "" when valid
		message string
	}{
		{zones: []BSRZone{{Range: siteZone, Border: []string{"eth1"}, CandidateBSR: cb}}},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("ff14::/16")}, {Range: netip.MustParsePrefix("ff18:1::/32")}}},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("ff0e::/16")}}, field: "BSRZones[0].Range", message: "not an administrative scope range"},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("ff12::/16")}}, field: "BSRZones[0].Range", message: "not an administrative scope range"},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("ff00::/8")}}, field: "BSRZones[0].Range", message: "not an administrative scope range"},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("2001:db8::/32")}}, field: "BSRZones[0].Range", message: "not an IPv6 multicast prefix"},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("ff15::1/16")}}, field: "BSRZones[0].Range", message: "bits set beyond"},
		{zones: []BSRZone{{Range: netip.MustParsePrefix("ff35::/32")}}, field: "BSRZones[0].Range", message: "SSM range"},
		{zones: []BSRZone{{Range: siteZone}, {Range: siteZone}}, field: "BSRZones[1].Range", message: "the range of BSRZones[0].Range too"},
		{zones: []BSRZone{{Range: siteZone, Border: []string{"eth1", ""}}}, field: "BSRZones[0].Border[1]", message: "empty"},
		{zones: []BSRZone{{Range: siteZone, Border: []string{"eth1", "eth1"}}}, field: "BSRZones[0].Border[1]", message: "twice"},
		{zones: []BSRZone{{Range: siteZone, CandidateBSR: &CandidateBSR{Priority: 1}}}, field: "BSRZones[0].CandidateBSR.Addr", message: "required"},
		{zones: []BSRZone{{Range: siteZone, CandidateBSR: &CandidateBSR{Addr: selfG, HashMaskLen: 129}}}, field: "BSRZones[0].CandidateBSR.HashMaskLen", message: "more than 128"},
		{zones: []BSRZone{{Range: siteZone}, {Range: netip.MustParsePrefix("ff18::/16")}, {Range: netip.MustParsePrefix("ff14::/16")}}, max: 1,
			field: "BSRZones[1].Range", message: "one zone too many: at most 1 scope zones"},
		{max: -1, field: "MaxBSRZones", message: "at least 0"},
	} {
		c := testConfig(constRand(0))
		c.BSRZones = tc.zones
		if tc.max != 0 {
			c.MaxBSRZones = tc.max
		}
		errs := fieldErrors(t, c.Validate())
		found := false
		for _, e := range errs {
			if f, msg, _ := strings.Cut(e, ": "); f == tc.field && strings.Contains(msg, tc.message) {
				found = true
			}
		}
		if tc.field == "" && len(errs) > 0 || tc.field != "" && !found {
			t.Errorf("%+v max %d: errors %q, want one on %q saying %q", tc.zones, tc.max, errs, tc.field, tc.message)
		}
	}
}

// A reload that adds a zone moves the Candidate-RP's ranges within it
// from the global BSR to the zone's (the global BSR hears the new list at
// once); one that removes it says goodbye to the zone's BSR, gives the
// ranges back to the global BSR, and keeps the zone as a learned one
// while its BSR lives.
func TestZoneReload(t *testing.T) {
	crp := &CandidateRP{Addr: selfG, Priority: 7, Holdtime: 150 * time.Second, Interval: 60 * time.Second,
		Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16"), netip.MustParsePrefix("ff15:1::/32")}}
	base := func(c *Config) { c.RPs, c.CandidateRP = nil, crp }
	r := bsrRouter(t, base)
	deliverBSM(t, r, at(3), ifU, nbr3, bsm(bsrA, 1, 1), nil)
	runUntil(r, at(3), at(3))
	advs := func(acts []Action) map[netip.Addr]string {
		out := map[netip.Addr]string{}
		for _, s := range onlyCRP(acts) {
			m := s.Msg.(*pimmsg.CandidateRPAdvertisement)
			var gs []string
			for _, g := range m.Groups {
				gs = append(gs, g.Prefix().String())
			}
			out[s.Dst] += fmt.Sprintf("%s/%d;", strings.Join(gs, ","), m.Holdtime)
		}
		return out
	}
	cfg := bsrConfigFor(t, base, withZone())
	acts, err := r.SetConfig(at(10), cfg)
	if err != nil {
		t.Fatal(err)
	}
	acts = append(acts, runActs(r, at(10), at(10))...)
	if got := advs(acts); got[bsrA] != "ff0e::/16/150;" || len(got) != 1 {
		t.Errorf("advertisements after the zone was added: %v", got)
	}
	acts = deliverBSM(t, r, at(11), ifU, nbr3, zoneBSM(bsrB, 1, 1, "ff15::/16", nil), nil)
	acts = append(acts, runActs(r, at(11), at(11))...)
	if got := advs(acts); got[bsrB] != "ff15:1::/32/150;" || len(got) != 1 {
		t.Errorf("advertisements after the zone's BSR is known: %v", got)
	}
	acts, err = r.SetConfig(at(20), bsrConfigFor(t, base))
	if err != nil {
		t.Fatal(err)
	}
	acts = append(acts, runActs(r, at(20), at(20))...)
	if got := advs(acts); got[bsrB] != "ff15:1::/32/0;" || got[bsrA] != "ff0e::/16,ff15:1::/32/150;" {
		t.Errorf("advertisements after the zone was removed: %v", got)
	}
	if zs := r.BSRZones(at(20)); len(zs) != 1 || zs[0].Configured || zs[0].BSR != bsrB {
		t.Errorf("the removed zone: %+v, want it learned while its BSR lives", zs)
	}
}

// bsrConfigFor is bsrRouter's configuration changed by mods.
func bsrConfigFor(t testing.TB, mods ...func(*Config)) Config {
	t.Helper()
	c := testConfig(constRand(half))
	for _, m := range mods {
		m(&c)
	}
	return c
}

// At the border of a scope zone the zone's groups hold no state: a
// Join/Prune group set for one is dropped (scope-border) and so are MLD
// listeners of one, kept aside for a reload that moves the border. Other
// groups, and the same group inside the zone, are taken.
func TestZoneBorderJoinAndListeners(t *testing.T) {
	r := bsrRouter(t, withZone("eth4"))
	for _, i := range []int{ifD, ifX} {
		joinPrune(t, r, at(3), i, map[int]netip.Addr{ifD: nbr1, ifX: nbr5}[i], fuzzSelf[i], 210, join(siteG, s1), join(gA, s1))
	}
	if st := r.Stats(ifX); st.Dropped[DropScopeBorder] != 1 {
		t.Errorf("scope-border drops on eth4: %v", st.Dropped)
	}
	ds := func(g netip.Addr) []int {
		var out []int
		if rs := route(r, at(3), s1, g); rs != nil {
			for _, d := range rs.Downstream {
				out = append(out, int(d.IfIndex))
			}
		}
		return out
	}
	if got := ds(siteG); !slices.Equal(got, []int{ifD}) {
		t.Errorf("Join state of %v on %v, want on eth2 only", siteG, got)
	}
	if got := ds(gA); !slices.Equal(got, []int{ifD, ifX}) {
		t.Errorf("Join state of %v on %v, want on both", gA, got)
	}
	// Listeners.
	g2 := addr("ff15::2")
	local := func() []int {
		if rs := route(r, at(4), s2, g2); rs != nil {
			return rs.LocalReceivers
		}
		return nil
	}
	r.SetListeners(at(4), ListenerInput{IfIndex: ifX, Group: g2, Sources: []netip.Addr{s2}})
	r.SetListeners(at(4), ListenerInput{IfIndex: ifD, Group: g2, Sources: []netip.Addr{s2}})
	if got := local(); !slices.Equal(got, []int{ifD}) || r.Stats(ifX).Dropped[DropScopeBorder] != 2 {
		t.Errorf("local receivers of %v on %v (drops %v), want eth2 only", g2, got, r.Stats(ifX).Dropped)
	}
	// The border moves away from eth4: its listener is used; back: it goes.
	if _, err := r.SetConfig(at(5), bsrConfigFor(t, func(c *Config) { c.RPs = nil }, withZone())); err != nil {
		t.Fatal(err)
	}
	if got := local(); !slices.Equal(got, []int{ifD, ifX}) {
		t.Errorf("local receivers after the border went: %v", got)
	}
	if _, err := r.SetConfig(at(6), bsrConfigFor(t, func(c *Config) { c.RPs = nil }, withZone("eth4"))); err != nil {
		t.Fatal(err)
	}
	if got := local(); !slices.Equal(got, []int{ifD}) {
		t.Errorf("local receivers after the border came back: %v", got)
	}
	// MLD says the listener left: nothing is kept aside.
	r.SetListeners(at(7), ListenerInput{IfIndex: ifX, Group: g2})
	if _, err := r.SetConfig(at(8), bsrConfigFor(t, func(c *Config) { c.RPs = nil }, withZone())); err != nil {
		t.Fatal(err)
	}
	if got := local(); !slices.Equal(got, []int{ifD}) {
		t.Errorf("local receivers after the listener left at the border and the border went: %v", got)
	}
	// A listener kept aside and then used is no longer kept aside: once
	// it leaves, no reload brings it back.
	reload := func(s float64, border ...string) {
		t.Helper()
		if _, err := r.SetConfig(at(s), bsrConfigFor(t, func(c *Config) { c.RPs = nil }, withZone(border...))); err != nil {
			t.Fatal(err)
		}
	}
	reload(9, "eth4")
	r.SetListeners(at(10), ListenerInput{IfIndex: ifX, Group: g2, Sources: []netip.Addr{s2}})
	reload(11)
	r.SetListeners(at(12), ListenerInput{IfIndex: ifX, Group: g2})
	reload(13, "eth4")
	reload(14)
	if got := local(); !slices.Equal(got, []int{ifD}) {
		t.Errorf("local receivers after a listener that left came back: %v", got)
	}
}
