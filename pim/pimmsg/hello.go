package pimmsg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Hello option types (RFC 7761 section 4.9.2, IANA "PIM-Hello Options").
const (
	optHoldtime      = 1
	optLANPruneDelay = 2
	optDRPriority    = 19
	optGenerationID  = 20
	optAddressList   = 24
)

const (
	optHeaderLen      = 4
	maxPropagationDly = 1<<15 - 1
	lanPruneDelayT    = 0x8000
)

// Hello is a PIM Hello message (RFC 7761 section 4.9.2). Each known option
// is a pointer (or, for the address list, a slice) so that "absent" differs
// from "zero": a Holdtime of 0 means "forget me now", an absent Holdtime
// means the default.
//
// Received options of a known type whose length is not the RFC's (a
// Holdtime of 3 bytes, an address list that ends inside an address) are not
// an error: RFC 7761 makes a router ignore options it does not understand,
// and one it cannot decode is of that kind; dropping the whole Hello over
// it would cost the adjacency. Such options, and a second copy of a known
// option (the first one wins), are kept raw in Unknown. An address list
// that holds a non-IPv6 address is an error (ErrAddressFamily), as for
// every other encoded address.
type Hello struct {
	Holdtime      *uint16        // option 1, seconds; 0xffff never times out, 0 removes the neighbor
	LANPruneDelay *LANPruneDelay // option 2
	DRPriority    *uint32        // option 19
	GenerationID  *uint32        // option 20
	// AddressList is option 24, the sender's secondary addresses. nil means
	// the option is absent; a non-nil empty list is an option of length 0.
	AddressList []netip.Addr
	// Unknown holds every other option, raw and in received order (for
	// example 21 State Refresh capable, 22 Bidir capable, 65001 the old
	// address list).
	Unknown []HelloOption
}

// LANPruneDelay is the Hello option 2 value.
type LANPruneDelay struct {
	T                bool   // join suppression disabled (tracking support)
	PropagationDelay uint16 // milliseconds, 15 bits
	OverrideInterval uint16 // milliseconds
}

// HelloOption is a Hello option kept raw.
type HelloOption struct {
	Type  uint16
	Value []byte
}

// Type returns TypeHello.
func (*Hello) Type() Type { return TypeHello }

func (*Hello) flagBits() uint8 { return 0 }

func (h *Hello) bodyLen() int {
	if h == nil {
		return 0
	}
	n := 0
	if h.Holdtime != nil {
		n += optHeaderLen + 2
	}
	if h.LANPruneDelay != nil {
		n += optHeaderLen + 4
	}
	if h.DRPriority != nil {
		n += optHeaderLen + 4
	}
	if h.GenerationID != nil {
		n += optHeaderLen + 4
	}
	if h.AddressList != nil {
		n += optHeaderLen + encUnicastLen*len(h.AddressList)
	}
	for _, o := range h.Unknown {
		n += optHeaderLen + len(o.Value)
	}
	return n
}

func appendOptHeader(b []byte, typ uint16, length int) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	return binary.BigEndian.AppendUint16(b, uint16(length))
}

// appendBody writes the known options in type order, then the unknown ones
// in their order, so that a parsed Hello re-encodes in one canonical order.
func (h *Hello) appendBody(b []byte) ([]byte, error) {
	if h == nil {
		return b, ErrType
	}
	if h.Holdtime != nil {
		b = appendOptHeader(b, optHoldtime, 2)
		b = binary.BigEndian.AppendUint16(b, *h.Holdtime)
	}
	if d := h.LANPruneDelay; d != nil {
		if d.PropagationDelay > maxPropagationDly {
			return b, fmt.Errorf("LAN prune delay propagation delay %d: %w", d.PropagationDelay, ErrRange)
		}
		v := d.PropagationDelay
		if d.T {
			v |= lanPruneDelayT
		}
		b = appendOptHeader(b, optLANPruneDelay, 4)
		b = binary.BigEndian.AppendUint16(b, v)
		b = binary.BigEndian.AppendUint16(b, d.OverrideInterval)
	}
	if h.DRPriority != nil {
		b = appendOptHeader(b, optDRPriority, 4)
		b = binary.BigEndian.AppendUint32(b, *h.DRPriority)
	}
	if h.GenerationID != nil {
		b = appendOptHeader(b, optGenerationID, 4)
		b = binary.BigEndian.AppendUint32(b, *h.GenerationID)
	}
	if h.AddressList != nil {
		n := encUnicastLen * len(h.AddressList)
		if n > 0xffff {
			return b, fmt.Errorf("address list of %d addresses: %w", len(h.AddressList), ErrLength)
		}
		b = appendOptHeader(b, optAddressList, n)
		for i, a := range h.AddressList {
			var err error
			if b, err = appendUnicast(b, a); err != nil {
				return b, fmt.Errorf("address list entry %d: %w", i, err)
			}
		}
	}
	for _, o := range h.Unknown {
		if len(o.Value) > 0xffff {
			return b, fmt.Errorf("option %d of %d bytes: %w", o.Type, len(o.Value), ErrOption)
		}
		b = appendOptHeader(b, o.Type, len(o.Value))
		b = append(b, o.Value...)
	}
	return b, nil
}

