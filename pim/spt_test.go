package pim

import (
	"net/netip"
	"strings"
	"testing"
)

// S1 is reached over ifX (nbr5); the RP tree comes in on ifU (nbr3); local
// receivers on ifD: we are a last-hop router.
var viaX = routes{s1: {Valid: true, IfIndex: ifX, NextHop: nbr5}}

// TestSPTSwitch: the rules of RFC 7761 sections 4.2, 4.2.1 and 4.2.2 as
// NoCache, WrongIIF and DataActivity drive them, for each policy.
func TestSPTSwitch(t *testing.T) {
	const (
		rpTree  = "route S1,ff0e::1 iif=3 oifs=[2]"
		spt     = "route S1,ff0e::1 iif=4 oifs=[2]"
		joinX   = "jp(4) to fe80::5 ht=210 ff0e::1 join[S1] prune[]"
		pruneX  = "jp(4) to fe80::5 ht=210 ff0e::1 join[] prune[S1]"
		rptPrun = "jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[rpt:S1]"
		// The periodic Join(*,G) due in the same Expire carries the
		// Join(S,G,rpt).
		rptJoin = "jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1 rpt:S1] prune[]"
		starJP  = "jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"
		gone    = "route S1,ff0e::1 iif=0 oifs=[]"
	)
	first := []step{listenEx(0, ifD), noCache(10, ifU, s1)}
	type view struct {
		SPT bool
		KAT float64
		Up  UpstreamState
		RPT RPTState
	}
	for _, tc := range []struct {
		name  string
		spt   SPTPolicy
		steps []step
		acts  []string
		want  view
	}{
		{"first packet down the RP tree: KAT, Join(S,G)", SPTPolicy{}, first,
			[]string{"watch S1", joinX, rpTree, "count S1,ff0e::1"}, view{false, 210, Joined, RPTNotPruned}},
		{"native packet on RPF_interface(S): SPT bit, (S,G,rpt) Prune", SPTPolicy{}, then(first, wrongIIF(11, ifX, s1)),
			[]string{rptPrun, spt}, view{true, 210, Joined, RPTPruned}},
		{"data on the SPT keeps the KAT", SPTPolicy{}, then(first, wrongIIF(11, ifX, s1), activity(20, s1, 10, 1000)),
			nil, view{true, 210, Joined, RPTPruned}},
		{"the KAT expires: Prune(S,G), SPT bit cleared, back to the RP tree", SPTPolicy{},
			then(first, wrongIIF(11, ifX, s1), activity(20, s1, 10, 1000), expireAt(230)),
			[]string{rptJoin, pruneX, gone, "uncount S1,ff0e::1", "unwatch S1"}, view{}},
		{"never: the RP tree only", SPTPolicy{Never: true}, first,
			[]string{"watch S1", rpTree, "count S1,ff0e::1"}, view{false, 0, NotJoined, RPTNotPruned}},
		{"rate: below the threshold, no switch", SPTPolicy{Rate: 8000},
			then(first, activity(20, s1, 5, 500), activity(30, s1, 10, 5500)), nil, view{false, 0, NotJoined, RPTNotPruned}},
		{"rate: above it, the switch", SPTPolicy{Rate: 8000},
			then(first, activity(20, s1, 5, 500), activity(30, s1, 100, 20500)), []string{joinX}, view{false, 210, Joined, RPTNotPruned}},
		{"a cache entry without data for Keepalive_Period goes", SPTPolicy{Never: true}, then(first, expireAt(219.999), expireAt(220)),
			[]string{gone, "uncount S1,ff0e::1", "unwatch S1"}, view{}},
		{"counters that grow keep the cache entry", SPTPolicy{Never: true}, then(first, activity(100, s1, 1, 10), expireAt(220)),
			[]string{starJP}, view{false, 0, NotJoined, RPTNotPruned}},
		{"counters that restart (reinstalled) still count as data", SPTPolicy{Never: true},
			then(first, activity(100, s1, 10, 1000), activity(150, s1, 2, 200), expireAt(300)), []string{starJP}, view{false, 0, NotJoined, RPTNotPruned}},
		{"counters that stand still do not", SPTPolicy{Never: true},
			then(first, activity(100, s1, 10, 1000), activity(150, s1, 10, 1000), expireAt(310)),
			[]string{starJP, gone, "uncount S1,ff0e::1", "unwatch S1"}, view{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{cfg: func(c *Config) { c.SPT = tc.spt }})
			acts := run(t, r, viaX, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "jp", "route", "count", "uncount", "watch S", "unwatch S"))
			var got view
			if rs := route(r, at(last.at), s1, gA); rs != nil {
				got = view{rs.SPTBit, rs.KeepaliveLeft.Seconds(), rs.Upstream, rs.RPT}
			}
			diff(t, "state", tc.want, got)
		})
	}
}

