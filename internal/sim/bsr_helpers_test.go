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

// The RP discovery scenarios (bsr_test.go) use no static RP: the RP of a
// group comes from the RP-set of the elected Bootstrap Router (RFC 5059)
// or from the group address itself (Embedded-RP, RFC 3956).

// bsrPeriod is BS_Period in every scenario; bsTimeout is the Bootstrap
// Timeout it gives, 2 * BS_Period + 10 s (RFC 5059 section 5).
const (
	bsrPeriod = 5 * time.Second
	bsTimeout = 2*bsrPeriod + 10*time.Second
	// startupWait is a candidate's Pending time when it knows no BSR:
	// the 10 s hold-off plus rand_override against itself (5 s).
	startupWait = 15 * time.Second
)

// bsrRole is what a router is in RP discovery: a Candidate-BSR (BSRAddr
// set) and/or a Candidate-RP (CRPAddr set), plus any extra TOML.
type bsrRole struct {
	BSRAddr string
	BSRPrio int

	CRPAddr     string
	CRPPrio     int
	CRPGroups   []string
	CRPInterval time.Duration // 5 s when 0
	CRPHoldtime time.Duration // 60 s when 0

	Extra string // more TOML (a [pim] table...)
}

// toml renders the role as a configuration file.
func (b bsrRole) toml() string {
	var s strings.Builder
	s.WriteString(b.Extra)
	s.WriteString("\n[bsr]\n")
	fmt.Fprintf(&s, "period = %q\n", bsrPeriod.String())
	if b.BSRAddr != "" {
		fmt.Fprintf(&s, "candidate = true\naddress = %q\npriority = %d\nhash-mask-length = 126\n", b.BSRAddr, b.BSRPrio)
	}
	if b.CRPAddr != "" {
		iv, ht := b.CRPInterval, b.CRPHoldtime
		if iv == 0 {
			iv = 5 * time.Second
		}
		if ht == 0 {
			ht = 60 * time.Second
		}
		s.WriteString("\n[candidate-rp]\nenable = true\n")
		fmt.Fprintf(&s, "address = %q\npriority = %d\ninterval = %q\nholdtime = %q\n", b.CRPAddr, b.CRPPrio, iv.String(), ht.String())
		if len(b.CRPGroups) > 0 {
			q := make([]string, len(b.CRPGroups))
			for i, g := range b.CRPGroups {
				q[i] = fmt.Sprintf("%q", g)
			}
			fmt.Fprintf(&s, "groups = [%s]\n", strings.Join(q, ", "))
		}
	}
	return s.String()
}

// conf parses the role as a file would be.
func (b bsrRole) conf(t *testing.T) *conf.Config {
	t.Helper()
	text := b.toml()
	c, err := conf.Parse([]byte(text), "sim.toml")
	if err != nil {
		t.Fatalf("config:\n%s\n%v", text, err)
	}
	return c
}

// rpSetLine is one (range, RP) pair of a router's RP-set as the snapshot
// shows it, without the times that run down.
type rpSetLine struct {
	Prefix   netip.Prefix
	RP       netip.Addr
	Priority int
	Holdtime time.Duration
}

func (l rpSetLine) String() string {
	return fmt.Sprintf("%v->%v/%d/%v", l.Prefix, l.RP, l.Priority, l.Holdtime)
}

// bsrView is what a router reports of RP discovery: the elected BSR and
// the RP-set learned from it, sorted.
type bsrView struct {
	BSR      netip.Addr
	Priority int
	Set      []rpSetLine
}

func (v bsrView) String() string {
	parts := make([]string, len(v.Set))
	for i, l := range v.Set {
		parts[i] = l.String()
	}
	return fmt.Sprintf("bsr=%v/%d set=[%s]", v.BSR, v.Priority, strings.Join(parts, " "))
}

func (v bsrView) equal(w bsrView) bool {
	return v.BSR == w.BSR && v.Priority == w.Priority && slices.Equal(v.Set, w.Set)
}

// viewOf is r's bsrView from its snapshot (RPs of origin "bsr" only).
func viewOf(r *Router) bsrView {
	rs := r.Snapshot().RPSet
	v := bsrView{BSR: rs.BSR, Priority: rs.BSRPriority}
	for _, rp := range rs.RPs {
		if rp.Origin != "bsr" {
			continue
		}
		for _, g := range rp.Groups {
			v.Set = append(v.Set, rpSetLine{g.Prefix, rp.Address, g.Priority, time.Duration(g.Holdtime)})
		}
	}
	slices.SortFunc(v.Set, func(a, b rpSetLine) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		if c := a.Prefix.Bits() - b.Prefix.Bits(); c != 0 {
			return c
		}
		return a.RP.Compare(b.RP)
	})
	return v
}

