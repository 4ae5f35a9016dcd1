package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Frame is one packet sent on a link: by a host, by a daemon (through its
// kernel) or forwarded by a kernel.
type Frame struct {
	At   time.Time
	Link string
	From string // "node/iface" of the sender
	To   string // for a unicast frame, "node/iface" of the receiver; "" for multicast
	// Lost is set when silence (Iface.SetSilent, Link.SetSilent) lost
	// the frame as it left.
	Lost bool
	*Packet
}

// Elapsed is the frame's time since the simulation started.
func (f Frame) Elapsed() time.Duration { return f.At.Sub(Epoch) }

// PIM parses a PIM frame (nil if it is not PIM or does not parse).
func (f Frame) PIM() pimmsg.Message {
	if f.Proto != protoPIM {
		return nil
	}
	m, err := pimmsg.Parse(f.Payload)
	if err != nil {
		return nil
	}
	return m
}

// MLD parses an MLD frame (nil if it is not MLD or does not parse).
func (f Frame) MLD() mldmsg.Message {
	if f.Proto != protoICMPv6 || !isMLD(f.Payload) {
		return nil
	}
	m, err := mldmsg.Parse(f.Payload)
	if err != nil {
		return nil
	}
	return m
}

// UDP returns the data of a UDP frame.
func (f Frame) UDP() ([]byte, bool) {
	if f.Proto != protoUDP {
		return nil, false
	}
	return parseUDP(f.Src, f.Dst, f.Payload)
}

// String is the frame as one trace line.
func (f Frame) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", fmtElapsed(f.Elapsed()), f.Link, f.From)
	if f.To != "" {
		fmt.Fprintf(&b, " -> %s", f.To)
	}
	fmt.Fprintf(&b, " %v > %v hl=%d ", f.Src, f.Dst, f.HopLimit)
	b.WriteString(describe(f.Packet))
	if f.Lost {
		b.WriteString(" (lost)")
	}
	return b.String()
}

// describe renders a packet's upper layer with the project's codecs.
func describe(p *Packet) string {
	switch p.Proto {
	case protoPIM:
		m, err := pimmsg.Parse(p.Payload)
		if err != nil {
			return fmt.Sprintf("PIM malformed (%v)", err)
		}
		return describePIM(m)
	case protoICMPv6:
		if !isMLD(p.Payload) {
			if len(p.Payload) == 0 {
				return "ICMPv6 empty"
			}
			return fmt.Sprintf("ICMPv6 type %d", p.Payload[0])
		}
		m, err := mldmsg.Parse(p.Payload)
		if err != nil {
			return fmt.Sprintf("MLD malformed (%v)", err)
		}
		s := describeMLD(m)
		if !p.RouterAlert {
			s += " (no router alert)"
		}
		return s
	case protoUDP:
		data, ok := parseUDP(p.Src, p.Dst, p.Payload)
		if !ok {
			return "UDP malformed"
		}
		if seq, ok := Seq(data); ok {
			return fmt.Sprintf("UDP len=%d seq=%d", len(data), seq)
		}
		return fmt.Sprintf("UDP len=%d", len(data))
	}
	return fmt.Sprintf("proto %d len=%d", p.Proto, len(p.Payload))
}

