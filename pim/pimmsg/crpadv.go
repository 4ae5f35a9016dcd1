package pimmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

const (
	crpAdvHeaderLen = 4 + encUnicastLen // prefix count, priority, holdtime, RP
	maxCRPGroups    = 255
)

// CandidateRPAdvertisement is a PIM Candidate-RP-Advertisement (RFC 5059
// section 4.2), unicast by a candidate RP to the BSR.
type CandidateRPAdvertisement struct {
	Priority uint8  // lower is preferred
	Holdtime uint16 // seconds
	RP       netip.Addr
	// Groups are the ranges the RP offers to serve; none means all
	// multicast groups (prefix count 0).
	Groups []Group
}

// Type returns TypeCandidateRPAdvertisement.
func (*CandidateRPAdvertisement) Type() Type { return TypeCandidateRPAdvertisement }

func (*CandidateRPAdvertisement) flagBits() uint8 { return 0 }

func (c *CandidateRPAdvertisement) bodyLen() int {
	if c == nil {
		return 0
	}
	return crpAdvHeaderLen + encGroupLen*len(c.Groups)
}

func (c *CandidateRPAdvertisement) appendBody(b []byte) ([]byte, error) {
	if c == nil {
		return b, ErrType
	}
	if len(c.Groups) > maxCRPGroups {
		return b, fmt.Errorf("%d groups: %w", len(c.Groups), ErrLength)
	}
	b = append(b, uint8(len(c.Groups)), c.Priority)
	b = binary.BigEndian.AppendUint16(b, c.Holdtime)
	b, err := appendUnicast(b, c.RP)
	if err != nil {
		return b, fieldErr("RP", err)
	}
	for i, g := range c.Groups {
		if b, err = appendGroup(b, g); err != nil {
			return b, fmt.Errorf("group %d: %w", i, err)
		}
	}
	return b, nil
}

func parseCandidateRPAdvertisement(b []byte) (*CandidateRPAdvertisement, error) {
	if len(b) < 4 {
		return nil, fieldErr("header", ErrTruncated)
	}
	n := int(b[0])
	c := &CandidateRPAdvertisement{
		Priority: b[1],
		Holdtime: binary.BigEndian.Uint16(b[2:]),
	}
	var err error
	if c.RP, b, err = parseUnicast(b[4:]); err != nil {
		return nil, fieldErr("RP", err)
	}
	if n > 0 {
		c.Groups = make([]Group, n)
	}
	for i := range c.Groups {
		if c.Groups[i], b, err = parseGroup(b); err != nil {
			return nil, fmt.Errorf("group %d of %d: %w", i, n, err)
		}
	}
	return c, nil
}
