package pim

import (
	"net/netip"
	"strings"
	"testing"
)

// ASM scenarios: sources send real packets through the simulator's data
// plane (sim_test.go). The group is any-source (ff0e::/16, outside the SSM
// range); srcS lives on LAN S.
var asmGrp = addr("ff0e::4000:1")

// listenAll is MLD EXCLUDE mode on rt's interface: every source of g but
// the excluded ones.
func (s *sim) listenAll(rt *simRouter, ifindex int, g netip.Addr, excluded ...netip.Addr) {
	s.handle(rt, rt.r.SetListeners(s.now, ListenerInput{IfIndex: ifindex, Group: g, Exclude: true, Sources: excluded}))
	s.drain()
}

// reconfigure gives rt a new configuration.
func (s *sim) reconfigure(rt *simRouter, mods ...func(*Config)) {
	cfg := rt.r.cfg
	for _, m := range mods {
		m(&cfg)
	}
	acts, err := rt.r.SetConfig(s.now, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.handle(rt, acts)
	s.drain()
}

// sgState returns rt's (S,G) entry, or a zero one.
func (rt *simRouter) sgState(now float64, src, g netip.Addr) RouteState {
	if rs := route(rt.r, at(now), src, g); rs != nil {
		return *rs
	}
	return RouteState{}
}

func (rt *simRouter) starState(now float64, g netip.Addr) StarGState {
	for _, st := range rt.r.Snapshot(at(now)).StarG {
		if st.Group == g {
			return st
		}
	}
	return StarGState{}
}

// lineRP: S - [1] R1 [2] - link A - [1] R2 (RP) [2] - link B - [1] R3 [2] -
// LAN D (receivers). R3 never switches to the SPT unless told.
func lineRP(t *testing.T, lhr ...func(*Config)) (*sim, *simRouter, *simRouter, *simRouter, *simLink) {
	s := newSim(t)
	rp := simLo(2)
	r1 := s.router("R1", 1, withRP(rp))
	r2 := s.router("R2", 2, withRP(rp))
	r3 := s.router("R3", 3, append([]func(*Config){withRP(rp)}, lhr...)...)
	lanS, linkA, linkB, lanD := &simLink{name: "S"}, &simLink{name: "A"}, &simLink{name: "B"}, &simLink{name: "D"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(linkA, r1, 2, 1, cfg)
	s.connect(linkA, r2, 1, 2, cfg)
	s.connect(linkB, r2, 2, 2, cfg)
	s.connect(linkB, r3, 1, 3, cfg)
	s.connect(lanD, r3, 2, 3, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1}
	r1.rib[rp] = RPF{Valid: true, IfIndex: 2, NextHop: r2.self[1]}
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	r3.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r2.self[2]}
	r3.rib[rp] = RPF{Valid: true, IfIndex: 1, NextHop: r2.self[2]}
	s.run(10)
	return s, r1, r2, r3, lanS
}

// TestScenarioRegister: the first-hop router registers the first packets
// to the RP, which forwards them down the RP tree and joins toward the
// source; once native data reaches the RP it stops the Registers, and
// Null-Registers probe from then on. When the source stops, every
// Keepalive Timer runs out and the (S,G) state goes.
func TestScenarioRegister(t *testing.T) {
	s, r1, r2, r3, lanS := lineRP(t, withSPT(SPTPolicy{Never: true}))
	s.listenAll(r3, 2, asmGrp)
	diff(t, "(*,G) join", []string{
		"10 R3 jp(1) to fe80::2:2 ht=210 ff0e::4000:1 join[*2001:db8:ff::2] prune[]",
	}, s.since(10))
	s.stream(lanS, srcS, asmGrp, 30, 1)
	t.Logf("trace:\n%s", strings.Join(s.since(10), "\n"))
	diff(t, "register, join, register-stop", []string{
		"10 R1 register to 2001:db8:ff::2 from 2001:db8:ff::1 2001:db8:5::100,ff0e::4000:1",
		"10 R2 jp(1) to fe80::1:2 ht=210 ff0e::4000:1 join[2001:db8:5::100] prune[]",
		"11 R1 register to 2001:db8:ff::2 from 2001:db8:ff::1 2001:db8:5::100,ff0e::4000:1",
		"11 R2 register-stop to 2001:db8:ff::1 from 2001:db8:ff::2 2001:db8:5::100,ff0e::4000:1",
	}, s.since(10, "R1 register", "R1 null", "R2 register-stop", "R2 jp"))
	diff(t, "R1 forwards natively", Route{Source: srcS, Group: asmGrp, IIF: 1, OIFs: []int{2}}, r1.mfc[[2]netip.Addr{srcS, asmGrp}])
	diff(t, "R2 on the SPT", Route{Source: srcS, Group: asmGrp, IIF: 1, OIFs: []int{2}}, r2.mfc[[2]netip.Addr{srcS, asmGrp}])
	diff(t, "R3 on the RP tree", Route{Source: srcS, Group: asmGrp, IIF: 1, OIFs: []int{2}}, r3.mfc[[2]netip.Addr{srcS, asmGrp}])
	diff(t, "R1 suppressed", RegisterPrune, r1.sgState(30, srcS, asmGrp).Register)
	diff(t, "R2 SPT bit", true, r2.sgState(30, srcS, asmGrp).SPTBit)
	if got := s.delivered["D"]; got < 19 || got > 20 {
		t.Errorf("LAN D got %d of 20 packets", got)
	}

	// The Register-Stop Timer runs out: a Null-Register probes, the RP
	// answers with a Register-Stop again; no data Register.
	s.stream(lanS, srcS, asmGrp, 200, 1)
	probes := s.since(31, "R1 register", "R1 null", "R2 register-stop")
	if len(probes) < 4 || !strings.Contains(probes[0], "null-register") || !strings.Contains(probes[1], "register-stop") {
		t.Errorf("probes %q", probes)
	}
	for _, l := range probes {
		if strings.Contains(l, "R1 register to") {
			t.Errorf("data Register after the stop: %q", l)
		}
	}
	if got := s.delivered["D"]; got < 189 || got > 190 {
		t.Errorf("LAN D got %d of 190 packets", got)
	}

	// The source stops: the Keepalive Timers expire, the RP prunes, the
	// cache entries go.
	s.run(700)
	t.Logf("end:\n%s", strings.Join(s.since(200), "\n"))
	for _, rt := range []*simRouter{r1, r2, r3} {
		if rt.sgState(700, srcS, asmGrp).Source.IsValid() {
			t.Errorf("%s keeps (S,G): %+v", rt.name, rt.sgState(700, srcS, asmGrp))
		}
		if len(rt.mfc) != 0 || len(rt.watch) != 0 {
			t.Errorf("%s: mfc %v, watched %v", rt.name, rt.mfc, rt.watch)
		}
	}
	diff(t, "R3 still on the RP tree", Joined, r3.starState(700, asmGrp).Upstream)
}

// triangle: S - [1] R1 (FHR) [2] - link A - [1] R2 (RP) [2] - link C - [2]
// R3 [3] - LAN D; and R1 [3] - link B - [1] R3. The shortest path from S to
// R3 is link B; the RP tree goes through R2.
func triangle(t *testing.T, lhr ...func(*Config)) (*sim, [3]*simRouter, *simLink) {
	s := newSim(t)
	rp := simLo(2)
	r1 := s.router("R1", 1, withRP(rp))
	r2 := s.router("R2", 2, withRP(rp))
	r3 := s.router("R3", 3, append([]func(*Config){withRP(rp)}, lhr...)...)
	lanS, linkA, linkB, linkC, lanD := &simLink{name: "S"}, &simLink{name: "A"}, &simLink{name: "B"}, &simLink{name: "C"}, &simLink{name: "D"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(linkA, r1, 2, 1, cfg)
	s.connect(linkA, r2, 1, 2, cfg)
	s.connect(linkB, r1, 3, 1, cfg)
	s.connect(linkB, r3, 1, 3, cfg)
	s.connect(linkC, r2, 2, 2, cfg)
	s.connect(linkC, r3, 2, 3, cfg)
	s.connect(lanD, r3, 3, 3, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1}
	r1.rib[rp] = RPF{Valid: true, IfIndex: 2, NextHop: r2.self[1]}
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	r3.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[3]}
	r3.rib[rp] = RPF{Valid: true, IfIndex: 2, NextHop: r2.self[2]}
	s.run(10)
	return s, [3]*simRouter{r1, r2, r3}, lanS
}

// TestScenarioSPTSwitch: the last-hop router R3 gets the first packet down
// the RP tree, joins toward S (FirstPacket), and once the packets come
// over link B sets the SPT bit and prunes S off the RP tree with an
// (S,G,rpt) Prune. The RP, left without receivers for S, prunes its own
// SPT join and stops the Registers. Afterwards links A and C carry no
// data, LAN D gets every packet once, and the periodic Join(*,G) carries
// the (S,G,rpt) Prune.
func TestScenarioSPTSwitch(t *testing.T) {
	s, rs, lanS := triangle(t)
	r1, r2, r3 := rs[0], rs[1], rs[2]
	s.listenAll(r3, 3, asmGrp)
	s.stream(lanS, srcS, asmGrp, 20, 1)
	t.Logf("trace:\n%s", strings.Join(s.since(10), "\n"))
	a, c := s.delivered["A"], s.delivered["C"]
	s.stream(lanS, srcS, asmGrp, 100, 1)
	t.Logf("later:\n%s", strings.Join(s.since(20), "\n"))
	diff(t, "no more data on A and C", [2]int{a, c}, [2]int{s.delivered["A"], s.delivered["C"]})
	if got := s.delivered["D"]; got < 89 || got > 90 {
		t.Errorf("LAN D got %d of 90 packets", got)
	}
	diff(t, "R1", Route{Source: srcS, Group: asmGrp, IIF: 1, OIFs: []int{3}}, r1.mfc[[2]netip.Addr{srcS, asmGrp}])
	diff(t, "R3 on the SPT", Route{Source: srcS, Group: asmGrp, IIF: 1, OIFs: []int{3}}, r3.mfc[[2]netip.Addr{srcS, asmGrp}])
	st3 := r3.sgState(100, srcS, asmGrp)
	diff(t, "R3 state", [3]any{true, RPTPruned, Joined}, [3]any{st3.SPTBit, st3.RPT, st3.Upstream})
	st2 := r2.sgState(100, srcS, asmGrp)
	diff(t, "R2 rpt downstream", []RPTDownState{RPTPrune}, func() (out []RPTDownState) {
		for _, d := range st2.RPTDownstream {
			out = append(out, d.State)
		}
		return
	}())
	diff(t, "R2 pruned its SPT join", NotJoined, st2.Upstream)
	diff(t, "R1 suppressed", RegisterPrune, r1.sgState(100, srcS, asmGrp).Register)
	var periodic []string
	for _, l := range s.since(21, "R3 jp(2)") {
		periodic = append(periodic, l[strings.Index(l, " ")+1:])
	}
	if len(periodic) == 0 || periodic[0] != "R3 jp(2) to fe80::2:2 ht=210 ff0e::4000:1 join[*2001:db8:ff::2] prune[rpt:2001:db8:5::100]" {
		t.Errorf("periodic (*,G) Joins %q", periodic)
	}
}

// TestScenarioStarGPruneOverride: the RP R1 and two last-hop routers R2 and
// R3 share LAN A. R3 hears R2's Join(*,G) and suppresses its own; when
// R2's receivers leave, R2 prunes (*,G), R3 overrides within t_override and
// R1 never stops forwarding onto LAN A.
func TestScenarioStarGPruneOverride(t *testing.T) {
	s := newSim(t)
	rp := simLo(1)
	r1, r2, r3 := s.router("R1", 1, withRP(rp)), s.router("R2", 2, withRP(rp)), s.router("R3", 3, withRP(rp))
	lanA, lanB, lanC, lanS := &simLink{name: "A"}, &simLink{name: "B"}, &simLink{name: "C"}, &simLink{name: "S"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 2, 1, cfg)
	s.connect(lanA, r1, 1, 1, cfg)
	s.connect(lanA, r2, 1, 2, cfg)
	s.connect(lanA, r3, 1, 3, cfg)
	s.connect(lanB, r2, 2, 2, cfg)
	s.connect(lanC, r3, 2, 3, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 2}
	for _, rt := range []*simRouter{r2, r3} {
		rt.rib[rp] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[1]}
		rt.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[1]}
	}
	s.run(10)
	s.listenAll(r2, 2, asmGrp)
	s.run(20)
	s.listenAll(r3, 2, asmGrp)
	s.stream(lanS, srcS, asmGrp, 400, 5)
	var starJoins []string
	for _, l := range s.since(21, "R2 jp", "R3 jp") {
		if strings.Contains(l, "join[*") {
			starJoins = append(starJoins, l)
		}
	}
	if len(starJoins) > 8 {
		t.Errorf("(*,G) Joins from 21 to 400: %q; want suppression to keep them near one a minute", starJoins)
	}
	diff(t, "R1 forwards on A", []int{1}, r1.oifs(srcS, asmGrp))

	// R2's receivers now exclude S: R2 prunes S off both trees (it had
	// switched to the SPT, which here is the same path); R3 overrides
	// both. Then they leave: R2 prunes (*,G), R3 overrides.
	s.listenAll(r2, 2, asmGrp, srcS)
	s.run(405)
	s.handle(r2, r2.r.SetListeners(s.now, ListenerInput{IfIndex: 2, Group: asmGrp}))
	s.drain()
	s.stream(lanS, srcS, asmGrp, 420, 1)
	lines := s.since(400, "R2 jp", "R3 jp", "R1 route", "R1 jp")
	t.Logf("override:\n%s", strings.Join(lines, "\n"))
	var got []string
	for _, l := range lines {
		if _, rest, ok := strings.Cut(l, " "); ok {
			t, _, _ := strings.Cut(l, " ")
			if len(t) > 5 {
				t = t[:5] // whole and tenths of seconds
			}
			got = append(got, t+" "+rest)
		}
	}
	diff(t, "prunes and overrides", []string{
		"400 R2 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[] prune[rpt:2001:db8:5::100 2001:db8:5::100]",
		"400.0 R3 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[rpt:2001:db8:5::100] prune[]",
		"400.8 R3 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[2001:db8:5::100] prune[]",
		"405 R2 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[] prune[*2001:db8:ff::1]",
		"405.8 R3 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[*2001:db8:ff::1] prune[]",
		"407.0 R3 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[2001:db8:5::100] prune[]",
	}, got)
	diff(t, "R1 never stopped", []string(nil), s.since(21, "R1 route"))
	diff(t, "R1 forwards on A", []int{1}, r1.oifs(srcS, asmGrp))
	st := r1.starState(420, asmGrp)
	if len(st.Downstream) != 1 || st.Downstream[0].State != Join {
		t.Errorf("R1 (*,G) downstream %+v", st.Downstream)
	}
}

