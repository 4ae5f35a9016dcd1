package bsr

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Candidate-RP-Advertisements at the BSR: a new RP makes a BSM at once;
// holdtime 0 removes it and its range goes out empty.
func TestBSRCandidateRPs(t *testing.T) {
	z := newZone(t, candidate(10))
	runUntil(z, at(2.5), at(130))
	adv := func(now time.Time, m *pimmsg.CandidateRPAdvertisement) []Output {
		return z.CandidateRPAdvertisement(now, self, m)
	}
	if d := diffOutputs([]Output{Received{}}, adv(at(131), crpAdv(rpA, 1, 150, "ff0e::/16"))); d != "" {
		t.Errorf("outputs of a C-RP-Adv (-want +got):\n%s", d)
	}
	os := of[Originate](runUntil(z, at(131), at(131)))
	if len(os) != 1 || len(os[0].Msg.Groups) != 1 || os[0].Msg.Groups[0].RPs[0].Addr != rpA {
		t.Fatalf("triggered BSM: %+v", os)
	}
	if got := rpOf(z, gA); got != rpA {
		t.Errorf("RP(G) at the BSR: %v", got)
	}
	// A second new RP within a second: the BSM waits for the gap.
	adv(at(131.2), crpAdv(rpB, 1, 150))
	if os := of[Originate](runUntil(z, at(131.2), at(131.2))); len(os) != 0 {
		t.Errorf("BSM sooner than a second after the last")
	}
	if os := of[Originate](runUntil(z, at(131.2), at(132.5))); len(os) != 1 || len(os[0].Msg.Groups) != 2 {
		t.Fatalf("BSM after the gap: %+v", os)
	}
	// rpA withdraws: ff0e::/16 is advertised with no RP.
	adv(at(140), crpAdv(rpA, 1, 0, "ff0e::/16"))
	os = of[Originate](runUntil(z, at(140), at(141.5)))
	if len(os) != 1 {
		t.Fatalf("BSM after withdrawal: %+v", os)
	}
	var empty bool
	for _, g := range os[0].Msg.Groups {
		if g.Group.Addr == addr("ff0e::") && g.RPCount == 0 {
			empty = true
		}
	}
	if !empty {
		t.Errorf("ff0e::/16 not advertised empty: %+v", os[0].Msg.Groups)
	}
	if got := rpOf(z, gA); got != rpB {
		t.Errorf("RP(G) after withdrawal: %v, want %v (ff00::/8)", got, rpB)
	}
	// rpB's holdtime runs out.
	runUntil(z, at(141.5), at(290))
	if got := rpOf(z, gA); got.IsValid() {
		t.Errorf("RP(G) after the holdtime: %v", got)
	}
	// Refusals: a bad RP address, a bad group (the rest is taken), an
	// advertisement to another of our addresses.
	if d := diffOutputs([]Output{Dropped{Reason: BadAddress}}, adv(at(291), crpAdv(addr("fe80::1"), 1, 150))); d != "" {
		t.Errorf("bad RP (-want +got):\n%s", d)
	}
	out := adv(at(291), crpAdv(rpC, 1, 150, "2001:db8::/32", "ff05::/16"))
	if d := diffOutputs([]Output{Dropped{Reason: BadGroup}, Received{}}, out); d != "" {
		t.Errorf("bad group (-want +got):\n%s", d)
	}
	if d := diffOutputs([]Output{Dropped{Reason: NotBSR}}, z.CandidateRPAdvertisement(at(292), rpA, crpAdv(rpC, 1, 150))); d != "" {
		t.Errorf("to another address (-want +got):\n%s", d)
	}
	// Not the BSR: C-RP-Adv dropped.
	z2 := newZone(t, nil)
	if d := diffOutputs([]Output{Dropped{Reason: NotBSR}}, z2.CandidateRPAdvertisement(at(3), self, crpAdv(rpA, 1, 150))); d != "" {
		t.Errorf("C-RP-Adv at a non-BSR (-want +got):\n%s", d)
	}
}

// At most MaxRPSet Candidate-RPs: the next is refused with the message.
func TestCandidateRPLimit(t *testing.T) {
	z := newZone(t, func(c *Config) { candidate(10)(c); c.MaxRPSet = 1 })
	runUntil(z, t0, at(15))
	z.CandidateRPAdvertisement(at(16), self, crpAdv(rpA, 1, 150))
	if d := diffOutputs([]Output{Received{}, Dropped{Reason: SetLimit}}, z.CandidateRPAdvertisement(at(16), self, crpAdv(rpB, 1, 150))); d != "" {
		t.Errorf("a Candidate-RP beyond the limit (-want +got):\n%s", d)
	}
}

