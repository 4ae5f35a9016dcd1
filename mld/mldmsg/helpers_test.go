package mldmsg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/pcapread"
)

// cmpOpts compares addresses by value; netip.Addr has unexported fields.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

var (
	linkSrc  = netip.MustParseAddr("fe80::1")
	linkSrc2 = netip.MustParseAddr("fe80::2")
	allNodes = netip.MustParseAddr("ff02::1")
	mldv2Dst = netip.MustParseAddr("ff02::16")
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// unhex decodes a byte row written as hex with any spacing.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex row: %v", err)
	}
	return b
}

var sentinels = []error{ErrTruncated, ErrLength, ErrType, ErrAddress, ErrAuxData, ErrRange}

// sentinelOf returns the one sentinel err wraps, or nil if it wraps none or
// several.
func sentinelOf(err error) error {
	var found error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

const icmpv6Pcap = "../../testdata/pcap/icmpv6.pcap"

// mldFrames returns the MLD messages of icmpv6.pcap by frame number, with
// their source and destination.
func mldFrames(t testing.TB) map[int]pcapread.Packet {
	t.Helper()
	pkts, err := pcapread.ReadFile(icmpv6Pcap)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]pcapread.Packet{}
	for _, p := range pkts {
		if p.Proto == protoICMPv6 && len(p.Payload) > 0 && isMLDType(p.Payload[0]) {
			out[p.Frame] = p
		}
	}
	return out
}

// checkRoundTrip is the property every fuzz target checks: if b parses,
// the message marshals, the encoding verifies and parses back equal, and
// marshalling that again gives the same bytes. A parse error must wrap
// exactly one sentinel, so that it counts under one drop reason.
func checkRoundTrip(t *testing.T, b []byte) {
	t.Helper()
	in := bytes.Clone(b)
	m, err := Parse(in)
	if err != nil {
		if sentinelOf(err) == nil {
			t.Fatalf("Parse error %q wraps no single sentinel", err)
		}
		return
	}
	// Parse must have copied: scribbling over its input changes nothing.
	for i := range in {
		in[i] ^= 0xff
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("second Parse of the same bytes: %v", err)
	}
	if diff := cmp.Diff(again, m, cmpOpts); diff != "" {
		t.Fatalf("message aliases its input buffer (-want +got):\n%s", diff)
	}

	enc, err := Marshal(m, linkSrc, mldv2Dst)
	if err != nil {
		t.Fatalf("Marshal of a parsed %T: %v", m, err)
	}
	if len(enc) != Len(m) {
		t.Fatalf("len(Marshal) = %d, Len = %d", len(enc), Len(m))
	}
	if len(enc) > len(b) {
		t.Fatalf("encoding of %d octets is longer than the %d parsed", len(enc), len(b))
	}
	if !VerifyChecksum(enc, linkSrc, mldv2Dst) {
		t.Fatalf("Marshal output does not verify: % x", enc)
	}
	m2, err := Parse(enc)
	if err != nil {
		t.Fatalf("Parse(Marshal(m)): %v\n% x", err, enc)
	}
	if diff := cmp.Diff(m, m2, cmpOpts); diff != "" {
		t.Fatalf("Parse(Marshal(m)) differs (-want +got):\n%s", diff)
	}
	enc2, err := Marshal(m2, linkSrc, mldv2Dst)
	if err != nil {
		t.Fatalf("Marshal(m2): %v", err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("second Marshal differs:\n% x\n% x", enc, enc2)
	}
}
