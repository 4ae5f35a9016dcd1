package bsr

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The fuzz universe is small so that messages collide: two other BSRs,
// three RPs (one is us), three ranges and a bad one, two to four pairs.
var (
	zfBSRs   = []netip.Addr{bsrA, bsrB}
	zfRPs    = []netip.Addr{rpA, rpB, self}
	zfRanges = []string{"ff00::/8", "ff0e::/16", "ff0e:1::/32", "2001:db8::/32"}
	zfGroups = []netip.Addr{addr("ff0e::1"), addr("ff0e:1::5"), addr("ff05::1")}
)

type zoneFuzzer struct {
	t    *testing.T
	data []byte
	z    *Zone
	now  time.Time
	// limit is the highest MaxRPSet so far: a reload to a lower one
	// removes nothing. mask is the hash mask length before the input,
	// settled whether the zone had accepted a BSM from the RPF neighbor
	// (or originated one), how the way the input's BSM came (0: the
	// input is not a BSM).
	limit   int
	mask    uint8
	settled bool
	how     Arrival
	// scope is the zone's range (zero: the global zone), fixed for the
	// zone's life as its owner keeps it.
	scope netip.Prefix
}

func (f *zoneFuzzer) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b
}

func (f *zoneFuzzer) pick(n int) int { return int(f.byte()) % n }

func (f *zoneFuzzer) config() Config {
	b := f.byte()
	c := Config{BootstrapPeriod: 2 * time.Second, MaxRPSet: 2 + int(b&3), Rand: func() uint32 { return uint32(b) * 0x9e3779b9 }, Range: f.scope}
	f.limit = max(f.limit, c.MaxRPSet)
	if b&4 != 0 {
		c.CandidateBSR = &CandidateBSR{Addr: self, Priority: b >> 6, HashMaskLen: 126}
	}
	if b&8 != 0 {
		c.CandidateRP = &CandidateRP{Addr: self, Priority: 1, Holdtime: 5, Interval: 2 * time.Second}
		if b&16 != 0 {
			c.CandidateRP.Groups = []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}
		}
	}
	return c
}

func (f *zoneFuzzer) bootstrap() *pimmsg.Bootstrap {
	m := &pimmsg.Bootstrap{FragmentTag: uint16(f.pick(3)), HashMaskLen: uint8(f.pick(129)), Priority: uint8(f.pick(3)),
		BSR: zfBSRs[f.pick(len(zfBSRs))], NoForward: f.byte()&7 == 0}
	for range f.pick(4) {
		g := bsGroup(zfRanges[f.pick(len(zfRanges))])
		for range f.pick(3) {
			g.RPs = append(g.RPs, bsRP(zfRPs[f.pick(len(zfRPs))], uint8(f.pick(2)), uint16(f.pick(4))*2))
		}
		g.RPCount = uint8(len(g.RPs) + f.pick(2))
		m.Groups = append(m.Groups, g)
	}
	return m
}

// step is one input; it returns the outputs, and the ifindex of a BSM
// input (0 for others).
func (f *zoneFuzzer) step() ([]Output, int) {
	switch f.pick(7) {
	case 0:
		f.now = f.now.Add(time.Duration(f.byte()) * 100 * time.Millisecond)
		return f.z.Expire(f.now), 0
	case 1:
		if d, _, ok := f.z.Next(); ok && d.After(f.now) {
			f.now = d
		}
		return f.z.Fire(f.now), 0
	case 2:
		in := 1 + f.pick(3)
		f.how = Multicast
		if f.byte()&1 != 0 {
			f.how = Refresh
		}
		return f.z.Bootstrap(f.now, in, f.bootstrap(), f.how), in
	case 3:
		m := crpAdv(zfRPs[f.pick(len(zfRPs))], uint8(f.pick(2)), uint16(f.pick(4))*2)
		if f.byte()&1 != 0 {
			m.Groups = append(m.Groups, pimmsg.Group{Addr: addr("ff0e::"), MaskLen: 16})
		}
		dst := self
		if f.byte()&7 == 0 {
			dst = rpA
		}
		return f.z.CandidateRPAdvertisement(f.now, dst, m), 0
	case 4:
		return f.z.SetConfig(f.now, f.config()), 0
	case 5:
		return f.z.NewNeighbor(1+f.pick(3), addr("fe80::9"), f.byte()&1 != 0), 0
	default:
		return f.z.Start(f.now), 0
	}
}

