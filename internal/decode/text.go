package decode

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// WriteText prints one block per message and the summary, for people.
func WriteText(w io.Writer, msgs []Message) error {
	bw := bufio.NewWriter(w)
	for _, m := range msgs {
		writeBlock(bw, m)
	}
	s := Summarize(msgs)
	fmt.Fprintf(bw, "%d messages (%d PIM, %d MLD): %d malformed, %d truncated, %d unsupported (IPv4), %d bad checksum\n",
		s.Messages, s.PIM, s.MLD, s.Malformed, s.Truncated, s.Unsupported, s.BadChecksum)
	return bw.Flush()
}

// WriteJSON prints the messages and the summary as one JSON document.
func WriteJSON(w io.Writer, msgs []Message) error {
	if msgs == nil {
		msgs = []Message{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Messages []Message `json:"messages"`
		Summary  Summary   `json:"summary"`
	}{msgs, Summarize(msgs)})
}

func writeBlock(w *bufio.Writer, m Message) {
	fmt.Fprintf(w, "frame %d  %s  %s > %s  hlim %d", m.Frame, m.Time.UTC().Format("2006-01-02 15:04:05.000000"), m.Src, m.Dst, m.HopLimit)
	if m.RouterAlert {
		w.WriteString("  router-alert")
	}
	w.WriteByte('\n')
	fmt.Fprintf(w, "  %s %s, %d bytes, checksum %s", strings.ToUpper(m.Protocol), m.Type, m.Length, m.Checksum)
	if m.Truncated {
		w.WriteString(", truncated capture")
	}
	w.WriteByte('\n')
	switch m.Status {
	case StatusMalformed:
		fmt.Fprintf(w, "    MALFORMED: %s\n", m.Error)
	case StatusTruncated:
		w.WriteString("    TRUNCATED capture: only part of the message was captured")
		if m.Error != "" {
			fmt.Fprintf(w, " (%s)", m.Error)
		}
		w.WriteByte('\n')
	case StatusUnsupported:
		w.WriteString("    IPv4 PIM: pim6sd is IPv6 only")
		if m.Error != "" {
			fmt.Fprintf(w, " (%s)", m.Error)
		}
		w.WriteByte('\n')
	}
	if m.PIM != nil {
		writePIM(w, m.PIM)
	}
	if m.MLD != nil {
		writeMLD(w, m.MLD)
	}
	w.WriteByte('\n')
}

