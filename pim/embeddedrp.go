package pim

import "net/netip"

// The RP address embedded in a group address (RFC 3956). RP(G) weighs it
// against the other mappings in rp.go.

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
	var p [16]byte
	copy(p[:8], b[4:12])
	rp := netip.PrefixFrom(netip.AddrFrom16(p), plen).Masked().Addr().As16()
	rp[15] = riid
	a := netip.AddrFrom16(rp)
	if !validSource(a) {
		return netip.Addr{}, false
	}
	return a, true
}
