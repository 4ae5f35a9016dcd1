package engine

import (
	"cmp"
	"encoding/binary"
	"net/netip"
)

// Key is an IPv6 address (no zone) as two big-endian words, Hi the first
// eight octets: a compact map key without pointers, so that maps of them
// cost the garbage collector nothing, and it sorts like netip.Addr. The
// words are exported for the arithmetic some RFCs do on addresses (RFC
// 5059's Bootstrap timer compares addresses as numbers).
type Key struct{ Hi, Lo uint64 }

// KeyOf returns the key of a. An IPv4 address becomes its IPv4-mapped
// IPv6 form.
func KeyOf(a netip.Addr) Key {
	b := a.As16()
	return Key{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// Addr returns the address of k.
func (k Key) Addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.Hi)
	binary.BigEndian.PutUint64(b[8:], k.Lo)
	return netip.AddrFrom16(b)
}

// Compare returns -1, 0 or +1 as k is before, equal to or after o, in the
// order of netip.Addr.Compare.
func (k Key) Compare(o Key) int {
	if c := cmp.Compare(k.Hi, o.Hi); c != 0 {
		return c
	}
	return cmp.Compare(k.Lo, o.Lo)
}

// Scope is the scope field of a multicast address (RFC 4291 section 2.7).
func (k Key) Scope() uint8 { return uint8(k.Hi>>48) & 0x0f }
