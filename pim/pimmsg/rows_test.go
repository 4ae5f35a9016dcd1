package pimmsg

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Hand-assembled rows, field by field from the layouts of RFC 7761 section
// 4.9, RFC 5059 section 4 and RFC 3973/5015 for the raw types. The checksum
// bytes are written "cccc": Parse ignores them, and the marshalled checksum
// is checked by VerifyChecksum here and against real senders in the
// capture tests.
type row struct {
	name string
	wire string  // the message as received
	want Message // what Parse returns
	// canon is what Marshal writes, when it differs from wire: known
	// options first, reserved bits cleared.
	canon string
}

const (
	hxLinkLocal2 = "fe800000000000000000000000000002"
	hxGroup      = "ff0e0000000000000000000000001234"
	hxSrc5       = "20010db8000000000000000000000005"
	hxRP         = "20010db80000000000000000000000aa"
)

var rows = []row{
	{
		name: "Hello/every known option and two unknown",
		wire: `2000cccc
			0001 0002 0069
			0002 0004 8064 0bb8
			0013 0004 00000001
			0014 0004 deadbeef
			0018 0012 0200` + hxLinkLocal2 + `
			0015 0004 013c0000
			fde9 0000`,
		want: &Hello{
			Holdtime:      ptr[uint16](105),
			LANPruneDelay: &LANPruneDelay{T: true, PropagationDelay: 100, OverrideInterval: 3000},
			DRPriority:    ptr[uint32](1),
			GenerationID:  ptr[uint32](0xdeadbeef),
			AddressList:   []netip.Addr{addr("fe80::2")},
			Unknown: []HelloOption{
				{Type: 21, Value: []byte{0x01, 0x3c, 0, 0}},
				{Type: 65001},
			},
		},
	},
	{
		name: "Hello/no options",
		wire: "2000cccc",
		want: &Hello{},
	},
	{
		name:  "Hello/flag bits are not kept",
		wire:  "20ffcccc 0001 0002 ffff",
		want:  &Hello{Holdtime: ptr[uint16](0xffff)},
		canon: "2000cccc 0001 0002 ffff",
	},
	{
		name: "Hello/wrong lengths and a duplicate are kept raw",
		wire: `2000cccc
			0001 0003 000102
			0013 0004 00000005
			0013 0004 00000007
			0018 0005 0200fe8000
			0002 0000`,
		want: &Hello{
			DRPriority: ptr[uint32](5),
			Unknown: []HelloOption{
				{Type: 1, Value: []byte{0, 1, 2}},
				{Type: 19, Value: []byte{0, 0, 0, 7}},
				{Type: 24, Value: []byte{2, 0, 0xfe, 0x80, 0}},
				{Type: 2},
			},
		},
		canon: `2000cccc
			0013 0004 00000005
			0001 0003 000102
			0013 0004 00000007
			0018 0005 0200fe8000
			0002 0000`,
	},
	{
		name: "Hello/empty address list and holdtime 0",
		wire: "2000cccc 0001 0002 0000 0018 0000",
		want: &Hello{Holdtime: ptr[uint16](0), AddressList: []netip.Addr{}},
	},
	{
		name: "Register/data packet",
		wire: `2100cccc 00000000
			6000000000081140 20010db8000000000000000000000001 ` + hxGroup + `
			1f901f9000080000`,
		want: &Register{Packet: mustHex(`6000000000081140 20010db8000000000000000000000001 ` + hxGroup + `
			1f901f9000080000`)},
	},
	{
		name: "Register/Null-Register with border bit",
		wire: "2100cccc c0000000 60000000 0000 3b00 20010db8000000000000000000000001" + hxGroup,
		want: &Register{Border: true, Null: true,
			Packet: mustHex("60000000 0000 3b00 20010db8000000000000000000000001" + hxGroup)},
	},
	{
		name:  "Register/reserved bits are not kept",
		wire:  "2100cccc 7fffffff 60000000 0000 3b00 20010db8000000000000000000000001" + hxGroup,
		want:  &Register{Null: true, Packet: mustHex("60000000 0000 3b00 20010db8000000000000000000000001" + hxGroup)},
		canon: "2100cccc 40000000 60000000 0000 3b00 20010db8000000000000000000000001" + hxGroup,
	},
	{
		name: "Register-Stop/all sources",
		wire: "2200cccc 02000080" + hxGroup + "0200 00000000000000000000000000000000",
		want: &RegisterStop{Group: Group{Addr: addr("ff0e::1234"), MaskLen: 128}, Source: addr("::")},
	},
	{
		name: "Join/Prune/(*,G) join, (S,G) join, (S,G,rpt) prune, group range",
		wire: `2300cccc 0200` + hxLinkLocal2 + ` 00 02 00d2
			02000080` + hxGroup + ` 0002 0001
			02000780` + hxRP + `
			02000480` + hxSrc5 + `
			02000580 20010db8000000000000000000000006
			02008108 ff000000000000000000000000000000 0000 0001
			02000440 20010db8000100000000000000000000`,
		want: &JoinPrune{
			UpstreamNeighbor: addr("fe80::2"),
			Holdtime:         210,
			Groups: []JoinPruneGroup{
				{
					Group: Group{Addr: addr("ff0e::1234"), MaskLen: 128},
					Joins: []Source{
						{Addr: addr("2001:db8::aa"), MaskLen: 128, Sparse: true, WildCard: true, RPT: true},
						{Addr: addr("2001:db8::5"), MaskLen: 128, Sparse: true},
					},
					Prunes: []Source{{Addr: addr("2001:db8::6"), MaskLen: 128, Sparse: true, RPT: true}},
				},
				{
					Group:  Group{Addr: addr("ff00::"), MaskLen: 8, Bidir: true, AdminScope: true},
					Prunes: []Source{{Addr: addr("2001:db8:1::"), MaskLen: 64, Sparse: true}},
				},
			},
		},
	},
	{
		name: "Join/Prune/no groups",
		wire: "2300cccc 0200" + hxLinkLocal2 + "0000 0000",
		want: &JoinPrune{UpstreamNeighbor: addr("fe80::2")},
	},
	{
		name:  "Join/Prune/reserved bits are not kept",
		wire:  "2300cccc 0200" + hxLinkLocal2 + "ff01 ffff 02007e80" + hxGroup + "0001 0000 0200f880" + hxSrc5,
		want:  &JoinPrune{UpstreamNeighbor: addr("fe80::2"), Holdtime: 0xffff, Groups: []JoinPruneGroup{{Group: Group{Addr: addr("ff0e::1234"), MaskLen: 128}, Joins: []Source{{Addr: addr("2001:db8::5"), MaskLen: 128}}}}},
		canon: "2300cccc 0200" + hxLinkLocal2 + "0001 ffff 02000080" + hxGroup + "0001 0000 02000080" + hxSrc5,
	},
	{
		name: "Assert/(*,G) with the largest preference",
		wire: "2500cccc 02000080" + hxGroup + "0200 00000000000000000000000000000000 ffffffff 00000000",
		want: &Assert{Group: Group{Addr: addr("ff0e::1234"), MaskLen: 128}, Source: addr("::"), RPT: true, MetricPreference: 1<<31 - 1},
	},
	{
		name: "Assert/(S,G)",
		wire: "2500cccc 02000080" + hxGroup + "0200" + hxSrc5 + "0000006e 00000014",
		want: &Assert{Group: Group{Addr: addr("ff0e::1234"), MaskLen: 128}, Source: addr("2001:db8::5"), MetricPreference: 110, Metric: 20},
	},
	{
		name: "Bootstrap/No-Forward, ranges with two, none and a fragment of RPs",
		wire: `2480cccc 1234 1e 40 0200 20010db800000000000000000000000b
			02000008 ff000000000000000000000000000000 02 02 0000
			  0200 20010db8000000000000000000000001 0096 c0 00
			  0200 20010db8000000000000000000000002 0096 00 00
			02000110 ff150000000000000000000000000000 00 00 0000
			02008020 ff3e0000000000000000000000000000 03 01 0000
			  0200 20010db8000000000000000000000003 ffff 01 00`,
		want: &Bootstrap{
			NoForward: true, FragmentTag: 0x1234, HashMaskLen: 30, Priority: 64, BSR: addr("2001:db8::b"),
			Groups: []BootstrapGroup{
				{Group: Group{Addr: addr("ff00::"), MaskLen: 8}, RPCount: 2, RPs: []BootstrapRP{
					{Addr: addr("2001:db8::1"), Holdtime: 150, Priority: 192},
					{Addr: addr("2001:db8::2"), Holdtime: 150},
				}},
				{Group: Group{Addr: addr("ff15::"), MaskLen: 16, AdminScope: true}},
				{Group: Group{Addr: addr("ff3e::"), MaskLen: 32, Bidir: true}, RPCount: 3, RPs: []BootstrapRP{
					{Addr: addr("2001:db8::3"), Holdtime: 0xffff, Priority: 1},
				}},
			},
		},
	},
	{
		name:  "Bootstrap/other flag bits are not kept",
		wire:  "247fcccc 0000 00 00 0200 20010db800000000000000000000000b",
		want:  &Bootstrap{BSR: addr("2001:db8::b")},
		canon: "2400cccc 0000 00 00 0200 20010db800000000000000000000000b",
	},
	{
		name: "Candidate-RP-Advertisement/two ranges",
		wire: "2800cccc 02 05 0096 0200" + hxRP + "02000008 ff000000000000000000000000000000 02008110 ff150000000000000000000000000000",
		want: &CandidateRPAdvertisement{Priority: 5, Holdtime: 150, RP: addr("2001:db8::aa"), Groups: []Group{
			{Addr: addr("ff00::"), MaskLen: 8},
			{Addr: addr("ff15::"), MaskLen: 16, Bidir: true, AdminScope: true},
		}},
	},
	{
		name: "Candidate-RP-Advertisement/all groups",
		wire: "2800cccc 00 c0 0096 0200" + hxRP,
		want: &CandidateRPAdvertisement{Priority: 192, Holdtime: 150, RP: addr("2001:db8::aa")},
	},
	{
		name: "Unknown/Graft",
		wire: "2600cccc 0200" + hxLinkLocal2 + "0001 0000 02000080" + hxGroup + "0001 0000 02000480" + hxSrc5,
		want: &Unknown{T: TypeGraft, Body: mustHex("0200" + hxLinkLocal2 + "0001 0000 02000080" + hxGroup + "0001 0000 02000480" + hxSrc5)},
	},
	{
		name: "Unknown/Graft-Ack keeps its flags",
		wire: "2701cccc 0200" + hxLinkLocal2 + "0000 0000",
		want: &Unknown{T: TypeGraftAck, Flags: 1, Body: mustHex("0200" + hxLinkLocal2 + "0000 0000")},
	},
	{
		name: "Unknown/Graft-Ack with a join and a prune",
		wire: "2700cccc 0200" + hxLinkLocal2 + "0001 0000 02000080" + hxGroup + "0001 0001 02000480" + hxSrc5 + "02000480" + hxSrc5,
		want: &Unknown{T: TypeGraftAck, Body: mustHex("0200" + hxLinkLocal2 + "0001 0000 02000080" + hxGroup + "0001 0001 02000480" + hxSrc5 + "02000480" + hxSrc5)},
	},
	{
		name: "Unknown/State Refresh",
		wire: "2900cccc 02000080" + hxGroup + "0200" + hxSrc5 + "0200" + hxLinkLocal2 + "0000006e 00000014 80 3f 00 3c",
		want: &Unknown{T: TypeStateRefresh, Body: mustHex("02000080" + hxGroup + "0200" + hxSrc5 + "0200" + hxLinkLocal2 + "0000006e 00000014 80 3f 00 3c")},
	},
	{
		name: "Unknown/type 11 is not checked",
		wire: "2b00cccc 010203",
		want: &Unknown{T: 11, Body: []byte{1, 2, 3}},
	},
	{
		name: "Unknown/type 15 without a body",
		wire: "2f5acccc",
		want: &Unknown{T: 15, Flags: 0x5a},
	},
}