// check verifies the outputs of one input and the state after it; before
// holds RP(G) of the sample groups before the input.
func (f *zoneFuzzer) check(out []Output, in int, before []netip.Addr) {
	t, z := f.t, f.z
	changed := false
	for i, o := range out {
		switch o := o.(type) {
		case Forward:
			if o.In != in || in == 0 || f.how != Multicast || o.Msg.NoForward {
				t.Fatalf("Forward %+v of input on %d (arrival %d)", o, in, f.how)
			}
		case Originate:
			if z.state != Elected || o.Msg.BSR != z.cfg.CandidateBSR.Addr {
				t.Fatalf("Originate in %v: %+v", z.state, o.Msg)
			}
			// A scope zone's BSM names it by its first range (Z bit).
			if f.scope.IsValid() && (len(o.Msg.Groups) == 0 || o.Msg.Groups[0].Group.Prefix() != f.scope || !o.Msg.Groups[0].Group.AdminScope) {
				t.Fatalf("BSM of zone %v does not begin with its range: %+v", f.scope, o.Msg.Groups)
			}
			for _, g := range o.Msg.Groups {
				if !f.within(g.Group.Prefix()) || g.Group.AdminScope != (f.scope.IsValid() && g.Group.Prefix() == f.scope) {
					t.Fatalf("BSM of zone %v carries %+v", f.scope, g.Group)
				}
			}
		case Advertise:
			if !slices.Contains(zfBSRs, o.Dst) || o.Src != self || o.Msg.RP != self {
				t.Fatalf("advertisement %+v", o)
			}
			for _, g := range o.Msg.Groups {
				if !f.within(g.Prefix()) {
					t.Fatalf("advertisement of zone %v for %v", f.scope, g.Prefix())
				}
			}
		case RPSetChanged:
			if i != len(out)-1 || changed {
				t.Fatalf("RPSetChanged not once and last: %+v", out)
			}
			changed = true
		}
	}
	// A BSM that skipped the RPF check is used only as the start-up
	// refresh (RFC 5059 3.1.3): once a BSM came from the RPF neighbor (or
	// we originated one), it changes nothing.
	if f.how == Refresh && f.settled {
		if d := diffOutputs([]Output{Received{}, Dropped{Reason: NotStartup}}, out); d != "" {
			t.Fatalf("a refresh after a BSM from the RPF neighbor (-want +got):\n%s", d)
		}
	}
	if f.settled && !z.settled {
		t.Fatal("the zone forgot it had accepted a BSM")
	}
	if z.state == Elected && !z.settled {
		t.Fatal("elected but not settled")
	}
	// RP(G) never changes without RPSetChanged, nor does the hash mask
	// length it is computed with (whatever RP(G) of the sample groups).
	for i, g := range zfGroups {
		if rp := rpOf(z, g); rp != before[i] && !changed {
			t.Fatalf("RP(%v) went from %v to %v without RPSetChanged", g, before[i], rp)
		}
	}
	if z.hashMask != f.mask && !changed {
		t.Fatalf("hash mask length went from %d to %d without RPSetChanged", f.mask, z.hashMask)
	}
	// The RP-set: sorted ranges, none empty, sorted distinct RPs, the
	// pair count right and bounded.
	pairs := 0
	for i, rg := range z.set.ranges {
		if len(rg.rps) == 0 {
			t.Fatalf("empty range %v kept", rg.prefix)
		}
		if !f.within(rg.prefix) {
			t.Fatalf("zone %v keeps %v", f.scope, rg.prefix)
		}
		if i > 0 && rangeOrder(z.set.ranges[i-1], rg) >= 0 {
			t.Fatalf("ranges out of order: %v before %v", z.set.ranges[i-1].prefix, rg.prefix)
		}
		if !slices.IsSortedFunc(rg.rps, func(a, b rsRP) int { return a.addr.Compare(b.addr) }) ||
			len(slices.CompactFunc(slices.Clone(rg.rps), func(a, b rsRP) bool { return a.addr == b.addr })) != len(rg.rps) {
			t.Fatalf("RPs of %v not sorted and distinct: %+v", rg.prefix, rg.rps)
		}
		pairs += len(rg.rps)
	}
	if pairs != z.set.pairs || pairs > f.limit {
		t.Fatalf("RP-set: %d pairs, counted %d, limit %d", pairs, z.set.pairs, f.limit)
	}
	if (z.setTimer != 0) != (len(z.set.ranges) > 0) {
		t.Fatalf("RP-set timer %d with %d ranges", z.setTimer, len(z.set.ranges))
	}
	// The election machine.
	switch z.state {
	case Candidate, Pending, Elected:
		if z.cfg.CandidateBSR == nil {
			t.Fatalf("%v without a candidacy", z.state)
		}
	case AcceptPreferred, AcceptAny:
		if z.cfg.CandidateBSR != nil || !z.has {
			t.Fatalf("%v with candidacy %v, BSR known %v", z.state, z.cfg.CandidateBSR, z.has)
		}
	}
	if running := z.state == Candidate || z.state == Pending || z.state == Elected || z.state == AcceptPreferred; running != (z.bst != 0) {
		t.Fatalf("%v with Bootstrap Timer %d", z.state, z.bst)
	}
	if z.state == Elected && (!z.has || z.addr != z.cfg.CandidateBSR.Addr) {
		t.Fatalf("elected with BSR %v %v", z.addr, z.has)
	}
	if (z.crps != nil) != (z.state == Elected) || len(z.crps) > f.limit || (z.crpTimer != 0) != (len(z.crps) > 0) {
		t.Fatalf("%v with %d Candidate-RPs, timer %d", z.state, len(z.crps), z.crpTimer)
	}
	for _, e := range z.crps {
		for _, p := range e.groups {
			if !f.within(p) {
				t.Fatalf("zone %v has Candidate-RP %v for %v", f.scope, e.addr, p)
			}
		}
	}
	if (z.adv != 0) != (z.cfg.CandidateRP != nil) {
		t.Fatalf("advertisement timer %d with candidacy %v", z.adv, z.cfg.CandidateRP)
	}
}

