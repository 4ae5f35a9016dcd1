package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	mrtUpSrc = netip.MustParseAddr("2001:db8:1::2")
	mrtUpGrp = netip.MustParseAddr("ff3e::4321:1234")
)

// mrt6msgBytes builds a struct mrt6msg as the kernel does.
func mrt6msgBytes(mbz, typ byte, mif uint16, src, dst netip.Addr) []byte {
	b := make([]byte, 8, mrt6msgLen)
	b[0], b[1] = mbz, typ
	binary.NativeEndian.PutUint16(b[2:], mif)
	b = append(b, src.AsSlice()...)
	return append(b, dst.AsSlice()...)
}

// mrtMarshalUpcall is the inverse of ParseUpcall (for the tests).
func mrtMarshalUpcall(u Upcall) []byte {
	return append(mrt6msgBytes(0, byte(u.Type), uint16(u.MIF), u.Src, u.Dst), u.Packet...)
}

// mrtUDPPacket is an IPv6/UDP packet of src to dst with payload (checksum
// left zero: ParseUpcall does not look).
func mrtUDPPacket(src, dst netip.Addr, payload []byte) []byte {
	b := make([]byte, 48, 48+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	b[6], b[7] = 17, 64
	copy(b[8:], src.AsSlice())
	copy(b[24:], dst.AsSlice())
	binary.BigEndian.PutUint16(b[40:], 40000)
	binary.BigEndian.PutUint16(b[42:], 5001)
	binary.BigEndian.PutUint16(b[44:], uint16(8+len(payload)))
	return append(b, payload...)
}

func TestParseUpcall(t *testing.T) {
	pkt := mrtUDPPacket(mrtUpSrc, mrtUpGrp, []byte("hello"))
	junk := bytes.Repeat([]byte{0xa5}, 40)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, c := range []struct {
		name    string
		in      []byte
		want    Upcall
		wantErr error
	}{
		{name: "nocache", in: mrt6msgBytes(0, 1, 3, mrtUpSrc, mrtUpGrp),
			want: Upcall{Type: NoCache, MIF: 3, Src: mrtUpSrc, Dst: mrtUpGrp}},
		{name: "nocache with the 40 trailing bytes Linux adds", in: cat(mrt6msgBytes(0, 1, 0, mrtUpSrc, mrtUpGrp), junk),
			want: Upcall{Type: NoCache, MIF: 0, Src: mrtUpSrc, Dst: mrtUpGrp}},
		{name: "wrongmif", in: cat(mrt6msgBytes(0, 2, 31, mrtUpSrc, mrtUpGrp), junk),
			want: Upcall{Type: WrongMIF, MIF: 31, Src: mrtUpSrc, Dst: mrtUpGrp}},
		{name: "wholepkt", in: cat(mrt6msgBytes(0, 3, 2, mrtUpSrc, mrtUpGrp), pkt),
			want: Upcall{Type: WholePkt, MIF: 2, Src: mrtUpSrc, Dst: mrtUpGrp, Packet: pkt}},
		{name: "wrmifwhole", in: cat(mrt6msgBytes(0, 4, 1, mrtUpSrc, mrtUpGrp), pkt),
			want: Upcall{Type: WrongMIFWhole, MIF: 1, Src: mrtUpSrc, Dst: mrtUpGrp, Packet: pkt}},
		{name: "(*,G) source", in: mrt6msgBytes(0, 1, 1, netip.IPv6Unspecified(), mrtUpGrp),
			want: Upcall{Type: NoCache, MIF: 1, Src: netip.IPv6Unspecified(), Dst: mrtUpGrp}},
		{name: "empty", in: nil, wantErr: ErrUpcallShort},
		{name: "one byte short", in: mrt6msgBytes(0, 1, 0, mrtUpSrc, mrtUpGrp)[:39], wantErr: ErrUpcallShort},
		{name: "wholepkt without a packet", in: mrt6msgBytes(0, 3, 2, mrtUpSrc, mrtUpGrp), wantErr: ErrUpcallShort},
		{name: "wrmifwhole with half a header", in: cat(mrt6msgBytes(0, 4, 2, mrtUpSrc, mrtUpGrp), pkt[:20]), wantErr: ErrUpcallShort},
		{name: "mbz set", in: mrt6msgBytes(1, 1, 0, mrtUpSrc, mrtUpGrp), wantErr: ErrUpcallMBZ},
		// An ICMPv6 Echo Request (type 128) that got past the filter.
		{name: "icmpv6 echo request", in: cat([]byte{128, 0, 0x12, 0x34, 0, 1, 0, 1}, bytes.Repeat([]byte{'x'}, 56)), wantErr: ErrUpcallMBZ},
		{name: "type 0", in: mrt6msgBytes(0, 0, 0, mrtUpSrc, mrtUpGrp), wantErr: ErrUpcallUnknown},
		{name: "type 5", in: mrt6msgBytes(0, 5, 0, mrtUpSrc, mrtUpGrp), wantErr: ErrUpcallUnknown},
		{name: "type 255", in: cat(mrt6msgBytes(0, 255, 0, mrtUpSrc, mrtUpGrp), pkt), wantErr: ErrUpcallUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseUpcall(c.in)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("ParseUpcall error = %v, want %v", err, c.wantErr)
			}
			if c.wantErr != nil {
				return
			}
			if diff := cmp.Diff(c.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("ParseUpcall (-want +got):\n%s", diff)
			}
			if len(got.Packet) > 0 && &got.Packet[0] == &c.in[mrt6msgLen] {
				t.Error("Packet aliases the input buffer")
			}
		})
	}
}

