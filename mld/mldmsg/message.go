package mldmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// ICMPv6 types of MLD messages (RFC 2710 section 3, RFC 3810 section 5).
const (
	TypeQuery    uint8 = 130 // MLDv1 and MLDv2 Query (told apart by length, RFC 3810 8.1)
	TypeReportV1 uint8 = 131
	TypeDone     uint8 = 132
	TypeReportV2 uint8 = 143
)

// maxLen is the longest message we parse or write: the IPv6 Payload Length
// is 16 bits, and refusing longer input keeps parse-then-marshal total.
const maxLen = 0xffff

// Message is one MLD message: *QueryV1, *QueryV2, *ReportV1, *Done or
// *ReportV2. The set is closed so that a type switch over it is complete.
type Message interface {
	// Type is the ICMPv6 type the message is sent with.
	Type() uint8

	// wireLen is the encoded length, checksum and all.
	wireLen() int
	// check reports why the message cannot be encoded, before any byte is
	// written, so that Append never leaves half a message behind.
	check() error
	// put writes the message into b, which is exactly wireLen long and
	// zeroed; the checksum is left for Append.
	put(b []byte)
}

// Parse decodes the ICMPv6 message b, which starts at its Type byte. It does
// not verify the checksum (see VerifyChecksum) and copies everything it keeps
// out of b. The package documentation lists what it rejects.
func Parse(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("mldmsg: empty message: %w", ErrTruncated)
	}
	if !isMLDType(b[0]) {
		return nil, fmt.Errorf("mldmsg: ICMPv6 type %d: %w", b[0], ErrType)
	}
	if len(b) > maxLen {
		return nil, fmt.Errorf("mldmsg: %d octets, longer than %d: %w", len(b), maxLen, ErrLength)
	}
	switch b[0] {
	case TypeQuery:
		return parseQuery(b)
	case TypeReportV1:
		g, err := parseV1(b, "report")
		if err != nil {
			return nil, err
		}
		return &ReportV1{Group: g}, nil
	case TypeDone:
		g, err := parseV1(b, "done")
		if err != nil {
			return nil, err
		}
		return &Done{Group: g}, nil
	default: // TypeReportV2, the only one left
		return parseReportV2(b)
	}
}

func isMLDType(t uint8) bool {
	return t == TypeQuery || t == TypeReportV1 || t == TypeDone || t == TypeReportV2
}

// isNil reports a nil interface or a typed nil pointer, which the methods
// could not encode without dereferencing.
func isNil(m Message) bool {
	switch m := m.(type) {
	case *QueryV1:
		return m == nil
	case *QueryV2:
		return m == nil
	case *ReportV1:
		return m == nil
	case *Done:
		return m == nil
	case *ReportV2:
		return m == nil
	}
	return true
}

// Len returns the encoded length of m, 0 for a nil message. It does not
// check that m can be encoded.
func Len(m Message) int {
	if isNil(m) {
		return 0
	}
	return m.wireLen()
}

// Append appends the encoding of m to b with the ICMPv6 checksum filled in,
// computed over the pseudo-header of src and dst (RFC 8200 section 8.1).
// It allocates only when b lacks Len(m) bytes of spare capacity (or to
// report an error). On error b is returned unchanged.
func Append(b []byte, m Message, src, dst netip.Addr) ([]byte, error) {
	if isNil(m) {
		return b, fmt.Errorf("mldmsg: nil message: %w", ErrType)
	}
	// The pseudo-header carries no zone, so a zoned link-local source (as
	// a socket reports it) is fine here, unlike inside the message.
	if !src.Is6() || !dst.Is6() {
		return b, fmt.Errorf("mldmsg: pseudo-header %v > %v: %w", src, dst, ErrAddress)
	}
	if err := m.check(); err != nil {
		return b, err
	}
	n := m.wireLen()
	if n > maxLen {
		return b, fmt.Errorf("mldmsg: message of %d octets, longer than %d: %w", n, maxLen, ErrLength)
	}
	start := len(b)
	b = slices.Grow(b, n)[:start+n]
	msg := b[start:]
	clear(msg) // reserved fields and the checksum are zero until filled in
	m.put(msg)
	binary.BigEndian.PutUint16(msg[2:4], Checksum(msg, src, dst))
	return b, nil
}

// Marshal returns the encoding of m with the ICMPv6 checksum filled in.
func Marshal(m Message, src, dst netip.Addr) ([]byte, error) {
	b, err := Append(make([]byte, 0, min(Len(m), maxLen)), m, src, dst)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// checkAddr refuses what 16 octets cannot carry. The unspecified address ::
// is fine: it means a general Query, and Parse returns it for any field.
func checkAddr(what string, a netip.Addr) error {
	if !a.Is6() {
		return fmt.Errorf("mldmsg: %s %v is not IPv6: %w", what, a, ErrAddress)
	}
	if a.Zone() != "" {
		return fmt.Errorf("mldmsg: %s %v has a zone, which the wire cannot carry: %w", what, a, ErrAddress)
	}
	return nil
}

// validAddr reports whether 16 octets carry a exactly.
func validAddr(a netip.Addr) bool { return a.Is6() && a.Zone() == "" }

// firstInvalid returns the index of the first address in addrs that the
// wire cannot carry, or -1. Callers format the error only then, so that the
// common path allocates nothing.
func firstInvalid(addrs []netip.Addr) int {
	for i, a := range addrs {
		if !validAddr(a) {
			return i
		}
	}
	return -1
}

// addrAt copies the 16 octets at b[off:] into an address value.
func addrAt(b []byte, off int) netip.Addr {
	return netip.AddrFrom16([16]byte(b[off : off+16]))
}

// putAddr writes a into b[off:off+16]; a is a valid IPv6 address without a
// zone (checked by check), so AppendBinary appends exactly 16 octets, in
// place. It is used instead of copying As16 because the [16]byte result is
// stored as two 8-octet words and then copied as one 16-octet word, which
// CPUs cannot forward from store to load: that stall was most of the time
// of encoding a big Report.
func putAddr(b []byte, off int, a netip.Addr) {
	_, _ = a.AppendBinary(b[off : off : off+16])
}
