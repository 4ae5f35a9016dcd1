package bsr

import (
	"math/big"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The hash of RFC 7761 4.7.2 computed with unbounded integers, to check
// that 32-bit wrapping arithmetic gives the same value.
func refHash(g, c netip.Addr, mask uint8) uint32 {
	gm := fold32(maskAddr(g.As16(), int(mask)))
	cd := fold32(c.As16())
	a := big.NewInt(1103515245)
	v := new(big.Int).Mul(a, big.NewInt(int64(gm)))
	v.Add(v, big.NewInt(12345))
	v.Xor(v, big.NewInt(int64(cd)))
	v.Mul(v, a)
	v.Add(v, big.NewInt(12345))
	v.Mod(v, big.NewInt(1<<31))
	return uint32(v.Int64())
}

func randAddr(rng *rand.Rand, prefix byte) netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if prefix != 0 {
		b[0], b[1] = 0xff, prefix
	}
	return netip.AddrFrom16(b)
}

func TestRPHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		g, c := randAddr(rng, 0x0e), randAddr(rng, 0)
		m := uint8(rng.IntN(129))
		if got, want := rpHash(g, c, m), refHash(g, c, m); got != want {
			t.Fatalf("rpHash(%v, %v, %d) = %d, unbounded arithmetic gives %d", g, c, m, got, want)
		}
	}
	// The fold is the XOR of the four words in network order.
	if got := fold32(addr("0102:0304:1000:0000:0000:0001:ff00:0000").As16()); got != 0x0102_0304^0x1000_0000^0x0000_0001^0xff00_0000 {
		t.Errorf("fold32 = %#x", got)
	}
	// Mask 0: every group has the same hash for one RP.
	if rpHash(addr("ff0e::1"), rpA, 0) != rpHash(addr("ff05::1:2"), rpA, 0) {
		t.Error("mask length 0: hashes of two groups differ")
	}
}

// Every group of one hash-mask block maps to the same RP, and groups
// spread over the RPs.
func TestRPHashBlocksAndSpread(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rps := []rsRP{{addr: rpA}, {addr: rpB}, {addr: rpC}, {addr: addr("2001:db8:aa::9")}}
	for _, mask := range []uint8{126, 120, 112, 64} {
		for range 300 {
			g := randAddr(rng, 0x0e)
			want := selectRP(rps, g, mask)
			for range 8 {
				// Same first `mask` bits, random rest.
				o := randAddr(rng, 0x0e).As16()
				base := maskAddr(g.As16(), int(mask))
				for i := range base {
					keep := maskAddr([16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, int(mask))
					o[i] = base[i] | o[i]&^keep[i]
				}
				if got := selectRP(rps, netip.AddrFrom16(o), mask); got != want {
					t.Fatalf("mask %d: %v -> %v but %v (same block) -> %v", mask, g, want, netip.AddrFrom16(o), got)
				}
			}
		}
	}
	// The spread. The RFC's function is not uniform when candidates differ
	// in a few low bits (here ::2 gets about 37% of the groups, the others
	// 19-25%: every implementation of 4.7.2 shares that), so the bound is
	// loose for four RPs; two RPs share about evenly.
	const n = 20000
	spread := func(rps []rsRP) map[netip.Addr]int {
		count := map[netip.Addr]int{}
		for range n {
			count[selectRP(rps, randAddr(rng, 0x0e), 126)]++
		}
		return count
	}
	count := spread(rps)
	for _, rp := range rps {
		if c := count[rp.addr]; c < n*15/100 || c > n*40/100 {
			t.Errorf("RP %v got %d of %d groups, want 15%% to 40%%", rp.addr, c, n)
		}
	}
	two := []rsRP{{addr: addr("2001:db8:1::1")}, {addr: addr("2001:db8:2::1")}}
	count = spread(two)
	for _, rp := range two {
		if c := count[rp.addr]; c < n*45/100 || c > n*55/100 {
			t.Errorf("RP %v got %d of %d groups, want 45%% to 55%%", rp.addr, c, n)
		}
	}
}

func TestSelectRPOrder(t *testing.T) {
	g := addr("ff0e::1234")
	// The lowest priority value wins whatever the hash.
	rps := []rsRP{{addr: rpA, prio: 10}, {addr: rpB, prio: 5}, {addr: rpC, prio: 200}}
	if got := selectRP(rps, g, 126); got != rpB {
		t.Errorf("priority: got %v, want %v", got, rpB)
	}
	// Equal priorities: the highest hash.
	rps = []rsRP{{addr: rpA, prio: 1}, {addr: rpB, prio: 1}, {addr: rpC, prio: 1}}
	best := rpA
	for _, c := range []netip.Addr{rpB, rpC} {
		if hc, hb := rpHash(g, c, 126), rpHash(g, best, 126); hc > hb || hc == hb && c.Compare(best) > 0 {
			best = c
		}
	}
	if got := selectRP(rps, g, 126); got != best {
		t.Errorf("hash: got %v, want %v", got, best)
	}
	// The order of the candidates does not matter.
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		var cs []rsRP
		for range 1 + rng.IntN(6) {
			cs = append(cs, rsRP{addr: randAddr(rng, 0), prio: uint8(rng.IntN(3))})
		}
		want := selectRP(cs, g, 126)
		rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		if got := selectRP(cs, g, 126); got != want {
			t.Fatalf("selection depends on order: %v vs %v", got, want)
		}
	}
}