// helloStorage holds a parsed Hello and its option values in one
// allocation; the Hello's pointers point into it.
type helloStorage struct {
	h        Hello
	holdtime uint16
	lpd      LANPruneDelay
	drPrio   uint32
	genID    uint32
}

func parseHello(b []byte) (*Hello, error) {
	s := new(helloStorage)
	h := &s.h
	for i := 0; len(b) > 0; i++ {
		if len(b) < optHeaderLen {
			return nil, fmt.Errorf("option %d: %d bytes left: %w: %w", i, len(b), ErrOption, ErrTruncated)
		}
		typ := binary.BigEndian.Uint16(b)
		n := int(binary.BigEndian.Uint16(b[2:]))
		if len(b)-optHeaderLen < n {
			return nil, fmt.Errorf("option %d (type %d) length %d, %d bytes left: %w: %w",
				i, typ, n, len(b)-optHeaderLen, ErrOption, ErrTruncated)
		}
		v := b[optHeaderLen : optHeaderLen+n]
		b = b[optHeaderLen+n:]
		known := false
		switch {
		case typ == optHoldtime && n == 2 && h.Holdtime == nil:
			s.holdtime = binary.BigEndian.Uint16(v)
			h.Holdtime, known = &s.holdtime, true
		case typ == optLANPruneDelay && n == 4 && h.LANPruneDelay == nil:
			pd := binary.BigEndian.Uint16(v)
			s.lpd = LANPruneDelay{
				T:                pd&lanPruneDelayT != 0,
				PropagationDelay: pd &^ lanPruneDelayT,
				OverrideInterval: binary.BigEndian.Uint16(v[2:]),
			}
			h.LANPruneDelay, known = &s.lpd, true
		case typ == optDRPriority && n == 4 && h.DRPriority == nil:
			s.drPrio = binary.BigEndian.Uint32(v)
			h.DRPriority, known = &s.drPrio, true
		case typ == optGenerationID && n == 4 && h.GenerationID == nil:
			s.genID = binary.BigEndian.Uint32(v)
			h.GenerationID, known = &s.genID, true
		case typ == optAddressList && h.AddressList == nil:
			list, err := parseAddressList(v)
			switch {
			case errors.Is(err, ErrAddressFamily):
				return nil, fmt.Errorf("option %d (address list): %w", i, err)
			case err == nil:
				h.AddressList, known = list, true
			}
			// Otherwise the list ends inside an address: keep it raw.
		}
		if !known {
			h.Unknown = append(h.Unknown, HelloOption{Type: typ, Value: clone(v)})
		}
	}
	return h, nil
}

// parseAddressList decodes option 24. The result is never nil: an empty
// list is an option that is present.
func parseAddressList(v []byte) ([]netip.Addr, error) {
	list := make([]netip.Addr, 0, len(v)/encUnicastLen)
	for len(v) > 0 {
		a, rest, err := parseUnicast(v)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(list), err)
		}
		list = append(list, a)
		v = rest
	}
	return list, nil
}

// clone copies b; an empty b gives nil, so that a parsed message never
// holds a non-nil empty slice where a hand-built one would hold nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
