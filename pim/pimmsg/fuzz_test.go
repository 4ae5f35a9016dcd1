package pimmsg

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/pcapread"
)

// The fuzz property: a message that parses re-encodes, the encoding parses
// back to an equal message, and encoding that again gives the same bytes,
// with a checksum that verifies. Parse must also not alias its input.
func roundTrip(t *testing.T, b []byte) {
	in := bytes.Clone(b)
	m, err := Parse(in)
	if err != nil {
		return
	}
	enc, err := Marshal(m, src6, dst6)
	if err != nil {
		t.Fatalf("Marshal of parsed %T: %v\n%+v", m, err, m)
	}
	if Len(m) != len(enc) {
		t.Fatalf("Len = %d, encoded %d bytes", Len(m), len(enc))
	}
	for i := range in {
		in[i] ^= 0x5a // m must not change with its input
	}
	m2, err := Parse(enc)
	if err != nil {
		t.Fatalf("Parse of re-encoded %x: %v", enc, err)
	}
	if diff := cmp.Diff(m, m2, cmpOpts); diff != "" {
		t.Fatalf("parse, marshal, parse (-first +second):\n%s", diff)
	}
	enc2, err := Append([]byte{1, 2, 3}, m2, src6, dst6)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, enc2[3:]) {
		t.Fatalf("second encoding differs:\n%x\n%x", enc, enc2[3:])
	}
	if v := VerifyChecksum(enc, src6, dst6); v != ChecksumOK {
		t.Fatalf("VerifyChecksum = %v", v)
	}
}

