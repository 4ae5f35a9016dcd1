package sim

import (
	"slices"
	"testing"
	"time"
)

// asmSharedUpstream: S - lanS - fhr - l1 - up (the RP, on its loopback)
// - lanC - {d2, d3}; d2 - lanA - h2; d3 - lanB - h3. The downstream
// routers d2 and d3 share their upstream neighbor on lanC.
func asmSharedUpstream(t *testing.T, downExtra string) (*Net, map[string]*Router, *Host, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, l1, lanC, lanA, lanB := n.AddLink("lanS"), n.AddLink("l1"), n.AddLink("lanC"), n.AddLink("lanA"), n.AddLink("lanB")
	fhr := n.AddRouter("fhr", asmConf(t, rpAddr, ""))
	up := n.AddRouter("up", asmConf(t, rpAddr, ""))
	d2 := n.AddRouter("d2", asmConf(t, rpAddr, downExtra))
	d3 := n.AddRouter("d3", asmConf(t, rpAddr, downExtra))
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-up", l1, "fe80::1")
	up.AddInterface("to-fhr", l1, "fe80::2")
	up.AddInterface("lanC", lanC, "fe80::2")
	up.AddLoopback(rpAddr)
	d2.AddInterface("up", lanC, "fe80::12")
	d2.AddInterface("eth1", lanA, "fe80::12", "2001:db8:a::1/64")
	d3.AddInterface("up", lanC, "fe80::13")
	d3.AddInterface("eth1", lanB, "fe80::13", "2001:db8:b::1/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h2 := n.AddHost("h2", lanA, "fe80::20", "2001:db8:a::20")
	h3 := n.AddHost("h3", lanB, "fe80::30", "2001:db8:b::30")
	n.AutoRoutes()
	return n, map[string]*Router{"fhr": fhr, "up": up, "d2": d2, "d3": d3}, s, h2, h3
}

// TestASMStarGPruneOverride: d2 and d3 have (*,G) receivers behind them
// and joined through up on lanC. h2 leaves: d2 prunes (*,G) on lanC, d3
// overrides with a Join(*,G) within the override interval, and up never
// stops forwarding onto lanC; h3 loses nothing. With spt-switch =
// "never" the state is (*,G) only; with the default (first-packet) the
// downstream routers also joined (S,G) (the same path), and d3 overrides
// both Prunes.
func TestASMStarGPruneOverride(t *testing.T) {
	for _, c := range []struct{ name, extra string }{
		{"never", "[pim]\nspt-switch = \"never\"\n"},
		{"first-packet", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, rs, s, h2, h3 := asmSharedUpstream(t, c.extra)
			up, d2, d3 := rs["up"], rs["d2"], rs["d3"]
			spt := c.extra == ""
			n.Run(10 * time.Second)
			h2.Join(asmGrp)
			h3.Join(asmGrp)
			st := s.Stream(asmGrp, 50*time.Millisecond)
			n.Run(30 * time.Second)
			wantMFC(t, up, srcAddr, "to-fhr", "lanC")
			if r := starRoute(up); r == nil || !slices.Equal(mifNames(up, r.Joined), []string{"lanC"}) {
				t.Fatalf("up's (*,G): %+v", r)
			}
			for _, d := range []*Router{d2, d3} {
				wantMFC(t, d, srcAddr, "up", "eth1")
				if r := sgRoute(d, srcAddr); r == nil || hasFlags(r, "SPT") != spt {
					t.Errorf("%s (S,G) %+v, want SPT flag %v", d.Name(), r, spt)
				}
			}

			tLeave := n.Elapsed()
			h2.Leave(asmGrp)
			lostOIF := false
			n.RunUntil(func() bool {
				if e, ok := up.Entry(srcAddr, asmGrp); !ok || !slices.Contains(e.OIFNames, "lanC") {
					lostOIF = true
				}
				return false
			}, 20*time.Second)
			if lostOIF {
				t.Errorf("up stopped forwarding onto lanC during the prune override")
			}
			js := jpEntries(n, tLeave, asmGrpIP)
			prunes := filterJP(js, "d2/up", "P", "*")
			if len(prunes) != 1 {
				t.Fatalf("want one Prune(*,G) from d2:\n%s", jpLines(js))
			}
			var override *jpEntry
			for _, j := range filterJP(js, "d3/up", "J", "*") {
				if j.at > prunes[0].at {
					override = &j
					break
				}
			}
			if override == nil {
				t.Fatalf("no override Join(*,G) from d3 after d2's Prune:\n%s", jpLines(js))
			}
			if g := override.at - prunes[0].at; g > 2500*time.Millisecond {
				t.Errorf("override Join %v after the Prune, want within the override interval (2.5 s)", g)
			}
			t.Logf("%s", jpLines(jpEntries(n, 0, asmGrpIP)))
			t.Logf("Prune(*,G) at %v (%v after the leave), override Join(*,G) %v later",
				prunes[0].at, prunes[0].at-tLeave, override.at-prunes[0].at)
			if spt {
				// The (S,G) join is pruned and overridden the same way.
				if p, j := filterJP(js, "d2/up", "P", "S"), filterJP(js, "d3/up", "J", "S"); len(p) != 1 || len(j) == 0 || j[0].at < p[0].at {
					t.Errorf("want d2's Prune(S,G) overridden by d3's Join(S,G):\n%s", jpLines(js))
				}
			} else if j := filterJP(js, "", "", "S"); len(j) != 0 {
				t.Errorf("(S,G) Join/Prunes with spt-switch never:\n%s", jpLines(j))
			}
			if _, ok := d2.Entry(srcAddr, asmGrp); ok && len(oifsOf(d2)) != 0 {
				t.Errorf("d2 still forwards: %v", d2.MFC())
			}
			if r := starRoute(d2); r != nil && r.UpstreamState == "Joined" {
				t.Errorf("d2's (*,G) still joined: %+v", r)
			}
			if r := starRoute(up); r == nil || len(r.Downstream) != 1 || r.Downstream[0].State != "Join" || mifName(up, r.Downstream[0].MIF) != "lanC" {
				t.Errorf("up's (*,G) downstream %+v, want Join on lanC", r)
			}

			st.Stop()
			n.Run(time.Second)
			if d := asmDelivery(h3, srcAddr, st); d.Duplicates != 0 || len(d.Missing) > 0 {
				t.Errorf("h3: %d sent, %d received, %d duplicates, missing %v", st.Sent(), d.Received, d.Duplicates, d.Missing)
			}
			if d := asmDelivery(h2, srcAddr, st); d.Duplicates != 0 {
				t.Errorf("h2: %d duplicates", d.Duplicates)
			}
		})
	}
}

func oifsOf(r *Router) []string {
	e, _ := r.Entry(srcAddr, asmGrp)
	return e.OIFNames
}