// within reports whether the range p is within the fuzzed zone.
func (f *zoneFuzzer) within(p netip.Prefix) bool {
	return !f.scope.IsValid() || p.Bits() >= f.scope.Bits() && f.scope.Contains(p.Addr())
}

func FuzzZone(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x0c, 2, 0, 1, 1, 1, 0, 2, 0, 1, 1, 0, 1, 0})                 // a candidate BSR and RP, a BSM, time
	f.Add([]byte{0x04, 1, 1, 3, 0, 0, 1, 0, 0, 2, 1, 1, 1, 0, 0, 0, 3, 1, 0})  // a candidate elected, C-RP-Advs
	f.Add([]byte{0x00, 2, 1, 0, 1, 1, 3, 1, 1, 0, 0, 2, 0, 6, 4, 0x4c, 0, 80}) // a follower becomes a candidate
	f.Add([]byte{0x2c, 2, 0, 1, 1, 1, 0, 2, 0, 1, 1, 0, 1, 0})                 // the same in the scope zone ff0e::/16
	f.Add([]byte{0x24, 1, 1, 3, 0, 0, 1, 0, 0, 2, 1, 1, 1, 0, 0, 0, 3, 1, 0})  // a candidate of the zone elected, C-RP-Advs
	f.Fuzz(func(t *testing.T, data []byte) {
		fz := &zoneFuzzer{t: t, data: data, now: t0}
		if len(data) > 0 && data[0]&32 != 0 {
			// A scope zone: ff0e::/16, with the ranges ff0e::/16 and
			// ff0e:1::/32 in it and ff00::/8 not.
			fz.scope = netip.MustParsePrefix("ff0e::/16")
		}
		fz.z = New(new(timerq.IDs), fz.config())
		before := make([]netip.Addr, len(zfGroups))
		for steps := 0; len(fz.data) > 0 && steps < 300; steps++ {
			for i, g := range zfGroups {
				before[i] = rpOf(fz.z, g)
			}
			fz.mask, fz.settled, fz.how = fz.z.hashMask, fz.z.settled, 0
			out, in := fz.step()
			if fz.z.started {
				fz.check(out, in, before)
			}
		}
	})
}
