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

// Anycast-RP (RFC 4610): rp1 and rp2 share the RP address anyRPA (on
// their loopbacks) and have the unique addresses anyU1 and anyU2. The
// routers form a ring, so that each edge router's nearest RP is its own
// and another path remains when one RP dies:
//
//	s1, s3 - lanS1 - r1 - rp1 - x - rp2 - r2 - lanS2 - s2
//	  h1  - lanR1 -/ \_____________________/ \- lanR2 - h2
//
// r1 registers to rp1, r2 to rp2; h1 and h2 join through their own RP.
const (
	anyRPA = "2001:db8:ff::100"
	anyU1  = "2001:db8:ff::101"
	anyU2  = "2001:db8:ff::102"
	anyS1  = "2001:db8:1::10"
	anyS3  = "2001:db8:1::30"
	anyS2  = "2001:db8:3::10"
)

type anycastNet struct {
	n                   *Net
	r1, rp1, x, rp2, r2 *Router
	s1, s2, s3, h1, h2  *Host
}

// rpMode is how the routers learn that anyRPA is RP(G): "static" ([[rp]]
// everywhere) or "bsr" (rp1 and rp2 are Candidate-RPs for anyRPA; x is
// the Candidate-BSR).
func anycastRing(t *testing.T, rpMode string) *anycastNet {
	n := New(t, Options{})
	set := fmt.Sprintf("[anycast-rp]\naddress = %q\nmembers = [%q, %q]\n", anyRPA, anyU1, anyU2)
	cfg := func(member bool, bsr string) *conf.Config {
		text := ""
		switch rpMode {
		case "static":
			text = fmt.Sprintf("[[rp]]\naddress = %q\ngroups = [\"ff0e::/16\"]\n", anyRPA)
		case "bsr":
			text = fmt.Sprintf("[bsr]\nperiod = \"5s\"\n%s\n", bsr)
			if member {
				text += fmt.Sprintf("[candidate-rp]\nenable = true\naddress = %q\ninterval = \"5s\"\nholdtime = \"60s\"\ngroups = [\"ff0e::/16\"]\n", anyRPA)
			}
		default:
			t.Fatalf("rp mode %q", rpMode)
		}
		if member {
			text += set
		}
		c, err := conf.Parse([]byte(text), "sim.toml")
		if err != nil {
			t.Fatalf("config:\n%s\n%v", text, err)
		}
		return c
	}
	a := &anycastNet{n: n}
	lanS1, lanR1, lanS2, lanR2 := n.AddLink("lanS1"), n.AddLink("lanR1"), n.AddLink("lanS2"), n.AddLink("lanR2")
	l1, lx1, lx2, l2, l12 := n.AddLink("r1-rp1"), n.AddLink("rp1-x"), n.AddLink("x-rp2"), n.AddLink("rp2-r2"), n.AddLink("r2-r1")
	a.r1 = n.AddRouter("r1", cfg(false, ""))
	a.rp1 = n.AddRouter("rp1", cfg(true, ""))
	a.x = n.AddRouter("x", cfg(false, "candidate = true\naddress = \"2001:db8:ff::200\"\npriority = 10\n"))
	a.rp2 = n.AddRouter("rp2", cfg(true, ""))
	a.r2 = n.AddRouter("r2", cfg(false, ""))
	a.r1.AddInterface("eth0", lanS1, "fe80::1", "2001:db8:1::1/64")
	a.r1.AddInterface("eth1", lanR1, "fe80::1", "2001:db8:2::1/64")
	a.r1.AddInterface("to-rp1", l1, "fe80::1")
	a.r1.AddInterface("to-r2", l12, "fe80::1")
	a.rp1.AddInterface("to-r1", l1, "fe80::2")
	a.rp1.AddInterface("to-x", lx1, "fe80::2")
	a.rp1.AddLoopback(anyRPA)
	a.rp1.AddLoopback(anyU1)
	a.x.AddInterface("to-rp1", lx1, "fe80::3")
	a.x.AddInterface("to-rp2", lx2, "fe80::3")
	a.x.AddLoopback("2001:db8:ff::200")
	a.rp2.AddInterface("to-x", lx2, "fe80::4")
	a.rp2.AddInterface("to-r2", l2, "fe80::4")
	a.rp2.AddLoopback(anyRPA)
	a.rp2.AddLoopback(anyU2)
	a.r2.AddInterface("to-rp2", l2, "fe80::5")
	a.r2.AddInterface("to-r1", l12, "fe80::5")
	a.r2.AddInterface("eth0", lanS2, "fe80::5", "2001:db8:3::5/64")
	a.r2.AddInterface("eth1", lanR2, "fe80::5", "2001:db8:4::5/64")
	a.s1 = n.AddHost("s1", lanS1, "fe80::10", anyS1)
	a.s3 = n.AddHost("s3", lanS1, "fe80::30", anyS3)
	a.h1 = n.AddHost("h1", lanR1, "fe80::20", "2001:db8:2::20")
	a.s2 = n.AddHost("s2", lanS2, "fe80::10", anyS2)
	a.h2 = n.AddHost("h2", lanR2, "fe80::20", "2001:db8:4::20")
	n.AutoRoutes()
	return a
}

