package pimmsg

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/internal/csum"
)

// Checksum returns the checksum to store in b[2:4], treating b[2:4] as
// zero. It covers the IPv6 pseudo-header (RFC 8200 section 8.1, next header
// 103) and the message, except for a Register, where it covers only the
// first 8 bytes (the PIM header and the B/N word) and the pseudo-header's
// length is 8 (RFC 7761 section 4.9). The Linux kernel's ip6mr checks
// Registers the same way.
func Checksum(b []byte, src, dst netip.Addr) uint16 {
	covered := b
	if isRegister(b) && len(b) > registerHeaderLen {
		covered = b[:registerHeaderLen]
	}
	acc := csum.PseudoHeader(src, dst, uint32(len(covered)), protoPIM)
	if len(covered) < headerLen {
		// Too short to hold a checksum field: sum it as if zero-padded.
		var short [headerLen]byte
		copy(short[:], covered)
		covered = short[:]
	}
	acc = csum.Sum(acc, covered[:2])
	acc = csum.Sum(acc, covered[4:])
	return csum.Fold(acc)
}

func isRegister(b []byte) bool {
	return len(b) > 0 && b[0] == Version<<4|uint8(TypeRegister)
}

// ChecksumVerdict is the result of VerifyChecksum. The zero value is
// ChecksumBad, so that a verdict nobody computed does not pass.
type ChecksumVerdict int

const (
	// ChecksumBad: no accepted convention matches.
	ChecksumBad ChecksumVerdict = iota
	// ChecksumOK: the checksum is as RFC 7761 section 4.9 defines it.
	ChecksumOK
	// ChecksumRegisterWhole: a Register whose checksum covers the whole
	// message instead of its first 8 bytes, with the pseudo-header (the
	// length then being the whole message's, as tcpdump accepts) or
	// without it (as the Linux kernel's pim6_rcv accepts, inherited from
	// IPv4 where there is no pseudo-header). Accept it for interoperation
	// with senders that read RFC 7761 as covering the whole packet; never
	// send it.
	ChecksumRegisterWhole
)

var verdictNames = [...]string{
	ChecksumBad:           "bad",
	ChecksumOK:            "ok",
	ChecksumRegisterWhole: "register-whole",
}

// String returns "ok", "register-whole" or "bad".
func (v ChecksumVerdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "bad"
}

// VerifyChecksum checks the checksum in b[2:4] of the message b, received
// from src to dst. It sums the stored checksum along with the data, so that
// both encodings of a zero sum (0x0000 and 0xffff) pass.
func VerifyChecksum(b []byte, src, dst netip.Addr) ChecksumVerdict {
	if len(b) < headerLen {
		return ChecksumBad
	}
	if !isRegister(b) {
		if sumsToZero(b, src, dst) {
			return ChecksumOK
		}
		return ChecksumBad
	}
	if sumsToZero(b[:min(len(b), registerHeaderLen)], src, dst) {
		return ChecksumOK
	}
	if sumsToZero(b, src, dst) || csum.Fold(csum.Sum(0, b)) == 0 {
		return ChecksumRegisterWhole
	}
	return ChecksumBad
}

func sumsToZero(b []byte, src, dst netip.Addr) bool {
	acc := csum.PseudoHeader(src, dst, uint32(len(b)), protoPIM)
	return csum.Fold(csum.Sum(acc, b)) == 0
}
