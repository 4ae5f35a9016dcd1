package mldmsg

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// row returns the bytes of the named byte row.
func row(t testing.TB, name string) []byte {
	t.Helper()
	for _, r := range byteRows {
		if r.name == name {
			return unhex(t, r.hex)
		}
	}
	t.Fatalf("no byte row %q", name)
	return nil
}

// edit returns a copy of b with f applied.
func edit(b []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(b)) }

func TestParseErrors(t *testing.T) {
	queryV2 := row(t, "QueryV2/source-specific")
	report := row(t, "ReportV2/three-records")
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"type-0", []byte{0, 0, 0, 0}, ErrType},
		{"router-solicitation", []byte{133, 0, 0, 0, 0, 0, 0, 0}, ErrType},
		{"mtrace-like-type-200", []byte{200}, ErrType},
		{"type-only-query", []byte{TypeQuery}, ErrTruncated},
		{"query-23", make24(TypeQuery)[:23], ErrTruncated},
		{"query-25", append(make24(TypeQuery), 0), ErrLength},
		{"query-26", append(make24(TypeQuery), 0, 0), ErrLength},
		{"query-27", append(make24(TypeQuery), 0, 0, 0), ErrLength},
		{"queryv2-count-past-end", edit(queryV2, func(b []byte) []byte { b[27] = 3; return b }), ErrTruncated},
		{"queryv2-count-0xffff", edit(queryV2, func(b []byte) []byte { b[26], b[27] = 0xff, 0xff; return b }), ErrTruncated},
		{"queryv2-half-source", queryV2[:28+8], ErrTruncated},
		{"reportv1-23", make24(TypeReportV1)[:23], ErrTruncated},
		{"done-4", make24(TypeDone)[:4], ErrTruncated},
		{"reportv2-7", report[:7], ErrTruncated},
		{"reportv2-record-count-past-end", edit(report, func(b []byte) []byte { b[7] = 4; return b }), ErrTruncated},
		{"reportv2-record-count-0xffff", edit(report[:8], func(b []byte) []byte { b[6], b[7] = 0xff, 0xff; return b }), ErrTruncated},
		{"reportv2-source-count-past-end", edit(report, func(b []byte) []byte { b[8+3] = 0x40; return b }), ErrTruncated},
		{"reportv2-aux-past-end", edit(report, func(b []byte) []byte { b[len(b)-39] = 2; return b }), ErrTruncated},
		{"reportv2-aux-0xff", edit(report, func(b []byte) []byte { b[len(b)-39] = 0xff; return b }), ErrTruncated},
		{"longer-than-ipv6-payload", append(make24(TypeReportV1), make([]byte, 0xffff)...), ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, %v; want error %v", m, err, tt.want)
			}
			if m != nil {
				t.Errorf("Parse returned %v along with the error", m)
			}
			if got := sentinelOf(err); got != tt.want {
				t.Errorf("error %q wraps %v, want only %v", err, got, tt.want)
			}
		})
	}
}

// make24 returns a zero MLDv1 message of type typ.
func make24(typ uint8) []byte {
	b := make([]byte, 24)
	b[0] = typ
	return b
}

