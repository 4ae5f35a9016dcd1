package pimmsg

import (
	"fmt"
	"net/netip"
)

// Encoded addresses, RFC 7761 section 4.9.1. Only the IPv6 family (2, from
// the IANA address family numbers) in the native encoding (type 0) is
// accepted: a PIM router for IPv6 has no use for anything else, and a
// clean error is better than guessing a layout (other encoding types, such
// as RFC 5384 join attributes, change the size of the field).
const (
	familyIPv6     = 2
	encodingNative = 0

	encUnicastLen = 2 + 16      // family, encoding, address
	encGroupLen   = 4 + 16      // family, encoding, flags, mask length, address
	encSourceLen  = encGroupLen // same shape as a group

	maxMaskLen = 128
)

// Encoded-Group flag bits.
const (
	groupFlagBidir      = 0x80 // B: BIDIR-PIM group range (RFC 5015)
	groupFlagAdminScope = 0x01 // Z: admin scope zone (RFC 7761 4.9.1)
)

// Encoded-Source flag bits.
const (
	sourceFlagSparse   = 0x04 // S: always 1 in PIM-SM
	sourceFlagWildCard = 0x02 // W: the (*,G) wildcard
	sourceFlagRPT      = 0x01 // R: sent towards the RP
)

// Group is an Encoded-Group address (RFC 7761 section 4.9.1): a multicast
// group or, with a mask shorter than 128, a range of groups. Addr is kept
// as received, bits beyond MaskLen included, so that a message re-encodes
// to the same bytes; use Prefix for matching.
type Group struct {
	Addr       netip.Addr
	MaskLen    uint8
	Bidir      bool // B: the range is a BIDIR-PIM range (RFC 5015)
	AdminScope bool // Z: the range is an admin scope zone (RFC 5059)
}

// Prefix returns the group range as a masked prefix, or the zero Prefix if
// Addr is not valid or MaskLen is above 128.
func (g Group) Prefix() netip.Prefix {
	p, err := g.Addr.WithZone("").Prefix(int(g.MaskLen))
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// Source is an Encoded-Source address (RFC 7761 section 4.9.1) in a
// Join/Prune message. (*,G) is WildCard and RPT with the RP's address;
// (S,G,rpt) is RPT; (S,G) is neither.
type Source struct {
	Addr     netip.Addr
	MaskLen  uint8
	Sparse   bool // S: sparse mode; RFC 7761 says always set
	WildCard bool // W: the join or prune is to the RP (*,G)
	RPT      bool // R: the join or prune is sent towards the RP
}

// checkFamily rejects anything but IPv6 in the native encoding. It is
// checked before the length so that an IPv4 address, shorter than an IPv6
// one, is reported as the wrong family rather than as truncation.
func checkFamily(b []byte) error {
	if len(b) < 2 {
		return ErrTruncated
	}
	if b[0] != familyIPv6 || b[1] != encodingNative {
		return fmt.Errorf("family %d encoding %d: %w", b[0], b[1], ErrAddressFamily)
	}
	return nil
}

// parseUnicast decodes an Encoded-Unicast address at the start of b and
// returns the bytes after it.
func parseUnicast(b []byte) (netip.Addr, []byte, error) {
	if err := checkFamily(b); err != nil {
		return netip.Addr{}, nil, err
	}
	if len(b) < encUnicastLen {
		return netip.Addr{}, nil, ErrTruncated
	}
	return netip.AddrFrom16([16]byte(b[2:encUnicastLen])), b[encUnicastLen:], nil
}

// parseGroup decodes an Encoded-Group address at the start of b. Reserved
// flag bits are dropped.
func parseGroup(b []byte) (Group, []byte, error) {
	if err := checkFamily(b); err != nil {
		return Group{}, nil, err
	}
	if len(b) < encGroupLen {
		return Group{}, nil, ErrTruncated
	}
	if b[3] > maxMaskLen {
		return Group{}, nil, fmt.Errorf("mask length %d: %w", b[3], ErrAddress)
	}
	return Group{
		Addr:       netip.AddrFrom16([16]byte(b[4:encGroupLen])),
		MaskLen:    b[3],
		Bidir:      b[2]&groupFlagBidir != 0,
		AdminScope: b[2]&groupFlagAdminScope != 0,
	}, b[encGroupLen:], nil
}

// parseSource decodes an Encoded-Source address from b, which the caller
// has checked to hold at least encSourceLen bytes. Reserved flag bits are
// dropped.
func parseSource(b []byte) (Source, error) {
	if b[0] != familyIPv6 || b[1] != encodingNative {
		return Source{}, fmt.Errorf("family %d encoding %d: %w", b[0], b[1], ErrAddressFamily)
	}
	if b[3] > maxMaskLen {
		return Source{}, fmt.Errorf("mask length %d: %w", b[3], ErrAddress)
	}
	return Source{
		Addr:     netip.AddrFrom16([16]byte(b[4:encSourceLen])),
		MaskLen:  b[3],
		Sparse:   b[2]&sourceFlagSparse != 0,
		WildCard: b[2]&sourceFlagWildCard != 0,
		RPT:      b[2]&sourceFlagRPT != 0,
	}, nil
}

// checkAddr accepts any IPv6 address; a zone is dropped on the wire, as the
// encoding has no room for it.
func checkAddr(a netip.Addr) error {
	if !a.Is6() {
		return fmt.Errorf("%v is not an IPv6 address: %w", a, ErrAddress)
	}
	return nil
}

func appendUnicast(b []byte, a netip.Addr) ([]byte, error) {
	if err := checkAddr(a); err != nil {
		return b, err
	}
	a16 := a.As16()
	b = append(b, familyIPv6, encodingNative)
	return append(b, a16[:]...), nil
}

func appendGroup(b []byte, g Group) ([]byte, error) {
	if err := checkAddr(g.Addr); err != nil {
		return b, err
	}
	if g.MaskLen > maxMaskLen {
		return b, fmt.Errorf("group %v mask length %d: %w", g.Addr, g.MaskLen, ErrAddress)
	}
	var flags uint8
	if g.Bidir {
		flags |= groupFlagBidir
	}
	if g.AdminScope {
		flags |= groupFlagAdminScope
	}
	a16 := g.Addr.As16()
	b = append(b, familyIPv6, encodingNative, flags, g.MaskLen)
	return append(b, a16[:]...), nil
}

func appendSource(b []byte, s *Source) ([]byte, error) {
	if err := checkAddr(s.Addr); err != nil {
		return b, err
	}
	if s.MaskLen > maxMaskLen {
		return b, fmt.Errorf("source %v mask length %d: %w", s.Addr, s.MaskLen, ErrAddress)
	}
	var flags uint8
	if s.Sparse {
		flags |= sourceFlagSparse
	}
	if s.WildCard {
		flags |= sourceFlagWildCard
	}
	if s.RPT {
		flags |= sourceFlagRPT
	}
	a16 := s.Addr.As16()
	b = append(b, familyIPv6, encodingNative, flags, s.MaskLen)
	return append(b, a16[:]...), nil
}
