// Package pcapread reads IP packets out of pcap and pcapng files for the
// decoder (`pim6stat decode`) and for tests that check our codecs against
// real captures. File formats and link layers are handled by gopacket; this
// package only walks to the upper-layer message (past the IPv6 hop-by-hop,
// destination-options and routing headers) and notes the facts MLD and PIM
// validation care about: hop limit and the Router Alert option.
package pcapread

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Packet is one IP packet from a capture.
type Packet struct {
	Frame       int // 1-based frame number, as tcpdump and tshark count
	Time        time.Time
	IPv4        bool
	Src, Dst    netip.Addr
	HopLimit    uint8 // IPv6 hop limit or IPv4 TTL
	RouterAlert bool  // an IPv6 hop-by-hop Router Alert (or IPv4 RA option) was present
	Proto       uint8 // upper-layer protocol: 58 ICMPv6, 103 PIM, ...
	Payload     []byte
	// Truncated reports that the capture holds less than the frame's length.
	Truncated bool
}

// ReadFile reads every IP packet of a pcap or pcapng file. Frames that carry
// no IP packet are skipped but still counted in frame numbers. On a broken
// record it returns the packets before it together with the error.
func ReadFile(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pkts, err := Read(f)
	if err != nil {
		// Keep what was read before the bad record: a decoder shows it.
		return pkts, fmt.Errorf("%s: %w", path, err)
	}
	return pkts, nil
}

// ErrFormat is returned for input that is neither pcap nor pcapng.
var ErrFormat = errors.New("not a pcap or pcapng file")

const maxSnaplen = 262144

type source interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// Read reads every IP packet from a pcap or pcapng stream.
func Read(r io.Reader) ([]Packet, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	var src source
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		src = ng
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		// Some writers record frames longer than the file's snap length
		// (tcpdump accepts them up to 256 KiB, as libpcap does).
		if pr.Snaplen() < maxSnaplen {
			pr.SetSnaplen(maxSnaplen)
		}
		src = pr
	}
	var out []Packet
	for frame := 1; ; frame++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("frame %d: %w", frame, err)
		}
		p, ok := decode(data, src.LinkType())
		if !ok {
			continue
		}
		p.Frame = frame
		p.Time = ci.Timestamp
		p.Truncated = p.Truncated || ci.CaptureLength < ci.Length
		out = append(out, p)
	}
}

func decode(data []byte, lt layers.LinkType) (Packet, bool) {
	pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var p Packet
	if l := pkt.Layer(layers.LayerTypeIPv4); l != nil {
		ip := l.(*layers.IPv4)
		p.IPv4 = true
		p.Src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		p.Dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		p.HopLimit = ip.TTL
		for _, o := range ip.Options {
			if o.OptionType == 148 {
				p.RouterAlert = true
			}
		}
		p.Proto = uint8(ip.Protocol)
		p.Payload = ip.Payload
		return p, true
	}
	l := pkt.Layer(layers.LayerTypeIPv6)
	if l == nil {
		return p, false
	}
	ip := l.(*layers.IPv6)
	p.Src, _ = netip.AddrFromSlice(ip.SrcIP)
	p.Dst, _ = netip.AddrFromSlice(ip.DstIP)
	p.HopLimit = ip.HopLimit
	// An IPv6 payload length beyond the captured bytes means a cut frame.
	p.Truncated = int(ip.Length) > len(ip.Payload)+ip6ExtLen(ip)
	p.Proto = uint8(ip.NextHeader)
	p.Payload = ip.Payload
	// gopacket folds the hop-by-hop header into the IPv6 layer; its payload
	// then starts after it.
	if ip.HopByHop != nil {
		p.Proto = uint8(ip.HopByHop.NextHeader)
		p.Payload = ip.HopByHop.LayerPayload()
		for _, o := range ip.HopByHop.Options {
			if o.OptionType == 5 { // Router Alert, RFC 2711
				p.RouterAlert = true
			}
		}
	}
	for _, l := range pkt.Layers() {
		switch e := l.(type) {
		case *layers.IPv6Destination:
			p.Proto, p.Payload = uint8(e.NextHeader), e.LayerPayload()
		case *layers.IPv6Routing:
			p.Proto, p.Payload = uint8(e.NextHeader), e.LayerPayload()
		}
	}
	return p, true
}

// ip6ExtLen is the length of the hop-by-hop header gopacket folded into the
// IPv6 layer (it counts toward the payload length but not ip.Payload).
func ip6ExtLen(ip *layers.IPv6) int {
	if ip.HopByHop == nil {
		return 0
	}
	return len(ip.HopByHop.Contents)
}
