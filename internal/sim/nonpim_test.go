package sim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestUnicastPIMOnNonPIMInterface: the messages a router accepts on an
// interface without PIM are decided by the PIM engine alone. A
// Candidate-RP-Advertisement is unicast to the BSR's address and may come
// in on any interface (here a stub link with PIM off); the elected BSR
// takes it into its RP-set. A Hello on the same link is not PIM's: no
// neighbor appears there.
func TestUnicastPIMOnNonPIMInterface(t *testing.T) {
	const bsrAddr = "2001:db8:ff::b"
	n := New(t, Options{Delay: 100 * time.Microsecond, Seed: 1})
	lan, stub := n.AddLink("lan"), n.AddLink("stub")
	role := bsrRole{BSRAddr: bsrAddr, BSRPrio: 10, Extra: "[[interface]]\nname = \"stub\"\n  [interface.pim]\n  enable = false\n"}
	r := n.AddRouter("bsr", role.conf(t))
	r.AddInterface("lan", lan, "fe80::b")
	st := r.AddInterface("stub", stub, "fe80::b", "2001:db8:5::b/64")
	r.AddLoopback(bsrAddr)
	n.AutoRoutes()

	bsr := netip.MustParseAddr(bsrAddr)
	runUntilBSR(t, n, "bsr is elected", func() bool { return bsrState(r) == "elected" }, 2*startupWait, []*Router{r})

	rp := netip.MustParseAddr("2001:db8:5::99")
	peer := netip.MustParseAddr("fe80::99")
	post := func(m pimmsg.Message, dst netip.Addr) {
		b, err := pimmsg.Marshal(m, peer, dst)
		if err != nil {
			t.Fatal(err)
		}
		r.post(daemon.PIMInput{Info: kernel.RecvInfo{IfIndex: st.Index(), Src: peer, Dst: dst, HopLimit: 255}, Data: b})
	}
	ht := uint16(105)
	post(&pimmsg.Hello{Holdtime: &ht}, netip.MustParseAddr("ff02::d"))
	post(&pimmsg.CandidateRPAdvertisement{
		Priority: 5, Holdtime: 60, RP: rp,
		Groups: []pimmsg.Group{{Addr: netip.MustParseAddr("ff0e::"), MaskLen: 16}},
	}, bsr)

	want := bsrView{BSR: bsr, Priority: 10, Set: set(60*time.Second, "ff0e::/16 "+rp.String()+" 5")}
	runUntilBSR(t, n, "the RP-set holds the advertised RP", func() bool { return viewOf(r).equal(want) }, 2*time.Second, []*Router{r})
	if nb := r.Snapshot().Neighbors; len(nb) > 0 {
		t.Errorf("neighbors %+v: a Hello counted on a link without PIM", nb)
	}
}
