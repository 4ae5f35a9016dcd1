package pim

import (
	"net/netip"
	"testing"
)

// TestJoinDesiredStarRPFInterface: a Join(*,G) heard on
// RPF_interface(RP(G)) is in immediate_olist(*,G) (RFC 7761 4.1.5), so it
// makes JoinDesired(*,G) true (4.5.4): nbr4, on the LAN ifU, joins through
// us while our route to the RP goes through nbr3 on the same LAN. It is
// never forwarded to: data from the RP tree comes in on that interface.
// (The (S,G) case: TestDownstreamTwoInterfaces.)
func TestJoinDesiredStarRPFInterface(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	starOn := func(at float64, prune bool) step {
		g := jpg{g: gA, joins: []netip.Addr{rpA}, wildcard: true, rpt: true}
		if prune {
			g.joins, g.prunes = nil, g.joins
		}
		return stepJP(at, ifU, nbr4, selfU, 210, g)
	}
	acts := run(t, r, nil, []step{starOn(1, false)})
	diff(t, "Join(*,G) on the RP's interface", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"},
		only(render(acts), "jp", "route"))
	diff(t, "JoinDesired(*,G)", upView{State: Joined, JT: 60, JoinOK: true, RPF: "fe80::3"}, starUpView(r, at(1)))
	acts = run(t, r, nil, []step{noCache(2, ifU, s1)})
	diff(t, "data from the RP tree: not sent back", []string{"route S1,ff0e::1 iif=3 oifs=[]"}, only(render(acts), "jp", "route"))
	// nbr4's Prune(*,G) on the LAN takes effect after the Prune-Pending
	// Timer (J/P_Override_Interval, 3 s).
	acts = run(t, r, nil, []step{starOn(10, true), expireAt(13)})
	diff(t, "Prune(*,G) on the RP's interface", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[*2001:db8:ff::1]"},
		only(render(acts), "jp(3) to fe80::3"))
}
