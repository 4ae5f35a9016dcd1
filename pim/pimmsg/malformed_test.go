package pimmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// validPrefixes returns the lengths at which a prefix of the message b is
// itself a complete message: the end of each Hello option and of each
// Bootstrap range (those messages run to their end, with no count).
func validPrefixes(b []byte) map[int]bool {
	ends := map[int]bool{}
	switch Type(b[0] & 0x0f) {
	case TypeHello:
		for i := headerLen; i+optHeaderLen <= len(b); {
			ends[i] = true
			i += optHeaderLen + int(binary.BigEndian.Uint16(b[i+2:]))
		}
	case TypeBootstrap:
		for i := headerLen + bootstrapHeaderLen; i+bsGroupHeaderLen <= len(b); {
			ends[i] = true
			i += bsGroupHeaderLen + bsRPLen*int(b[i+encGroupLen+1])
		}
	case 11, 15: // not checked: any body
		for i := headerLen; i < len(b); i++ {
			ends[i] = true
		}
	}
	return ends
}

// TestTruncation cuts every row and some capture frames at every length:
// Parse must fail, except where the prefix is a complete message.
func TestTruncation(t *testing.T) {
	type msg struct {
		name string
		b    []byte
	}
	var msgs []msg
	for _, r := range rows {
		msgs = append(msgs, msg{r.name, unhex(t, r.wire)})
	}
	for _, f := range []int{129, 134, 140, 152, 162, 169, 178, 190, 197, 207, 211, 213, 229, 242} {
		msgs = append(msgs, msg{"frame " + Type(frame(t, f).Payload[0]&0xf).String(), frame(t, f).Payload})
	}
	for _, m := range msgs {
		t.Run(m.name, func(t *testing.T) {
			ok := validPrefixes(m.b)
			for n := range len(m.b) {
				_, err := Parse(m.b[:n])
				if ok[n] && err != nil {
					t.Errorf("%d of %d bytes: %v, want a shorter message", n, len(m.b), err)
				}
				if !ok[n] && err == nil {
					t.Errorf("%d of %d bytes: parsed", n, len(m.b))
				}
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	const (
		u6 = "0200 20010db8000000000000000000000001"
		g6 = "02000080 ff0e0000000000000000000000000001"
		s6 = "02000480 20010db8000000000000000000000001"
		u4 = "0100 0a000001"
		g4 = "01000020 e0000001"
	)
	tests := []struct {
		name string
		wire string
		want []error
	}{
		{"empty", "", []error{ErrTruncated}},
		{"three bytes", "200000", []error{ErrTruncated}},
		{"version 1", "1000cccc", []error{ErrVersion}},
		{"version 3", "3000cccc", []error{ErrVersion}},
		{"Hello/option header cut", "2000cccc 000100", []error{ErrOption, ErrTruncated}},
		{"Hello/option longer than the message", "2000cccc 0001 0004 0000", []error{ErrOption, ErrTruncated}},
		{"Hello/IPv4 address list", "2000cccc 0018 0006" + u4, []error{ErrAddressFamily}},
		{"Hello/address list with a bad second entry", "2000cccc 0018 0018" + u6 + u4, []error{ErrAddressFamily}},
		{"Register/no flags word", "2100cccc 0000", []error{ErrTruncated}},
		{"Register/nothing encapsulated", "2100cccc 00000000", []error{ErrTruncated}},
		{"Register/IPv4 inside", "2100cccc 00000000 4500001400000000ff110000 0a000001 e0000001", []error{ErrAddressFamily}},
		{"Register/short IPv6 header", "2100cccc 40000000 600000000000", []error{ErrTruncated}},
		{"Register/payload shorter than announced", "2100cccc 00000000 6000000000081140" + strings.Repeat("00", 32) + "0000", []error{ErrTruncated}},
		{"Register-Stop/IPv4 group", "2200cccc " + g4 + u4, []error{ErrAddressFamily}},
		{"Register-Stop/IPv4 source", "2200cccc " + g6 + u4, []error{ErrAddressFamily}},
		{"Register-Stop/encoding type 1", "2200cccc 02010080 ff0e0000000000000000000000000001" + u6, []error{ErrAddressFamily}},
		{"Register-Stop/group mask 129", "2200cccc 02000081 ff0e0000000000000000000000000001" + u6, []error{ErrAddress}},
		{"Join/Prune/more groups than bytes", "2300cccc " + u6 + "0002 00d2 " + g6 + "0000 0000", []error{ErrTruncated}},
		{"Join/Prune/more sources than bytes", "2300cccc " + u6 + "0001 00d2 " + g6 + "0001 0001" + s6, []error{ErrTruncated}},
		{"Join/Prune/IPv4 source", "2300cccc " + u6 + "0001 00d2 " + g6 + "0001 0000 01000420 0a000001" + strings.Repeat("00", 12), []error{ErrAddressFamily}},
		{"Join/Prune/source mask 129", "2300cccc " + u6 + "0001 00d2 " + g6 + "0001 0000 02000481 20010db8000000000000000000000001", []error{ErrAddress}},
		{"Join/Prune/IPv4 upstream", "2300cccc " + u4 + "0000 00d2", []error{ErrAddressFamily}},
		{"Assert/no metrics", "2500cccc " + g6 + u6 + "00000000", []error{ErrTruncated}},
		{"Bootstrap/fragment RP count above RP count", "2400cccc 0001 1e 00 " + u6 + g6 + "01 02 0000" + u6 + "0096 0000" + u6 + "00960000", []error{ErrLength}},
		{"Bootstrap/partial range", "2400cccc 0001 1e 00 " + u6 + "0200", []error{ErrTruncated}},
		{"Bootstrap/fewer RPs than counted", "2400cccc 0001 1e 00 " + u6 + g6 + "02 02 0000" + u6 + "00960000", []error{ErrTruncated}},
		{"Bootstrap/IPv4 RP", "2400cccc 0001 1e 00 " + u6 + g6 + "01 01 0000" + u4 + "00960000" + strings.Repeat("00", 12), []error{ErrAddressFamily}},
		{"Bootstrap/IPv4 BSR", "2400cccc 0001 1e 00 " + u4, []error{ErrAddressFamily}},
		{"Candidate-RP-Advertisement/more ranges than bytes", "2800cccc 02 00 0096 " + u6 + g6, []error{ErrTruncated}},
		{"Candidate-RP-Advertisement/IPv4 range", "2800cccc 01 00 0096 " + u6 + g4 + strings.Repeat("00", 12), []error{ErrAddressFamily}},
		{"Graft/IPv4", "2600cccc " + u4 + "0000 0000", []error{ErrAddressFamily}},
		{"Graft-Ack/truncated group", "2700cccc " + u6 + "0001 0000 0200", []error{ErrTruncated}},
		{"State Refresh/no metrics", "2900cccc " + g6 + u6 + u6 + "0000", []error{ErrTruncated}},
		{"DF Election/Backoff without interval", "2a30cccc " + u6 + "00000064 0000000a" + u6 + "000003e8 00002710", []error{ErrTruncated}},
		{"DF Election/Pass without new winner", "2a40cccc " + u6 + "00000064 0000000a", []error{ErrTruncated}},
		{"DF Election/IPv4 RP", "2a10cccc " + u4 + "00000064 0000000a", []error{ErrAddressFamily}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(unhex(t, tt.wire))
			if err == nil {
				t.Fatalf("parsed: %+v", m)
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %q", err, want)
				}
			}
		})
	}
	t.Run("longer than an IPv6 payload", func(t *testing.T) {
		b := append(unhex(t, "2b00cccc"), make([]byte, maxMessageLen)...)
		if _, err := Parse(b); !errors.Is(err, ErrLength) {
			t.Errorf("%v, want ErrLength", err)
		}
	})
}

func TestMarshalErrors(t *testing.T) {
	g := Group{Addr: addr("ff0e::1"), MaskLen: 128}
	u := addr("2001:db8::1")
	v4 := addr("192.0.2.1")
	inner := append(unhex(t, "6000000000000000"), make([]byte, 32)...)
	many := func(n int) []Source { return make([]Source, n) }
	tests := []struct {
		name     string
		m        Message
		src, dst netip.Addr
		want     error
	}{
		{"nil message", nil, src6, dst6, ErrType},
		{"nil *Hello", (*Hello)(nil), src6, dst6, ErrType},
		{"nil *JoinPrune", (*JoinPrune)(nil), src6, dst6, ErrType},
		{"nil *Bootstrap", (*Bootstrap)(nil), src6, dst6, ErrType},
		{"nil *Unknown", (*Unknown)(nil), src6, dst6, ErrType},
		{"invalid source address", &Hello{}, netip.Addr{}, dst6, ErrAddress},
		{"IPv4 destination", &Hello{}, src6, v4, ErrAddress},
		{"Hello/propagation delay of 16 bits", &Hello{LANPruneDelay: &LANPruneDelay{PropagationDelay: 1 << 15}}, src6, dst6, ErrRange},
		{"Hello/IPv4 secondary address", &Hello{AddressList: []netip.Addr{u, v4}}, src6, dst6, ErrAddress},
		{"Hello/zero secondary address", &Hello{AddressList: []netip.Addr{{}}}, src6, dst6, ErrAddress},
		{"Hello/address list too long", &Hello{AddressList: make([]netip.Addr, 3641)}, src6, dst6, ErrLength},
		{"Hello/option value too long", &Hello{Unknown: []HelloOption{{Type: 9, Value: make([]byte, 65536)}}}, src6, dst6, ErrOption},
		{"Register/IPv4 inside", &Register{Packet: append([]byte{0x45}, make([]byte, 39)...)}, src6, dst6, ErrAddressFamily},
		{"Register/short packet", &Register{Null: true, Packet: inner[:39]}, src6, dst6, ErrTruncated},
		{"Register/no packet", &Register{}, src6, dst6, ErrTruncated},
		{"Register/longer than an IPv6 payload", &Register{Null: true, Packet: append(inner[:40:40], make([]byte, 65500)...)}, src6, dst6, ErrLength},
		{"Register-Stop/IPv4 group", &RegisterStop{Group: Group{Addr: v4, MaskLen: 32}, Source: u}, src6, dst6, ErrAddress},
		{"Register-Stop/zero source", &RegisterStop{Group: g}, src6, dst6, ErrAddress},
		{"Register-Stop/mask 129", &RegisterStop{Group: Group{Addr: addr("ff0e::1"), MaskLen: 129}, Source: u}, src6, dst6, ErrAddress},
		{"Join/Prune/256 groups", &JoinPrune{UpstreamNeighbor: u, Groups: make([]JoinPruneGroup, 256)}, src6, dst6, ErrLength},
		{"Join/Prune/65536 joins", &JoinPrune{UpstreamNeighbor: u, Groups: []JoinPruneGroup{{Group: g, Joins: many(65536)}}}, src6, dst6, ErrLength},
		{"Join/Prune/65536 prunes", &JoinPrune{UpstreamNeighbor: u, Groups: []JoinPruneGroup{{Group: g, Prunes: many(65536)}}}, src6, dst6, ErrLength},
		{"Join/Prune/source mask 200", &JoinPrune{UpstreamNeighbor: u, Groups: []JoinPruneGroup{{Group: g, Joins: []Source{{Addr: u, MaskLen: 200}}}}}, src6, dst6, ErrAddress},
		{"Join/Prune/zero source", &JoinPrune{UpstreamNeighbor: u, Groups: []JoinPruneGroup{{Group: g, Prunes: many(1)}}}, src6, dst6, ErrAddress},
		{"Join/Prune/zero upstream", &JoinPrune{}, src6, dst6, ErrAddress},
		{"Join/Prune/longer than an IPv6 payload", &JoinPrune{UpstreamNeighbor: u, Groups: []JoinPruneGroup{{Group: g, Joins: sameSources(u, 3300)}}}, src6, dst6, ErrLength},
		{"Assert/preference of 32 bits", &Assert{Group: g, Source: u, MetricPreference: 1 << 31}, src6, dst6, ErrRange},
		{"Bootstrap/256 RPs", &Bootstrap{BSR: u, Groups: []BootstrapGroup{{Group: g, RPCount: 255, RPs: make([]BootstrapRP, 256)}}}, src6, dst6, ErrLength},
		{"Bootstrap/RP count below the fragment's", &Bootstrap{BSR: u, Groups: []BootstrapGroup{{Group: g, RPCount: 1, RPs: []BootstrapRP{{Addr: u}, {Addr: u}}}}}, src6, dst6, ErrLength},
		{"Bootstrap/zero BSR", &Bootstrap{}, src6, dst6, ErrAddress},
		{"Bootstrap/IPv4 RP", &Bootstrap{BSR: u, Groups: []BootstrapGroup{{Group: g, RPCount: 1, RPs: []BootstrapRP{{Addr: v4}}}}}, src6, dst6, ErrAddress},
		{"Candidate-RP-Advertisement/256 ranges", &CandidateRPAdvertisement{RP: u, Groups: make([]Group, 256)}, src6, dst6, ErrLength},
		{"Candidate-RP-Advertisement/zero range", &CandidateRPAdvertisement{RP: u, Groups: make([]Group, 1)}, src6, dst6, ErrAddress},
		{"Unknown/a type with its own struct", &Unknown{T: TypeJoinPrune}, src6, dst6, ErrType},
		{"Unknown/type 16", &Unknown{T: 16}, src6, dst6, ErrType},
		{"Unknown/truncated Graft", &Unknown{T: TypeGraft, Body: []byte{2, 0}}, src6, dst6, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := []byte("prefix")
			out, err := Append(buf, tt.m, tt.src, tt.dst)
			if !errors.Is(err, tt.want) {
				t.Errorf("Append error %v, want %v", err, tt.want)
			}
			if string(out) != "prefix" {
				t.Errorf("Append returned %q, want its input unchanged", out)
			}
			if _, err := Marshal(tt.m, tt.src, tt.dst); !errors.Is(err, tt.want) {
				t.Errorf("Marshal error %v, want %v", err, tt.want)
			}
		})
	}
}

func sameSources(a netip.Addr, n int) []Source {
	s := make([]Source, n)
	for i := range s {
		s[i] = Source{Addr: a, MaskLen: 128, Sparse: true}
	}
	return s
}

// TestAppendKeepsPrefix checks that Append appends after existing bytes
// and computes the checksum over the new message only.
func TestAppendKeepsPrefix(t *testing.T) {
	m := &Assert{Group: Group{Addr: addr("ff0e::1"), MaskLen: 128}, Source: addr("2001:db8::1"), MetricPreference: 10, Metric: 1}
	alone, err := Marshal(m, src6, dst6)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Append([]byte("xyz"), m, src6, dst6)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:3]) != "xyz" || !bytes.Equal(out[3:], alone) {
		t.Errorf("Append = %x, want xyz then %x", out, alone)
	}
}
