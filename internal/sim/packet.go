package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/pim6sd/pim6sd/internal/csum"
)

// IPv6 next-header values the simulation knows.
const (
	protoHopByHop = 0
	protoUDP      = 17
	protoICMPv6   = 58
	protoPIM      = 103
)

const (
	ipv6HeaderLen = 40
	hbhRALen      = 8 // a hop-by-hop header holding Router Alert and PadN
	udpHeaderLen  = 8
)

// UDP ports of the hosts' datagrams (Host.Send).
const (
	SourcePort = 5000
	DestPort   = 5001
)

// Packet is one IPv6 packet on a simulated link. The only extension header
// modelled is a hop-by-hop header with the Router Alert option (value 0,
// MLD), which MLD messages carry. A Packet is never changed once sent:
// forwarding makes a copy with the hop limit decremented.
type Packet struct {
	Src, Dst    netip.Addr
	HopLimit    int
	Proto       uint8 // the upper-layer protocol: 17 UDP, 58 ICMPv6, 103 PIM
	RouterAlert bool
	Payload     []byte // the upper-layer message (UDP header and data, ICMPv6, PIM)
}

// Len is the packet's length on the wire, IPv6 header included (what the
// kernel's byte counters add).
func (p *Packet) Len() int {
	n := ipv6HeaderLen + len(p.Payload)
	if p.RouterAlert {
		n += hbhRALen
	}
	return n
}

// withHopLimit returns a copy of p with hop limit hl (the payload is
// shared: it is never written).
func (p *Packet) withHopLimit(hl int) *Packet {
	q := *p
	q.HopLimit = hl
	return &q
}

// Marshal returns the packet's bytes from its IPv6 header on: what a
// whole-packet upcall carries and what a PIM Register encapsulates.
func (p *Packet) Marshal() []byte {
	b := make([]byte, ipv6HeaderLen, p.Len())
	b[0] = 0x60
	next := p.Proto
	plen := len(p.Payload)
	if p.RouterAlert {
		next = protoHopByHop
		plen += hbhRALen
	}
	binary.BigEndian.PutUint16(b[4:], uint16(plen))
	b[6] = next
	b[7] = uint8(p.HopLimit)
	s, d := p.Src.As16(), p.Dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	if p.RouterAlert {
		// Next header, length 0 (8 bytes), Router Alert (type 5, length
		// 2, value 0), PadN of 2 bytes (type 1, length 0).
		b = append(b, p.Proto, 0, 5, 2, 0, 0, 1, 0)
	}
	return append(b, p.Payload...)
}

// errPacket is what ParsePacket returns for anything it cannot read.
var errPacket = errors.New("sim: not an IPv6 packet the simulation can read")

// ParsePacket reads an IPv6 packet (as Marshal writes it: at most one
// hop-by-hop header, whose Router Alert option is noted). Bytes past the
// payload length are dropped, as the kernel does. The payload is copied.
func ParsePacket(b []byte) (*Packet, error) {
	if len(b) < ipv6HeaderLen || b[0]>>4 != 6 {
		return nil, errPacket
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < ipv6HeaderLen+plen {
		return nil, fmt.Errorf("%w: %d bytes, the header says %d", errPacket, len(b), ipv6HeaderLen+plen)
	}
	p := &Packet{
		Src:      netip.AddrFrom16([16]byte(b[8:24])),
		Dst:      netip.AddrFrom16([16]byte(b[24:40])),
		HopLimit: int(b[7]),
		Proto:    b[6],
	}
	rest := b[ipv6HeaderLen : ipv6HeaderLen+plen]
	if p.Proto == protoHopByHop {
		if len(rest) < 8 {
			return nil, errPacket
		}
		hl := 8 * (int(rest[1]) + 1)
		if len(rest) < hl {
			return nil, errPacket
		}
		opts := rest[2:hl]
		for len(opts) > 0 {
			if opts[0] == 0 { // Pad1
				opts = opts[1:]
				continue
			}
			if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
				return nil, errPacket
			}
			if opts[0] == 5 {
				p.RouterAlert = true
			}
			opts = opts[2+int(opts[1]):]
		}
		p.Proto = rest[0]
		rest = rest[hl:]
	}
	p.Payload = append([]byte(nil), rest...)
	return p, nil
}

// udpDatagram builds a UDP header (checksum filled in) and data.
func udpDatagram(src, dst netip.Addr, sport, dport uint16, data []byte) []byte {
	b := make([]byte, udpHeaderLen, udpHeaderLen+len(data))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(udpHeaderLen+len(data)))
	b = append(b, data...)
	acc := csum.PseudoHeader(src, dst, uint32(len(b)), protoUDP)
	c := csum.Fold(csum.Sum(acc, b))
	if c == 0 {
		c = 0xffff // RFC 8200 8.1: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// parseUDP returns the data of a UDP datagram whose checksum verifies.
func parseUDP(src, dst netip.Addr, b []byte) ([]byte, bool) {
	if len(b) < udpHeaderLen || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
		return nil, false
	}
	acc := csum.PseudoHeader(src, dst, uint32(len(b)), protoUDP)
	if csum.Fold(csum.Sum(acc, b)) != 0 {
		return nil, false
	}
	return b[udpHeaderLen:], true
}

// isLinkScope reports whether a multicast address is of interface- or
// link-local scope (ff01::/16, ff02::/16, and the reserved scope 0): the
// multicast forwarding code never sees such packets.
func isLinkScope(a netip.Addr) bool {
	return a.IsMulticast() && a.As16()[1]&0x0f <= 2
}

var (
	allNodes   = netip.MustParseAddr("ff02::1")
	allRouters = netip.MustParseAddr("ff02::2")
	allPIM     = netip.MustParseAddr("ff02::d")
	allMLDv2   = netip.MustParseAddr("ff02::16")
)

// isMLD reports whether an ICMPv6 message is an MLD message.
func isMLD(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case 130, 131, 132, 143:
		return true
	}
	return false
}
