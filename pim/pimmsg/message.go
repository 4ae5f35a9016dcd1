package pimmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// Type is the 4-bit PIM message type (RFC 7761 section 4.9, IANA "PIM
// Message Types").
type Type uint8

// Message types.
const (
	TypeHello                    Type = 0
	TypeRegister                 Type = 1
	TypeRegisterStop             Type = 2
	TypeJoinPrune                Type = 3
	TypeBootstrap                Type = 4
	TypeAssert                   Type = 5
	TypeGraft                    Type = 6 // PIM-DM, RFC 3973
	TypeGraftAck                 Type = 7 // PIM-DM, RFC 3973
	TypeCandidateRPAdvertisement Type = 8
	TypeStateRefresh             Type = 9  // PIM-DM, RFC 3973
	TypeDFElection               Type = 10 // BIDIR-PIM, RFC 5015
)

var typeNames = [...]string{
	TypeHello:                    "Hello",
	TypeRegister:                 "Register",
	TypeRegisterStop:             "Register-Stop",
	TypeJoinPrune:                "Join/Prune",
	TypeBootstrap:                "Bootstrap",
	TypeAssert:                   "Assert",
	TypeGraft:                    "Graft",
	TypeGraftAck:                 "Graft-Ack",
	TypeCandidateRPAdvertisement: "Candidate-RP-Advertisement",
	TypeStateRefresh:             "State Refresh",
	TypeDFElection:               "DF Election",
}

// String returns the RFC name of the type, or "type(N)".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Version is the PIM version this package speaks.
const Version = 2

const (
	headerLen = 4
	// maxMessageLen is the largest PIM message an IPv6 packet without a
	// jumbo payload option can carry.
	maxMessageLen = 65535
	// protoPIM is the IPv6 next header value of PIM.
	protoPIM = 103
)

// Message is one PIM message: *Hello, *Register, *RegisterStop, *JoinPrune,
// *Assert, *Bootstrap, *CandidateRPAdvertisement or *Unknown. The set is
// closed so that Parse and Append can be exhaustive.
type Message interface {
	Type() Type
	// flagBits is the byte after the type (RFC 9436 "Flag Bits").
	flagBits() uint8
	// bodyLen is the encoded length after the 4-byte header.
	bodyLen() int
	// appendBody validates the message and appends everything after the
	// header.
	appendBody(b []byte) ([]byte, error)
}

// Parse decodes one PIM message. b is the whole message, from the
// version/type byte to the end of the IPv6 payload. Parse does not verify
// the checksum (see VerifyChecksum) and copies everything it returns out of
// b.
func Parse(b []byte) (Message, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("pimmsg: %d-byte message: %w", len(b), ErrTruncated)
	}
	if len(b) > maxMessageLen {
		return nil, fmt.Errorf("pimmsg: %d-byte message: %w", len(b), ErrLength)
	}
	if v := b[0] >> 4; v != Version {
		return nil, fmt.Errorf("pimmsg: version %d: %w", v, ErrVersion)
	}
	t := Type(b[0] & 0x0f)
	body := b[headerLen:]
	var (
		m   Message
		err error
	)
	switch t {
	case TypeHello:
		m, err = parseHello(body)
	case TypeRegister:
		m, err = parseRegister(body)
	case TypeRegisterStop:
		m, err = parseRegisterStop(body)
	case TypeJoinPrune:
		m, err = parseJoinPrune(body)
	case TypeBootstrap:
		m, err = parseBootstrap(b[1], body)
	case TypeAssert:
		m, err = parseAssert(body)
	case TypeCandidateRPAdvertisement:
		m, err = parseCandidateRPAdvertisement(body)
	default:
		m, err = parseUnknown(t, b[1], body)
	}
	if err != nil {
		return nil, fmt.Errorf("pimmsg: %v: %w", t, err)
	}
	return m, nil
}

// Len returns the encoded length of m in bytes, header included. It does
// not validate m: for a message Append would refuse it is the length the
// message would have.
func Len(m Message) int {
	if m == nil {
		return 0
	}
	return headerLen + m.bodyLen()
}

// Append appends m, checksum filled in for the IPv6 source and destination
// src and dst, to b. It does not allocate when cap(b)-len(b) >= Len(m). On
// error it returns b unchanged and an error naming the field that cannot be
// encoded.
func Append(b []byte, m Message, src, dst netip.Addr) ([]byte, error) {
	if m == nil {
		return b, fmt.Errorf("pimmsg: nil message: %w", ErrType)
	}
	if !src.Is6() || !dst.Is6() {
		return b, fmt.Errorf("pimmsg: marshal %v: pseudo-header %v > %v: %w", m.Type(), src, dst, ErrAddress)
	}
	start := len(b)
	out := append(b, Version<<4|uint8(m.Type())&0x0f, m.flagBits(), 0, 0)
	out, err := m.appendBody(out)
	if err != nil {
		return b, fmt.Errorf("pimmsg: marshal %v: %w", m.Type(), err)
	}
	msg := out[start:]
	if len(msg) > maxMessageLen {
		return b, fmt.Errorf("pimmsg: marshal %v: %d bytes: %w", m.Type(), len(msg), ErrLength)
	}
	binary.BigEndian.PutUint16(msg[2:4], Checksum(msg, src, dst))
	return out, nil
}

// Marshal returns m encoded, checksum filled in for the IPv6 source and
// destination src and dst.
func Marshal(m Message, src, dst netip.Addr) ([]byte, error) {
	return Append(make([]byte, 0, Len(m)), m, src, dst)
}

// fieldErr wraps err with the name of the field being parsed.
func fieldErr(field string, err error) error {
	return fmt.Errorf("%s: %w", field, err)
}