// TestNoCacheWaitsForTheRoute: a packet from a new source is taken once
// the daemon has answered WatchRPF: the route cannot be chosen before.
func TestNoCacheWaitsForTheRoute(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	run(t, r, nil, []step{listenEx(0, ifD)})
	acts := r.NoCache(at(10), ifU, s1, gA)
	diff(t, "no route yet", []string{"watch S1"}, render(acts))
	acts = r.SetRPF(at(10), s1, RPF{Valid: true, IfIndex: ifX, NextHop: nbr5})
	diff(t, "then", []string{"jp(4) to fe80::5 ht=210 ff0e::1 join[S1] prune[]", "route S1,ff0e::1 iif=3 oifs=[2]", "count S1,ff0e::1"},
		only(render(acts), "jp", "route", "count"))
	// Inputs for entries we do not have, or nonsense, are counted.
	r.WrongIIF(at(11), ifU, s2, gA)
	r.DataActivity(at(11), s2, gA, 1, 1)
	r.NoCache(at(11), ifU, addr("fe80::1"), gA)
	r.NoCache(at(11), ifU, s2, g1)
	r.NoCache(at(11), 0, s2, gA)
	diff(t, "drops", map[string]uint64{DropDataNoState: 2, DropBadData: 2, DropDataSSM: 1}, r.Stats(0).Dropped)
}

// TestListenersASM: INCLUDE listeners of an ASM group join the source
// directly; EXCLUDE ones join the RP tree, and excluded sources are not
// forwarded there.
func TestListenersASM(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	acts := run(t, r, nil, []step{listenIn(10, ifD, s1)})
	diff(t, "include: (S,G)", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[S1] prune[]", "route S1,ff0e::1 iif=3 oifs=[2]"},
		only(render(acts), "jp", "route"))
	acts = run(t, r, nil, []step{listenEx(20, ifD, s1)})
	diff(t, "exclude S1: (*,G) with the (S,G,rpt) Prune, and the (S,G) Prune", []string{
		"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[rpt:S1 S1]", "route S1,ff0e::1 iif=0 oifs=[]"},
		only(render(acts), "jp", "route"))
	diff(t, "listeners", []ListenerState{{Group: gA, Exclude: true, Sources: []netip.Addr{s1}}}, ifaceState(r, at(20), ifD).Listeners)
	acts = run(t, r, nil, []step{noCache(30, ifU, s2)})
	diff(t, "S2 comes down the tree", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[S2] prune[]", "route S2,ff0e::1 iif=3 oifs=[2]"},
		only(render(acts), "jp", "route"))
	acts = run(t, r, nil, []step{noCache(31, ifU, s1)})
	diff(t, "S1 is not forwarded", []string{"route S1,ff0e::1 iif=3 oifs=[]"}, only(render(acts), "jp", "route"))
}

// TestDirectlyConnectedNotDR: a router on the source's LAN that is not the
// DR, with (*,G) receivers elsewhere, takes S from the LAN (Update_SPTbit
// sets the bit on the first packet) and prunes it off the RP tree; it does
// not register.
func TestDirectlyConnectedNotDR(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	mustAdd(t, r, tR, 5, addr("fe80::e:5"))
	acts := run(t, r, routes{s1: {Valid: true, IfIndex: ifX}}, []step{
		helloStep(0, ifX, addr("fe80::ff:1")), listenEx(1, 5), noCache(10, ifX, s1)})
	diff(t, "first packet", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[rpt:S1]", "route S1,ff0e::1 iif=4 oifs=[5]"},
		only(render(acts), "jp", "route", "register"))
	rs := route(r, at(10), s1, gA)
	diff(t, "state", [3]any{true, RegisterNoInfo, 210.0}, [3]any{rs.SPTBit, rs.Register, rs.KeepaliveLeft.Seconds()})
}

