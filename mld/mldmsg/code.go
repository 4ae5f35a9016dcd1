package mldmsg

import (
	"math/bits"
	"time"
)

// The Maximum Response Code (RFC 3810 section 5.1.3) and the QQIC (section
// 5.1.9) share one scheme: a code below half its range is the value itself;
// above, it is a float 1|exp(3 bits)|mant, value (mant | 1<<mantBits) <<
// (exp+3). The smallest float value, 1<<(mantBits+3), is exactly half the
// range, one past the largest linear value, and each exponent covers twice
// the values of the one below. So no two codes decode to the same value:
// every code is canonical, and encoding the value a code decodes to gives
// back that code.

const (
	mrcMantBits  = 12
	qqicMantBits = 4

	// MaxRespDelayLimit is the largest Maximum Response Delay a Maximum
	// Response Code can carry, code 0xffff: 0x1fff << 10 ms, about 2h20m.
	MaxRespDelayLimit = time.Duration(0x1fff<<10) * time.Millisecond
	// QueryIntervalLimit is the largest Querier's Query Interval a QQIC can
	// carry, code 0xff: 0x1f << 10 s, about 8h49m.
	QueryIntervalLimit = time.Duration(0x1f<<10) * time.Second
)

// decodeFloat decodes a code whose float form has mantBits of mantissa.
func decodeFloat(code uint32, mantBits uint) uint64 {
	linear := uint32(1) << (mantBits + 3)
	if code < linear {
		return uint64(code)
	}
	exp := (code >> mantBits) & 7
	mant := code & (1<<mantBits - 1)
	return uint64(mant|1<<mantBits) << (exp + 3)
}

// encodeFloat returns the code of the largest representable value not above
// v. Shifting right drops the low bits, which is the rounding down.
func encodeFloat(v uint64, mantBits uint) uint32 {
	linear := uint64(1) << (mantBits + 3)
	if v < linear {
		return uint32(v)
	}
	if max := uint64(1<<(mantBits+1)-1) << (7 + 3); v >= max {
		return 1<<(mantBits+4) - 1 // all ones: exp 7, full mantissa
	}
	// The leading one of v becomes the implicit 1<<mantBits after the
	// shift by exp+3, so exp+3+mantBits is its bit position.
	exp := uint(bits.Len64(v)) - 1 - mantBits - 3
	mant := uint32(v>>(exp+3)) &^ (1 << mantBits)
	return uint32(linear) | uint32(exp)<<mantBits | mant
}

// DecodeMaxRespCode returns the Maximum Response Delay that a Maximum
// Response Code stands for (RFC 3810 section 5.1.3), in milliseconds.
func DecodeMaxRespCode(code uint16) time.Duration {
	return time.Duration(decodeFloat(uint32(code), mrcMantBits)) * time.Millisecond
}

// EncodeMaxRespCode returns the code of the largest Maximum Response Delay
// not above d: a querier must not promise hosts more time than it waits.
// Sub-millisecond parts round down, negative d gives 0, and d at or beyond
// MaxRespDelayLimit gives 0xffff.
func EncodeMaxRespCode(d time.Duration) uint16 {
	if d <= 0 {
		return 0
	}
	if d >= MaxRespDelayLimit {
		return 0xffff
	}
	return uint16(encodeFloat(uint64(d/time.Millisecond), mrcMantBits))
}

// DecodeQQIC returns the Querier's Query Interval that a QQIC stands for
// (RFC 3810 section 5.1.9), in seconds.
func DecodeQQIC(code uint8) time.Duration {
	return time.Duration(decodeFloat(uint32(code), qqicMantBits)) * time.Second
}

// EncodeQQIC returns the code of the largest Query Interval not above d, in
// whole seconds, with the rounding and clamping of EncodeMaxRespCode; d at or
// beyond QueryIntervalLimit gives 0xff.
func EncodeQQIC(d time.Duration) uint8 {
	if d <= 0 {
		return 0
	}
	if d >= QueryIntervalLimit {
		return 0xff
	}
	return uint8(encodeFloat(uint64(d/time.Second), qqicMantBits))
}
