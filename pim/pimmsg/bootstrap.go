package pimmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

const (
	bootstrapNoForward = 0x80 // N, the top flag bit (RFC 5059 section 4.1, RFC 9436)

	bootstrapHeaderLen = 4 + encUnicastLen // fragment tag, hash mask length, priority, BSR
	bsGroupHeaderLen   = encGroupLen + 4   // group, RP count, fragment RP count, reserved
	bsRPLen            = encUnicastLen + 4 // RP, holdtime, priority, reserved
	maxBSRPs           = 255
)

// Bootstrap is a PIM Bootstrap message (RFC 5059 section 4.1), or one
// semantic fragment of one (section 3.6): every fragment of a BSM carries
// the same FragmentTag and the whole BSR header, and any subset of the
// group ranges. The groups run to the end of the message; there is no
// group count.
type Bootstrap struct {
	// NoForward is the N bit in the PIM header's flag bits: the receiver
	// must not forward the message. RFC 5059 sets it on a BSM unicast to a
	// new or restarted neighbor.
	NoForward   bool
	FragmentTag uint16
	HashMaskLen uint8
	Priority    uint8
	BSR         netip.Addr
	Groups      []BootstrapGroup
}

// BootstrapGroup is one group range of a Bootstrap message.
type BootstrapGroup struct {
	Group Group
	// RPCount is the number of RPs for this range across all fragments of
	// the BSM; the fragment's own count is len(RPs). It cannot be below
	// len(RPs). A range may have no RP at all (RPCount 0).
	RPCount uint8
	RPs     []BootstrapRP
}

// BootstrapRP is one candidate RP of a group range.
type BootstrapRP struct {
	Addr     netip.Addr
	Holdtime uint16 // seconds
	Priority uint8  // lower is preferred
}

// Type returns TypeBootstrap.
func (*Bootstrap) Type() Type { return TypeBootstrap }

func (bs *Bootstrap) flagBits() uint8 {
	if bs != nil && bs.NoForward {
		return bootstrapNoForward
	}
	return 0
}

func (bs *Bootstrap) bodyLen() int {
	if bs == nil {
		return 0
	}
	n := bootstrapHeaderLen
	for i := range bs.Groups {
		n += bsGroupHeaderLen + bsRPLen*len(bs.Groups[i].RPs)
	}
	return n
}

func (bs *Bootstrap) appendBody(b []byte) ([]byte, error) {
	if bs == nil {
		return b, ErrType
	}
	b = binary.BigEndian.AppendUint16(b, bs.FragmentTag)
	b = append(b, bs.HashMaskLen, bs.Priority)
	b, err := appendUnicast(b, bs.BSR)
	if err != nil {
		return b, fieldErr("BSR", err)
	}
	for i := range bs.Groups {
		g := &bs.Groups[i]
		if len(g.RPs) > maxBSRPs || len(g.RPs) > int(g.RPCount) {
			return b, fmt.Errorf("group %d: %d RPs in the fragment, RP count %d: %w", i, len(g.RPs), g.RPCount, ErrLength)
		}
		if b, err = appendGroup(b, g.Group); err != nil {
			return b, fmt.Errorf("group %d: %w", i, err)
		}
		b = append(b, g.RPCount, uint8(len(g.RPs)), 0, 0)
		for j := range g.RPs {
			rp := &g.RPs[j]
			if b, err = appendUnicast(b, rp.Addr); err != nil {
				return b, fmt.Errorf("group %d RP %d: %w", i, j, err)
			}
			b = binary.BigEndian.AppendUint16(b, rp.Holdtime)
			b = append(b, rp.Priority, 0)
		}
	}
	return b, nil
}

func parseBootstrap(flags uint8, b []byte) (*Bootstrap, error) {
	if len(b) < 4 {
		return nil, fieldErr("header", ErrTruncated)
	}
	bs := &Bootstrap{
		NoForward:   flags&bootstrapNoForward != 0,
		FragmentTag: binary.BigEndian.Uint16(b),
		HashMaskLen: b[2],
		Priority:    b[3],
	}
	var err error
	if bs.BSR, b, err = parseUnicast(b[4:]); err != nil {
		return nil, fieldErr("BSR", err)
	}
	// First pass: count groups and RPs so that they take one allocation
	// each, and check every length before decoding anything.
	numGroups, numRPs := 0, 0
	for rest := b; len(rest) > 0; numGroups++ {
		if len(rest) < bsGroupHeaderLen {
			return nil, fmt.Errorf("group %d: %w", numGroups, ErrTruncated)
		}
		n := int(rest[encGroupLen+1])
		if len(rest)-bsGroupHeaderLen < n*bsRPLen {
			return nil, fmt.Errorf("group %d: %d RPs: %w", numGroups, n, ErrTruncated)
		}
		numRPs += n
		rest = rest[bsGroupHeaderLen+n*bsRPLen:]
	}
	if numGroups == 0 {
		return bs, nil
	}
	bs.Groups = make([]BootstrapGroup, numGroups)
	var rps []BootstrapRP
	if numRPs > 0 {
		rps = make([]BootstrapRP, numRPs)
	}
	for i := range bs.Groups {
		g := &bs.Groups[i]
		if g.Group, b, err = parseGroup(b); err != nil {
			return nil, fmt.Errorf("group %d: %w", i, err)
		}
		g.RPCount = b[0]
		n := int(b[1])
		if n > int(g.RPCount) {
			return nil, fmt.Errorf("group %d: fragment RP count %d above RP count %d: %w", i, n, g.RPCount, ErrLength)
		}
		b = b[4:]
		if n > 0 {
			g.RPs = rps[:n:n]
		}
		for j := range n {
			rp := &rps[j]
			if rp.Addr, b, err = parseUnicast(b); err != nil {
				return nil, fmt.Errorf("group %d RP %d: %w", i, j, err)
			}
			rp.Holdtime = binary.BigEndian.Uint16(b)
			rp.Priority = b[2]
			b = b[4:]
		}
		rps = rps[n:]
	}
	return bs, nil
}
