package pcapread

import (
	"os"

	"bytes"
	"errors"
	"github.com/google/gopacket/pcapgo"
	"net/netip"
	"testing"
)

func TestReadAssortment(t *testing.T) {
	pkts, err := ReadFile("../../testdata/pcap/pim-packet-assortment.pcap")
	if err != nil {
		t.Fatal(err)
	}
	// tcpdump counts 245 frames: 128 IPv4 and 117 IPv6, all PIM.
	var v4, v6 int
	for _, p := range pkts {
		if p.Proto != 103 {
			t.Errorf("frame %d: proto %d, want PIM", p.Frame, p.Proto)
		}
		if p.IPv4 {
			v4++
		} else {
			v6++
		}
	}
	if v4 != 128 || v6 != 117 {
		t.Fatalf("got %d IPv4 and %d IPv6 packets, want 128 and 117", v4, v6)
	}
	// Frame 129 (tcpdump): 10::2 > ff02::d, hlim 64, Bootstrap (type 4), 26 bytes.
	p := pkts[128]
	if p.Frame != 129 || p.Src != netip.MustParseAddr("10::2") || p.Dst != netip.MustParseAddr("ff02::d") ||
		p.HopLimit != 64 || len(p.Payload) != 26 || p.Payload[0] != 0x24 {
		t.Fatalf("frame 129 = %+v", p)
	}
}

func TestReadMLDRouterAlert(t *testing.T) {
	pkts, err := ReadFile("../../testdata/pcap/icmpv6.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 5 {
		t.Fatalf("got %d packets, want 5", len(pkts))
	}
	// Frame 1 is a router advertisement without hop-by-hop; frames 2-5 are MLD
	// with Router Alert, hop limit 1 (tcpdump: "HBH (rtalert: 0x0000)").
	if pkts[0].RouterAlert || pkts[0].Payload[0] != 134 {
		t.Errorf("frame 1: RA=%v type=%d", pkts[0].RouterAlert, pkts[0].Payload[0])
	}
	for _, p := range pkts[1:] {
		if !p.RouterAlert || p.HopLimit != 1 || p.Proto != 58 {
			t.Errorf("frame %d: RA=%v hlim=%d proto=%d", p.Frame, p.RouterAlert, p.HopLimit, p.Proto)
		}
	}
	if pkts[2].Payload[0] != 130 || len(pkts[2].Payload) != 28 {
		t.Errorf("frame 3: type %d len %d, want query of 28 bytes", pkts[2].Payload[0], len(pkts[2].Payload))
	}
}

func TestReadRejectsGarbage(t *testing.T) {
	_, err := Read(bytes.NewReader([]byte("this is not a capture file at all")))
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("err = %v, want ErrFormat", err)
	}
	if _, err := ReadFile("does-not-exist.pcap"); err == nil {
		t.Fatal("missing file: no error")
	}
}

// pcapng files (what Wireshark and dumpcap write by default) read the same
// as pcap: rewrite the MLD capture as pcapng and compare.
func TestReadPcapng(t *testing.T) {
	want, err := ReadFile("../../testdata/pcap/icmpv6.pcap")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/pcap/icmpv6.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, r.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("pcapng: %d packets, pcap: %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Frame != want[i].Frame || got[i].Src != want[i].Src || !bytes.Equal(got[i].Payload, want[i].Payload) || got[i].RouterAlert != want[i].RouterAlert {
			t.Errorf("packet %d differs: %+v vs %+v", i, got[i], want[i])
		}
	}
}
