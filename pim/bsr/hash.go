package bsr

import (
	"encoding/binary"
	"net/netip"
)

// The hash function of RFC 7761 section 4.7.2, which spreads the groups
// of one range over RPs of equal priority.

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
