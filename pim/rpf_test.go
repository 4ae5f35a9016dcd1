package pim

import (
	"github.com/pim6sd/pim6sd/pim/pimmsg"
	"testing"
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
