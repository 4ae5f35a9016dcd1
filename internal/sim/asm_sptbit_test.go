package sim

import (
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestASMSPTBitWithoutUpcall was written as a bug reproduction and now
// guards the fix (pim: updateUpstream).
//
// Where RPF_interface(S) is RPF_interface(RP(G)), joining (S,G) does not
// change the kernel entry's iif, so no upcall reports the packets that
// then arrive on it. RFC 7761 4.2 sets the SPT bit on the first of them
// (Update_SPTbit); the engine sets it only when the next counter poll
// (DataActivity, every ActivityInterval: 10 s by default) shows data.
// CouldAssert(S,G,I) needs the SPT bit (4.6.1), so until then a router
// that forwards (S,G) onto a LAN because of a downstream (S,G) Join
// cannot win or lose an (S,G) Assert there. In asmAssertNet, ra and rb
// both forward onto mid; their first Asserts (at the first packet) are
// (*,G) ones, which do not stop rb's (S,G) forwarding for rd; the (S,G)
// Asserts come only at the first WRONGMIF after the poll, 12.4 s after
// the first packet, and the receivers get every datagram twice until
// then (125 duplicates at 10 packets/s). With the SPT bit set by the
// first packet after the Join (11.1 s), the next WRONGMIF (the kernel
// sends one per entry every 3 s: 14.1 s) would bring the (S,G) Assert,
// and the duplicates would stop 3.1 s after the first packet.
//
// The fix: when JoinDesired(S,G) holds on a cache entry (installed for
// data) whose iif is already RPF_interface(S), the engine runs
// Update_SPTbit at once instead of waiting for the next counter poll.
func TestASMSPTBitWithoutUpcall(t *testing.T) {
	n, rs, s, hc, hd := asmAssertNet(t)
	ra, rb := rs["ra"], rs["rb"]
	n.Run(10 * time.Second)
	hc.Join(asmGrp)
	hd.Join(asmGrp)
	n.Run(time.Second)
	t0 := n.Elapsed()
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(2 * time.Second)
	// ra and rb joined (S,G) toward f at the first packet (t0+0.4 ms) and
	// have received 20 packets on RPF_interface(S) since.
	// Both set the SPT bit at once; the (S,G) Assert follows, and its
	// loser (rb) stops forwarding and so stops wanting (S,G): leaving
	// Joined clears its SPT bit (4.5.5).
	if rt := sgRoute(ra, srcAddr); rt == nil || rt.UpstreamState != "Joined" || !hasFlags(rt, "SPT") {
		t.Errorf("ra's (S,G) 2 s after its Join(S,G), data flowing on its RPF interface: %+v; want Joined with the SPT bit (RFC 7761 4.2 Update_SPTbit)", rt)
	}
	if rt := sgRoute(rb, srcAddr); rt == nil || rt.UpstreamState != "NotJoined" || hasFlags(rt, "SPT") || !hasFlags(rt, "ASSERTED") || len(rt.Outgoing) != 0 {
		t.Errorf("rb's (S,G) 2 s after its Join(S,G): %+v; want the (S,G) Assert lost, NotJoined without the SPT bit, forwarding nothing", rt)
	}
	n.Run(30 * time.Second)
	st.Stop()
	n.Run(time.Second)
	// Every datagram sent 3.5 s or more after the first comes once.
	sgAssert := time.Duration(-1)
	for _, e := range asserts(n, t0) {
		if !e.msg.(*pimmsg.Assert).RPT {
			sgAssert = e.at - t0
			break
		}
	}
	for _, h := range []*Host{hc, hd} {
		if d := dupsFrom(h, 35); d != 0 {
			t.Errorf("%s got %d duplicates of datagrams sent 3.5 s or more after the first; the first (S,G) Assert came %v after the first packet, want with the kernel's second WRONGMIF (3.1 s)",
				h.Name(), d, sgAssert)
		}
	}
}
