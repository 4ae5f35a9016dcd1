package sim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/conf"
)

const (
	rpA = "2001:db8:ff::a"
	rpB = "2001:db8:ff::b"
)

// asmSquare: S - lanS - fhr; fhr - la - rpa - lc - lhr; fhr - lb - rpb -
// ld - lhr; lhr - lanR - h. rpa and rpb hold the RP addresses rpA and rpB
// on their loopbacks; every router starts with the static RP rpA and
// lhrExtra is the last-hop router's extra configuration.
func asmSquare(t *testing.T, lhrExtra string) (*Net, map[string]*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, la, lb, lc, ld, lanR := n.AddLink("lanS"), n.AddLink("la"), n.AddLink("lb"), n.AddLink("lc"), n.AddLink("ld"), n.AddLink("lanR")
	rs := map[string]*Router{}
	for _, name := range []string{"fhr", "rpa", "rpb", "lhr"} {
		extra := ""
		if name == "lhr" {
			extra = lhrExtra
		}
		rs[name] = n.AddRouter(name, asmConf(t, rpA, extra))
	}
	fhr, rpa, rpb, lhr := rs["fhr"], rs["rpa"], rs["rpb"], rs["lhr"]
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-rpa", la, "fe80::1")
	fhr.AddInterface("to-rpb", lb, "fe80::1")
	rpa.AddInterface("to-fhr", la, "fe80::a")
	rpa.AddInterface("to-lhr", lc, "fe80::a")
	rpa.AddLoopback(rpA)
	rpb.AddInterface("to-fhr", lb, "fe80::b")
	rpb.AddInterface("to-lhr", ld, "fe80::b")
	rpb.AddLoopback(rpB)
	lhr.AddInterface("to-rpa", lc, "fe80::3")
	lhr.AddInterface("to-rpb", ld, "fe80::3")
	lhr.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	return n, rs, s, h
}

// TestASMRPChange: the static RP of ff0e::/16 moves from rpa to rpb by a
// reload on every router; the last-hop router stays on the RP tree
// (spt-switch = "never") so that the data follows the RP. lhr prunes
// (*,G) toward rpa, naming rpA, and joins toward rpb; fhr registers to
// rpb, which joins toward S and stops the Registers; rpa forgets the
// group; the data comes down rpb's tree. The gap depends on the order of
// the reloads:
//
//   - all at once: nothing lost;
//   - upstream first (rpb, rpa, fhr, then lhr, a second apart): at most
//     two datagrams, the one in flight when lhr moves and the first
//     native one at rpb, which the kernel drops while it reports it
//     (WRONGMIF) and the entry's iif moves off the register MIF;
//   - fhr first (then rpa, rpb, lhr): fhr's first Register to rpb comes
//     before rpb is the RP, and a router that is not the RP answers with
//     a Register-Stop (RFC 7761 4.4.2); the traffic is cut from lhr's move
//     to fhr's next Null-Register, up to 85 s later;
//   - lhr first (then rpb, rpa, fhr): rpb drops lhr's Join(*,G) naming
//     rpB before it is the RP itself, and joins toward S only when lhr's
//     next periodic Join(*,G) arrives, up to a Join/Prune period (60 s)
//     later.
func TestASMRPChange(t *testing.T) {
	for _, c := range []struct {
		name  string
		order []string
	}{
		{"simultaneous", []string{"fhr", "rpa", "rpb", "lhr"}},
		{"upstream-first", []string{"rpb", "rpa", "fhr", "lhr"}},
		{"fhr-first", []string{"fhr", "rpa", "rpb", "lhr"}},
		{"lhr-first", []string{"lhr", "rpb", "rpa", "fhr"}},
	} {
		t.Run(c.name, func(t *testing.T) { asmRPChange(t, c.name, c.order) })
	}
}