func describePIM(m pimmsg.Message) string {
	switch m := m.(type) {
	case *pimmsg.Hello:
		var b strings.Builder
		b.WriteString("PIM Hello")
		if m.Holdtime != nil {
			fmt.Fprintf(&b, " hold=%d", *m.Holdtime)
		}
		if m.DRPriority != nil {
			fmt.Fprintf(&b, " prio=%d", *m.DRPriority)
		}
		if m.GenerationID != nil {
			fmt.Fprintf(&b, " genid=%#08x", *m.GenerationID)
		}
		if l := m.LANPruneDelay; l != nil {
			fmt.Fprintf(&b, " lpd=%d/%d", l.PropagationDelay, l.OverrideInterval)
			if l.T {
				b.WriteString("/T")
			}
		}
		if len(m.AddressList) > 0 {
			fmt.Fprintf(&b, " addrs=%v", m.AddressList)
		}
		return b.String()
	case *pimmsg.JoinPrune:
		var b strings.Builder
		fmt.Fprintf(&b, "PIM Join/Prune upstream=%v hold=%d", m.UpstreamNeighbor, m.Holdtime)
		for _, g := range m.Groups {
			fmt.Fprintf(&b, " [%v J(%s) P(%s)]", g.Group.Prefix(), sources(g.Joins), sources(g.Prunes))
		}
		return b.String()
	case *pimmsg.Register:
		s := "PIM Register"
		if m.Null {
			s += " null"
		}
		if m.Border {
			s += " border"
		}
		if in, err := ParsePacket(m.Packet); err == nil {
			s += fmt.Sprintf(" inner %v > %v len=%d", in.Src, in.Dst, in.Len())
		} else if len(m.Packet) >= ipv6HeaderLen {
			s += fmt.Sprintf(" inner %v > %v", netip.AddrFrom16([16]byte(m.Packet[8:24])), netip.AddrFrom16([16]byte(m.Packet[24:40])))
		}
		return s
	case *pimmsg.RegisterStop:
		return fmt.Sprintf("PIM Register-Stop %v %v", m.Group.Prefix(), m.Source)
	case *pimmsg.Assert:
		rpt := ""
		if m.RPT {
			rpt = " rpt"
		}
		return fmt.Sprintf("PIM Assert %v %v%s pref=%d metric=%d", m.Group.Prefix(), m.Source, rpt, m.MetricPreference, m.Metric)
	}
	return "PIM " + m.Type().String()
}

func sources(ss []pimmsg.Source) string {
	var parts []string
	for _, s := range ss {
		x := s.Addr.String()
		if s.MaskLen != 128 {
			x += fmt.Sprintf("/%d", s.MaskLen)
		}
		if s.WildCard {
			x = "*" + x
		}
		if s.RPT {
			x += ",rpt"
		}
		parts = append(parts, x)
	}
	return strings.Join(parts, " ")
}

func describeMLD(m mldmsg.Message) string {
	switch m := m.(type) {
	case *mldmsg.QueryV1:
		return fmt.Sprintf("MLDv1 Query %v mrd=%dms", m.Group, m.MaxRespDelay)
	case *mldmsg.QueryV2:
		s := fmt.Sprintf("MLDv2 Query %v mrd=%v", m.Group, m.MaxRespDelay())
		if len(m.Sources) > 0 {
			s += fmt.Sprintf(" sources=%v", m.Sources)
		}
		if m.SuppressRouterSide {
			s += " S"
		}
		return s
	case *mldmsg.ReportV1:
		return fmt.Sprintf("MLDv1 Report %v", m.Group)
	case *mldmsg.Done:
		return fmt.Sprintf("MLDv1 Done %v", m.Group)
	case *mldmsg.ReportV2:
		var b strings.Builder
		b.WriteString("MLDv2 Report")
		for _, r := range m.Records {
			fmt.Fprintf(&b, " %v %v %v", r.Type, r.Group, r.Sources)
		}
		return b.String()
	}
	return "MLD ?"
}

// traceLine is one line of the trace: a frame (by index) or a kernel
// event's text.
type traceLine struct {
	at    time.Time
	frame int // index in Net.frames, or -1
	text  string
}

// Frames returns every frame sent so far, in order.
func (n *Net) Frames() []Frame { return append([]Frame(nil), n.frames...) }

// Trace returns the trace as lines: every frame sent on any link, and the
// simulated kernels' MFC changes and upcalls, in the order they happened.
// Two runs of the same scenario give the same trace.
func (n *Net) Trace() []string {
	out := make([]string, 0, len(n.trace))
	for _, t := range n.trace {
		if t.frame >= 0 {
			out = append(out, n.frames[t.frame].String())
		} else {
			out = append(out, fmtElapsed(t.at.Sub(Epoch))+" "+t.text)
		}
	}
	return out
}

// note adds a kernel event to the trace.
func (n *Net) note(format string, args ...any) {
	n.trace = append(n.trace, traceLine{at: n.now, frame: -1, text: fmt.Sprintf(format, args...)})
}

// Seq reads the sequence number a Stream puts in its datagrams: 8 bytes,
// big endian, after the marker "seq:".
func Seq(data []byte) (uint64, bool) {
	if len(data) != 12 || string(data[:4]) != "seq:" {
		return 0, false
	}
	return binary.BigEndian.Uint64(data[4:]), true
}

func seqPayload(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("seq:"), seq)
}
