package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The any-source multicast (ASM) scenarios (asm_*_test.go) use groups in
// ff0e::/16, outside the SSM range, served by a static RP on a router's
// loopback. The source S is srcAddr on lanS, as in sim_test.go.
const (
	asmGrp = "ff0e::4000:1"
	rpAddr = "2001:db8:ff::2"
)

var asmGrpIP = netip.MustParseAddr(asmGrp)

// asmConf is a router's configuration: [[rp]] for ff0e::/16 at rp, plus
// extra TOML (e.g. a [pim] table). It goes through conf.Parse, as a file
// would.
func asmConf(t *testing.T, rp, extra string) *conf.Config {
	t.Helper()
	text := fmt.Sprintf("%s\n[[rp]]\naddress = %q\ngroups = [\"ff0e::/16\"]\n", extra, rp)
	c, err := conf.Parse([]byte(text), "sim.toml")
	if err != nil {
		t.Fatalf("config:\n%s\n%v", text, err)
	}
	return c
}

// pimEvent is one PIM message on the wire.
type pimEvent struct {
	at       time.Duration
	link     string
	from, to string // "node/iface"; to is "" for multicast
	src, dst netip.Addr
	msg      pimmsg.Message
}

func (e pimEvent) String() string {
	to := ""
	if e.to != "" {
		to = " -> " + e.to
	}
	return fmt.Sprintf("%s %s %s%s %s", fmtElapsed(e.at), e.link, e.from, to, describePIM(e.msg))
}

// pimTrace lists the PIM messages sent (not lost) since `since` that are
// not Hellos.
func pimTrace(n *Net, since time.Duration) []pimEvent {
	var out []pimEvent
	for _, f := range n.Frames() {
		if f.Elapsed() < since || f.Lost {
			continue
		}
		m := f.PIM()
		if m == nil {
			continue
		}
		if _, ok := m.(*pimmsg.Hello); ok {
			continue
		}
		out = append(out, pimEvent{f.Elapsed(), f.Link, f.From, f.To, f.Src, f.Dst, m})
	}
	return out
}

func eventLines(es []pimEvent) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// isDataRegister: a Register carrying a packet (not a Null-Register).
func isDataRegister(m pimmsg.Message) bool {
	r, ok := m.(*pimmsg.Register)
	return ok && !r.Null
}

func isNullRegister(m pimmsg.Message) bool {
	r, ok := m.(*pimmsg.Register)
	return ok && r.Null
}

func isRegisterStop(m pimmsg.Message) bool {
	_, ok := m.(*pimmsg.RegisterStop)
	return ok
}

// jpEntry is one source of a Join/Prune message for asmGrp: kind is
// "J" or "P", what is "*" for (*,G) (with the RP), "S" for (S,G), "S,rpt"
// for (S,G,rpt).
type jpEntry struct {
	at       time.Duration
	link     string
	from     string
	upstream netip.Addr
	kind     string
	what     string
	addr     netip.Addr // the RP of a (*,G) entry, else the source
}

func (j jpEntry) String() string {
	return fmt.Sprintf("%s %s %s %s(%s %v) to %v", fmtElapsed(j.at), j.link, j.from, j.kind, j.what, j.addr, j.upstream)
}

// jpEntries flattens the Join/Prune messages for group g since `since`.
func jpEntries(n *Net, since time.Duration, g netip.Addr) []jpEntry {
	var out []jpEntry
	for _, e := range pimTrace(n, since) {
		m, ok := e.msg.(*pimmsg.JoinPrune)
		if !ok {
			continue
		}
		for _, grp := range m.Groups {
			if grp.Group.Addr != g {
				continue
			}
			add := func(kind string, ss []pimmsg.Source) {
				for _, s := range ss {
					what := "S"
					switch {
					case s.WildCard:
						what = "*"
					case s.RPT:
						what = "S,rpt"
					}
					out = append(out, jpEntry{e.at, e.link, e.from, m.UpstreamNeighbor, kind, what, s.Addr})
				}
			}
			add("J", grp.Joins)
			add("P", grp.Prunes)
		}
	}
	return out
}

// filterJP keeps the entries of sender `from` ("" for any) of the kind
// and what given ("" for any).
func filterJP(js []jpEntry, from, kind, what string) []jpEntry {
	var out []jpEntry
	for _, j := range js {
		if (from == "" || j.from == from) && (kind == "" || j.kind == kind) && (what == "" || j.what == what) {
			out = append(out, j)
		}
	}
	return out
}

