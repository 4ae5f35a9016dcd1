package pim

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// checkpointRouter is the ASM router of asm_helpers_test.go (a LAN on
// ifD with nbr1 and nbr2, nbr3 and nbr4 on ifU, nbr5 on ifX; the RP of
// ff0e::/16 is rpA, via nbr3) with state made by Hellos and Join/Prunes
// (times in seconds after tR):
//
//	3    Join(*,gA) from nbr1 on ifD
//	5    Join(S1,gA) from nbr1 on ifD
//	6    Prune(S2,gA,rpt) from nbr2 on ifD: Prune-Pending, Prune at 9
//	7    Join(S1,G1) from nbr1 on ifD, Holdtime 65535
//	10   Join(S2,G1) from nbr1 on ifD ...
//	100  ... pruned by nbr2 (Prune-Pending until 103)
//	20   Join(S1,G2) from nbr5 on ifX, Holdtime 100: expires at 120
//	30   nbr6 on ifX, Holdtime 105, DR Priority 10, secondary addresses:
//	     the DR there; refreshed at 90
func checkpointRouter(t *testing.T) *Router {
	r := asmRouter(t, asmOpt{lan: true})
	nbr6 := addr("fe80::6")
	run(t, r, routes{}, []step{
		starJoin(3),
		stepJP(5, ifD, nbr1, selfD, 210, join(gA, s1)),
		stepJP(6, ifD, nbr2, selfD, 210, jpg{g: gA, prunes: []netip.Addr{s2}, rpt: true}),
		stepJP(7, ifD, nbr1, selfD, 0xffff, join(g1, s1)),
		stepJP(10, ifD, nbr1, selfD, 210, join(g1, s2)),
		stepJP(20, ifX, nbr5, selfX, 100, join(g2, s1)),
		helloStep(30, ifX, nbr6, withPrio(10), withAddrs(addr("2001:db8:6::6"), addr("2001:db8:6::7"))),
		helloStep(90, ifX, nbr6, withPrio(10), withAddrs(addr("2001:db8:6::6"), addr("2001:db8:6::7"))),
		stepJP(100, ifD, nbr2, selfD, 210, prune(g1, s2)),
	})
	expireUntil(r, at(100), at(101), func(time.Time, []Action) {})
	return r
}

