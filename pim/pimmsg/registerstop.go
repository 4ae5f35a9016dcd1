package pimmsg

import "net/netip"

// RegisterStop is a PIM Register-Stop message (RFC 7761 section 4.9.4),
// sent by the RP to the DR that registered Source for Group. Source is the
// unspecified address (::) to stop every source of the group.
type RegisterStop struct {
	Group  Group
	Source netip.Addr
}

// Type returns TypeRegisterStop.
func (*RegisterStop) Type() Type { return TypeRegisterStop }

func (*RegisterStop) flagBits() uint8 { return 0 }

func (r *RegisterStop) bodyLen() int {
	if r == nil {
		return 0
	}
	return encGroupLen + encUnicastLen
}

func (r *RegisterStop) appendBody(b []byte) ([]byte, error) {
	if r == nil {
		return b, ErrType
	}
	b, err := appendGroup(b, r.Group)
	if err != nil {
		return b, fieldErr("group", err)
	}
	b, err = appendUnicast(b, r.Source)
	if err != nil {
		return b, fieldErr("source", err)
	}
	return b, nil
}

func parseRegisterStop(b []byte) (*RegisterStop, error) {
	g, b, err := parseGroup(b)
	if err != nil {
		return nil, fieldErr("group", err)
	}
	s, _, err := parseUnicast(b)
	if err != nil {
		return nil, fieldErr("source", err)
	}
	return &RegisterStop{Group: g, Source: s}, nil
}