// allSee reports whether every router of rs runs and reports want.
func allSee(rs []*Router, want bsrView) bool {
	for _, r := range rs {
		if !r.Running() || !viewOf(r).equal(want) {
			return false
		}
	}
	return true
}

// views lists every running router's view, for failure messages.
func views(rs []*Router) string {
	var b strings.Builder
	for _, r := range rs {
		if r.Running() {
			fmt.Fprintf(&b, "  %s: %v (state %s)\n", r.Name(), viewOf(r), bsrState(r))
		}
	}
	return b.String()
}

// bsrState is r's Candidate-BSR state ("" when r is no candidate).
func bsrState(r *Router) string {
	if c := r.Snapshot().RPSet.CandidateBSR; c != nil {
		return c.State
	}
	return ""
}

// set builds an RP-set: pairs of "prefix rp priority", with the holdtime
// ht.
func set(ht time.Duration, pairs ...string) []rpSetLine {
	var out []rpSetLine
	for _, p := range pairs {
		f := strings.Fields(p)
		var prio int
		fmt.Sscan(f[2], &prio)
		out = append(out, rpSetLine{netip.MustParsePrefix(f[0]), netip.MustParseAddr(f[1]), prio, ht})
	}
	slices.SortFunc(out, func(a, b rpSetLine) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		if c := a.Prefix.Bits() - b.Prefix.Bits(); c != 0 {
			return c
		}
		return a.RP.Compare(b.RP)
	})
	return out
}

// bsmFrame is one Bootstrap message fragment on the wire.
type bsmFrame struct {
	at   time.Duration
	link string
	from string
	to   string // "" for multicast
	len  int    // the IPv6 packet's length
	m    *pimmsg.Bootstrap
}

// bsmFrames lists the Bootstrap fragments sent (not lost) since `since`.
func bsmFrames(n *Net, since time.Duration) []bsmFrame {
	var out []bsmFrame
	for _, f := range n.Frames() {
		if f.Elapsed() < since || f.Lost {
			continue
		}
		if m, ok := f.PIM().(*pimmsg.Bootstrap); ok {
			out = append(out, bsmFrame{f.Elapsed(), f.Link, f.From, f.To, f.Packet.Len(), m})
		}
	}
	return out
}

// starOf is r's (*,G) route of g, or nil.
func starOf(r *Router, g netip.Addr) *ctl.Route {
	for _, rt := range r.Snapshot().Routes {
		if rt.Kind == ctl.StarG && rt.Group == g {
			return &rt
		}
	}
	return nil
}

// wantEntry checks r's kernel entry for (src, g): iif and oifs by
// interface name; iif "" means no entry, or one that forwards nowhere.
func wantEntry(t *testing.T, r *Router, src, g, iif string, oifs ...string) {
	t.Helper()
	e, ok := r.Entry(src, g)
	switch {
	case iif == "" && ok && len(e.OIFNames) > 0:
		t.Errorf("%s: MFC %v, want no forwarding entry", r.Name(), e)
	case iif == "":
	case !ok:
		t.Errorf("%s: no MFC entry for (%s,%s), want iif %s oifs %v", r.Name(), src, g, iif, oifs)
	case e.IIFName != iif || !slices.Equal(e.OIFNames, oifs):
		t.Errorf("%s: MFC %v, want iif=%s oifs=%v", r.Name(), e, iif, oifs)
	}
}

// mtuDrops sums the frames the routers' kernels dropped for being longer
// than the interface's MTU.
func mtuDrops(rs []*Router) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		if d := r.Drops()["mtu"]; d > 0 {
			out[r.Name()] = d
		}
	}
	return out
}

// bsrDump is the PIM trace without Hellos, for failure messages (the
// last lines only: BSMs repeat).
func bsrDump(n *Net) string {
	lines := strings.Split(asmDump(n), "\n")
	if len(lines) > 200 {
		lines = append([]string{"..."}, lines[len(lines)-200:]...)
	}
	return strings.Join(lines, "\n")
}

// pollStep is how often the scenarios check a condition that needs
// snapshots (cheaper than after every event).
const pollStep = 100 * time.Millisecond

// runUntilBSR runs until cond holds, checked every pollStep, or fails
// the test after max. It returns the virtual time it ran.
func runUntilBSR(t *testing.T, n *Net, what string, cond func() bool, max time.Duration, rs []*Router) time.Duration {
	t.Helper()
	for d := time.Duration(0); ; d += pollStep {
		if cond() {
			return d
		}
		if d >= max {
			t.Fatalf("after %v (at %v): %s did not happen\n%s\nviews:\n%s", max, n.Elapsed(), what, bsrDump(n), views(rs))
		}
		n.Run(pollStep)
	}
}
