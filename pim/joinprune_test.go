package pim

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

func nthSource(i int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	binary.BigEndian.PutUint32(b[12:], uint32(i+1))
	return netip.AddrFrom16(b)
}

func nthGroup(i int) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xff, 0x3e
	binary.BigEndian.PutUint32(b[12:], uint32(i+1))
	return netip.AddrFrom16(b)
}

// TestJoinPruneAggregation: what one event produces for one upstream
// neighbor goes out in one message, groups and sources in order; the
// periodic Joins of entries created together stay together.
func TestJoinPruneAggregation(t *testing.T) {
	r := setupUpstream(t)
	acts := joinPrune(t, r, at(10), ifD, nbr1, selfD, 210, join(g2, s2, s1), join(g1, s2))
	acts = daemonRPF(r, at(10), acts)
	diff(t, "one message", []string{
		"jp(3) to fe80::3 ht=210 G1 join[S2] prune[]",
		"jp(3) to fe80::3 ht=210 G2 join[S1 S2] prune[]",
	}, only(render(acts), "jp"))
	if n := countSends(acts, pimmsg.TypeJoinPrune); n != 1 {
		t.Errorf("%d Join/Prune messages, want 1", n)
	}
	lines := runUntil(r, at(10), at(70))
	diff(t, "periodic", []string{
		"70 jp(3) to fe80::3 ht=210 G1 join[S2] prune[]",
		"70 jp(3) to fe80::3 ht=210 G2 join[S1 S2] prune[]",
	}, only(lines, "70 jp"))
	// Joins and Prunes in one message; the Prune and the Join of an entry
	// moving to another neighbor go to each.
	acts = joinPrune(t, r, at(80), ifD, nbr1, selfD, 210, jpg{g: g2, joins: []netip.Addr{s1}, prunes: []netip.Addr{s2}})
	diff(t, "prune", []string{"jp(3) to fe80::3 ht=210 G2 join[] prune[S2]"}, only(render(acts), "jp"))
}

func countSends(acts []Action, typ pimmsg.Type) int {
	n := 0
	for _, a := range acts {
		if s, ok := a.(SendPIM); ok && s.Msg.Type() == typ {
			n++
		}
	}
	return n
}

// TestJoinPruneSplit: a message larger than the MTU is split
// (pimmsg.SplitJoinPrune): 1280 - 40 = 1240 octets hold 59 sources of one
// group after 26 octets of header and 24 of group.
func TestJoinPruneSplit(t *testing.T) {
	r := newRouterRand(t, constRand(half))
	cfg := DefaultIfConfig()
	cfg.MTU = 1280
	if _, err := r.SetInterfaceConfig(tR, ifU, cfg); err != nil {
		t.Fatal(err)
	}
	hello(t, r, tR, ifD, nbr1)
	hello(t, r, tR, ifU, nbr3)
	runUntil(r, tR, at(3))
	var srcs []netip.Addr
	for i := range 100 {
		srcs = append(srcs, nthSource(i))
	}
	acts := daemonRPF(r, at(10), joinPrune(t, r, at(10), ifD, nbr1, selfD, 210, join(g1, srcs...)))
	var sizes []int
	total := 0
	for _, a := range acts {
		if s, ok := a.(SendPIM); ok && s.Msg.Type() == pimmsg.TypeJoinPrune {
			b, err := pimmsg.Marshal(s.Msg, s.Src, s.Dst)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(b))
			total += len(s.Msg.(*pimmsg.JoinPrune).Groups[0].Joins)
		}
	}
	diff(t, "sizes", []int{4 + 18 + 4 + 20 + 4 + 59*20, 4 + 18 + 4 + 20 + 4 + 41*20}, sizes)
	if total != 100 {
		t.Errorf("%d sources sent, want 100", total)
	}
}

// TestJoinPruneEntryChecks: what the receive side skips, and counts.
func TestJoinPruneEntryChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		g      jpg
		reason string
	}{
		{"(*,G) for a group without an RP", jpg{g: asmG, joins: []netip.Addr{s1}, wildcard: true, rpt: true}, DropNoRP},
		{"W without R", jpg{g: asmG, joins: []netip.Addr{s1}, wildcard: true}, DropWildcard},
		{"group mask", jpg{g: g1, joins: []netip.Addr{s1}, grpMk: 64}, DropGroup},
		{"link-scope group", join(addr("ff32::1"), s1), DropGroup},
		{"not multicast", join(addr("2001:db8::1"), s1), DropGroup},
		{"(*,G) in the SSM range", jpg{g: g1, joins: []netip.Addr{s1}, wildcard: true, rpt: true}, DropSSMShared},
		{"(S,G,rpt) in the SSM range", jpg{g: g1, prunes: []netip.Addr{s1}, rpt: true}, DropSSMShared},
		{"source mask", jpg{g: g1, joins: []netip.Addr{s1}, srcMask: 64}, DropSource},
		{"link-local source", join(g1, addr("fe80::9")), DropSource},
		{"multicast source", join(g1, g2), DropSource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := setupLAN(t, false)
			acts := joinPrune(t, r, at(10), ifD, nbr1, selfD, 210, tc.g)
			diff(t, "actions", []string(nil), render(acts))
			diff(t, "dropped", map[string]uint64{tc.reason: 1}, r.Stats(ifD).Dropped)
			if n := len(r.Snapshot(at(10)).Routes); n != 0 {
				t.Errorf("%d routes", n)
			}
		})
	}
}

