package pimmsg

import (
	"encoding/binary"
	"fmt"
)

// Unknown is a message of a type this package does not decode: Graft and
// Graft-Ack and State Refresh (PIM-DM, RFC 3973), DF Election (BIDIR-PIM,
// RFC 5015) and any later type. Flags is the header's flag byte as received
// (DF Election keeps its subtype there) and Body everything after the
// header.
//
// For the types whose layout is known the body is still checked: its
// encoded addresses must be IPv6 and it must be long enough for its fixed
// fields, so that a truncated Graft, or a DF Election for IPv4, is an error
// like any other malformed message.
type Unknown struct {
	T     Type
	Flags uint8
	Body  []byte
}

// Type returns T.
func (u *Unknown) Type() Type {
	if u == nil {
		return 0
	}
	return u.T
}

func (u *Unknown) flagBits() uint8 {
	if u == nil {
		return 0
	}
	return u.Flags
}

func (u *Unknown) bodyLen() int {
	if u == nil {
		return 0
	}
	return len(u.Body)
}

func (u *Unknown) appendBody(b []byte) ([]byte, error) {
	if u == nil {
		return b, ErrType
	}
	switch u.T {
	case TypeHello, TypeRegister, TypeRegisterStop, TypeJoinPrune, TypeBootstrap,
		TypeAssert, TypeCandidateRPAdvertisement:
		return b, fmt.Errorf("%v has its own struct: %w", u.T, ErrType)
	}
	if u.T > 0x0f {
		return b, fmt.Errorf("%v does not fit 4 bits: %w", u.T, ErrType)
	}
	if err := checkKnownLayout(u.T, u.Flags, u.Body); err != nil {
		return b, err
	}
	return append(b, u.Body...), nil
}

func parseUnknown(t Type, flags uint8, b []byte) (*Unknown, error) {
	if err := checkKnownLayout(t, flags, b); err != nil {
		return nil, err
	}
	return &Unknown{T: t, Flags: flags, Body: clone(b)}, nil
}

// DF Election subtypes (RFC 5015), in the top 4 flag bits.
const (
	dfBackoff = 3
	dfPass    = 4
)

// checkKnownLayout checks the body of the PIM-DM and BIDIR-PIM messages
// this package keeps raw.
func checkKnownLayout(t Type, flags uint8, b []byte) error {
	switch t {
	case TypeGraft, TypeGraftAck:
		// The Join/Prune layout (RFC 3973).
		return checkJoinPruneLayout(b)
	case TypeStateRefresh:
		// RFC 3973: group, source, originator, metric
		// preference, metric, mask length, TTL, flags, interval.
		_, b, err := parseGroup(b)
		if err != nil {
			return fieldErr("group", err)
		}
		if b, err = skipUnicast(b, "source"); err != nil {
			return err
		}
		if b, err = skipUnicast(b, "originator"); err != nil {
			return err
		}
		return need(b, 12, "metrics")
	case TypeDFElection:
		// RFC 5015: RP, sender metric preference and metric;
		// Backoff adds the offering router, its metrics and an interval,
		// Pass the new winner and its metrics.
		b, err := skipUnicast(b, "RP")
		if err != nil {
			return err
		}
		if err := need(b, 8, "sender metrics"); err != nil {
			return err
		}
		b = b[8:]
		switch flags >> 4 {
		case dfBackoff:
			if b, err = skipUnicast(b, "offering address"); err != nil {
				return err
			}
			return need(b, 10, "offer metrics")
		case dfPass:
			if b, err = skipUnicast(b, "new winner address"); err != nil {
				return err
			}
			return need(b, 8, "new winner metrics")
		}
	}
	return nil
}

func skipUnicast(b []byte, field string) ([]byte, error) {
	_, rest, err := parseUnicast(b)
	if err != nil {
		return nil, fieldErr(field, err)
	}
	return rest, nil
}

func need(b []byte, n int, field string) error {
	if len(b) < n {
		return fieldErr(field, ErrTruncated)
	}
	return nil
}

// checkJoinPruneLayout walks a Join/Prune layout without building it, so
// that checking a Graft allocates nothing.
func checkJoinPruneLayout(b []byte) error {
	b, err := skipUnicast(b, "upstream neighbor")
	if err != nil {
		return err
	}
	if err := need(b, 4, "header"); err != nil {
		return err
	}
	numGroups := int(b[1])
	b = b[4:]
	for i := range numGroups {
		if b, err = skipGroup(b); err != nil {
			return fmt.Errorf("group %d: %w", i, err)
		}
		if err := need(b, 4, "source counts"); err != nil {
			return fmt.Errorf("group %d: %w", i, err)
		}
		n := int(binary.BigEndian.Uint16(b)) + int(binary.BigEndian.Uint16(b[2:]))
		b = b[4:]
		if len(b) < n*encSourceLen {
			return fmt.Errorf("group %d: %d sources: %w", i, n, ErrTruncated)
		}
		for j := range n {
			if _, err := parseSource(b); err != nil {
				return fmt.Errorf("group %d source %d: %w", i, j, err)
			}
			b = b[encSourceLen:]
		}
	}
	return nil
}

func skipGroup(b []byte) ([]byte, error) {
	_, rest, err := parseGroup(b)
	return rest, err
}
