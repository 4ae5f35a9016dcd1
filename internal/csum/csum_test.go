package csum

import (
	"net/netip"
	"testing"
)

// RFC 1071 section 3 worked example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to
// 0xddf2 before complement.
func TestSumRFC1071Example(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Fold(Sum(0, b)); got != ^uint16(0xddf2) {
		t.Fatalf("Fold(Sum) = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
}

func TestSumOddLengthPadsWithZero(t *testing.T) {
	if got, want := Sum(0, []byte{0xab}), uint32(0xab00); got != want {
		t.Fatalf("Sum odd = %#x, want %#x", got, want)
	}
	// The 8-byte fast path and the 2-byte loop must agree.
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	var slow uint32
	for i := 0; i < len(b); i += 2 {
		v := uint32(b[i]) << 8
		if i+1 < len(b) {
			v |= uint32(b[i+1])
		}
		slow += v
	}
	if Fold(Sum(0, b)) != Fold(slow) {
		t.Fatalf("fast path %#x disagrees with slow sum %#x", Fold(Sum(0, b)), Fold(slow))
	}
}

// A message with its checksum filled in sums to zero, pseudo-header included.
func TestPseudoHeaderVerifies(t *testing.T) {
	src := netip.MustParseAddr("fe80::1")
	dst := netip.MustParseAddr("ff02::d")
	msg := []byte{0x20, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x69}
	c := Fold(Sum(PseudoHeader(src, dst, uint32(len(msg)), 103), msg))
	msg[2], msg[3] = byte(c>>8), byte(c)
	if v := Fold(Sum(PseudoHeader(src, dst, uint32(len(msg)), 103), msg)); v != 0 {
		t.Fatalf("verify = %#04x, want 0", v)
	}
	msg[9] ^= 1
	if v := Fold(Sum(PseudoHeader(src, dst, uint32(len(msg)), 103), msg)); v == 0 {
		t.Fatal("a flipped bit still verifies")
	}
}