func TestUpcallTypeString(t *testing.T) {
	for typ, want := range map[UpcallType]string{NoCache: "NOCACHE", WrongMIF: "WRONGMIF", WholePkt: "WHOLEPKT", WrongMIFWhole: "WRMIFWHOLE", 9: "UpcallType(9)"} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

// Whatever bytes come in: no panic, and an accepted message marshals back
// to what was parsed (the struct, and the packet for whole-packet types),
// and parses again to the same upcall.
func FuzzParseUpcall(f *testing.F) {
	pkt := mrtUDPPacket(mrtUpSrc, mrtUpGrp, []byte("seed"))
	f.Add(mrt6msgBytes(0, 1, 3, mrtUpSrc, mrtUpGrp))
	f.Add(append(mrt6msgBytes(0, 2, 0, mrtUpSrc, mrtUpGrp), make([]byte, 40)...))
	f.Add(append(mrt6msgBytes(0, 3, 2, mrtUpSrc, mrtUpGrp), pkt...))
	f.Add(append(mrt6msgBytes(0, 4, 1, mrtUpSrc, mrtUpGrp), pkt...))
	f.Add(mrt6msgBytes(1, 1, 0, mrtUpSrc, mrtUpGrp))
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUpcall(b)
		if err != nil {
			if !errors.Is(err, ErrUpcallShort) && !errors.Is(err, ErrUpcallMBZ) && !errors.Is(err, ErrUpcallUnknown) {
				t.Fatalf("error of no known reason: %v", err)
			}
			return
		}
		m := mrtMarshalUpcall(u)
		want := b[:mrt6msgLen]
		if u.Type == WholePkt || u.Type == WrongMIFWhole {
			want = b
		}
		// im6_pad is not kept: compare around it.
		if !bytes.Equal(m[:4], want[:4]) || !bytes.Equal(m[8:], want[8:]) {
			t.Fatalf("marshal(parse(b)) = %x, want %x", m, want)
		}
		u2, err := ParseUpcall(m)
		if err != nil {
			t.Fatalf("parse(marshal(parse(b))): %v", err)
		}
		if diff := cmp.Diff(u, u2, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Fatalf("parse again (-first +second):\n%s", diff)
		}
	})
}