func TestRows(t *testing.T) {
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			wire := unhex(t, r.wire)
			got, err := Parse(wire)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(r.want, got, cmpOpts); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			canon := wire
			if r.canon != "" {
				canon = unhex(t, r.canon)
			}
			enc, err := Marshal(r.want, src6, dst6)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if n := Len(r.want); n != len(enc) {
				t.Errorf("Len = %d, Marshal wrote %d bytes", n, len(enc))
			}
			if !equalButChecksum(enc, canon) {
				t.Errorf("Marshal (checksum bytes ignored):\n got %x\nwant %x", enc, canon)
			}
			if v := VerifyChecksum(enc, src6, dst6); v != ChecksumOK {
				t.Errorf("VerifyChecksum(Marshal) = %v", v)
			}
			if got.Type() != r.want.Type() {
				t.Errorf("Type = %v, want %v", got.Type(), r.want.Type())
			}
		})
	}
}

func equalButChecksum(a, b []byte) bool {
	return len(a) == len(b) && len(a) >= 4 && bytes.Equal(a[:2], b[:2]) && bytes.Equal(a[4:], b[4:])
}

// TestParseCopies checks that nothing Parse returns aliases its input.
func TestParseCopies(t *testing.T) {
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			wire := unhex(t, r.wire)
			m, err := Parse(wire)
			if err != nil {
				t.Fatal(err)
			}
			before, err := Marshal(m, src6, dst6)
			if err != nil {
				t.Fatal(err)
			}
			for i := range wire {
				wire[i] ^= 0xff
			}
			after, err := Marshal(m, src6, dst6)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("the message changed with its input buffer:\n%x\n%x", before, after)
			}
		})
	}
}