// TestJoinPruneToStranger: a Join/Prune addressed to a router we do not
// know changes nothing.
func TestJoinPruneToStranger(t *testing.T) {
	r := setupUpstream(t)
	ev{at: 1, kind: "join", ht: 210}.run(t, r)
	acts := joinPrune(t, r, at(10), ifU, nbr4, addr("fe80::99"), 210, prune(g1, s1))
	diff(t, "actions", []string(nil), render(acts))
	diff(t, "state", upView{Joined, "fe80::3", 51, true}, upstreamView(r, at(10), s1, g1))
	if st := r.Stats(ifU); st.Received[RecvJoinPrune] != 1 || st.PrunesReceived != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestMaxRoutes: a new (S,G) beyond MaxRoutes is refused and counted;
// LimitHit once per episode.
func TestMaxRoutes(t *testing.T) {
	cfg := testConfig(constRand(0))
	cfg.MaxRoutes = 2
	r, _ := New(new(timerq.IDs), cfg)
	mustAdd(t, r, tR, ifD, selfD)
	r.Expire(tR)
	hello(t, r, tR, ifD, nbr1)
	acts := joinPrune(t, r, at(1), ifD, nbr1, selfD, 210, join(g1, s1, s2, addr("2001:db8::3"), addr("2001:db8::4")))
	diff(t, "limit", []string{"watch S1", "watch S2", "limit(2) routes 2"}, only(render(acts), "watch", "limit"))
	acts = r.SetListeners(at(2), ListenerInput{IfIndex: ifD, Group: g2, Sources: []netip.Addr{s1}})
	diff(t, "same episode", []string(nil), only(render(acts), "watch", "limit"))
	diff(t, "dropped", map[string]uint64{DropRouteLimit: 3}, r.Stats(ifD).Dropped)
	joinPrune(t, r, at(3), ifD, nbr1, selfD, 210, prune(g1, s2))
	acts = joinPrune(t, r, at(4), ifD, nbr1, selfD, 210, join(g1, addr("2001:db8::3"), addr("2001:db8::4")))
	diff(t, "new episode", []string{"watch S3", "limit(2) routes 2"}, only(render(acts), "watch", "limit"))
	diff(t, "episodes", map[string]uint64{LimitRoutes: 2}, r.Stats(ifD).LimitHits)
}

// TestSetListeners: INCLUDE lists per (interface, group) become
// local_receiver_include; the rest is counted.
func TestSetListeners(t *testing.T) {
	r := setupLAN(t, false)
	set := func(now float64, u ListenerInput) []string {
		u.IfIndex = ifD
		return only(render(daemonRPF(r, at(now), r.SetListeners(at(now), u))), "route", "watch", "unwatch")
	}
	diff(t, "include", []string{"watch S1", "watch S2", "route S1,G1 iif=3 oifs=[2]", "route S2,G1 iif=3 oifs=[2]"},
		set(1, ListenerInput{Group: g1, Sources: []netip.Addr{s2, s1, s1}}))
	diff(t, "one leaves", []string{"route S1,G1 iif=0 oifs=[]", "unwatch S1"}, set(2, ListenerInput{Group: g1, Sources: []netip.Addr{s2}}))
	diff(t, "unchanged", []string(nil), set(3, ListenerInput{Group: g1, Sources: []netip.Addr{s2}}))
	diff(t, "ASM exclude without an RP: (*,G) state, no route", []string(nil), set(4, ListenerInput{Group: asmG, Exclude: true}))
	diff(t, "SSM exclude: no listeners", []string{"route S2,G1 iif=0 oifs=[]", "unwatch S2"}, set(5, ListenerInput{Group: g1, Exclude: true, Sources: []netip.Addr{s1}}))
	diff(t, "bad source", []string(nil), set(6, ListenerInput{Group: g2, Sources: []netip.Addr{addr("fe80::1")}}))
	diff(t, "link-scope group", []string(nil), set(7, ListenerInput{Group: addr("ff02::1:3"), Sources: []netip.Addr{s1}}))
	diff(t, "counted", map[string]uint64{DropSSMExclude: 1, DropSource: 1, DropGroup: 1}, r.Stats(ifD).Dropped)
	if got := r.SetListeners(at(8), ListenerInput{IfIndex: 99, Group: g1, Sources: []netip.Addr{s1}}); got != nil {
		t.Errorf("unknown interface: %v", render(got))
	}
	set(9, ListenerInput{Group: g2, Sources: []netip.Addr{s1}})
	diff(t, "snapshot", []ListenerState{{Group: asmG, Exclude: true}, {Group: g2, Sources: []netip.Addr{s1}}}, ifaceState(r, at(9), ifD).Listeners)
	// RemoveInterface withdraws them.
	diff(t, "remove", []string{"route S1,G2 iif=0 oifs=[]", "unwatch S1"}, only(render(r.RemoveInterface(at(10), ifD)), "route", "unwatch"))
	_ = time.Second
}
