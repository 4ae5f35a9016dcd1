package pim

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// benchBSM is a BSM of n /24 ranges under ff0e::/16 (plus ff00::/8), each
// with two candidate RPs of equal priority, so that every lookup hashes.
func benchBSM(n int, tag uint16, rps ...netip.Addr) *pimmsg.Bootstrap {
	m := bsm(bsrA, 1, tag)
	for i := range n {
		g := bsGroup(fmt.Sprintf("ff0e:%x::/32", i+1))
		for _, rp := range rps {
			g.RPs = append(g.RPs, bsRP(rp, 1, 150))
		}
		g.RPCount = uint8(len(g.RPs))
		m.Groups = append(m.Groups, g)
	}
	all := bsGroup("ff00::/8")
	for _, rp := range rps {
		all.RPs = append(all.RPs, bsRP(rp, 1, 150))
	}
	all.RPCount = uint8(len(all.RPs))
	m.Groups = append(m.Groups, all)
	return m
}

// RP(G) for a group no range but ff00::/8 covers: the walk over every
// range plus two hashes.
func BenchmarkRPLookup(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(fmt.Sprintf("ranges=%d", n), func(b *testing.B) {
			r := bsrRouter(b, func(c *Config) { c.MaxRPSet = 4096 })
			deliverBSM(b, r, at(3), ifU, nbr3, benchBSM(n, 1, rpA, rpB), nil)
			g := addr("ff05::1")
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := r.rpFor(g); !ok {
					b.Fatal("no RP")
				}
			}
		})
	}
}

// A BSM that moves every group to another RP, with 1000 (*,G) entries:
// the remap, the Prunes and Joins, per message.
func BenchmarkBSMRemap(b *testing.B) {
	r := benchStarRouter(b)
	r.SetConfig(at(6), func() Config { c := r.cfg; c.RPs = nil; c.MaxRPSet = 4096; return c }())
	rs := routes{rpA: {Valid: true, IfIndex: ifU, NextHop: nbr3}, rpB: {Valid: true, IfIndex: ifU, NextHop: nbr3}}
	tag := uint16(1)
	now := at(7)
	b.ReportAllocs()
	for b.Loop() {
		rp := rpA
		if tag%2 == 0 {
			rp = rpB
		}
		deliverBSM(b, r, now, ifU, nbr3, benchBSM(100, tag, rp), rs)
		tag++
	}
}
