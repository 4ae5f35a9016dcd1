package decode

// These tests hold our codecs against tcpdump's verbose decode of the same
// captures (testdata/pcap/*.out were produced by tcpdump 4.99, not by us).
// For each frame we render our parsed fields the way tcpdump prints them and
// compare the strings: types, addresses, flags, holdtimes, counts and the
// checksum verdict.

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/internal/pcapread"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

type tdFrame struct {
	n        int
	ipv6     bool
	src, dst string
	body     []string // lines after the address line, tabs and outer spaces trimmed
}

var (
	tdHeader = regexp.MustCompile(`^\s*(\d+)\s+\d{4}-\d\d-\d\d \S+ (IP6?) (.*)$`)
	tdAddrs  = regexp.MustCompile(`(\S+) > (\S+): `)
)

func readTcpdump(t *testing.T, path string) map[int]*tdFrame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := map[int]*tdFrame{}
	var cur *tdFrame
	needAddr := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if m := tdHeader.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			cur = &tdFrame{n: n, ipv6: m[2] == "IP6"}
			frames[n] = cur
			needAddr = true
			if a := tdAddrs.FindStringSubmatch(afterParen(m[3])); cur.ipv6 && a != nil {
				cur.src, cur.dst = a[1], a[2]
				needAddr = false
				// MLD frames carry everything on the header line.
				if i := strings.Index(l, "ICMP6, "); i >= 0 {
					cur.body = append(cur.body, l[i+len("ICMP6, "):])
				}
			}
			continue
		}
		if cur == nil {
			continue
		}
		if needAddr {
			if a := tdAddrs.FindStringSubmatch(l); a != nil {
				cur.src, cur.dst = a[1], a[2]
				needAddr = false
				continue
			}
		}
		cur.body = append(cur.body, strings.TrimSpace(l))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// afterParen skips the "(hlim 64, ...)" part of an IP6 header line.
func afterParen(s string) string {
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[i+1:]
			}
		}
	}
	return s
}

