package pimmsg

import "errors"

// Sentinel errors. Parse and Append wrap them with detail (the message type,
// the field, the offending value); test for them with errors.Is. They are
// meant as drop-counter reasons: each says which rule the input broke.
var (
	// ErrTruncated: the message ends before a field it announces.
	ErrTruncated = errors.New("truncated")
	// ErrVersion: the PIM version is not 2.
	ErrVersion = errors.New("unsupported PIM version")
	// ErrLength: lengths and counts disagree (bytes left over after the
	// last field, a fragment RP count above the RP count, a message longer
	// than an IPv6 payload can be), or a list is too long for its count
	// field.
	ErrLength = errors.New("bad length")
	// ErrOption: a Hello option is malformed beyond what can be kept raw.
	ErrOption = errors.New("bad Hello option")
	// ErrAddressFamily: an encoded address is not IPv6 (family 2) in the
	// native encoding (type 0), or an encapsulated packet is not IPv6.
	ErrAddressFamily = errors.New("unsupported address family or encoding")
	// ErrAddress: an address is invalid or not IPv6, or a mask length is
	// above 128.
	ErrAddress = errors.New("invalid address")
	// ErrRange: a field value does not fit its wire field.
	ErrRange = errors.New("value out of range")
	// ErrType: the message cannot be marshalled as this type (a nil message,
	// or an Unknown whose type has its own struct or does not fit 4 bits).
	ErrType = errors.New("bad message type")
)
