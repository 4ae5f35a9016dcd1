package pim

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// Scenario addresses: the source S lives on R1's LAN (and R4's); receivers
// join (S, G).
var (
	srcS = addr("2001:db8:5::100")
	grpG = addr("ff3e::4000:1")
)

// lineTopology: S - [1] R1 [2] - link A - [1] R2 [2] - receivers on LAN B.
// Link A also holds R3 ([1]), which has no receivers, so link A is a LAN
// with a Prune-Pending time of 3 s.
func lineTopology(t *testing.T) (*sim, *simRouter, *simRouter, *simRouter) {
	s := newSim(t)
	r1, r2, r3 := s.router("R1", 1), s.router("R2", 2), s.router("R3", 3)
	lanS, linkA, lanB, lanC := &simLink{name: "S"}, &simLink{name: "A"}, &simLink{name: "B"}, &simLink{name: "C"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(linkA, r1, 2, 1, cfg)
	s.connect(linkA, r2, 1, 2, cfg)
	s.connect(lanB, r2, 2, 2, cfg)
	s.connect(linkA, r3, 1, 3, cfg)
	s.connect(lanC, r3, 2, 3, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1} // directly connected
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	r3.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	s.run(10)
	return s, r1, r2, r3
}

// TestScenarioJoinRefreshLeave: a receiver behind R2 asks for (S,G); R2
// joins toward R1, R1 forwards onto link A; periodic Joins keep it past
// the Join/Prune Holdtime; when the receiver leaves, R2 prunes, R1 stops
// forwarding after the Prune-Pending time (PruneEcho) and R2's route goes.
func TestScenarioJoinRefreshLeave(t *testing.T) {
	s, r1, r2, _ := lineTopology(t)
	s.listen(r2, 2, grpG, srcS)
	diff(t, "join", []string{
		"10 R2 jp(1) to fe80::1:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]",
		"10 R2 route 2001:db8:5::100,G4000:1 iif=1 oifs=[2]",
		"10 R1 route 2001:db8:5::100,G4000:1 iif=1 oifs=[2]",
	}, s.since(10))
	s.run(500)
	diff(t, "R1 still forwards", []int{2}, r1.oifs(srcS, grpG))
	diff(t, "periodic Joins", 8, len(s.since(11, "R2 jp")))
	diff(t, "no route change", []string(nil), s.since(11, "R1 route", "R2 route"))

	s.listen(r2, 2, grpG) // the receiver leaves
	s.run(510)
	diff(t, "leave", []string{
		"500 R2 jp(1) to fe80::1:2 ht=210 G4000:1 join[] prune[2001:db8:5::100]",
		"500 R2 route 2001:db8:5::100,G4000:1 iif=0 oifs=[]",
		"503 R1 jp(2) to fe80::1:2 ht=210 G4000:1 join[] prune[2001:db8:5::100]", // PruneEcho
		"503 R1 route 2001:db8:5::100,G4000:1 iif=0 oifs=[]",
	}, s.since(500))
	if n := len(r1.r.Snapshot(s.now).Routes) + len(r2.r.Snapshot(s.now).Routes); n != 0 {
		t.Errorf("%d entries left", n)
	}
}

// TestScenarioPruneOverride: R2 and R3 both have receivers behind link A.
// R3 hears R2's Joins and suppresses its own. When R2's receiver leaves,
// R2 prunes; R3 overrides with a Join within the override interval, and
// R1 never stops forwarding.
func TestScenarioPruneOverride(t *testing.T) {
	s, r1, r2, r3 := lineTopology(t)
	s.listen(r2, 2, grpG, srcS)
	s.run(20)
	s.listen(r3, 2, grpG, srcS)
	s.run(400)
	sent2, sent3 := len(s.since(21, "R2 jp")), len(s.since(21, "R3 jp"))
	if sent2+sent3 > 8 || sent2 == 0 && sent3 == 0 {
		t.Errorf("Joins from 21 to 400: R2 %d, R3 %d; want suppression to keep the total near one per minute", sent2, sent3)
	}
	t.Logf("Joins 21-400: R2 %d, R3 %d", sent2, sent3)

	s.listen(r2, 2, grpG) // R2's receiver leaves
	s.run(410)
	lines := s.since(400)
	if len(lines) < 3 {
		t.Fatalf("trace %q", lines)
	}
	diff(t, "prune", "400 R2 jp(1) to fe80::1:2 ht=210 G4000:1 join[] prune[2001:db8:5::100]", lines[0])
	diff(t, "R2 route", "400 R2 route 2001:db8:5::100,G4000:1 iif=0 oifs=[]", lines[1])
	var ts float64
	var who string
	if _, err := fmt.Sscan(lines[2], &ts, &who); err != nil || who != "R3" || ts < 400 || ts >= 402.5 {
		t.Errorf("override %q: want a Join from R3 within t_override (2.5 s)", lines[2])
	}
	diff(t, "override Join", "jp(1) to fe80::1:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]", lines[2][len(lines[2])-len("jp(1) to fe80::1:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]"):])
	diff(t, "R1 never stopped", []string(nil), s.since(11, "R1 route 2001:db8:5::100,G4000:1 iif=0"))
	diff(t, "R1 forwards", []int{2}, r1.oifs(srcS, grpG))
	d := downView(r1.r, s.now, srcS, grpG, 2)
	if d.State != Join || d.PPT != 0 || d.ET < 199 {
		t.Errorf("R1 downstream %+v, want Join refreshed by the override", d)
	}
}

// TestScenarioDRElection: R2 and R3 share the receivers' LAN B; both hear
// the same listener from MLD, but only the DR (the higher address, R3)
// counts it and joins. When R3 goes away, R2 becomes DR and joins.
func TestScenarioDRElection(t *testing.T) {
	s := newSim(t)
	r1, r2, r3 := s.router("R1", 1), s.router("R2", 2), s.router("R3", 3)
	lanS, linkA, lanB := &simLink{name: "S"}, &simLink{name: "A"}, &simLink{name: "B"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(linkA, r1, 2, 1, cfg)
	s.connect(linkA, r2, 1, 2, cfg)
	s.connect(linkA, r3, 1, 3, cfg)
	s.connect(lanB, r2, 2, 2, cfg)
	s.connect(lanB, r3, 2, 3, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1}
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	r3.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	s.run(10)
	diff(t, "DR on LAN B", [2]bool{false, true}, [2]bool{ifaceState(r2.r, s.now, 2).DRSelf, ifaceState(r3.r, s.now, 2).DRSelf})
	s.listen(r2, 2, grpG, srcS)
	s.listen(r3, 2, grpG, srcS)
	diff(t, "only the DR joins", []string{
		"10 R3 jp(1) to fe80::1:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]",
		"10 R3 route 2001:db8:5::100,G4000:1 iif=1 oifs=[2]",
		"10 R1 route 2001:db8:5::100,G4000:1 iif=1 oifs=[2]",
	}, s.since(10))
	diff(t, "R2 has no route", []int(nil), r2.oifs(srcS, grpG))

	// R3 shuts down: goodbye Hellos; R2 becomes DR on LAN B and joins.
	s.run(100)
	s.handle(r3, r3.r.Shutdown(s.now))
	s.drain()
	r3.down = true
	diff(t, "R2 takes over", []string{
		"100 R2 jp(1) to fe80::1:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]",
		"100 R2 route 2001:db8:5::100,G4000:1 iif=1 oifs=[2]",
	}, s.since(90, "R2"))
	diff(t, "R1 keeps forwarding", []string(nil), s.since(11, "R1"))
}

// TestScenarioNeighborLoss: R2 reaches S through R1 (link A) or R4 (link
// C); both sit on S's LAN. R1 goes silent: when its Hello Holdtime runs
// out, R2 has no RPF neighbor (its Prune goes to R1's address, unheard);
// when the unicast route moves to R4, R2 joins toward R4 and R4 forwards.
func TestScenarioNeighborLoss(t *testing.T) {
	s := newSim(t)
	r1, r2, r4 := s.router("R1", 1), s.router("R2", 2), s.router("R4", 4)
	lanS, linkA, lanB, linkC := &simLink{name: "S"}, &simLink{name: "A"}, &simLink{name: "B"}, &simLink{name: "C"}
	cfg := DefaultIfConfig()
	s.connect(lanS, r1, 1, 1, cfg)
	s.connect(lanS, r4, 1, 4, cfg)
	s.connect(linkA, r1, 2, 1, cfg)
	s.connect(linkA, r2, 1, 2, cfg)
	s.connect(lanB, r2, 2, 2, cfg)
	s.connect(linkC, r4, 2, 4, cfg)
	s.connect(linkC, r2, 3, 2, cfg)
	r1.rib[srcS] = RPF{Valid: true, IfIndex: 1}
	r4.rib[srcS] = RPF{Valid: true, IfIndex: 1}
	r2.rib[srcS] = RPF{Valid: true, IfIndex: 1, NextHop: r1.self[2]}
	s.run(10)
	s.listen(r2, 2, grpG, srcS)
	s.run(100)
	diff(t, "via R1", []int{2}, r1.oifs(srcS, grpG))
	r1.down = true // silent from now on
	s.run(300)
	var prunes []string
	for _, l := range s.since(100, "R2") {
		if strings.HasSuffix(l, "prune[2001:db8:5::100]") {
			prunes = append(prunes, l)
		}
	}
	// R1's last Hello was before 100; 105 s later R2 forgets it.
	if len(prunes) != 1 || !strings.Contains(prunes[0], "R2 jp(1) to fe80::1:2") {
		t.Errorf("after R1's holdtime: %q, want one Prune to the lost RPF neighbor", prunes)
	}
	up := upstreamView(r2.r, s.now, srcS, grpG)
	diff(t, "RPF' NULL", upView{State: Joined, JoinOK: true}, up)
	diff(t, "route kept", []int{2}, r2.oifs(srcS, grpG))
	s.reroute(r2, srcS, RPF{Valid: true, IfIndex: 3, NextHop: r4.self[2]})
	diff(t, "rerouted", []string{
		"300 R2 jp(3) to fe80::4:2 ht=210 G4000:1 join[2001:db8:5::100] prune[]",
		"300 R2 route 2001:db8:5::100,G4000:1 iif=3 oifs=[2]",
		"300 R4 route 2001:db8:5::100,G4000:1 iif=1 oifs=[2]",
	}, s.since(300))
	diff(t, "RPF' R4", "fe80::4:2", upstreamView(r2.r, s.now, srcS, grpG).RPF)
	_ = netip.Addr{}
}

// TestScenarioDeterministic: the same inputs give the same outputs, to the
// last random delay (every random value comes from Config.Rand, and no
// map order reaches the output).
func TestScenarioDeterministic(t *testing.T) {
	run := func() []string {
		s, _, r2, r3 := lineTopology(t)
		s.listen(r2, 2, grpG, srcS)
		s.listen(r3, 2, grpG, srcS, addr("2001:db8:5::101"))
		s.run(300)
		s.listen(r2, 2, grpG)
		s.run(700)
		return s.trace
	}
	a, b := run(), run()
	if len(a) < 10 {
		t.Fatalf("short trace %q", a)
	}
	diff(t, "second run", a, b)
}