func jpLines(js []jpEntry) string {
	var b strings.Builder
	for _, j := range js {
		b.WriteString(j.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// wantMFC checks r's kernel entry for (src, asmGrp): iif and oifs by
// interface name; iif "" means no entry.
func wantMFC(t *testing.T, r *Router, src, iif string, oifs ...string) {
	t.Helper()
	e, ok := r.Entry(src, asmGrp)
	switch {
	case iif == "" && ok:
		t.Errorf("%s: MFC %v, want no entry", r.Name(), e)
	case iif == "":
	case !ok:
		t.Errorf("%s: no MFC entry for (%s,%s), want iif %s oifs %v", r.Name(), src, asmGrp, iif, oifs)
	case e.IIFName != iif || !slices.Equal(e.OIFNames, oifs):
		t.Errorf("%s: MFC %v, want iif=%s oifs=%v", r.Name(), e, iif, oifs)
	}
}

// sgRoute is r's pim6stat (S,G) route of asmGrp, or nil.
func sgRoute(r *Router, src string) *ctl.Route {
	s := netip.MustParseAddr(src)
	for _, rt := range r.Snapshot().Routes {
		if rt.Kind == ctl.SG && rt.Source == s && rt.Group == asmGrpIP {
			return &rt
		}
	}
	return nil
}

// starRoute is r's pim6stat (*,G) route of asmGrp, or nil.
func starRoute(r *Router) *ctl.Route {
	for _, rt := range r.Snapshot().Routes {
		if rt.Kind == ctl.StarG && rt.Group == asmGrpIP {
			return &rt
		}
	}
	return nil
}

// mifName is the name of MIF m in r's snapshot.
func mifName(r *Router, m int) string {
	for _, i := range r.Snapshot().Interfaces {
		if i.MIF == m {
			return i.Name
		}
	}
	return fmt.Sprintf("mif%d", m)
}

func mifNames(r *Router, ms []int) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, mifName(r, m))
	}
	return out
}

// hasFlags reports whether rt has every flag of want.
func hasFlags(rt *ctl.Route, want ...string) bool {
	if rt == nil {
		return false
	}
	for _, w := range want {
		if !slices.Contains(rt.Flags, w) {
			return false
		}
	}
	return true
}

// asmDelivery is what h got of st from src to asmGrp: duplicates and
// missing sequence numbers. The datagram sent at this very instant may
// be in flight: it is not counted.
func asmDelivery(h *Host, src string, st *Stream) Delivery {
	sent := st.Sent()
	if !st.stopped && sent > 0 {
		sent--
	}
	return Deliveries(h.ReceivedFrom(src, asmGrp), sent)
}

// gap is the longest time between two consecutive datagrams received of
// a stream after `after` (virtual time since the start), and where it
// began.
func gap(ds []Datagram, after time.Duration) (time.Duration, time.Duration) {
	var longest, at time.Duration
	var prev time.Time
	for _, d := range ds {
		if d.At.Sub(Epoch) < after {
			prev = d.At
			continue
		}
		if !prev.IsZero() && d.At.Sub(prev) > longest {
			longest, at = d.At.Sub(prev), prev.Sub(Epoch)
		}
		prev = d.At
	}
	return longest, at
}

// udpFrames counts the stream datagrams from src sent on link since
// `since`, by sender "node/iface".
func udpFrames(n *Net, link, src string, since time.Duration) map[string]int {
	s := netip.MustParseAddr(src)
	out := map[string]int{}
	for _, f := range n.Frames() {
		if f.Link != link || f.Elapsed() < since || f.Proto != protoUDP || f.Src != s {
			continue
		}
		out[f.From]++
	}
	return out
}

// seqs lists the sequence numbers of datagrams.
func seqs(ds []Datagram) []uint64 {
	var out []uint64
	for _, d := range ds {
		if s, ok := Seq(d.Data); ok {
			out = append(out, s)
		}
	}
	return out
}

// asmDump is the trace without Hellos and MLD, for failure messages.
func asmDump(n *Net) string {
	var lines []string
	for _, l := range n.Trace() {
		if strings.Contains(l, "PIM Hello") || strings.Contains(l, " MLD") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// reload gives every router a new configuration at the current instant,
// as SIGHUP with a new file would.
func reload(n *Net, c func(r *Router) *conf.Config, rs ...*Router) {
	for _, r := range rs {
		r.Daemon().ReloadAt(n.Now(), c(r))
	}
}

// runUntilASM runs until cond or fails the test after max, with the
// trace (no Hellos, no MLD).
func runUntilASM(t *testing.T, n *Net, what string, cond func() bool, max time.Duration) time.Duration {
	t.Helper()
	d, ok := n.RunUntil(cond, max)
	if !ok {
		t.Fatalf("after %v: %s did not happen\n%s", max, what, asmDump(n))
	}
	return d
}
