package bsr

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The scope zone of these tests: ff15::/16, site-local (RFC 5059 1.3).
var site = netip.MustParsePrefix("ff15::/16")

func scoped(c *Config) { c.Range = site }

// zoneGroup is the first range of a BSM of the zone: ff15::/16 with the Z
// bit.
func zoneGroup(rps ...pimmsg.BootstrapRP) pimmsg.BootstrapGroup {
	g := bsGroup("ff15::/16", rps...)
	g.Group.AdminScope = true
	return g
}

// The elected BSR of a scope zone takes only the ranges within the zone
// from a C-RP-Adv (the others are counted as OutOfZone), and its BSM
// begins with the zone's range with the Z bit, even when no RP serves it.
func TestScopedZoneOriginates(t *testing.T) {
	z := newZone(t, func(c *Config) { scoped(c); candidate(10)(c) })
	runUntil(z, t0, at(15))
	if st := z.State(); st != Elected {
		t.Fatalf("state %v, want elected", st)
	}
	out := z.CandidateRPAdvertisement(at(16), self, crpAdv(rpA, 1, 150, "ff0e::/16", "ff15:1::/32"))
	if d := diffOutputs([]Output{Dropped{Reason: OutOfZone}, Received{}}, out); d != "" {
		t.Errorf("outputs of a C-RP-Adv with a range outside the zone (-want +got):\n%s", d)
	}
	os := of[Originate](runUntil(z, at(16), at(17)))
	if len(os) != 1 {
		t.Fatalf("BSMs after the C-RP-Adv: %+v", os)
	}
	gs := os[0].Msg.Groups
	if len(gs) != 2 || gs[0].Group != (pimmsg.Group{Addr: addr("ff15::"), MaskLen: 16, AdminScope: true}) || gs[0].RPCount != 0 ||
		gs[1].Group != (pimmsg.Group{Addr: addr("ff15:1::"), MaskLen: 32}) || len(gs[1].RPs) != 1 || gs[1].RPs[0].Addr != rpA {
		t.Errorf("ranges of the zone's BSM: %+v", gs)
	}
	if got := rpOf(z, addr("ff15:1::7")); got != rpA {
		t.Errorf("RP(ff15:1::7) at the zone's BSR: %v, want %v", got, rpA)
	}
	if _, ok := z.Lookup(addr("ff0e::1")); ok {
		t.Error("the zone maps a group outside it")
	}
	// A C-RP-Adv with no range in the zone changes nothing: rpA stays.
	out = z.CandidateRPAdvertisement(at(20), self, crpAdv(rpA, 1, 0, "ff0e::/16"))
	if d := diffOutputs([]Output{Dropped{Reason: OutOfZone}}, out); d != "" {
		t.Errorf("outputs of a C-RP-Adv outside the zone (-want +got):\n%s", d)
	}
	if got := rpOf(z, addr("ff15:1::7")); got != rpA {
		t.Errorf("RP(ff15:1::7) after a C-RP-Adv outside the zone: %v", got)
	}
	// An RP for the zone's own range goes in the first range.
	z.CandidateRPAdvertisement(at(21), self, crpAdv(rpB, 1, 150, "ff15::/16"))
	os = of[Originate](runUntil(z, at(21), at(22.5)))
	if len(os) != 1 || len(os[0].Msg.Groups) != 2 || !os[0].Msg.Groups[0].Group.AdminScope || len(os[0].Msg.Groups[0].RPs) != 1 ||
		os[0].Msg.Groups[0].RPs[0].Addr != rpB {
		t.Errorf("BSM with an RP for the zone's range: %+v", os)
	}
}

// A scoped zone's RP-set takes only the ranges within the zone from a
// BSM; the others are counted on the router.
func TestScopedZoneBSMRanges(t *testing.T) {
	z := newZone(t, scoped)
	m := bsm(bsrA, 1, 1, zoneGroup(bsRP(rpA, 1, 150)), bsGroup("ff0e::/16", bsRP(rpB, 1, 150)), bsGroup("ff15:1::/32", bsRP(rpC, 1, 150)))
	out := z.Bootstrap(at(3), ifU, m, Multicast)
	if ds := of[Dropped](out); len(ds) != 1 || ds[0] != (Dropped{Reason: OutOfZone, Router: true}) {
		t.Errorf("drops: %+v, want the range outside the zone", ds)
	}
	for g, want := range map[string]netip.Addr{"ff15::1": rpA, "ff15:1::1": rpC, "ff0e::1": {}, "ff05::1": {}} {
		if got := rpOf(z, addr(g)); got != want {
			t.Errorf("RP(%s) = %v, want %v", g, got, want)
		}
	}
	if info := z.Info(at(3)); info.Range != site || info.BSR != bsrA || len(info.RPSet) != 2 {
		t.Errorf("info: %+v", info)
	}
}

// A scoped zone's Candidate-RP advertises only its ranges within the
// zone, and is none when it has none there.
func TestScopedCandidateRP(t *testing.T) {
	crp := func(groups ...string) func(*Config) {
		return func(c *Config) {
			scoped(c)
			c.CandidateRP = &CandidateRP{Addr: self, Priority: 7, Holdtime: 150, Interval: 60 * time.Second}
			for _, g := range groups {
				c.CandidateRP.Groups = append(c.CandidateRP.Groups, netip.MustParsePrefix(g))
			}
		}
	}
	z := newZone(t, crp("ff00::/8", "ff15:2::/32"))
	z.Bootstrap(at(3), ifU, bsm(bsrA, 1, 1, zoneGroup()), Multicast)
	as := of[Advertise](runUntil(z, at(3), at(3)))
	if len(as) != 1 || as[0].Dst != bsrA || len(as[0].Msg.Groups) != 1 || as[0].Msg.Groups[0] != (pimmsg.Group{Addr: addr("ff15:2::"), MaskLen: 32}) {
		t.Errorf("advertisement of the zone's Candidate-RP: %+v", as)
	}
	z = newZone(t, crp("ff0e::/16"))
	z.Bootstrap(at(3), ifU, bsm(bsrA, 1, 1, zoneGroup()), Multicast)
	if as := of[Advertise](runUntil(z, at(3), at(100))); len(as) != 0 {
		t.Errorf("advertised ranges outside the zone: %+v", as)
	}
	if info := z.Info(at(100)); info.NextAdvertisement != 0 {
		t.Errorf("a Candidate-RP with no range in the zone: %+v", info)
	}
}
