package pim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestSetRPF: routes for unwatched addresses are ignored, repeats change
// nothing, an invalid route clears the incoming interface, and a route
// through an interface without PIM still gives the incoming interface
// (with no RPF neighbor).
func TestSetRPF(t *testing.T) {
	r := setupUpstream(t)
	diff(t, "unwatched", []string(nil), render(rpf(r, at(1), s1, ifU, nbr3)))
	ev{at: 2, kind: "join", ht: 210}.run(t, r)
	diff(t, "repeat", []string(nil), render(rpf(r, at(3), s1, ifU, nbr3)))
	diff(t, "zone ignored", []string(nil), render(rpf(r, at(3), s1.WithZone("x"), ifU, nbr3.WithZone("eth3"))))
	acts := r.SetRPF(at(4), s1, RPF{Valid: true, IfIndex: 0})
	diff(t, "no interface", []string{"jp(3) to fe80::3 ht=210 G1 join[] prune[S1]", "route S1,G1 iif=0 oifs=[]"}, render(acts))
	acts = rpf(r, at(5), s1, 77, addr("fe80::77"))
	diff(t, "non-PIM interface", []string{"route S1,G1 iif=77 oifs=[2]"}, render(acts))
	diff(t, "RPF'", upView{Joined, "", 0, true}, upstreamView(r, at(5), s1, g1))
	rs := route(r, at(5), s1, g1)
	diff(t, "snapshot RPF", RPF{Valid: true, IfIndex: 77, NextHop: addr("fe80::77")}, rs.RPF)
	// Batch: several sources in one event.
	joinPrune(t, r, at(6), ifD, nbr1, selfD, 210, join(g2, s1, s2))
	acts = r.SetRPFs(at(7), []RPFUpdate{
		{s1, RPF{Valid: true, IfIndex: ifU, NextHop: nbr3}},
		{s2, RPF{Valid: true, IfIndex: ifU, NextHop: nbr3}},
	})
	if n := countSends(acts, pimmsg.TypeJoinPrune); n != 1 {
		t.Errorf("%d Join/Prune messages for one batch, want 1: %v", n, render(acts))
	}
}

// TestRPFRecord: the engine is the record of the routes it watches. An
// address is watched from WatchRPF until UnwatchRPF, RPFOf gives the last
// answer in Canonical form (no zone; any answer without a route is the
// zero RPF), and an answer Canonically equal to the held one changes
// nothing.
func TestRPFRecord(t *testing.T) {
	now := time.Unix(1000, 0)
	var ids timerq.IDs
	cfg := DefaultConfig()
	cfg.Rand = func() uint32 { return 1 }
	rp := netip.MustParseAddr("2001:db8:ff::1")
	cfg.RPs = []StaticRP{{Addr: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	r, err := New(&ids, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddInterface(now, 3, "eth0", netip.MustParseAddr("fe80::1"), nil, DefaultIfConfig()); err != nil {
		t.Fatal(err)
	}
	g := netip.MustParseAddr("ff0e::1")
	r.SetListeners(now, ListenerInput{IfIndex: 3, Group: g, Exclude: true})
	if w := r.WatchedRPF(); len(w) != 1 || w[0] != rp {
		t.Fatalf("WatchedRPF = %v, want [%v]", w, rp)
	}
	if _, ok := r.RPFOf(rp); ok {
		t.Fatal("RPFOf before any answer: ok")
	}
	r.SetRPF(now, rp, RPF{Valid: true, IfIndex: 3, NextHop: netip.MustParseAddr("fe80::9%eth0")})
	want := RPF{Valid: true, IfIndex: 3, NextHop: netip.MustParseAddr("fe80::9")}
	if got, ok := r.RPFOf(rp); !ok || got != want {
		t.Fatalf("RPFOf = %+v, %v; want %+v", got, ok, want)
	}
	if acts := r.SetRPF(now, rp, RPF{Valid: true, IfIndex: 3, NextHop: netip.MustParseAddr("fe80::9%eth0")}); len(acts) != 0 {
		t.Errorf("the same route again gave %v", acts)
	}
	if (RPF{IfIndex: 3, NextHop: want.NextHop}).Canonical() != (RPF{}) {
		t.Error("an answer that is not Valid is not the zero RPF")
	}
	acts := r.SetListeners(now, ListenerInput{IfIndex: 3, Group: g})
	var unwatched bool
	for _, a := range acts {
		if u, ok := a.(UnwatchRPF); ok && u.Addr == rp {
			unwatched = true
		}
	}
	if !unwatched || len(r.WatchedRPF()) != 0 {
		t.Errorf("after the last listener left: UnwatchRPF %v, still watched %v", unwatched, r.WatchedRPF())
	}
	if _, ok := r.RPFOf(rp); ok {
		t.Error("RPFOf after UnwatchRPF: ok")
	}
}
