package bsr

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Test conventions, as in package pim's BSR tests: BSMs arrive on ifU
// (ifD is another interface); the BSRs are bsrA and bsrB, the RPs rpA,
// rpB and rpC; this router's address is self. Times are seconds after
// t0, where the zone starts. Rand is half: every fragment tag this router
// draws is 0.

const (
	ifD = 2
	ifU = 3
)

var (
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bsrA = addr("2001:db8:b5::1")
	bsrB = addr("2001:db8:b5::2")
	rpA  = addr("2001:db8:ff::1")
	rpB  = addr("2001:db8:ff::2")
	rpC  = addr("2001:db8:ff::3")
	self = addr("2001:db8:ff::5")
	gA   = addr("ff0e::1")
)

const half = 1 << 31

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// at returns t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// testConfig is package pim's default: BS_Period 60 s, 1024 pairs.
func testConfig() Config {
	return Config{BootstrapPeriod: 60 * time.Second, MaxRPSet: 1024, Rand: func() uint32 { return half }}
}

// newZone returns a zone started at t0 with testConfig changed by mod.
func newZone(t testing.TB, mod func(*Config)) *Zone {
	t.Helper()
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	z := New(new(timerq.IDs), cfg)
	z.Start(t0)
	return z
}

func candidate(prio uint8) func(*Config) {
	return func(c *Config) { c.CandidateBSR = &CandidateBSR{Addr: self, Priority: prio, HashMaskLen: 126} }
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

func crpAdv(rp netip.Addr, prio uint8, holdtime uint16, groups ...string) *pimmsg.CandidateRPAdvertisement {
	m := &pimmsg.CandidateRPAdvertisement{RP: rp, Priority: prio, Holdtime: holdtime}
	for _, g := range groups {
		p := netip.MustParsePrefix(g)
		m.Groups = append(m.Groups, pimmsg.Group{Addr: p.Addr(), MaskLen: uint8(p.Bits())})
	}
	return m
}

// of returns the outputs of type T.
func of[T Output](out []Output) []T {
	var ts []T
	for _, o := range out {
		if t, ok := o.(T); ok {
			ts = append(ts, t)
		}
	}
	return ts
}

// runUntil fires the zone's timers at each deadline up to and including
// until (never before from) and returns the outputs.
func runUntil(z *Zone, from, until time.Time) []Output {
	var out []Output
	for {
		d, _, ok := z.Next()
		if !ok || d.After(until) {
			return out
		}
		if d.Before(from) {
			d = from
		}
		out = append(out, z.Expire(d)...)
		from = d
	}
}

func rpOf(z *Zone, g netip.Addr) netip.Addr {
	a, _ := z.Lookup(g)
	return a
}

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func diffOutputs(want, got []Output) string { return cmp.Diff(want, got, cmpAddr) }
