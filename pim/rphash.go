package pim

import (
	"encoding/binary"
	"net/netip"
)

// The pure parts of RP selection: the hash function of RFC 7761 section
// 4.7.2 and the RP address embedded in a group (RFC 3956).

// fold32 is the 32-bit digest of an IPv6 address that RFC 7761 section
// 4.7.2 recommends for the hash: the XOR of its four 32-bit words, each
// read in network byte order.
func fold32(a [16]byte) uint32 {
	return binary.BigEndian.Uint32(a[0:]) ^ binary.BigEndian.Uint32(a[4:]) ^
		binary.BigEndian.Uint32(a[8:]) ^ binary.BigEndian.Uint32(a[12:])
}

// maskAddr keeps the first bits bits of a (all 128 when bits >= 128).
func maskAddr(a [16]byte, bits int) [16]byte {
	for i := range a {
		switch {
		case bits >= 8:
			bits -= 8
		case bits <= 0:
			a[i] = 0
		default:
			a[i] &= ^byte(0xff >> bits)
			bits = 0
		}
	}
	return a
}

// rpHash is Value(G, M, C) of RFC 7761 section 4.7.2:
//
//	(1103515245 * ((1103515245 * (G&M) + 12345) XOR C) + 12345) mod 2^31
//
// where G&M is the group masked to the hash mask length and both it and
// the candidate RP address C are folded to 32 bits (fold32). Only the low
// 31 bits of the intermediate results can reach the result, so 32-bit
// wrapping arithmetic gives the same value as wider arithmetic.
func rpHash(g, c netip.Addr, maskLen uint8) uint32 {
	gm := fold32(maskAddr(g.As16(), int(maskLen)))
	cd := fold32(c.As16())
	v := 1103515245*gm + 12345
	v = 1103515245*(v^cd) + 12345
	return v & 0x7fffffff
}

// embeddedFlags is the flags nibble of an Embedded-RP group, 0RPT = 0111
// (RFC 3956 section 2): ff70::/12.
const embeddedFlags = 0x7

// EmbeddedRP returns the RP address carried by an Embedded-RP group (RFC
// 3956 section 2): the group is ff7S:0RRR:LLPP:PPPP:PPPP:PPPP:GGGG:GGGG
// with the RIID R in the low 4 bits of the third byte, the prefix length L
// (1..64) in the fourth and the network prefix P in bytes 4 to 11; the RP
// is the prefix's first L bits, zeros, and the RIID as the last 4 bits.
// False when g is not such a group: flags other than 0111, reserved bits
// set, a prefix length of 0 or above 64, RIID 0 (the resulting address
// would be the Subnet-Router anycast address), or an RP address that is
// not a routable unicast address.
func EmbeddedRP(g netip.Addr) (netip.Addr, bool) {
	if !g.Is6() || g.Is4In6() {
		return netip.Addr{}, false
	}
	b := g.As16()
	if b[0] != 0xff || b[1]>>4 != embeddedFlags || b[2]>>4 != 0 {
		return netip.Addr{}, false
	}
	riid, plen := b[2]&0x0f, int(b[3])
	if riid == 0 || plen == 0 || plen > 64 {
		return netip.Addr{}, false
	}
	var rp [16]byte
	copy(rp[:8], b[4:12])
	rp = maskAddr(rp, plen)
	rp[15] = riid
	a := netip.AddrFrom16(rp)
	if !validSource(a) {
		return netip.Addr{}, false
	}
	return a, true
}