// Every proper prefix of a valid message is an error, with one exception
// RFC 3810 section 8.1 makes: 24 octets of any Query is an MLDv1 Query.
func TestParseTruncations(t *testing.T) {
	for _, r := range byteRows {
		t.Run(r.name, func(t *testing.T) {
			b := unhex(t, r.hex)
			for n := range len(b) {
				m, err := Parse(b[:n])
				if b[0] == TypeQuery && n == queryV1Len {
					if _, ok := m.(*QueryV1); err != nil || !ok {
						t.Errorf("Parse of the first 24 octets = %T, %v; want *QueryV1", m, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("Parse of the first %d of %d octets = %+v, want an error", n, len(b), m)
					continue
				}
				if s := sentinelOf(err); s != ErrTruncated && s != ErrLength {
					t.Errorf("Parse of the first %d octets: %v, want ErrTruncated or ErrLength", n, err)
				}
			}
		})
	}
}

// Octets past the message are ignored on receipt and covered by the
// checksum (RFC 2710 section 3; RFC 3810 sections 5.1.10 and 5.2.11); they
// are not sent again.
func TestParseIgnoresExtra(t *testing.T) {
	extra := []byte{1, 2, 3, 4, 5}
	for _, r := range byteRows {
		if r.want.Type() == TypeQuery && Len(r.want) == queryV1Len {
			continue // a longer MLDv1 Query is not a Query (section 8.1)
		}
		t.Run(r.name, func(t *testing.T) {
			b := append(unhex(t, r.hex), extra...)
			c := Checksum(b, r.src, r.dst)
			b[2], b[3] = byte(c>>8), byte(c)
			if !VerifyChecksum(b, r.src, r.dst) {
				t.Fatalf("checksum over the extra octets does not verify")
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(r.want, got, cmpOpts); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			if enc, _ := Marshal(got, r.src, r.dst); !bytes.Equal(enc, unhex(t, r.hex)) {
				t.Errorf("Marshal = % x, want the row without the extra octets", enc)
			}
		})
	}
}

// Code and Reserved fields are ignored on receipt and sent as zero.
func TestParseIgnoresReserved(t *testing.T) {
	for _, r := range byteRows {
		t.Run(r.name, func(t *testing.T) {
			b := unhex(t, r.hex)
			b[1] = 0xff // Code, or Reserved in an MLDv2 Report
			switch r.want.(type) {
			case *QueryV1:
				b[6], b[7] = 0xff, 0xff
			case *QueryV2:
				b[6], b[7] = 0xff, 0xff
				b[24] |= 0xf0 // Resv bits before S
			case *ReportV1, *Done:
				// Maximum Response Delay is ignored too (RFC 2710 section 3).
				b[4], b[5], b[6], b[7] = 0xff, 0xff, 0xff, 0xff
			case *ReportV2:
				b[4], b[5] = 0xff, 0xff
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(r.want, got, cmpOpts); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCopies(t *testing.T) {
	for _, r := range byteRows {
		t.Run(r.name, func(t *testing.T) {
			b := unhex(t, r.hex)
			got, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range b {
				b[i] = 0xee
			}
			if diff := cmp.Diff(r.want, got, cmpOpts); diff != "" {
				t.Errorf("message changed with its input buffer (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("sources-do-not-share-capacity", func(t *testing.T) {
		m, err := Parse(row(t, "ReportV2/three-records"))
		if err != nil {
			t.Fatal(err)
		}
		recs := m.(*ReportV2).Records
		_ = append(recs[0].Sources, addr("2001:db8::bad"))
		if recs[2].Sources[0] != addr("2001:db8::9") {
			t.Errorf("append to record 0's sources overwrote record 2's: %v", recs[2].Sources)
		}
	})
}

func TestMarshalErrors(t *testing.T) {
	good := addr("ff0e::1")
	v4 := netip.MustParseAddr("192.0.2.1")
	zoned := addr("fe80::1%eth0")
	many := func(n int) []netip.Addr {
		s := make([]netip.Addr, n)
		for i := range s {
			s[i] = addr("2001:db8::1")
		}
		return s
	}
	tests := []struct {
		name     string
		m        Message
		src, dst netip.Addr
		want     error
	}{
		{"nil", nil, linkSrc, allNodes, ErrType},
		{"typed-nil", (*QueryV2)(nil), linkSrc, allNodes, ErrType},
		{"zero-src", &Done{Group: good}, netip.Addr{}, allNodes, ErrAddress},
		{"ipv4-dst", &Done{Group: good}, linkSrc, v4, ErrAddress},
		{"queryv1-zero-group", &QueryV1{}, linkSrc, allNodes, ErrAddress},
		{"queryv1-ipv4-group", &QueryV1{Group: v4}, linkSrc, allNodes, ErrAddress},
		{"reportv1-zoned-group", &ReportV1{Group: addr("ff02::1%eth0")}, linkSrc, allNodes, ErrAddress},
		{"done-zero-group", &Done{}, linkSrc, allNodes, ErrAddress},
		{"queryv2-zero-group", &QueryV2{}, linkSrc, allNodes, ErrAddress},
		{"queryv2-qrv-8", &QueryV2{Group: good, QRV: 8}, linkSrc, allNodes, ErrRange},
		{"queryv2-zero-source", &QueryV2{Group: good, Sources: []netip.Addr{good, {}}}, linkSrc, allNodes, ErrAddress},
		{"queryv2-zoned-source", &QueryV2{Group: good, Sources: []netip.Addr{zoned}}, linkSrc, allNodes, ErrAddress},
		{"queryv2-65536-sources", &QueryV2{Group: good, Sources: many(65536)}, linkSrc, allNodes, ErrLength},
		{"queryv2-too-long", &QueryV2{Group: good, Sources: many(4095)}, linkSrc, allNodes, ErrLength},
		{"reportv2-65536-records", &ReportV2{Records: make([]Record, 65536)}, linkSrc, mldv2Dst, ErrLength},
		{"reportv2-zero-group", &ReportV2{Records: []Record{{Type: ModeIsInclude}}}, linkSrc, mldv2Dst, ErrAddress},
		{"reportv2-ipv4-source", &ReportV2{Records: []Record{{Group: good, Sources: []netip.Addr{good, v4}}}}, linkSrc, mldv2Dst, ErrAddress},
		{"reportv2-65536-sources", &ReportV2{Records: []Record{{Group: good, Sources: many(65536)}}}, linkSrc, mldv2Dst, ErrLength},
		{"reportv2-aux-3", &ReportV2{Records: []Record{{Group: good, AuxData: []byte{1, 2, 3}}}}, linkSrc, mldv2Dst, ErrAuxData},
		{"reportv2-aux-1024", &ReportV2{Records: []Record{{Group: good, AuxData: make([]byte, 1024)}}}, linkSrc, mldv2Dst, ErrAuxData},
		{"reportv2-too-long", &ReportV2{Records: []Record{
			{Group: good, Sources: many(2100)}, {Group: good, Sources: many(2100)},
		}}, linkSrc, mldv2Dst, ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte{9, 9, 9}
			got, err := Append(prefix, tt.m, tt.src, tt.dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Append error = %v, want %v", err, tt.want)
			}
			if got := sentinelOf(err); got != tt.want {
				t.Errorf("error %q wraps %v, want only %v", err, got, tt.want)
			}
			if !bytes.Equal(got, prefix) {
				t.Errorf("Append changed b on error: % x", got)
			}
			if b, err := Marshal(tt.m, tt.src, tt.dst); err == nil || b != nil {
				t.Errorf("Marshal = % x, %v; want nil and an error", b, err)
			}
		})
	}
}

// The largest messages that still fit are written.
func TestMarshalLimits(t *testing.T) {
	g := addr("ff0e::1")
	srcs := func(n int) []netip.Addr {
		s := make([]netip.Addr, n)
		for i := range s {
			s[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		}
		return s
	}
	tests := []struct {
		name string
		m    Message
		len  int
	}{
		{"queryv2-4094-sources", &QueryV2{Group: g, QRV: 7, QQIC: 0xff, MaxRespCode: 0xffff, Sources: srcs(4094)}, 65532},
		{"reportv2-aux-1020", &ReportV2{Records: []Record{{Type: 1, Group: g, AuxData: bytes.Repeat([]byte{0xa5}, 1020)}}}, 8 + 20 + 1020},
		{"reportv2-65532-octets", &ReportV2{Records: []Record{
			{Type: 255, Group: g, Sources: srcs(4000)},
			{Type: 0, Group: g, Sources: srcs(80), AuxData: bytes.Repeat([]byte{1, 2, 3, 4}, 51)},
		}}, 8 + (20 + 16*4000) + (20 + 16*80 + 204)},
		{"unspecified-everywhere", &ReportV2{Records: []Record{{Group: netip.IPv6Unspecified(), Sources: []netip.Addr{netip.IPv6Unspecified()}}}}, 8 + 20 + 16},
		{"ipv4-mapped", &ReportV1{Group: addr("::ffff:192.0.2.1")}, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if Len(tt.m) != tt.len {
				t.Fatalf("Len = %d, want %d", Len(tt.m), tt.len)
			}
			b, err := Marshal(tt.m, linkSrc, mldv2Dst)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.m, got, cmpOpts); diff != "" {
				t.Errorf("Parse(Marshal) (-want +got):\n%s", diff)
			}
		})
	}
}

// A zoned link-local address is fine in the pseudo-header: sockets report
// the source that way, and the zone is not summed.
func TestAppendZonedEndpoints(t *testing.T) {
	m := &Done{Group: addr("ff0e::101")}
	plain, err := Marshal(m, linkSrc2, addr("ff02::2"))
	if err != nil {
		t.Fatal(err)
	}
	zoned, err := Marshal(m, addr("fe80::2%eth0"), addr("ff02::2%eth0"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, zoned) {
		t.Errorf("zone changed the encoding:\n% x\n% x", plain, zoned)
	}
}

func TestAppend(t *testing.T) {
	for _, r := range byteRows {
		t.Run(r.name, func(t *testing.T) {
			want := unhex(t, r.hex)
			// Garbage in the spare capacity must not leak into reserved
			// fields.
			buf := bytes.Repeat([]byte{0xcc}, 3+len(want))[:3]
			got, err := Append(buf, r.want, r.src, r.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[:3], []byte{0xcc, 0xcc, 0xcc}) || !bytes.Equal(got[3:], want) {
				t.Errorf("Append = % x, want cc cc cc % x", got, want)
			}
			if &got[0] != &buf[0] {
				t.Errorf("Append reallocated with enough capacity")
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := Append(buf[:0], r.want, r.src, r.dst); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Append with enough capacity: %v allocs, want 0", allocs)
			}
			// Without spare capacity it grows b.
			got, err = Append(want[:1:1], r.want, r.src, r.dst)
			if err != nil || len(got) != 1+len(want) {
				t.Errorf("Append to a full slice = % x, %v", got, err)
			}
		})
	}
}

// Checksum ignores whatever b[2:4] holds, and the degenerate lengths do not
// panic.
func TestChecksum(t *testing.T) {
	b := row(t, "ReportV2/three-records")
	want := uint16(b[2])<<8 | uint16(b[3])
	for _, field := range []uint16{0, 0xffff, 0x1234} {
		t.Run(fmt.Sprintf("field-%#04x", field), func(t *testing.T) {
			b[2], b[3] = byte(field>>8), byte(field)
			if got := Checksum(b, linkSrc2, mldv2Dst); got != want {
				t.Errorf("Checksum = %#04x, want %#04x", got, want)
			}
		})
	}
	for n := range 6 {
		t.Run(fmt.Sprintf("len-%d", n), func(t *testing.T) {
			c := Checksum(b[:n], linkSrc2, mldv2Dst)
			m := bytes.Clone(b[:n])
			if n >= 4 {
				m[2], m[3] = byte(c>>8), byte(c)
				if !VerifyChecksum(m, linkSrc2, mldv2Dst) {
					t.Errorf("%d octets with Checksum filled in do not verify", n)
				}
			}
		})
	}
}

// A checksum of 0x0000 may be sent as 0xffff, the other one's-complement
// zero; both verify.
func TestVerifyChecksumNegativeZero(t *testing.T) {
	// Search a Done whose checksum comes out 0x0000 by varying the group.
	for i := range 1 << 16 {
		g := netip.AddrFrom16([16]byte{0xff, 0x0e, 14: byte(i >> 8), 15: byte(i)})
		b, err := Marshal(&Done{Group: g}, linkSrc2, addr("ff02::2"))
		if err != nil {
			t.Fatal(err)
		}
		if b[2] != 0 || b[3] != 0 {
			continue
		}
		if !VerifyChecksum(b, linkSrc2, addr("ff02::2")) {
			t.Fatalf("checksum 0x0000 does not verify: % x", b)
		}
		b[2], b[3] = 0xff, 0xff
		if !VerifyChecksum(b, linkSrc2, addr("ff02::2")) {
			t.Fatalf("checksum 0xffff for 0x0000 does not verify: % x", b)
		}
		return
	}
	t.Fatal("no group gives checksum 0x0000")
}
