// Package csum computes the Internet checksum (RFC 1071) and the IPv6 upper-layer
// pseudo-header sum (RFC 8200 section 8.1) shared by the MLD and PIM codecs.
//
// It is pure computation: the codecs own the rules for which bytes are covered
// (a PIM Register covers only its first 8 bytes, RFC 7761 section 4.9).
package csum

import (
	"encoding/binary"
	"net/netip"
)

// Sum adds b to the running one's-complement sum acc, 16 bits at a time.
// An odd trailing byte is padded with zero, as RFC 1071 prescribes; callers
// that sum several pieces must only give an odd length to the last piece.
func Sum(acc uint32, b []byte) uint32 {
	s := uint64(acc)
	for len(b) >= 8 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s>>32 != 0 {
		s = (s & 0xffffffff) + s>>32
	}
	return uint32(s)
}

// PseudoHeader returns the sum of the IPv6 pseudo-header: source, destination,
// upper-layer packet length and next header. src and dst must be IPv6
// addresses (IPv4-mapped addresses are summed as their 16-byte form).
func PseudoHeader(src, dst netip.Addr, length uint32, nextHeader uint8) uint32 {
	s := src.As16()
	d := dst.As16()
	acc := Sum(0, s[:])
	acc = Sum(acc, d[:])
	var tail [8]byte
	binary.BigEndian.PutUint32(tail[0:4], length)
	tail[7] = nextHeader
	return Sum(acc, tail[:])
}

// Fold folds a 32-bit running sum to 16 bits and complements it: the value
// that goes into a checksum field. A packet whose checksum field is already
// filled in verifies when Fold over all of it returns 0.
func Fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = (acc & 0xffff) + acc>>16
	}
	return ^uint16(acc)
}
