package mldmsg

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/internal/csum"
)

// protoICMPv6 is the Next Header value in the checksum pseudo-header; MLD
// is ICMPv6 (RFC 2710 section 3, RFC 4443 section 2.3).
const protoICMPv6 = 58

// Checksum returns the ICMPv6 checksum that belongs in b[2:4] for the whole
// message b sent from src to dst, treating b[2:4] as zero whatever it holds.
// It covers every octet of b, also those Parse ignores, as the RFCs require.
func Checksum(b []byte, src, dst netip.Addr) uint16 {
	acc := csum.PseudoHeader(src, dst, uint32(len(b)), protoICMPv6)
	if len(b) <= 2 {
		return csum.Fold(csum.Sum(acc, b))
	}
	acc = csum.Sum(acc, b[:2])
	if len(b) > 4 {
		acc = csum.Sum(acc, b[4:])
	}
	return csum.Fold(acc)
}

// VerifyChecksum reports whether the received message b, checksum field as
// received, sums to zero with the pseudo-header of src and dst. Summing the
// field, rather than comparing it with Checksum, also accepts a sender that
// wrote the other one's-complement zero (0xffff for 0x0000).
func VerifyChecksum(b []byte, src, dst netip.Addr) bool {
	return csum.Fold(csum.Sum(csum.PseudoHeader(src, dst, uint32(len(b)), protoICMPv6), b)) == 0
}