// TestUpdateSPTbit: the conditions of Update_SPTbit(S,G,iif) (RFC 7761
// section 4.2.2). The bit is set by a packet on iif == RPF_interface(S)
// while JoinDesired(S,G), if DirectlyConnected(S), or RPF_interface(S) !=
// RPF_interface(RP(G)), or inherited_olist(S,G,rpt) == NULL, or RPF'(S,G)
// == RPF'(*,G) != NULL, or I_Am_Assert_Loser(S,G,iif); else the packet may
// still be the RP tree's, and S is not pruned off it. The RP is reached
// over ifU via nbr3; local receivers (EXCLUDE {}) on ifD make us a
// last-hop router that switches on the first packet.
func TestUpdateSPTbit(t *testing.T) {
	viaU3 := routes{s1: {Valid: true, IfIndex: ifU, NextHop: nbr3}}
	viaU4 := routes{s1: {Valid: true, IfIndex: ifU, NextHop: nbr4}}
	onU := routes{s1: {Valid: true, IfIndex: ifU}}
	onX := routes{s1: {Valid: true, IfIndex: ifX}}
	rx := []step{listenEx(0, ifD), noCache(10, ifU, s1)}
	// the counters of the entry grew: a packet on its iif (RPF_interface(S)
	// where it is the RP tree's interface too)
	more := activity(20, s1, 10, 1000)
	type view struct {
		SPT      bool
		Up       UpstreamState
		RPF      string // RPF'(S,G)
		PruneRpt bool   // a Prune(S,G,rpt) was sent
	}
	for _, tc := range []struct {
		name  string
		rt    routes
		spt   SPTPolicy
		steps []step
		want  view
	}{
		{"RPF_interface(S) != RPF_interface(RP(G)): not yet on the SPT's interface", viaX, SPTPolicy{}, rx,
			view{false, Joined, "fe80::5", false}},
		{"RPF_interface(S) != RPF_interface(RP(G)): set by the packet there", viaX, SPTPolicy{}, then(rx, wrongIIF(11, ifX, s1)),
			view{true, Joined, "fe80::5", true}},
		{"JoinDesired(S,G) false: not set", viaX, SPTPolicy{Never: true}, then(rx, wrongIIF(11, ifX, s1)),
			view{false, NotJoined, "fe80::5", false}},
		{"the same interface, RPF'(S,G) == RPF'(*,G)", viaU3, SPTPolicy{}, then(rx, more),
			view{true, Joined, "fe80::3", false}},
		{"the same interface, RPF'(S,G) != RPF'(*,G): not set, not pruned", viaU4, SPTPolicy{}, then(rx, more, activity(30, s1, 20, 2000)),
			view{false, Joined, "fe80::4", false}},
		{"the same interface, RPF'(*,G) moves to RPF'(S,G): set by the next packet", viaU4, SPTPolicy{},
			then(rx, more, setRPF(25, rpA, RPF{Valid: true, IfIndex: ifU, NextHop: nbr4}), activity(30, s1, 20, 2000)),
			view{true, Joined, "fe80::4", false}},
		{"the same interface, an (S,G) Assert lost to RPF'(S,G)", viaU4, SPTPolicy{},
			then(rx, more, assertFrom(25, ifU, nbr4, s1, false, 1, 1)),
			view{true, Joined, "fe80::4", true}},
		{"the same interface, an (S,G) Assert lost before the switch: set by the next packet", viaU4, SPTPolicy{Rate: 8000},
			[]step{listenEx(0, ifD), noCache(10, ifU, s1), activity(20, s1, 5, 500), assertFrom(21, ifU, nbr4, s1, false, 1, 1),
				activity(30, s1, 100, 20500)},
			view{true, Joined, "fe80::4", true}},
		{"the same interface, S directly connected", onU, SPTPolicy{}, rx,
			view{true, Joined, "", true}},
		{"S directly connected elsewhere", onX, SPTPolicy{}, then(rx, wrongIIF(11, ifX, s1)),
			view{true, Joined, "", true}},
		{"the same interface, inherited_olist(S,G,rpt) == NULL: an (S,G) Join only", viaU4, SPTPolicy{},
			[]step{stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1)), noCache(10, ifU, s1)},
			view{true, Joined, "fe80::4", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{cfg: func(c *Config) { c.SPT = tc.spt }})
			var got view
			for _, st := range tc.steps {
				for _, l := range only(render(run(t, r, tc.rt, []step{st})), "jp") {
					if p := l[strings.Index(l, "prune["):]; strings.Contains(p, "rpt:S1") {
						got.PruneRpt = true
					}
				}
			}
			rs := route(r, at(tc.steps[len(tc.steps)-1].at), s1, gA)
			if rs == nil {
				t.Fatal("no (S,G) entry")
			}
			got.SPT, got.Up = rs.SPTBit, rs.Upstream
			if rs.RPFNeighbor.IsValid() {
				got.RPF = rs.RPFNeighbor.String()
			}
			diff(t, "state", tc.want, got)
		})
	}
}
