package mldmsg

import (
	"encoding/binary"
	"testing"
	"time"
)

// Every fuzz target checks the round-trip property of checkRoundTrip, not
// just the absence of panics. The targets other than FuzzParse build the
// framing around the fuzz input, so that the fuzzer spends its time inside
// one message kind instead of rediscovering its counts and lengths.

// seedMessages adds the MLD frames of icmpv6.pcap and the byte rows.
func seedMessages(f *testing.F, add func(b []byte)) {
	for _, p := range mldFrames(f) {
		add(p.Payload)
	}
	for _, r := range byteRows {
		add(unhex(f, r.hex))
	}
}

func FuzzParse(f *testing.F) {
	seedMessages(f, func(b []byte) { f.Add(b) })
	f.Add([]byte{})
	f.Add([]byte{TypeQuery, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{TypeReportV2, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip(t, b)
	})
}

// FuzzQueryV2 builds an MLDv2 Query from its fields; the source count is
// the number of whole addresses in sources, moved by delta.
func FuzzQueryV2(f *testing.F) {
	seedMessages(f, func(b []byte) {
		if b[0] == TypeQuery && len(b) >= queryV2MinLen {
			f.Add(binary.BigEndian.Uint16(b[4:6]), b[24], b[25], b[8:24], b[queryV2MinLen:], int8(0))
		}
	})
	f.Add(uint16(0xffff), byte(0xff), byte(0xff), []byte{0xff, 2}, make([]byte, 17), int8(1))
	f.Fuzz(func(t *testing.T, mrc uint16, flags, qqic byte, group, sources []byte, delta int8) {
		n := max(0, min(0xffff, len(sources)/16+int(delta)))
		b := make([]byte, queryV2MinLen, queryV2MinLen+len(sources))
		b[0] = TypeQuery
		binary.BigEndian.PutUint16(b[4:6], mrc)
		copy(b[8:24], group)
		b[24], b[25] = flags, qqic
		binary.BigEndian.PutUint16(b[26:28], uint16(n))
		checkRoundTrip(t, append(b, sources...))
	})
}

// fitRecords counts the Multicast Address Records laid end to end in body
// that fit in it whole.
func fitRecords(body []byte) int {
	n := 0
	for len(body) >= recordHeaderLen {
		size := recordHeaderLen + 16*int(binary.BigEndian.Uint16(body[2:4])) + 4*int(body[1])
		if size > len(body) {
			break
		}
		body = body[size:]
		n++
	}
	return n
}

// FuzzReportV2 puts a Report header in front of records; the record count
// is the number that fit, moved by delta.
func FuzzReportV2(f *testing.F) {
	seedMessages(f, func(b []byte) {
		if b[0] == TypeReportV2 {
			f.Add(b[reportHeaderLen:], int8(0))
		}
	})
	f.Add([]byte{2, 1, 0, 1}, int8(1))
	f.Fuzz(func(t *testing.T, body []byte, delta int8) {
		m := max(0, min(0xffff, fitRecords(body)+int(delta)))
		b := make([]byte, reportHeaderLen, reportHeaderLen+len(body))
		b[0] = TypeReportV2
		binary.BigEndian.PutUint16(b[6:8], uint16(m))
		checkRoundTrip(t, append(b, body...))
	})
}

// FuzzMLDv1 covers the three 24-octet messages and the Query length rule.
func FuzzMLDv1(f *testing.F) {
	types := [...]uint8{TypeQuery, TypeReportV1, TypeDone}
	seedMessages(f, func(b []byte) {
		for i, typ := range types {
			if b[0] == typ {
				f.Add(uint8(i), b[1:])
			}
		}
	})
	f.Fuzz(func(t *testing.T, typ uint8, rest []byte) {
		b := append([]byte{types[int(typ)%len(types)]}, rest...)
		checkRoundTrip(t, b)
	})
}

// checkEncodeRoundsDown is the encoding property for any duration: the code
// is the largest whose value is not above d, clamped at both ends.
func checkEncodeRoundsDown[C uint8 | uint16](t *testing.T, d time.Duration, enc func(time.Duration) C, dec func(C) time.Duration, top C) {
	c := enc(d)
	switch {
	case d <= 0:
		if c != 0 {
			t.Fatalf("Encode(%v) = %#x, want 0", d, c)
		}
	case d >= dec(top):
		if c != top {
			t.Fatalf("Encode(%v) = %#x, want %#x", d, c, top)
		}
	default:
		if dec(c) > d || dec(c+1) <= d {
			t.Fatalf("Encode(%v) = %#x (%v), not the largest value at most d (next %v)", d, c, dec(c), dec(c+1))
		}
	}
}

func FuzzEncodeMaxRespCode(f *testing.F) {
	for _, d := range []time.Duration{-1, 0, 1, 32767 * ms, 32768 * ms, 8387584 * ms, 1<<63 - 1} {
		f.Add(int64(d))
	}
	f.Fuzz(func(t *testing.T, d int64) {
		checkEncodeRoundsDown(t, time.Duration(d), EncodeMaxRespCode, DecodeMaxRespCode, 0xffff)
	})
}

func FuzzEncodeQQIC(f *testing.F) {
	for _, d := range []time.Duration{-1, 0, 1, 127 * time.Second, 128 * time.Second, 31744 * time.Second, 1<<63 - 1} {
		f.Add(int64(d))
	}
	f.Fuzz(func(t *testing.T, d int64) {
		checkEncodeRoundsDown(t, time.Duration(d), EncodeQQIC, DecodeQQIC, 0xff)
	})
}
