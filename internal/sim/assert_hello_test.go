package sim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestASMAssertAfterNewAddress: a router sends its Hello before an Assert
// on an interface where it has not yet sent one with its current address
// (RFC 7761 4.3.1), since its neighbors take Asserts only from routers
// they have a Hello from.
//
// In asmAssertNet's steady state ra is the Assert winner on mid. Then ra's
// link-local address on mid changes (fe80::a to fe80::9; rc's routes
// follow, as an IGP's would): ra says goodbye from the old address, so rb
// forgets the Assert it lost and forwards onto mid again. At rb's next
// WRONGMIF upcall rb, in NoInfo, asserts, and ra, still the winner,
// answers at once from its new address, well within its triggered
// Hello's random delay. Before the fix that answer went out before ra's
// Hello: rb, rc and rd dropped it (no neighbor fe80::9 yet), rb stayed a
// winner too and rc and rd took rb for the winner, so both forwarded onto
// mid until an Assert Timer ran out, minutes later. Now ra's Hello goes
// first and rb loses.
func TestASMAssertAfterNewAddress(t *testing.T) {
	n, rs, s, hc, hd := asmAssertNet(t)
	ra, rb, rc, rd := rs["ra"], rs["rb"], rs["rc"], rs["rd"]
	newLL := netip.MustParseAddr("fe80::9")
	n.Run(10 * time.Second)
	hc.Join(asmGrp)
	hd.Join(asmGrp)
	n.Run(time.Second)
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(time.Minute)
	wantMFC(t, rb, srcAddr, "to-f")

	tChange := n.Elapsed()
	ra.Iface("mid").SetLinkLocal(newLL.String())
	for _, p := range []string{srcPrefix, rpF + "/128"} {
		rc.Route(p, newLL.String(), "mid")
	}
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)

	// ra's first Hello from its new address is on the wire before its
	// first Assert from it.
	hello, assert := -1, -1
	for k, f := range n.Frames() {
		if f.Elapsed() < tChange || f.Link != "mid" || f.From != "ra/mid" || f.Src != newLL {
			continue
		}
		switch f.PIM().(type) {
		case *pimmsg.Hello:
			if hello < 0 {
				hello = k
			}
		case *pimmsg.Assert:
			if assert < 0 {
				assert = k
			}
		}
	}
	if hello < 0 || assert < 0 || assert < hello {
		t.Errorf("ra's first Hello and Assert from fe80::9 are frames %d and %d; want the Hello first:\n%s",
			hello, assert, eventLines(asserts(n, tChange)))
	}
	// rb lost to ra's answer. Linux reports a packet on the wrong
	// interface at most every 3 s per entry, so rb's Assert comes up to 3
	// s after the change; rc, which took rb's Assert before ra's answer,
	// may send a Join(S,G) to rb that puts it back in NoInfo for one more
	// round. Ten seconds on, rb no longer forwards onto mid.
	wantMFC(t, rb, srcAddr, "to-f")
	if r := sgRoute(rb, srcAddr); r == nil || !slices.Equal(mifNames(rb, r.Asserted), []string{"mid"}) {
		t.Errorf("rb (S,G) %+v, want mid lost to an Assert", r)
	}
	if got := udpFrames(n, "mid", srcAddr, tChange+10*time.Second); got["rb/mid"] != 0 || got["ra/mid"] < 200 {
		t.Errorf("datagrams on mid from 10 s after the change on, by sender: %v, want ra's only\n%s",
			got, eventLines(asserts(n, tChange)))
	}
	for _, r := range []*Router{rc, rd} {
		if rt := sgRoute(r, srcAddr); rt == nil || rt.UpstreamNeighbor != newLL {
			t.Errorf("%s (S,G) %+v, want the winner's new address upstream", r.Name(), rt)
		}
	}
}