// TestScenarioAssert: R1 and R2 are both on the source's LAN and on LAN B.
// R3 joins (S,G) through R1 and R4 through R2, so both forward onto LAN B.
// Each sees the other's packets on an outgoing interface and asserts; R1,
// with the better metric, wins; R2 stops forwarding onto B, and R4 sends
// its Joins to the winner. When the receivers leave, the winner cancels.
// The group is SSM: Assert works there too.
func TestScenarioAssert(t *testing.T) {
	s := newSim(t)
	r1, r2, r3, r4 := s.router("R1", 1), s.router("R2", 2), s.router("R3", 3), s.router("R4", 4)
	lanS, lanB, lanC, lanD := &simLink{name: "S"}, &simLink{name: "B"}, &simLink{name: "C"}, &simLink{name: "D"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(lanS, r2, 1, 2, cfg)
	s.connect(lanB, r1, 2, 1, cfg)
	s.connect(lanB, r2, 2, 2, cfg)
	s.connect(lanB, r3, 1, 3, cfg)
	s.connect(lanB, r4, 1, 4, cfg)
	s.connect(lanC, r3, 2, 3, cfg)
	s.connect(lanD, r4, 2, 4, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1, Metric: 10}
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, Metric: 20}
	r3.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	r4.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r2.self[2]}
	s.run(10)
	s.listen(r3, 2, grpG, srcS)
	s.listen(r4, 2, grpG, srcS)
	s.stream(lanS, srcS, grpG, 20, 1)
	t.Logf("trace:\n%s", strings.Join(s.since(10), "\n"))
	diff(t, "asserts", []string{
		"10 R2 assert(2) 2001:db8:5::100,G4000:1 rpt=false 0/20",
		"10 R1 assert(2) 2001:db8:5::100,G4000:1 rpt=false 0/10",
	}, s.since(10, "R1 assert", "R2 assert"))
	diff(t, "R2's route", "10 R2 route 2001:db8:5::100,G4000:1 iif=0 oifs=[]", s.since(10, "R2 route")[1])
	diff(t, "R4 joins the winner within t_override", "10.08 R4 jp(1) to fe80::1:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]",
		s.since(10.01, "R4 jp")[0][:5]+s.since(10.01, "R4 jp")[0][strings.Index(s.since(10.01, "R4 jp")[0], " "):])
	b1, b2 := s.delivered["B/R1"], s.delivered["B/R2"]
	s.stream(lanS, srcS, grpG, 100, 1)
	st2 := r2.sgState(100, srcS, grpG)
	if len(st2.Asserts) != 1 || st2.Asserts[0].State != AssertLoser || st2.Asserts[0].Winner != r1.self[2] {
		t.Errorf("R2 asserts %+v", st2.Asserts)
	}
	diff(t, "R4's RPF' is the winner", r1.self[2], r4.sgState(100, srcS, grpG).RPFNeighbor)
	s.stream(lanS, srcS, grpG, 400, 1)
	diff(t, "LAN B: R1 forwards every packet, R2 none", [2]int{380, 0}, [2]int{s.delivered["B/R1"] - b1, s.delivered["B/R2"] - b2})
	// R4's Joins go to R1 now; R2's downstream state expires, and with
	// it the reason to track the Assert.
	diff(t, "R2 forgot it all", RouteState{}, r2.sgState(400, srcS, grpG))
	if n := len(s.since(21, "R1 assert(2)")); n != 2 {
		t.Errorf("R1 re-asserted %d times by 400 s, want 2 (every 177 s)", n)
	}
	s.listen(r3, 2, grpG)
	s.listen(r4, 2, grpG)
	s.stream(lanS, srcS, grpG, 410, 1)
	t.Logf("leave:\n%s", strings.Join(s.since(400), "\n"))
	if got := s.since(400, "R1 assert-cancel"); len(got) != 1 {
		t.Errorf("AssertCancel %q", got)
	}
}