// relts prints seconds as tcpdump's unsigned_relts_print does.
func relts(secs uint32) string {
	if secs == 0 {
		return "0s"
	}
	units := []struct {
		n uint32
		s string
	}{{31536000, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	var b strings.Builder
	for _, u := range units {
		if secs >= u.n {
			fmt.Fprintf(&b, "%d%s", secs/u.n, u.s)
			secs %= u.n
		}
	}
	return b.String()
}

func tdGroup(g pimmsg.Group) string {
	s := g.Addr.String()
	if g.MaskLen != 128 {
		s += fmt.Sprintf("/%d", g.MaskLen)
	}
	var flags byte
	if g.Bidir {
		flags |= 0x80
	}
	if g.AdminScope {
		flags |= 0x01
	}
	if flags != 0 {
		s += fmt.Sprintf("(0x%02x)", flags)
	}
	return s
}

func tdSource(src pimmsg.Source) string {
	s := src.Addr.String()
	if src.MaskLen != 128 {
		s += fmt.Sprintf("/%d", src.MaskLen)
	}
	if src.Sparse || src.WildCard || src.RPT {
		s += "("
		if src.Sparse {
			s += "S"
		}
		if src.WildCard {
			s += "W"
		}
		if src.RPT {
			s += "R"
		}
		s += ")"
	}
	return s
}

var tdTypes = map[string]pimmsg.Type{
	"Hello": pimmsg.TypeHello, "Register": pimmsg.TypeRegister, "Register Stop": pimmsg.TypeRegisterStop,
	"Join / Prune": pimmsg.TypeJoinPrune, "Bootstrap": pimmsg.TypeBootstrap, "Assert": pimmsg.TypeAssert,
	"Graft": pimmsg.TypeGraft, "Candidate RP Advertisement": pimmsg.TypeCandidateRPAdvertisement,
	"DF Election": pimmsg.TypeDFElection,
}

var tdMsgLine = regexp.MustCompile(`^(Hello|Register Stop|Register|Join / Prune|Bootstrap|Assert|Graft|Candidate RP Advertisement|DF Election), cksum 0x[0-9a-f]{4} \((correct|incorrect|unverified)\),? ?(.*)$`)

// tdPIMFields renders our parse of one message in tcpdump's words: the rest
// of the message line, and the lines tcpdump prints after it that we check.
func tdPIMFields(m pimmsg.Message) (rest string, lines []string) {
	switch m := m.(type) {
	case *pimmsg.Hello:
		if m.Holdtime != nil {
			lines = append(lines, fmt.Sprintf("Hold Time Option (1), length 2, Value: %s", relts(uint32(*m.Holdtime))))
		}
		if d := m.LANPruneDelay; d != nil {
			t := 0
			if d.T {
				t = 1
			}
			lines = append(lines, "LAN Prune Delay Option (2), length 4, Value:",
				fmt.Sprintf("T-bit=%d, LAN delay %dms, Override interval %dms", t, d.PropagationDelay, d.OverrideInterval))
		}
		if m.DRPriority != nil {
			lines = append(lines, fmt.Sprintf("DR Priority Option (19), length 4, Value: %d", *m.DRPriority))
		}
		if m.GenerationID != nil {
			lines = append(lines, fmt.Sprintf("Generation ID Option (20), length 4, Value: 0x%08x", *m.GenerationID))
		}
		for _, o := range m.Unknown {
			if o.Type == 22 {
				lines = append(lines, fmt.Sprintf("Bi-Directional Capability Option (22), length %d, Value:", len(o.Value)))
			}
		}
		if m.AddressList != nil {
			lines = append(lines, fmt.Sprintf("Address List Option (24), length %d, Value:", 18*len(m.AddressList)))
		}
	case *pimmsg.Register:
		if m.Null {
			rest = "Flags [ Null ]"
		} else {
			rest = "Flags [ none ]"
		}
		if src, dst, ok := innerAddrs(m.Packet); ok {
			lines = append(lines, fmt.Sprintf("inner %s > %s", src, dst))
		}
	case *pimmsg.RegisterStop:
		rest = fmt.Sprintf("group=%s source=%s", tdGroup(m.Group), m.Source)
	case *pimmsg.Assert:
		rpt := ""
		if m.RPT {
			rpt = " RPT"
		}
		rest = fmt.Sprintf("group=%s src=%s%s pref=%d metric=%d", tdGroup(m.Group), m.Source, rpt, m.MetricPreference, m.Metric)
	case *pimmsg.JoinPrune:
		rest = "upstream-neighbor: " + m.UpstreamNeighbor.String()
		lines = append(lines, fmt.Sprintf("%d group(s), holdtime: %s", len(m.Groups), relts(uint32(m.Holdtime))))
		for i, g := range m.Groups {
			lines = append(lines, fmt.Sprintf("group #%d: %s, joined sources: %d, pruned sources: %d", i+1, tdGroup(g.Group), len(g.Joins), len(g.Prunes)))
			for j, s := range g.Joins {
				lines = append(lines, fmt.Sprintf("joined source #%d: %s", j+1, tdSource(s)))
			}
			for j, s := range g.Prunes {
				lines = append(lines, fmt.Sprintf("pruned source #%d: %s", j+1, tdSource(s)))
			}
		}
	case *pimmsg.Bootstrap:
		rest = fmt.Sprintf("tag=%x hashmlen=%d BSRprio=%d BSR=%s", m.FragmentTag, m.HashMaskLen, m.Priority, m.BSR)
		for i, g := range m.Groups {
			rest += fmt.Sprintf(" (group%d: %s RPcnt=%d FRPcnt=%d", i, tdGroup(g.Group), g.RPCount, len(g.RPs))
			for j, rp := range g.RPs {
				rest += fmt.Sprintf(" RP%d=%s,holdtime=%s,prio=%d", j, rp.Addr, relts(uint32(rp.Holdtime)), rp.Priority)
			}
			rest += ")"
		}
	case *pimmsg.CandidateRPAdvertisement:
		rest = fmt.Sprintf("prefix-cnt=%d prio=%d holdtime=%s RP=%s", len(m.Groups), m.Priority, relts(uint32(m.Holdtime)), m.RP)
		for i, g := range m.Groups {
			rest += fmt.Sprintf(" Group%d=%s", i, tdGroup(g))
		}
	}
	return rest, lines
}

// tdExpected picks, out of tcpdump's lines after the message line, the ones
// tdPIMFields renders, so the comparison is line for line.
func tdExpected(t pimmsg.Type, body []string) []string {
	var out []string
	for _, l := range body {
		switch t {
		case pimmsg.TypeHello:
			if strings.Contains(l, "Option (1)") || strings.Contains(l, "Option (2)") || strings.HasPrefix(l, "T-bit") ||
				strings.Contains(l, "Option (19)") || strings.Contains(l, "Option (20)") || strings.Contains(l, "Option (22)") ||
				strings.Contains(l, "Option (24)") {
				out = append(out, l)
			}
		case pimmsg.TypeJoinPrune:
			out = append(out, l)
		case pimmsg.TypeRegister:
			if a := tdAddrs.FindStringSubmatch(afterParen(strings.TrimPrefix(l, "IP6 "))); strings.HasPrefix(l, "IP6 ") && a != nil {
				src, dst := a[1], a[2]
				// tcpdump appends ".port" to UDP endpoints.
				if strings.Contains(l, "UDP") {
					src, dst = src[:strings.LastIndexByte(src, '.')], dst[:strings.LastIndexByte(dst, '.')]
				}
				out = append(out, fmt.Sprintf("inner %s > %s", src, dst))
			}
		}
	}
	return out
}

func TestPIMAgainstTcpdump(t *testing.T) {
	frames := readTcpdump(t, "../../testdata/pcap/pim-packet-assortment-v.out")
	pkts, err := pcapread.ReadFile("../../testdata/pcap/pim-packet-assortment.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != len(frames) || len(pkts) != 245 {
		t.Fatalf("%d packets in the pcap, %d frames in tcpdump's decode; want 245 of each", len(pkts), len(frames))
	}
	counts := map[string]int{}
	for _, p := range pkts {
		td := frames[p.Frame]
		t.Run(fmt.Sprintf("frame%d", p.Frame), func(t *testing.T) {
			m, ok := Packet(p)
			if !ok {
				t.Fatal("not recognised as PIM")
			}
			if td.ipv6 == p.IPv4 || m.Src.String() != td.src || m.Dst.String() != td.dst {
				t.Fatalf("addresses: ours %s %s > %s, tcpdump IPv6=%v %s > %s", m.Family, m.Src, m.Dst, td.ipv6, td.src, td.dst)
			}
			if len(td.body) == 0 {
				t.Fatal("tcpdump printed no message line")
			}
			ml := tdMsgLine.FindStringSubmatch(td.body[0])
			if ml == nil {
				t.Fatalf("unexpected tcpdump line %q", td.body[0])
			}
			if want := tdTypes[ml[1]].String(); m.Type != want {
				t.Errorf("type %q, tcpdump says %q (%s)", m.Type, want, ml[1])
			}
			wantCk := map[string]string{"correct": ChecksumOK, "incorrect": ChecksumBad, "unverified": ChecksumUnverified}[ml[2]]
			// tcpdump leaves one 65535-byte Register "unverified" although
			// the capture holds all of it; it gives no verdict to compare.
			if gotCk := m.Checksum; ml[2] != "unverified" && gotCk != wantCk && !(wantCk == ChecksumOK && gotCk == ChecksumRegisterWhole) {
				t.Errorf("checksum %q, tcpdump says %s", gotCk, ml[2])
			}
			counts["checksum "+m.Checksum]++
			truncated := strings.Contains(td.body[0], "[|pimv2]")
			switch {
			case truncated:
				if m.Status != StatusMalformed {
					t.Errorf("tcpdump finds the message truncated; we say %s", m.Status)
				}
			case m.Status == StatusMalformed:
				t.Fatalf("malformed: %s", m.Error)
			case m.Status == StatusTruncated:
				counts["truncated capture"]++
			case m.Status == StatusUnsupported && m.PIM == nil:
				if !p.IPv4 {
					t.Fatalf("IPv6 frame unsupported: %s", m.Error)
				}
				counts["ipv4 not parsed"]++
				return
			}
			counts[m.Family+" "+m.Type+" "+string(m.Status)]++
			if m.PIM == nil {
				return
			}
			rest, lines := tdPIMFields(m.PIM)
			if ml[3] != rest && !(tdTypes[ml[1]] == pimmsg.TypeHello || tdTypes[ml[1]] == pimmsg.TypeDFElection) {
				t.Errorf("message line:\n ours    %q\n tcpdump %q", rest, ml[3])
			}
			want := tdExpected(tdTypes[ml[1]], td.body[1:])
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("details:\n ours:\n  %s\n tcpdump:\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
	t.Logf("verdicts: %v", counts)
	// The capture has three IPv6 frames with bad checksums (151, 196, 206)
	// and every IPv6 message type; make sure the walk above saw them.
	if counts["checksum "+ChecksumBad] != 3 {
		t.Errorf("bad checksums: %d, want 3 (frames 151, 196, 206)", counts["checksum "+ChecksumBad])
	}
}

func TestMLDAgainstTcpdump(t *testing.T) {
	frames := readTcpdump(t, "../../testdata/pcap/icmpv6.out")
	pkts, err := pcapread.ReadFile("../../testdata/pcap/icmpv6.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	for _, p := range pkts {
		m, ok := Packet(p)
		td := frames[p.Frame]
		if !ok {
			if strings.Contains(td.body[0], "multicast listener") {
				t.Errorf("frame %d: tcpdump sees MLD, we do not", p.Frame)
			}
			continue
		}
		seen++
		if m.Src.String() != td.src || m.Dst.String() != td.dst || !m.RouterAlert || m.HopLimit != 1 {
			t.Errorf("frame %d: %s > %s RA=%v hlim=%d; tcpdump %s > %s", p.Frame, m.Src, m.Dst, m.RouterAlert, m.HopLimit, td.src, td.dst)
		}
		if m.Status != StatusOK || m.Checksum != ChecksumOK {
			t.Fatalf("frame %d: status %s checksum %s (%s); tcpdump: icmp6 sum ok", p.Frame, m.Status, m.Checksum, m.Error)
		}
		var got string
		switch q := m.MLD.(type) {
		case *mldmsg.QueryV2:
			got = fmt.Sprintf("multicast listener query v2 [max resp delay=%d] [gaddr %s robustness=%d qqi=%d]",
				q.MaxRespDelay().Milliseconds(), q.Group, q.QRV, int(q.QueryInterval().Seconds()))
		case *mldmsg.ReportV2:
			got = fmt.Sprintf("multicast listener report v2, %d group record(s)", len(q.Records))
			for _, r := range q.Records {
				var srcs []string
				for _, s := range r.Sources {
					srcs = append(srcs, s.String())
				}
				got += fmt.Sprintf(" [gaddr %s %s { %s}]", r.Group, strings.ToLower(r.Type.String()), strings.Join(append(srcs, ""), " "))
			}
		default:
			t.Fatalf("frame %d: unexpected %T", p.Frame, m.MLD)
		}
		if want := td.body[0]; want != got {
			t.Errorf("frame %d:\n ours    %q\n tcpdump %q", p.Frame, got, want)
		}
	}
	if seen != 4 {
		t.Fatalf("decoded %d MLD messages, want 4 (frames 2-5)", seen)
	}
}

func TestMalformedCapturesRejected(t *testing.T) {
	for _, name := range []string{"pim_header_asan.pcap", "pim_header_asan-2.pcap", "pim_header_asan-3.pcap", "pim_header_asan-4.pcap"} {
		t.Run(name, func(t *testing.T) {
			// Some of these files also have broken record headers after the
			// packet: reading stops there with an error, which is fine.
			pkts, err := pcapread.ReadFile("../../testdata/pcap/" + name)
			if err != nil {
				t.Logf("read error (expected for some): %v", err)
			}
			var pim int
			for _, p := range pkts {
				m, ok := Packet(p)
				if !ok {
					continue
				}
				pim++
				if m.Status == StatusOK {
					t.Errorf("frame %d: %s accepted as well-formed", p.Frame, m.Type)
				}
			}
			if pim == 0 {
				t.Fatal("no PIM packet found in the file")
			}
		})
	}
}
