package mldmsg

import (
	"fmt"
	"math"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestDecodeMaxRespCode(t *testing.T) {
	tests := []struct {
		code uint16
		want time.Duration
	}{
		{0, 0},
		{1, 1 * ms},
		{10000, 10 * time.Second},
		{32767, 32767 * ms},  // largest linear code
		{0x8000, 32768 * ms}, // smallest float: exp 0, mant 0, 0x1000<<3
		{0x8001, 32776 * ms}, // exp 0 steps by 8 ms
		{0x8fff, 65528 * ms}, // exp 0, mant 0xfff: 0x1fff<<3
		{0x9000, 65536 * ms}, // exp 1, mant 0: 0x1000<<4
		{0x9001, 65552 * ms}, // exp 1 steps by 16 ms
		{0x9e84, 124992 * ms},
		{0xf000, 0x1000 << 10 * ms},
		{0xfffe, 8386560 * ms},
		{0xffff, 8387584 * ms}, // largest: 0x1fff<<10
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%#04x", tt.code), func(t *testing.T) {
			if got := DecodeMaxRespCode(tt.code); got != tt.want {
				t.Errorf("DecodeMaxRespCode(%#04x) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
	if MaxRespDelayLimit != DecodeMaxRespCode(0xffff) {
		t.Errorf("MaxRespDelayLimit = %v, want DecodeMaxRespCode(0xffff)", MaxRespDelayLimit)
	}
}

func TestEncodeMaxRespCode(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want uint16
	}{
		{"negative", -time.Second, 0},
		{"zero", 0, 0},
		{"sub-ms", 999 * time.Microsecond, 0},
		{"1ms", 1 * ms, 1},
		{"1.5ms", 1500 * time.Microsecond, 1},
		{"10s", 10 * time.Second, 10000},
		{"largest-linear", 32767 * ms, 32767},
		{"largest-linear+0.9ms", 32767*ms + 900*time.Microsecond, 32767},
		{"smallest-float", 32768 * ms, 0x8000},
		{"between-exp0-steps", 32775 * ms, 0x8000},
		{"next-exp0-step", 32776 * ms, 0x8001},
		{"largest-exp0", 65528 * ms, 0x8fff},
		{"between-exp0-exp1", 65535 * ms, 0x8fff},
		{"smallest-exp1", 65536 * ms, 0x9000},
		{"125s", 125 * time.Second, 0x9e84},
		{"below-largest", 8387583 * ms, 0xfffe},
		{"largest", 8387584 * ms, 0xffff},
		{"beyond-largest", 3 * time.Hour, 0xffff},
		{"max-duration", math.MaxInt64, 0xffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeMaxRespCode(tt.d); got != tt.want {
				t.Errorf("EncodeMaxRespCode(%v) = %#04x, want %#04x", tt.d, got, tt.want)
			}
		})
	}
}

func TestDecodeQQIC(t *testing.T) {
	tests := []struct {
		code uint8
		want time.Duration
	}{
		{0, 0},
		{1, time.Second},
		{125, 125 * time.Second},
		{127, 127 * time.Second},  // largest linear code
		{0x80, 128 * time.Second}, // smallest float: 0x10<<3
		{0x81, 136 * time.Second}, // exp 0 steps by 8 s
		{0x8f, 248 * time.Second}, // 0x1f<<3
		{0x90, 256 * time.Second}, // exp 1: 0x10<<4
		{0xfe, 30720 * time.Second},
		{0xff, 31744 * time.Second}, // largest: 0x1f<<10
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%#02x", tt.code), func(t *testing.T) {
			if got := DecodeQQIC(tt.code); got != tt.want {
				t.Errorf("DecodeQQIC(%#02x) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
	if QueryIntervalLimit != DecodeQQIC(0xff) {
		t.Errorf("QueryIntervalLimit = %v, want DecodeQQIC(0xff)", QueryIntervalLimit)
	}
}

func TestEncodeQQIC(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		d    time.Duration
		want uint8
	}{
		{"negative", -s, 0},
		{"zero", 0, 0},
		{"sub-second", 999 * ms, 0},
		{"1s", s, 1},
		{"1.9s", 1900 * ms, 1},
		{"125s", 125 * s, 125},
		{"largest-linear", 127 * s, 127},
		{"largest-linear+0.9s", 127*s + 900*ms, 127},
		{"smallest-float", 128 * s, 0x80},
		{"between-exp0-steps", 135 * s, 0x80},
		{"next-exp0-step", 136 * s, 0x81},
		{"largest-exp0", 248 * s, 0x8f},
		{"between-exp0-exp1", 255 * s, 0x8f},
		{"smallest-exp1", 256 * s, 0x90},
		{"below-largest", 31743 * s, 0xfe},
		{"largest", 31744 * s, 0xff},
		{"beyond-largest", 24 * time.Hour, 0xff},
		{"max-duration", math.MaxInt64, 0xff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeQQIC(tt.d); got != tt.want {
				t.Errorf("EncodeQQIC(%v) = %#02x, want %#02x", tt.d, got, tt.want)
			}
		})
	}
}

// Every code is canonical: decoding is strictly increasing (so no two codes
// share a value; the float range starts one past the linear one), and
// encoding a decoded value gives the code back.
func TestMaxRespCodeEveryCode(t *testing.T) {
	prev := time.Duration(-1)
	for c := range 1 << 16 {
		d := DecodeMaxRespCode(uint16(c))
		if d <= prev {
			t.Fatalf("Decode(%#04x) = %v, not above Decode(%#04x) = %v", c, d, c-1, prev)
		}
		prev = d
		if got := EncodeMaxRespCode(d); got != uint16(c) {
			t.Fatalf("Encode(Decode(%#04x)) = %#04x", c, got)
		}
		// Just below a code's value encodes to the code below it.
		if c > 0 {
			if got := EncodeMaxRespCode(d - time.Nanosecond); got != uint16(c-1) {
				t.Fatalf("Encode(Decode(%#04x)-1ns) = %#04x, want %#04x", c, got, c-1)
			}
		}
	}
}

func TestQQICEveryCode(t *testing.T) {
	prev := time.Duration(-1)
	for c := range 1 << 8 {
		d := DecodeQQIC(uint8(c))
		if d <= prev {
			t.Fatalf("Decode(%#02x) = %v, not above Decode(%#02x) = %v", c, d, c-1, prev)
		}
		prev = d
		if got := EncodeQQIC(d); got != uint8(c) {
			t.Fatalf("Encode(Decode(%#02x)) = %#02x", c, got)
		}
		if c > 0 {
			if got := EncodeQQIC(d - time.Nanosecond); got != uint8(c-1) {
				t.Fatalf("Encode(Decode(%#02x)-1ns) = %#02x, want %#02x", c, got, c-1)
			}
		}
	}
}

// checkRoundsDown checks that the code for d is the largest one whose value
// is not above d.
func checkRoundsDown[C uint8 | uint16](t *testing.T, d time.Duration, enc func(time.Duration) C, dec func(C) time.Duration, top C) {
	t.Helper()
	c := enc(d)
	if v := dec(c); v > d && d >= 0 {
		t.Fatalf("Decode(Encode(%v)) = %v, above it", d, v)
	}
	if c < top && dec(c+1) <= d {
		t.Fatalf("Encode(%v) = %#x, but code %#x = %v is not above it either", d, c, c+1, dec(c+1))
	}
}

// A spread of durations: every millisecond through the linear range and the
// first two exponents, then every 13th up to beyond the largest value, each
// with a sub-millisecond part that must be dropped.
func TestEncodeMaxRespCodeRoundsDown(t *testing.T) {
	for i := time.Duration(0); i <= 8400000; {
		d := i*ms + (i*7919)%ms
		checkRoundsDown(t, d, EncodeMaxRespCode, DecodeMaxRespCode, 0xffff)
		if i < 200000 {
			i++
		} else {
			i += 13
		}
	}
}

func TestEncodeQQICRoundsDown(t *testing.T) {
	for i := time.Duration(0); i <= 32000; i++ {
		for _, frac := range []time.Duration{0, time.Nanosecond, 500 * ms, time.Second - 1} {
			checkRoundsDown(t, i*time.Second+frac, EncodeQQIC, DecodeQQIC, 0xff)
		}
	}
}