func asmRPChange(t *testing.T, name string, order []string) {
	lhrExtra := "[pim]\nspt-switch = \"never\"\n"
	n, rs, s, h := asmSquare(t, lhrExtra)
	fhr, rpa, rpb, lhr := rs["fhr"], rs["rpa"], rs["rpb"], rs["lhr"]
	rpAIP, rpBIP := netip.MustParseAddr(rpA), netip.MustParseAddr(rpB)
	n.Run(10 * time.Second)
	h.Join(asmGrp)
	n.Run(time.Second)
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(time.Minute)
	wantMFC(t, lhr, srcAddr, "to-rpa", "eth1")
	wantMFC(t, rpa, srcAddr, "to-fhr", "to-lhr")
	if r := starRoute(lhr); r == nil || r.RP != rpAIP {
		t.Fatalf("lhr (*,G) %+v", r)
	}

	t0 := n.Elapsed()
	newConf := func(r *Router) *conf.Config {
		if r.Name() == "lhr" {
			return asmConf(t, rpB, lhrExtra)
		}
		return asmConf(t, rpB, "")
	}
	reloaded := map[string]time.Duration{}
	for i, r := range order {
		step := time.Duration(i) * time.Second
		if name == "simultaneous" {
			step = 0
		}
		n.At(step, func() {
			reloaded[r] = n.Elapsed()
			reload(n, newConf, rs[r])
		})
	}
	n.Run(3 * time.Minute)
	st.Stop()
	n.Run(time.Second)

	// lhr moved its (*,G): a Prune naming rpA to rpa, a Join naming rpB to
	// rpb, at its reload.
	js := jpEntries(n, t0, asmGrpIP)
	tl := reloaded["lhr"]
	prune, join := filterJP(js, "lhr/to-rpa", "P", "*"), filterJP(js, "lhr/to-rpb", "J", "*")
	if len(prune) != 1 || prune[0].at != tl || prune[0].addr != rpAIP || prune[0].upstream != netip.MustParseAddr("fe80::a") {
		t.Errorf("want one Prune(*,G) naming rpA from lhr to rpa at %v:\n%s", tl, jpLines(js))
	}
	if len(join) == 0 || join[0].at != tl || join[0].addr != rpBIP || join[0].upstream != netip.MustParseAddr("fe80::b") {
		t.Errorf("want a Join(*,G) naming rpB from lhr to rpb at %v:\n%s", tl, jpLines(js))
	}
	if j := filterJP(js, "lhr/to-rpa", "J", ""); len(j) != 0 {
		t.Errorf("lhr still joins toward rpa:\n%s", jpLines(j))
	}
	// fhr registers to rpB now; rpb stops it.
	var toB, stopsFromB int
	for _, e := range pimTrace(n, t0) {
		if isDataRegister(e.msg) && e.dst == rpBIP {
			toB++
		}
		if isRegisterStop(e.msg) && e.src == rpBIP {
			stopsFromB++
		}
		if (isDataRegister(e.msg) || isNullRegister(e.msg)) && e.dst == rpAIP && e.at >= reloaded["fhr"] {
			t.Errorf("Register to the old RP after the change: %v", e)
		}
	}
	if toB == 0 || stopsFromB == 0 {
		t.Errorf("%d data Registers to rpB, %d Register-Stops from it:\n%s", toB, stopsFromB, eventLines(pimTrace(n, t0)))
	}

	// The end state: the tree of rpb.
	wantMFC(t, fhr, srcAddr, "eth0", "to-rpb")
	wantMFC(t, rpb, srcAddr, "to-fhr", "to-lhr")
	wantMFC(t, lhr, srcAddr, "to-rpb", "eth1")
	if r := starRoute(lhr); r == nil || r.RP != rpBIP || r.UpstreamNeighbor != netip.MustParseAddr("fe80::b") {
		t.Errorf("lhr (*,G) %+v, want RP rpB through rpb", r)
	}
	if r := starRoute(rpb); r == nil || !hasFlags(r, "WC", "RP") || mifName(rpb, r.Incoming) != "pim6reg" || !slices.Equal(mifNames(rpb, r.Joined), []string{"to-lhr"}) {
		t.Errorf("rpb (*,G) %+v, want the RP's entry joined on to-lhr", r)
	}
	if r := starRoute(rpa); r != nil {
		t.Errorf("rpa still has (*,G) %+v", r)
	}
	if e, ok := rpa.Entry(srcAddr, asmGrp); ok && len(e.OIFNames) != 0 {
		t.Errorf("rpa still forwards: %v", e)
	}
	last := slices.Max(func() (out []time.Duration) {
		for _, v := range reloaded {
			out = append(out, v)
		}
		return
	}())
	for _, link := range []string{"la", "lc"} {
		if got := udpFrames(n, link, srcAddr, last+2*time.Minute); len(got) != 0 {
			t.Errorf("%s still carries data: %v", link, got)
		}
	}

	// The receiver: no duplicate; the gap.
	d := asmDelivery(h, srcAddr, st)
	g, at := gap(h.ReceivedFrom(srcAddr, asmGrp), t0)
	if d.Duplicates != 0 {
		t.Errorf("%d duplicates", d.Duplicates)
	}
	resumed := at + g
	var explain time.Duration // what the resumption follows
	switch name {
	case "simultaneous":
		if len(d.Missing) != 0 || g > 100*time.Millisecond+time.Millisecond {
			t.Errorf("simultaneous change: lost %v, gap %v", d.Missing, g)
		}
	case "upstream-first":
		if len(d.Missing) > 2 || g > 300*time.Millisecond+time.Millisecond {
			t.Errorf("upstream first: lost %v, gap %v", d.Missing, g)
		}
	case "fhr-first":
		// The Null-Register that ends fhr's suppression.
		for _, e := range pimTrace(n, tl) {
			if isNullRegister(e.msg) && e.dst == rpBIP {
				explain = e.at
				break
			}
		}
		if explain == 0 || resumed < explain || resumed > explain+300*time.Millisecond || g > 85*time.Second+time.Second {
			t.Errorf("fhr first: gap %v from %v, want until just after fhr's first Null-Register to rpb (%v), at most 85 s", g, at, explain)
		}
	case "lhr-first":
		// lhr's first Join(*,G) after rpb became the RP.
		for _, j := range join {
			if j.at > reloaded["rpb"] {
				explain = j.at
				break
			}
		}
		if explain == 0 || resumed < explain || resumed > explain+300*time.Millisecond || g > 60*time.Second+time.Second {
			t.Errorf("lhr first: gap %v from %v, want until just after lhr's next Join(*,G) to rpb (%v), at most 60 s", g, at, explain)
		}
	}
	t.Logf("%s: lost %v", name, d.Missing[:min(len(d.Missing), 3)])
	t.Logf("%s (reloads %v): gap %v from %v, %d datagrams lost, no duplicate", name, order, g, at, len(d.Missing))
}
