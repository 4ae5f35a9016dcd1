package pimmsg

import (
	"encoding/binary"
	"testing"

	"github.com/pim6sd/pim6sd/internal/csum"
)

// TestChecksumCapture recomputes the checksum of every IPv6 frame whose
// sender followed RFC 7761 (tcpdump says correct, and it is not one of the
// whole-message Registers 178-189) and expects the captured value.
func TestChecksumCapture(t *testing.T) {
	verdicts := tcpdumpVerdicts(t)
	n := 0
	for _, p := range loadCapture(t) {
		if p.IPv4 || verdicts[p.Frame] != "correct" || (p.Frame >= 178 && p.Frame <= 189) {
			continue
		}
		n++
		want := binary.BigEndian.Uint16(p.Payload[2:])
		if got := Checksum(p.Payload, p.Src, p.Dst); got != want {
			t.Errorf("frame %d: Checksum = %#04x, captured %#04x", p.Frame, got, want)
		}
	}
	if n < 90 {
		t.Errorf("only %d frames checked", n)
	}
}

// TestVerifyRegisterVariants builds one Register with each checksum
// convention seen in the field.
func TestVerifyRegisterVariants(t *testing.T) {
	r := &Register{Packet: mustHex("6000000000041140 20010db8000000000000000000000001 ff0e0000000000000000000000001234 01020304")}
	good, err := Marshal(r, src6, dst6)
	if err != nil {
		t.Fatal(err)
	}
	with := func(ck uint16) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint16(b[2:], ck)
		return b
	}
	zeroed := with(0)
	wholePH := csum.Fold(csum.Sum(csum.PseudoHeader(src6, dst6, uint32(len(zeroed)), 103), zeroed))
	wholeNoPH := csum.Fold(csum.Sum(0, zeroed))
	eightNoPH := csum.Fold(csum.Sum(0, zeroed[:8]))
	tests := []struct {
		name string
		b    []byte
		want ChecksumVerdict
	}{
		{"first 8 bytes with pseudo-header (RFC 7761)", good, ChecksumOK},
		{"whole message with pseudo-header (tcpdump)", with(wholePH), ChecksumRegisterWhole},
		{"whole message without pseudo-header (Linux pim6_rcv)", with(wholeNoPH), ChecksumRegisterWhole},
		{"first 8 bytes without pseudo-header", with(eightNoPH), ChecksumBad},
		{"off by one", with(binary.BigEndian.Uint16(good[2:]) + 1), ChecksumBad},
		{"too short for a header", good[:3], ChecksumBad},
		{"a Register of only its header", append(with(0)[:4:4], 0, 0, 0, 0), ChecksumBad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyChecksum(tt.b, src6, dst6); got != tt.want {
				t.Errorf("VerifyChecksum = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("only the first 8 bytes are covered", func(t *testing.T) {
		b := append([]byte(nil), good...)
		b[len(b)-1] ^= 0xff
		if got := VerifyChecksum(b, src6, dst6); got != ChecksumOK {
			t.Errorf("VerifyChecksum after changing the payload = %v", got)
		}
		if Checksum(b, src6, dst6) != Checksum(good, src6, dst6) {
			t.Error("Checksum depends on the encapsulated packet")
		}
	})
}

// TestVerifyNegativeZero: a one's complement sum has two zeros; a sender
// may store either.
func TestVerifyNegativeZero(t *testing.T) {
	h := &Hello{GenerationID: new(uint32)}
	for id := range uint32(1 << 17) {
		*h.GenerationID = id
		b, err := Marshal(h, src6, dst6)
		if err != nil {
			t.Fatal(err)
		}
		if binary.BigEndian.Uint16(b[2:]) != 0 {
			continue
		}
		binary.BigEndian.PutUint16(b[2:], 0xffff)
		if got := VerifyChecksum(b, src6, dst6); got != ChecksumOK {
			t.Errorf("checksum 0xffff for a computed 0x0000: %v", got)
		}
		return
	}
	t.Skip("no generation ID gives a zero checksum")
}

func TestChecksumShortInput(t *testing.T) {
	for n := range 9 {
		b := []byte{0x21, 0, 0, 0, 0, 0, 0, 0}[:n]
		_ = Checksum(b, src6, dst6)
		_ = VerifyChecksum(b, src6, dst6)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{TypeHello.String(), "Hello"},
		{TypeJoinPrune.String(), "Join/Prune"},
		{TypeCandidateRPAdvertisement.String(), "Candidate-RP-Advertisement"},
		{TypeDFElection.String(), "DF Election"},
		{Type(11).String(), "type(11)"},
		{ChecksumOK.String(), "ok"},
		{ChecksumRegisterWhole.String(), "register-whole"},
		{ChecksumBad.String(), "bad"},
		{ChecksumVerdict(7).String(), "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