// A Candidate-RP advertises to the BSR once it knows it, every interval,
// and says goodbye at shutdown.
func TestCandidateRPAdvertises(t *testing.T) {
	cp := &CandidateRP{Addr: self, Priority: 7, Holdtime: 150, Interval: 60 * time.Second, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}
	z := newZone(t, func(c *Config) { c.CandidateRP = cp })
	if as := of[Advertise](runUntil(z, t0, at(10))); len(as) != 0 {
		t.Fatalf("advertised with no BSR known: %+v", as)
	}
	z.Bootstrap(at(10), ifU, bsm(bsrA, 1, 1), Multicast)
	as := of[Advertise](runUntil(z, at(10), at(10)))
	if len(as) != 1 || as[0].Dst != bsrA || as[0].Src != self {
		t.Fatalf("advertisement after the BSR is known: %+v", as)
	}
	m := as[0].Msg
	if m.RP != self || m.Priority != 7 || m.Holdtime != 150 || len(m.Groups) != 1 || m.Groups[0].Addr != addr("ff0e::") || m.Groups[0].MaskLen != 16 {
		t.Errorf("advertisement: %+v", m)
	}
	if as := of[Advertise](runUntil(z, at(10), at(70.5))); len(as) != 1 {
		t.Errorf("advertisements in the next interval: %d", len(as))
	}
	if info := z.Info(at(70.5)); info.NextAdvertisement != 59500*time.Millisecond {
		t.Errorf("next advertisement in %v", info.NextAdvertisement)
	}
	as = of[Advertise](z.Shutdown(at(71)))
	if len(as) != 1 || as[0].Msg.Holdtime != 0 {
		t.Errorf("goodbye: %+v", as)
	}
}

// Reloads move the candidacies.
func TestSetConfig(t *testing.T) {
	withCRP := func(c *Config) {
		c.CandidateRP = &CandidateRP{Addr: self, Priority: 7, Holdtime: 150, Interval: 60 * time.Second}
	}
	// A non-candidate that follows bsrA (priority 20) becomes a
	// candidate of priority 10: Candidate; of priority 30: Pending.
	for _, c := range []struct {
		prio uint8
		want State
	}{{10, Candidate}, {30, Pending}} {
		z := newZone(t, nil)
		z.Bootstrap(at(3), ifU, bsm(bsrA, 20, 1), Multicast)
		cfg := testConfig()
		candidate(c.prio)(&cfg)
		out := z.SetConfig(at(4), cfg)
		if d := diffOutputs([]Output{Change{BSR: bsrA, Priority: 20, State: c.want}}, out); d != "" {
			t.Errorf("priority %d (-want +got):\n%s", c.prio, d)
		}
	}
	// The elected BSR that stops being a candidate forgets the BSR; a
	// Candidate-RP that stops says goodbye (to itself, the BSR: it just
	// leaves the table).
	cfg := testConfig()
	candidate(10)(&cfg)
	withCRP(&cfg)
	z := newZone(t, func(c *Config) { *c = cfg })
	runUntil(z, t0, at(15))
	if got := rpOf(z, gA); got != self {
		t.Fatalf("RP(G) at the BSR: %v", got)
	}
	out := z.SetConfig(at(20), testConfig())
	if d := diffOutputs([]Output{Change{State: NoInfo}}, out); d != "" {
		t.Errorf("candidacies removed (-want +got):\n%s", d)
	}
	if b, ok := z.BSR(); ok {
		t.Errorf("BSR %v still known", b)
	}
	if ts := z.Timers(); len(ts) != 1 {
		t.Errorf("timers left: %+v (want the RP-set's)", ts)
	}
	// A Candidate-RP that follows bsrA and changes its address: goodbye
	// from the old one, the new one at once.
	cfg = testConfig()
	withCRP(&cfg)
	z = newZone(t, func(c *Config) { *c = cfg })
	z.Bootstrap(at(3), ifU, bsm(bsrA, 20, 1), Multicast)
	runUntil(z, at(3), at(3))
	cfg.CandidateRP = &CandidateRP{Addr: rpC, Priority: 7, Holdtime: 150, Interval: 60 * time.Second}
	out = z.SetConfig(at(4), cfg)
	out = append(out, runUntil(z, at(4), at(4))...)
	as := of[Advertise](out)
	if len(as) != 2 || as[0].Src != self || as[0].Msg.Holdtime != 0 || as[1].Src != rpC || as[1].Msg.Holdtime != 150 {
		t.Errorf("address change: %+v", as)
	}
}