// registerHops are the Registers on the wire since `since`: "from -> to
// src>dst inner-source", data or Null.
func registerHops(n *Net, since time.Duration, null bool) []string {
	var out []string
	for _, e := range pimTrace(n, since) {
		r, ok := e.msg.(*pimmsg.Register)
		if !ok || r.Null != null {
			continue
		}
		in, err := ParsePacket(r.Packet)
		inner := "?"
		if err == nil {
			inner = in.Src.String()
		}
		out = append(out, fmt.Sprintf("%s -> %s %v>%v %s", e.from, e.to, e.src, e.dst, inner))
	}
	return out
}

// distinct keeps the first of each line, in order.
func distinct(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// deliveredAfter checks that h got every datagram of st sent at or after
// index from, once.
func deliveredAfter(t *testing.T, h *Host, source string, st *Stream, from uint64, when string) {
	t.Helper()
	seen := map[uint64]int{}
	for _, d := range h.ReceivedFrom(source, asmGrp) {
		if s, ok := Seq(d.Data); ok {
			seen[s]++
		}
	}
	var missing, dup []uint64
	for s := from; s < st.Sent(); s++ {
		switch seen[s] {
		case 0:
			missing = append(missing, s)
		case 1:
		default:
			dup = append(dup, s)
		}
	}
	if len(missing) > 0 || len(dup) > 0 {
		t.Errorf("%s: %s from %s: datagrams %d..%d: missing %v, duplicated %v", when, h.Name(), source, from, st.Sent()-1, missing, dup)
	}
}

func anycastMember(r *Router, addr string) ctl.AnycastMember {
	a := r.Snapshot().AnycastRP
	if a == nil {
		return ctl.AnycastMember{}
	}
	for _, m := range a.Members {
		if m.Address == netip.MustParseAddr(addr) {
			return m
		}
	}
	return ctl.AnycastMember{}
}

// TestAnycastRP: sources and receivers on both sides of two Anycast-RPs;
// every receiver gets every source; each RP sends on the Registers of its
// own DR to the other, never those it got from the other; then rp1 dies
// and, once unicast routing has converged, every flow runs through rp2,
// a new source on rp1's side included. With the static RP and with the
// RP learned from the BSR.
func TestAnycastRP(t *testing.T) {
	for _, mode := range []string{"static", "bsr"} {
		t.Run(mode, func(t *testing.T) { anycastScenario(t, mode) })
	}
}

func anycastScenario(t *testing.T, mode string) {
	a := anycastRing(t, mode)
	n := a.n
	settle := 10 * time.Second
	if mode == "bsr" {
		// The BSR's election and the first RP-set reach everyone.
		settle = startupWait + 3*bsrPeriod
	}
	n.Run(settle)
	for _, r := range []*Router{a.r1, a.r2, a.x} {
		if rp := rpOf(r); rp != anyRPA {
			t.Fatalf("%s: RP(G) %q, want %s", r.Name(), rp, anyRPA)
		}
	}
	a.h1.Join(asmGrp)
	a.h2.Join(asmGrp)
	n.Run(2 * time.Second)

	t0 := n.Elapsed()
	st1 := a.s1.Stream(asmGrp, 100*time.Millisecond)
	st2 := a.s2.Stream(asmGrp, 100*time.Millisecond)
	n.Run(30 * time.Second)

	// The Registers: each DR to its nearest member; each member sends
	// its DR's on to the other from its unique address; nothing else.
	got := distinct(registerHops(n, t0, false))
	want := []string{
		"r1/to-rp1 -> rp1/to-r1 2001:db8:1::1>" + anyRPA + " " + anyS1,
		"rp1/to-x -> x/to-rp1 " + anyU1 + ">" + anyU2 + " " + anyS1,
		"x/to-rp2 -> rp2/to-x " + anyU1 + ">" + anyU2 + " " + anyS1,
		"r2/to-rp2 -> rp2/to-r2 2001:db8:3::5>" + anyRPA + " " + anyS2,
		"rp2/to-x -> x/to-rp2 " + anyU2 + ">" + anyU1 + " " + anyS2,
		"x/to-rp1 -> rp1/to-x " + anyU2 + ">" + anyU1 + " " + anyS2,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no Register %s", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("unexpected Register %s", g)
		}
	}
	if t.Failed() {
		t.Fatalf("data Registers:\n%s\n\ntrace:\n%s", strings.Join(got, "\n"), eventLines(pimTrace(n, t0)))
	}
	// Every receiver gets every source, once. The far side's first
	// datagram can only have come through the other RP's copy of the
	// Register (the far RP knows of the source from nothing else); after
	// it the last-hop router switches to the SPT, and the first packet
	// on the new path is dropped as arriving on the wrong interface
	// (RFC 7761 4.2), so the rest is checked from the first second on.
	for _, far := range []struct {
		h   *Host
		src string
	}{{a.h2, anyS1}, {a.h1, anyS2}} {
		if ds := far.h.ReceivedFrom(far.src, asmGrp); len(ds) == 0 || !hasSeq(ds, 0) {
			t.Errorf("%s did not get %s's first datagram through the Registers", far.h.Name(), far.src)
		}
	}
	for _, h := range []*Host{a.h1, a.h2} {
		deliveredAfter(t, h, anyS1, st1, 10, "both RPs up")
		deliveredAfter(t, h, anyS2, st2, 10, "both RPs up")
	}
	// pim6stat shows the exchange.
	if m := anycastMember(a.rp1, anyU2); m.RegistersOut == 0 || m.RegistersIn == 0 {
		t.Errorf("rp1's counters for rp2: %+v, want Registers both ways", m)
	}
	if m := anycastMember(a.rp2, anyU1); m.RegistersOut == 0 || m.RegistersIn == 0 {
		t.Errorf("rp2's counters for rp1: %+v, want Registers both ways", m)
	}
	if snap := a.rp1.Snapshot().AnycastRP; snap == nil || snap.Self != netip.MustParseAddr(anyU1) || !snap.Local {
		t.Errorf("rp1's set: %+v", snap)
	}

	// rp1 dies; unicast routing converges (AutoRoutes) without it.
	tKill := n.Elapsed()
	a.rp1.Kill()
	for _, i := range a.rp1.Ifaces() {
		i.SetUp(false)
	}
	n.AutoRoutes()
	sentAtKill := [2]uint64{st1.Sent(), st2.Sent()}
	// A source that starts after the failure registers to rp2.
	n.Run(time.Second)
	st3 := a.s3.Stream(asmGrp, 100*time.Millisecond)
	// Recovery takes one triggered Join per hop (the RPF neighbors
	// changed with the routes); allow one Join/Prune period.
	n.Run(60 * time.Second)
	recovered := sentAtKill
	for i, st := range []*Stream{st1, st2} {
		recovered[i] += uint64(5 * time.Second / (100 * time.Millisecond))
		if recovered[i] > st.Sent() {
			t.Fatalf("stream %d sent %d", i, st.Sent())
		}
	}
	for _, h := range []*Host{a.h1, a.h2} {
		deliveredAfter(t, h, anyS1, st1, recovered[0], "after rp1 died")
		deliveredAfter(t, h, anyS2, st2, recovered[1], "after rp1 died")
		deliveredAfter(t, h, anyS3, st3, 10, "new source after rp1 died")
	}
	// s3's Registers went to rp2 (through r2), whose copies to rp1 find
	// no route or no one.
	s3regs := distinct(registerHops(n, tKill, false))
	if !slices.Contains(s3regs, "r2/to-rp2 -> rp2/to-r2 2001:db8:1::1>"+anyRPA+" "+anyS3) {
		t.Errorf("s3's Registers did not reach rp2:\n%s", strings.Join(s3regs, "\n"))
	}
	for _, l := range s3regs {
		if strings.Contains(l, "-> rp1/") {
			t.Errorf("a Register reached the dead rp1: %s", l)
		}
	}
}

func hasSeq(ds []Datagram, seq uint64) bool {
	for _, d := range ds {
		if s, ok := Seq(d.Data); ok && s == seq {
			return true
		}
	}
	return false
}

// rpOf is the RP r's pim6stat shows for asmGrp's range.
func rpOf(r *Router) string {
	for _, rp := range r.Snapshot().RPSet.RPs {
		for _, g := range rp.Groups {
			if g.Prefix.Contains(asmGrpIP) {
				return rp.Address.String()
			}
		}
	}
	return ""
}