// seedMessages returns every message of the capture, the rows and the
// sanitizer reproducers.
func seedMessages(f *testing.F) [][]byte {
	pkts, err := pcapread.ReadFile(capturePath)
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, p := range pkts {
		if len(p.Payload) <= 1024 { // small seeds fuzz faster; 182-185 are big Registers
			out = append(out, p.Payload)
		}
	}
	for _, r := range rows {
		out = append(out, mustHex(r.wire))
	}
	for _, name := range []string{"pim_header_asan.pcap", "pim_header_asan-2.pcap", "pim_header_asan-3.pcap", "pim_header_asan-4.pcap"} {
		out = append(out, rawPIMPayloads(f, "../../testdata/pcap/"+name)...)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, b := range seedMessages(f) {
		f.Add(b)
	}
	f.Fuzz(roundTrip)
}

// fuzzType fuzzes the body of one message type behind a valid header, so
// that the fuzzer does not spend its time on versions and types.
func fuzzType(f *testing.F, t Type) {
	for _, b := range seedMessages(f) {
		if len(b) >= 4 && Type(b[0]&0x0f) == t {
			f.Add(b[1], b[4:])
		}
	}
	f.Fuzz(func(tt *testing.T, flags byte, body []byte) {
		roundTrip(tt, append([]byte{Version<<4 | uint8(t), flags, 0, 0}, body...))
	})
}

func FuzzHello(f *testing.F)        { fuzzType(f, TypeHello) }
func FuzzRegister(f *testing.F)     { fuzzType(f, TypeRegister) }
func FuzzRegisterStop(f *testing.F) { fuzzType(f, TypeRegisterStop) }
func FuzzJoinPrune(f *testing.F)    { fuzzType(f, TypeJoinPrune) }
func FuzzAssert(f *testing.F)       { fuzzType(f, TypeAssert) }
func FuzzBootstrap(f *testing.F)    { fuzzType(f, TypeBootstrap) }
func FuzzCandidateRPAdvertisement(f *testing.F) {
	fuzzType(f, TypeCandidateRPAdvertisement)
}

// FuzzUnknown covers the raw types, including the checked Graft,
// Graft-Ack, State Refresh and DF Election layouts.
func FuzzUnknown(f *testing.F) {
	for _, b := range seedMessages(f) {
		if len(b) >= 4 {
			f.Add(b[0], b[1], b[4:])
		}
	}
	f.Fuzz(func(t *testing.T, typ, flags byte, body []byte) {
		switch typ &= 0x0f; Type(typ) {
		case TypeHello, TypeRegister, TypeRegisterStop, TypeJoinPrune, TypeBootstrap, TypeAssert, TypeCandidateRPAdvertisement:
			typ = uint8(TypeGraft) + typ%2
		}
		roundTrip(t, append([]byte{Version<<4 | typ, flags, 0, 0}, body...))
	})
}

// byteStream feeds a generator from fuzz input, then zeros.
type byteStream []byte

func (s *byteStream) next() int {
	if len(*s) == 0 {
		return 0
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return int(b)
}

// genJoinPrune builds a Join/Prune from fuzz bytes: a few groups with up
// to a few hundred sources, flags (so (*,G) Joins and (S,G,rpt) Prunes)
// from the input.
func genJoinPrune(data []byte) *JoinPrune {
	s := byteStream(data)
	jp := &JoinPrune{UpstreamNeighbor: addr("fe80::2"), Holdtime: uint16(s.next())}
	for range s.next() % 8 {
		g := JoinPruneGroup{Group: grp(s.next())}
		nj, np := s.next()*(1+s.next()%4)%400, s.next()*(1+s.next()%4)%400
		for i := range nj + np {
			f := s.next()
			src := Source{Addr: nthAddr("2001:db8::", i), MaskLen: 128, Sparse: true, WildCard: f&3 == 3, RPT: f&1 == 1}
			if i < nj {
				g.Joins = append(g.Joins, src)
			} else {
				g.Prunes = append(g.Prunes, src)
			}
		}
		jp.Groups = append(jp.Groups, g)
	}
	return jp
}

func FuzzSplitJoinPrune(f *testing.F) {
	f.Add([]byte{0, 3, 1, 5, 1, 7, 1, 3, 1, 1, 0, 1, 3, 2, 20, 1, 9, 1}, uint16(100))
	f.Add(bytes.Repeat([]byte{7, 3}, 200), uint16(1460))
	f.Add(bytes.Repeat([]byte{200, 1}, 200), uint16(300))
	f.Fuzz(func(t *testing.T, data []byte, maxLen uint16) {
		jp := genJoinPrune(data)
		limit := 70 + int(maxLen)
		outs, err := SplitJoinPrune(jp, limit)
		if err != nil {
			t.Fatal(err)
		}
		checkJPSplit(t, jp, outs, limit)
	})
}

// genBootstrap builds a Bootstrap from fuzz bytes.
func genBootstrap(data []byte) *Bootstrap {
	s := byteStream(data)
	flags := s.next()
	bs := &Bootstrap{NoForward: flags&1 == 1, FragmentTag: uint16(s.next()<<8 | s.next()), HashMaskLen: 126, BSR: addr("2001:db8::b")}
	for i := range s.next() % 16 {
		n := s.next()
		// RPCount may exceed the RPs given, as in a fragment.
		g := BootstrapGroup{Group: Group{Addr: nthAddr("ff00::", i), MaskLen: 16}, RPCount: uint8(n + min(s.next()%4, 255-n))}
		// flags bit 1: the BSM of a scope zone, named by its first range.
		g.Group.AdminScope = i == 0 && flags&2 != 0
		for j := range n {
			g.RPs = append(g.RPs, BootstrapRP{Addr: nthAddr("2001:db8:1::", j), Holdtime: 150, Priority: uint8(j)})
		}
		bs.Groups = append(bs.Groups, g)
	}
	return bs
}

func FuzzSplitBootstrap(f *testing.F) {
	f.Add([]byte{1, 0xbe, 0xef, 3, 2, 0, 0, 0, 20, 1}, uint16(100))
	f.Add(bytes.Repeat([]byte{20, 0}, 20), uint16(1460))
	f.Add([]byte{0, 0, 0, 1, 255, 0}, uint16(0))
	f.Add([]byte{2, 0xbe, 0xef, 3, 5, 0, 3, 1, 20, 1}, uint16(40))
	f.Fuzz(func(t *testing.T, data []byte, maxLen uint16) {
		bs := genBootstrap(data)
		limit := 72 + int(maxLen)
		if len(bs.Groups) > 0 && bs.Groups[0].Group.AdminScope {
			limit += bsGroupHeaderLen // room for the zone's range before a range with an RP
		}
		outs, err := SplitBootstrap(bs, limit)
		if err != nil {
			t.Fatal(err)
		}
		checkBSSplit(t, bs, outs, limit)
	})
}
