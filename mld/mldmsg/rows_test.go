package mldmsg

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// byteRow is one message written out by hand from the RFC layout, checksum
// included (computed apart from this package, over the pseudo-header of src
// and dst), and the value it stands for.
type byteRow struct {
	name     string
	src, dst netip.Addr
	hex      string
	want     Message
}

var byteRows = []byteRow{
	{
		name: "QueryV1/general",
		src:  linkSrc, dst: allNodes,
		hex: `82 00 59 17  27 10 00 00
		      00000000 00000000 00000000 00000000`,
		want: &QueryV1{MaxRespDelay: 10000, Group: addr("::")},
	},
	{
		name: "QueryV1/address-specific",
		src:  linkSrc, dst: addr("ff0e::101"),
		hex: `82 00 7b 23  03 e8 00 00
		      ff0e0000 00000000 00000000 00000101`,
		want: &QueryV1{MaxRespDelay: 1000, Group: addr("ff0e::101")},
	},
	{
		name: "ReportV1",
		src:  linkSrc2, dst: addr("ff0e::101"),
		hex: `83 00 7e 0a  00 00 00 00
		      ff0e0000 00000000 00000000 00000101`,
		want: &ReportV1{Group: addr("ff0e::101")},
	},
	{
		name: "Done",
		src:  linkSrc2, dst: addr("ff02::2"),
		hex: `84 00 7e 15  00 00 00 00
		      ff0e0000 00000000 00000000 00000101`,
		want: &Done{Group: addr("ff0e::101")},
	},
	{
		// Default timers of RFC 3810 section 9: QRV 2, QI 125 s, QRI 10 s.
		name: "QueryV2/general",
		src:  linkSrc, dst: allNodes,
		hex: `82 00 56 96  27 10 00 00
		      00000000 00000000 00000000 00000000
		      02 7d 00 00`,
		want: &QueryV2{MaxRespCode: 10000, Group: addr("::"), QRV: 2, QQIC: 125},
	},
	{
		// Flag octet 0x0f is S=1, QRV=7; both codes in float form:
		// MRC 0x8010 = 0x1010<<3 ms, QQIC 0x90 = 0x10<<4 s.
		name: "QueryV2/source-specific",
		src:  linkSrc, dst: addr("ff3e::8000:1"),
		hex: `82 00 95 6e  80 10 00 00
		      ff3e0000 00000000 00000000 80000001
		      0f 90 00 02
		      20010db8 00000000 00000000 00000001
		      20010db8 00000000 00000000 00000002`,
		want: &QueryV2{
			MaxRespCode: 0x8010, Group: addr("ff3e::8000:1"),
			SuppressRouterSide: true, QRV: 7, QQIC: 0x90,
			Sources: []netip.Addr{addr("2001:db8::1"), addr("2001:db8::2")},
		},
	},
	{
		// Three records: IS_IN with two sources, TO_EX with none, and a
		// type RFC 3810 does not define, with one word of aux data.
		name: "ReportV2/three-records",
		src:  linkSrc2, dst: mldv2Dst,
		hex: `8f 00 b4 c5  00 00 00 03
		      01 00 00 02  ff3e0000 00000000 00000000 80000001
		                   20010db8 00000000 00000000 00000001
		                   20010db8 00000000 00000000 00000002
		      04 00 00 00  ff0e0000 00000000 00000000 00000db8
		      07 01 00 01  ff050000 00000000 00000000 00000002
		                   20010db8 00000000 00000000 00000009
		                   deadbeef`,
		want: &ReportV2{Records: []Record{
			{Type: ModeIsInclude, Group: addr("ff3e::8000:1"),
				Sources: []netip.Addr{addr("2001:db8::1"), addr("2001:db8::2")}},
			{Type: ChangeToExclude, Group: addr("ff0e::db8")},
			{Type: 7, Group: addr("ff05::2"),
				Sources: []netip.Addr{addr("2001:db8::9")},
				AuxData: []byte{0xde, 0xad, 0xbe, 0xef}},
		}},
	},
	{
		name: "ReportV2/no-records",
		src:  linkSrc2, dst: mldv2Dst,
		hex:  `8f 00 73 21  00 00 00 00`,
		want: &ReportV2{},
	},
}

func TestByteRows(t *testing.T) {
	for _, row := range byteRows {
		t.Run(row.name, func(t *testing.T) {
			b := unhex(t, row.hex)
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(row.want, got, cmpOpts); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			if got.Type() != b[0] {
				t.Errorf("Type() = %d, want %d", got.Type(), b[0])
			}
			if !VerifyChecksum(b, row.src, row.dst) {
				t.Errorf("hand-computed checksum does not verify")
			}
			if c := Checksum(b, row.src, row.dst); c != uint16(b[2])<<8|uint16(b[3]) {
				t.Errorf("Checksum = %#04x, row has %#02x%02x", c, b[2], b[3])
			}
			if n := Len(row.want); n != len(b) {
				t.Errorf("Len = %d, want %d", n, len(b))
			}
			enc, err := Marshal(row.want, row.src, row.dst)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Errorf("Marshal:\n got % x\nwant % x", enc, b)
			}
		})
	}
}

func TestQueryV2Durations(t *testing.T) {
	tests := []struct {
		name         string
		q            QueryV2
		wantDelay    string
		wantInterval string
	}{
		{"defaults", QueryV2{MaxRespCode: 10000, QQIC: 125}, "10s", "2m5s"},
		{"float", QueryV2{MaxRespCode: 0x8010, QQIC: 0x90}, "32.896s", "4m16s"},
		{"largest", QueryV2{MaxRespCode: 0xffff, QQIC: 0xff}, "2h19m47.584s", "8h49m4s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.MaxRespDelay().String(); got != tt.wantDelay {
				t.Errorf("MaxRespDelay = %s, want %s", got, tt.wantDelay)
			}
			if got := tt.q.QueryInterval().String(); got != tt.wantInterval {
				t.Errorf("QueryInterval = %s, want %s", got, tt.wantInterval)
			}
		})
	}
}

func TestRecordTypeString(t *testing.T) {
	tests := []struct {
		t    RecordType
		want string
	}{
		{0, "type(0)"},
		{ModeIsInclude, "IS_IN"},
		{ModeIsExclude, "IS_EX"},
		{ChangeToInclude, "TO_IN"},
		{ChangeToExclude, "TO_EX"},
		{AllowNewSources, "ALLOW"},
		{BlockOldSources, "BLOCK"},
		{7, "type(7)"},
		{255, "type(255)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.t.String(); got != tt.want {
				t.Errorf("RecordType(%d).String() = %q, want %q", uint8(tt.t), got, tt.want)
			}
		})
	}
}