// restorePIM makes a new router like asmRouter's, without neighbors, at
// now (another Rand: another Generation ID) and restores cps into it,
// answering its route lookups. It returns the restore's actions.
func restorePIM(t *testing.T, now time.Time, cps []InterfaceCheckpoint, o RestoreOptions) (*Router, []Action, Restored) {
	t.Helper()
	cfg := testConfig(constRand(half + 12345))
	cfg.RPs = []StaticRP{{Addr: rpA, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	r, err := New(new(timerq.IDs), cfg)
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int{}
	for _, i := range []int{ifD, ifU, ifX} {
		mustAdd(t, r, now, i, map[int]netip.Addr{ifD: selfD, ifU: selfU, ifX: selfX}[i])
		index[fmt.Sprintf("eth%d", i)] = i
	}
	r.SetLocalAddresses(now, []netip.Addr{selfG})
	var acts []Action
	var total Restored
	for _, c := range cps {
		i, ok := index[c.Name]
		if !ok {
			t.Fatalf("checkpoint of an unknown interface %q", c.Name)
		}
		a, res := r.Restore(now, i, c, o)
		acts = append(acts, routes{}.answer(r, now, a)...)
		total.Neighbors += res.Neighbors
		total.Joins += res.Joins
		total.Expired += res.Expired
		total.Refused += res.Refused
	}
	return r, acts, total
}

// comparable is the state a checkpoint restores, and what follows from it,
// without timer IDs (a new router draws its own), our Generation ID and
// Hello timer (new after a restart), and the upstream timers (a restored
// router sends its Joins at once).
func comparable(st State) State {
	for i := range st.Interfaces {
		is := &st.Interfaces[i]
		is.GenerationID, is.HelloTimer, is.NextHello = 0, 0, time.Time{}
		for j := range is.Neighbors {
			is.Neighbors[j].Timer = 0
		}
	}
	ds := func(l []DownstreamState) {
		for i := range l {
			l[i].ExpiryTimer, l[i].PrunePendingTimer = 0, 0
		}
	}
	for i := range st.Routes {
		rs := &st.Routes[i]
		ds(rs.Downstream)
		for j := range rs.RPTDownstream {
			rs.RPTDownstream[j].ExpiryTimer, rs.RPTDownstream[j].PrunePendingTimer = 0, 0
		}
		rs.JoinTimer, rs.JoinTimerLeft, rs.OverrideTimer, rs.OverrideLeft = 0, 0, 0, 0
	}
	for i := range st.StarG {
		ds(st.StarG[i].Downstream)
		st.StarG[i].JoinTimer, st.StarG[i].JoinTimerLeft = 0, 0
	}
	return st
}

// lastRoutes is the last Route action for each (S,G).
func lastRoutes(acts []Action) map[string]Route {
	out := map[string]Route{}
	for _, a := range acts {
		if rt, ok := a.(Route); ok {
			out[nm(rt.Source)+","+nm(rt.Group)] = rt
		}
	}
	return out
}

// TestCheckpointRoundTrip: a checkpoint taken at t1 and restored into a
// new router at t1+d gives the state the old router has at t1+d (its
// timers fired meanwhile, the restored ones lost d, and what ran out is
// gone either way): the neighbors and DRs, every downstream machine, and
// from them the same upstream states, RPF' and routes; the restore's
// actions install those routes. The Generation IDs are new.
func TestCheckpointRoundTrip(t *testing.T) {
	for _, d := range []float64{0, 1.5, 2.5, 30, 250} {
		t.Run(secs(d).String(), func(t *testing.T) {
			old := checkpointRouter(t)
			t1 := at(101)
			cps := old.Checkpoint(t1)
			b, err := json.Marshal(cps)
			if err != nil {
				t.Fatal(err)
			}
			var back []InterfaceCheckpoint
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			diff(t, "checkpoint through JSON", cps, back)

			t2 := t1.Add(secs(d))
			expireUntil(old, t1, t2, func(now time.Time, acts []Action) { routes{}.answer(old, now, acts) })
			r, acts, _ := restorePIM(t, t2, back, RestoreOptions{Taken: t1})
			want, got := comparable(old.Snapshot(t2)), comparable(r.Snapshot(t2))
			diff(t, "state", want, got)
			if len(want.Routes) == 0 || len(want.Interfaces[0].Neighbors) == 0 {
				t.Fatalf("nothing to compare: %+v", want)
			}
			routesOf := map[string]Route{}
			for _, rs := range want.Routes {
				if rs.IIF != 0 || len(rs.OIFs) > 0 {
					routesOf[nm(rs.Source)+","+nm(rs.Group)] = Route{Source: rs.Source, Group: rs.Group, IIF: rs.IIF, OIFs: rs.OIFs}
				}
			}
			diff(t, "routes installed by the restore", routesOf, lastRoutes(acts))
			for i, is := range old.Snapshot(t2).Interfaces {
				if r.Snapshot(t2).Interfaces[i].GenerationID == is.GenerationID {
					t.Errorf("%s: the Generation ID %#x was kept", is.Name, is.GenerationID)
				}
			}
		})
	}
}

// TestCheckpointRestoreDetails: what a restore keeps, drops and refuses,
// and the actions it returns.
func TestCheckpointRestoreDetails(t *testing.T) {
	c := []InterfaceCheckpoint{
		{Name: "eth2", Neighbors: []NeighborCheckpoint{
			{Address: nbr1, Holdtime: 105, Left: secs(50), GenerationID: u32(7), DRPriority: u32(100)},
			{Address: nbr2, Holdtime: 105, Left: secs(5)}, // runs out
			{Address: selfD, Holdtime: 105, Left: secs(50)},
			{Address: s1, Holdtime: 105, Left: secs(50)}, // not link-local
		}, SG: []JoinCheckpoint{
			{Source: s1, Group: g1, ExpiryLeft: secs(100)},
			{Source: s2, Group: g1, ExpiryLeft: secs(5)},                                                   // runs out
			{Source: s1, Group: g2, ExpiryLeft: secs(100), PrunePending: true, PrunePendingLeft: 1},        // PPT ran out
			{Source: s2, Group: g2, ExpiryLeft: secs(100), PrunePending: true, PrunePendingLeft: secs(12)}, // cut to 3 s: ran out
			{Source: nbr1, Group: g2, ExpiryLeft: secs(100)},                                               // not a source
		}, StarG: []JoinCheckpoint{
			{Group: gA, RP: rpA, ExpiryLeft: secs(100)},
			{Group: addr("ff0e::2"), RP: selfG, ExpiryLeft: secs(100)}, // another RP
			{Group: g1, ExpiryLeft: secs(100)},                         // SSM
		}, SGRpt: []JoinCheckpoint{
			{Source: s1, Group: gA, ExpiryLeft: secs(100), PrunePending: true, PrunePendingLeft: 1}, // -> Prune
			{Source: s2, Group: g1, ExpiryLeft: secs(100)},                                          // SSM
		}},
		{Name: "eth3", Neighbors: []NeighborCheckpoint{{Address: nbr3, Holdtime: 0xffff, LANPruneDelay: &pimmsg.LANPruneDelay{PropagationDelay: 1000, OverrideInterval: 5000}}}},
	}
	r, acts, res := restorePIM(t, at(10), c, RestoreOptions{Taken: tR})
	diff(t, "restored", Restored{Neighbors: 2, Joins: 3, Expired: 4, Refused: 6}, res)
	diff(t, "neighbors on eth2", map[string]float64{nbr1.String(): 40}, neighbors(r, at(10), ifD))
	diff(t, "neighbors on eth3", map[string]float64{nbr3.String(): -1}, neighbors(r, at(10), ifU))
	if is := ifaceState(r, at(10), ifD); is.DR != nbr1 || is.DRSelf {
		t.Errorf("DR on eth2: %v (self %v), want nbr1 (priority 100)", is.DR, is.DRSelf)
	}
	diff(t, "S1,G1", dsView{State: Join, ET: 90}, downView(r, at(10), s1, g1, ifD))
	diff(t, "S2,G2", dsView{}, downView(r, at(10), s2, g2, ifD))
	diff(t, "S2,G1", dsView{}, downView(r, at(10), s2, g1, ifD))
	diff(t, "S1,G2", dsView{}, downView(r, at(10), s1, g2, ifD))
	diff(t, "(*,gA)", dsView{State: Join, ET: 90}, starDownView(r, at(10), ifD))
	diff(t, "S1,gA,rpt", rptView{Up: RPTPruned, RPF: nm(nbr3), Down: RPTPrune, ET: 90}, rptOf(r, at(10), s1, ifD))
	lines := render(acts)
	for _, want := range []string{
		"nbr(2) fe80::1 up restored",
		"nbr(3) fe80::3 up restored",
		"dr(2) fe80::1 self=false",
		"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[rpt:S1]",
		"jp(3) to fe80::3 ht=210 G1 join[S1] prune[]",
		"route S1,G1 iif=3 oifs=[2]",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no %q in the actions:\n%s", want, lines)
		}
	}
	if i := slices.Index(lines, "hello(3) from fe80::e:1 ht=105"); i < 0 || i > slices.IndexFunc(lines, func(l string) bool { return l[:2] == "jp" }) {
		t.Errorf("no Hello before the first Join on eth3:\n%s", lines)
	}

	// State the interface has already stays as it is; an unknown
	// interface takes nothing.
	acts2, res2 := r.Restore(at(10), ifD, c[0], RestoreOptions{Taken: tR})
	if res2.Neighbors != 0 || res2.Joins != 0 {
		t.Errorf("restored again: %+v, %s", res2, render(acts2))
	}
	if acts, res := r.Restore(at(10), 99, c[0], RestoreOptions{}); acts != nil || res != (Restored{}) {
		t.Errorf("restore into an unknown interface: %v, %+v", acts, res)
	}
}

// TestCheckpointHold: with Hold, restored neighbors and Joins are
// provisional: no timer runs longer than Hold (a Holdtime of 65535
// included), or than the time the neighbors need to confirm them when
// that is longer; a Hello and a Join confirm them as usual.
func TestCheckpointHold(t *testing.T) {
	c := []InterfaceCheckpoint{{Name: "eth2",
		Neighbors: []NeighborCheckpoint{{Address: nbr1, Holdtime: 0xffff}, {Address: nbr2, Holdtime: 105, Left: secs(100)}},
		SG:        []JoinCheckpoint{{Source: s1, Group: g1, Forever: true}, {Source: s2, Group: g1, ExpiryLeft: secs(200)}},
	}}
	// The first Hello of the restored router goes out at 2.5 s (Rand is
	// about half), neighbors answer within 5 s (Triggered_Hello_Delay),
	// their Joins within 3 s (the J/P override interval): 7.5 s.
	for _, tc := range []struct{ hold, want float64 }{{15, 15}, {1, 7.5}} {
		r, _, _ := restorePIM(t, tR, c, RestoreOptions{Taken: tR, Hold: secs(tc.hold)})
		got := neighbors(r, tR, ifD)
		if l := got[nbr2.String()]; l < tc.want-0.01 || l > tc.want+0.01 {
			t.Errorf("hold %v: neighbors %v, want %v left", tc.hold, got, tc.want)
		}
		for _, s := range []netip.Addr{s1, s2} {
			if v := downView(r, tR, s, g1, ifD); v.Forever || v.ET < tc.want-0.01 || v.ET > tc.want+0.01 {
				t.Errorf("hold %v: %s: %+v, want ET %v", tc.hold, nm(s), v, tc.want)
			}
		}
		if tc.hold != 15 {
			continue
		}
		// Confirmed: nbr1's Hello (65535 again), a Join for S1 (65535)
		// and S2 (210).
		hello(t, r, at(3), ifD, nbr1, withHoldtime(0xffff))
		joinPrune(t, r, at(4), ifD, nbr1, selfD, 0xffff, join(g1, s1))
		joinPrune(t, r, at(4), ifD, nbr1, selfD, 210, join(g1, s2))
		diff(t, "confirmed neighbors", map[string]float64{nbr1.String(): -1, nbr2.String(): 11}, neighbors(r, at(4), ifD))
		diff(t, "confirmed S1", dsView{State: Join, Forever: true}, downView(r, at(4), s1, g1, ifD))
		diff(t, "confirmed S2", dsView{State: Join, ET: 210}, downView(r, at(4), s2, g1, ifD))
		// What nobody confirms goes when its hold ends.
		expireUntil(r, at(4), at(16), func(time.Time, []Action) {})
		diff(t, "after the hold", map[string]float64{nbr1.String(): -1}, neighbors(r, at(16), ifD))
	}
}

// TestCheckpointEmpty: a router without neighbors or Joins exports
// nothing.
func TestCheckpointEmpty(t *testing.T) {
	r := newRouter(t)
	if cps := r.Checkpoint(tR); cps != nil {
		t.Errorf("checkpoint: %+v", cps)
	}
}
