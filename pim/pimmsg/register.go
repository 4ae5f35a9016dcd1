package pimmsg

import (
	"encoding/binary"
	"fmt"
)

const (
	registerHeaderLen = 8 // the PIM header and the B/N word: what the checksum covers
	registerBorder    = 0x80000000
	registerNull      = 0x40000000
	ipv6HeaderLen     = 40
)

// Register is a PIM Register message (RFC 7761 section 4.9.3): a data
// packet from a source's DR, encapsulated towards the RP. A Null-Register
// (section 4.4.1) carries only a dummy IPv6 header naming the source and
// the group.
type Register struct {
	Border bool // B: the Border bit (a PIM Multicast Border Router registering for an external source)
	Null   bool // N: Null-Register, probing whether to resume encapsulation
	// Packet is the encapsulated IPv6 packet from its IPv6 header on. It
	// must hold at least an IPv6 header (40 bytes) with version 6, from
	// which the RP reads the source and group, and, unless Null, the
	// payload length that header announces.
	Packet []byte
}

// Type returns TypeRegister.
func (*Register) Type() Type { return TypeRegister }

func (*Register) flagBits() uint8 { return 0 }

func (r *Register) bodyLen() int {
	if r == nil {
		return 0
	}
	return registerHeaderLen - headerLen + len(r.Packet)
}

func (r *Register) appendBody(b []byte) ([]byte, error) {
	if r == nil {
		return b, ErrType
	}
	if err := checkInner(r.Packet, r.Null); err != nil {
		return b, err
	}
	var w uint32
	if r.Border {
		w |= registerBorder
	}
	if r.Null {
		w |= registerNull
	}
	b = binary.BigEndian.AppendUint32(b, w)
	return append(b, r.Packet...), nil
}

// checkInner requires an IPv6 header at the start of the encapsulated
// packet. An IPv4 packet is the wrong family for this router (a PIM for
// IPv6 RP cannot decapsulate it), and anything shorter than an IPv6 header
// has no source and group to act on. A data packet must also hold the
// payload its header announces, or the RP would forward a truncated packet;
// bytes past it are kept, as the Linux kernel's decapsulation keeps them.
// A Null-Register's header is a dummy (RFC 7761 section 4.4.1): its payload
// length is not checked.
func checkInner(p []byte, null bool) error {
	if len(p) > 0 && p[0]>>4 != 6 {
		return fmt.Errorf("encapsulated IP version %d: %w", p[0]>>4, ErrAddressFamily)
	}
	if len(p) < ipv6HeaderLen {
		return fmt.Errorf("encapsulated packet of %d bytes, want at least an IPv6 header: %w", len(p), ErrTruncated)
	}
	if plen := int(binary.BigEndian.Uint16(p[4:])); !null && len(p) < ipv6HeaderLen+plen {
		return fmt.Errorf("encapsulated packet of %d bytes, its header says %d: %w", len(p), ipv6HeaderLen+plen, ErrTruncated)
	}
	return nil
}

func parseRegister(b []byte) (*Register, error) {
	if len(b) < registerHeaderLen-headerLen {
		return nil, ErrTruncated
	}
	w := binary.BigEndian.Uint32(b)
	p := b[registerHeaderLen-headerLen:]
	if err := checkInner(p, w&registerNull != 0); err != nil {
		return nil, err
	}
	return &Register{
		Border: w&registerBorder != 0,
		Null:   w&registerNull != 0,
		Packet: clone(p),
	}, nil
}