// TestScenarioRPOnFirstHop: R1 is both the RP and the source's router: no
// Register is ever sent; R1 forwards natively down the (*,G) join of R2
// (SPT bit set by the first packet) and R2, whose SPT is the RP tree, sends
// no (S,G,rpt) Prune.
func TestScenarioRPOnFirstHop(t *testing.T) {
	s := newSim(t)
	rp := simLo(1)
	r1, r2 := s.router("R1", 1, withRP(rp)), s.router("R2", 2, withRP(rp))
	lanS, linkA, lanD := &simLink{name: "S"}, &simLink{name: "A"}, &simLink{name: "D"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(linkA, r1, 2, 1, cfg)
	s.connect(linkA, r2, 1, 2, cfg)
	s.connect(lanD, r2, 2, 2, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1}
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	r2.rib[rp] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	s.run(10)
	s.listenAll(r2, 2, asmGrp)
	s.stream(lanS, srcS, asmGrp, 100, 1)
	t.Logf("trace:\n%s", strings.Join(s.since(10), "\n"))
	diff(t, "trace", []string{
		"10 R2 jp(1) to fe80::1:2 ht=210 ff0e::4000:1 join[*2001:db8:ff::1] prune[]",
		"10 R1 route 2001:db8:5::100,ff0e::4000:1 iif=1 oifs=[2]",
		"10 R2 jp(1) to fe80::1:2 ht=210 ff0e::4000:1 join[2001:db8:5::100] prune[]",
		"10 R2 route 2001:db8:5::100,ff0e::4000:1 iif=1 oifs=[2]",
		"70 R2 jp(1) to fe80::1:2 ht=210 ff0e::4000:1 join[*2001:db8:ff::1 2001:db8:5::100] prune[]",
	}, s.since(10))
	diff(t, "every packet", 90, s.delivered["D"])
	st1 := r1.sgState(100, srcS, asmGrp)
	diff(t, "R1", [3]any{true, RegisterNoInfo, []string{"SPT", "SG"}}, [3]any{st1.SPTBit, st1.Register, st1.Flags})
	diff(t, "R2 on the SPT", [2]any{true, RPTNotPruned}, [2]any{r2.sgState(100, srcS, asmGrp).SPTBit, r2.sgState(100, srcS, asmGrp).RPT})
}

// TestScenarioRPChange: the static RP of the group moves from R1 to R2 on
// every router. The last-hop router R3 prunes (*,G) from R1, naming R1,
// and joins toward R2 once it has the route to R2; R1 forgets the group.
func TestScenarioRPChange(t *testing.T) {
	s := newSim(t)
	rp1, rp2 := simLo(1), simLo(2)
	r1, r2, r3 := s.router("R1", 1, withRP(rp1)), s.router("R2", 2, withRP(rp1)), s.router("R3", 3, withRP(rp1))
	linkA, linkB, lanD := &simLink{name: "A"}, &simLink{name: "B"}, &simLink{name: "D"}
	cfg := DefaultIfConfig()
	s.connect(linkA, r1, 1, 1, cfg)
	s.connect(linkA, r3, 1, 3, cfg)
	s.connect(linkB, r2, 1, 2, cfg)
	s.connect(linkB, r3, 2, 3, cfg)
	s.connect(lanD, r3, 3, 3, cfg)
	r3.rib[rp1] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[1]}
	r3.rib[rp2] = RPF{Valid: true, IfIndex: 2, NextHop: r2.self[1]}
	r2.rib[rp1] = RPF{Valid: true, IfIndex: 1, NextHop: r3.self[2]}
	s.run(10)
	s.listenAll(r3, 3, asmGrp)
	s.run(100)
	diff(t, "R1 has (*,G)", Join, r1.starState(100, asmGrp).Downstream[0].State)
	for _, rt := range []*simRouter{r1, r2, r3} {
		s.reconfigure(rt, withRP(rp2))
	}
	diff(t, "move", []string{
		"100 R3 jp(1) to fe80::1:1 ht=210 ff0e::4000:1 join[] prune[*2001:db8:ff::1]",
		"100 R3 jp(2) to fe80::2:1 ht=210 ff0e::4000:1 join[*2001:db8:ff::2] prune[]",
	}, s.since(100))
	diff(t, "R1 forgot the group", StarGState{}, r1.starState(100, asmGrp))
	st2 := r2.starState(100, asmGrp)
	diff(t, "R2 is the RP with the Join", [3]any{true, Joined, Join}, [3]any{st2.IAmRP, st2.Upstream, st2.Downstream[0].State})
	st3 := r3.starState(100, asmGrp)
	diff(t, "R3 toward R2", [2]any{rp2, r2.self[1]}, [2]any{st3.RP, st3.RPFNeighbor})
	s.run(230)
	diff(t, "periodic to R2 only", 2, len(s.since(101, "R3 jp(2)")))
	diff(t, "nothing to R1", 0, len(s.since(101, "R3 jp(1)")))
}
