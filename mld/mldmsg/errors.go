package mldmsg

import "errors"

// Sentinel errors. Every error from this package wraps exactly one of them
// (test with errors.Is), with detail in the message. Their texts are short
// and fixed so that the engine can use them as drop-counter reasons.
var (
	// ErrTruncated: the message ends before a fixed field or before the
	// records, sources or auxiliary data its own counts announce.
	ErrTruncated = errors.New("truncated")
	// ErrLength: a length no message of this type can have (a Query of 25
	// to 27 octets, RFC 3810 section 8.1), a message over 65535 octets, or
	// more than 65535 sources or records to encode.
	ErrLength = errors.New("bad length")
	// ErrType: not an MLD message type, or a nil message to encode.
	ErrType = errors.New("not an MLD message")
	// ErrAddress: an address the wire cannot carry (zero netip.Addr, IPv4,
	// or one with a zone). Only Marshal and Append return it: every 16
	// octets parse to some IPv6 address.
	ErrAddress = errors.New("bad address")
	// ErrAuxData: Auxiliary Data that is not a whole number of 32-bit words
	// or longer than 255 words (its length field is one octet of words).
	// Only Marshal and Append return it.
	ErrAuxData = errors.New("bad auxiliary data")
	// ErrRange: a field value wider than its field (QRV over 7). Only
	// Marshal and Append return it.
	ErrRange = errors.New("value out of range")
)