func line(w *bufio.Writer, indent int, format string, args ...any) {
	w.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

func secs(s uint16) string {
	switch s {
	case 0xffff:
		return "infinite"
	}
	return (time.Duration(s) * time.Second).String()
}

func group(g pimmsg.Group) string {
	s := netip.PrefixFrom(g.Addr, int(g.MaskLen)).String()
	if g.Bidir {
		s += " bidir"
	}
	if g.AdminScope {
		s += " admin-scope"
	}
	return s
}

func source(s pimmsg.Source) string {
	out := netip.PrefixFrom(s.Addr, int(s.MaskLen)).String()
	var f string
	if s.Sparse {
		f += "S"
	}
	if s.WildCard {
		f += "W"
	}
	if s.RPT {
		f += "R"
	}
	if f != "" {
		out += " (" + f + ")"
	}
	return out
}

func writePIM(w *bufio.Writer, msg pimmsg.Message) {
	switch m := msg.(type) {
	case *pimmsg.Hello:
		if m.Holdtime != nil {
			line(w, 2, "holdtime %s", secs(*m.Holdtime))
		}
		if d := m.LANPruneDelay; d != nil {
			line(w, 2, "lan-prune-delay T=%t propagation-delay %dms override-interval %dms", d.T, d.PropagationDelay, d.OverrideInterval)
		}
		if m.DRPriority != nil {
			line(w, 2, "dr-priority %d", *m.DRPriority)
		}
		if m.GenerationID != nil {
			line(w, 2, "generation-id 0x%08x", *m.GenerationID)
		}
		if m.AddressList != nil {
			line(w, 2, "address-list (%d)", len(m.AddressList))
			for _, a := range m.AddressList {
				line(w, 3, "%s", a)
			}
		}
		for _, o := range m.Unknown {
			line(w, 2, "option %d, %d bytes: % x", o.Type, len(o.Value), o.Value)
		}
	case *pimmsg.Register:
		line(w, 2, "border %t, null-register %t, inner packet %d bytes", m.Border, m.Null, len(m.Packet))
		if src, dst, ok := innerAddrs(m.Packet); ok {
			line(w, 2, "inner %s > %s", src, dst)
		}
	case *pimmsg.RegisterStop:
		line(w, 2, "group %s source %s", group(m.Group), m.Source)
	case *pimmsg.JoinPrune:
		line(w, 2, "upstream-neighbor %s, holdtime %s, %d group(s)", m.UpstreamNeighbor, secs(m.Holdtime), len(m.Groups))
		for _, g := range m.Groups {
			line(w, 3, "group %s: %d joined, %d pruned", group(g.Group), len(g.Joins), len(g.Prunes))
			for _, s := range g.Joins {
				line(w, 4, "join  %s", source(s))
			}
			for _, s := range g.Prunes {
				line(w, 4, "prune %s", source(s))
			}
		}
	case *pimmsg.Assert:
		line(w, 2, "group %s source %s rpt %t metric-preference %d metric %d", group(m.Group), m.Source, m.RPT, m.MetricPreference, m.Metric)
	case *pimmsg.Bootstrap:
		line(w, 2, "fragment-tag 0x%04x hash-mask-len %d bsr-priority %d bsr %s no-forward %t", m.FragmentTag, m.HashMaskLen, m.Priority, m.BSR, m.NoForward)
		for _, g := range m.Groups {
			line(w, 3, "group %s rp-count %d fragment-rp-count %d", group(g.Group), g.RPCount, len(g.RPs))
			for _, rp := range g.RPs {
				line(w, 4, "rp %s holdtime %s priority %d", rp.Addr, secs(rp.Holdtime), rp.Priority)
			}
		}
	case *pimmsg.CandidateRPAdvertisement:
		line(w, 2, "rp %s priority %d holdtime %s, %d group prefix(es)", m.RP, m.Priority, secs(m.Holdtime), len(m.Groups))
		for _, g := range m.Groups {
			line(w, 3, "group %s", group(g))
		}
	case *pimmsg.Unknown:
		line(w, 2, "not decoded by pim6sd: %d bytes: % x", len(m.Body), head(m.Body, 32))
	}
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// innerAddrs reads the addresses of the IPv6 packet inside a Register.
func innerAddrs(b []byte) (src, dst netip.Addr, ok bool) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return src, dst, false
	}
	src = netip.AddrFrom16([16]byte(b[8:24]))
	dst = netip.AddrFrom16([16]byte(b[24:40]))
	return src, dst, true
}

func writeMLD(w *bufio.Writer, msg mldmsg.Message) {
	switch m := msg.(type) {
	case *mldmsg.QueryV1:
		line(w, 2, "group %s max-response-delay %dms", m.Group, m.MaxRespDelay)
	case *mldmsg.QueryV2:
		line(w, 2, "group %s max-response-delay %s S=%t QRV %d QQI %s, %d source(s)",
			m.Group, m.MaxRespDelay(), m.SuppressRouterSide, m.QRV, m.QueryInterval(), len(m.Sources))
		for _, s := range m.Sources {
			line(w, 3, "source %s", s)
		}
	case *mldmsg.ReportV1:
		line(w, 2, "group %s", m.Group)
	case *mldmsg.Done:
		line(w, 2, "group %s", m.Group)
	case *mldmsg.ReportV2:
		line(w, 2, "%d record(s)", len(m.Records))
		for _, r := range m.Records {
			line(w, 3, "%s %s, %d source(s)", r.Type, r.Group, len(r.Sources))
			for _, s := range r.Sources {
				line(w, 4, "source %s", s)
			}
			if len(r.AuxData) > 0 {
				line(w, 4, "aux data %d bytes", len(r.AuxData))
			}
		}
	}
}
