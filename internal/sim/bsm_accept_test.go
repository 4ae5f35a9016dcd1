package sim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestBSMRogueRefresh: in the BSR mesh (bsrMesh), long after lhr has
// accepted c2's BSMs from its RPF neighbor, its neighbor rb (a PIM
// neighbor, but not the RPF neighbor toward c2) sends it a BSM in c2's
// name that gives ff0e::/16 to rpB alone: unicast to lhr, then multicast
// with the No-Forward bit. Both skip the RPF check, which RFC 5059 3.1.3
// allows only for the quick refresh of a router that has just started
// (within BS_Period of start-up, before any other BSM): lhr drops and
// counts them (bsm-not-startup on to-rb), its group keeps rpA, its
// RP-set stays c2's, and the stream goes on through ra without a loss.
// (A restarted router still learns the RP-set from that refresh:
// TestBSRNewNeighbor.)
func TestBSMRogueRefresh(t *testing.T) {
	const ht = 60 * time.Second
	n, rs, all, h, st, conv, _ := bsrElected(t, 1, ht)
	lhr := rs["lhr"]
	want := bsrView{BSR: c2IP, Priority: 100, Set: meshSet(ht)}
	// 200 s after the BSR's first BSM reached everyone.
	n.Run(conv + 200*time.Second - n.Elapsed())
	if !allSee(all, want) {
		t.Fatalf("before the rogue BSM:\n%s", views(all))
	}
	if r := starOf(lhr, bsrGrpIP); r == nil || r.RP != rpAIP {
		t.Fatalf("lhr (*,G) %+v, want RP rpA", r)
	}

	ifc := lhr.Iface("to-rb")
	rb := netip.MustParseAddr("fe80::b")
	rogue := &pimmsg.Bootstrap{
		FragmentTag: 0xbad, HashMaskLen: 126, Priority: 100, BSR: c2IP, NoForward: true,
		Groups: []pimmsg.BootstrapGroup{{
			Group:   pimmsg.Group{Addr: netip.MustParseAddr("ff0e::"), MaskLen: 16},
			RPCount: 1,
			RPs:     []pimmsg.BootstrapRP{{Addr: rpBIP, Priority: 0, Holdtime: 150}},
		}},
	}
	post := func(dst netip.Addr) {
		b, err := pimmsg.Marshal(rogue, rb, dst)
		if err != nil {
			t.Fatal(err)
		}
		lhr.post(daemon.PIMInput{Info: kernel.RecvInfo{IfIndex: ifc.Index(), Src: rb, Dst: dst, HopLimit: 1}, Data: b})
	}
	tRogue := n.Elapsed()
	post(netip.MustParseAddr("fe80::3")) // unicast to lhr on the link
	post(pim.AllPIMRouters)              // multicast, No-Forward

	// lhr's group stays on rpA for the next BS_Periods.
	for d := time.Duration(0); d < 3*bsrPeriod; d += pollStep {
		n.Run(pollStep)
		if r := starOf(lhr, bsrGrpIP); r == nil || r.RP != rpAIP {
			t.Fatalf("%v after the rogue BSM: lhr (*,G) %+v, want RP rpA\n%s", d, r, bsrDump(n))
		}
		if v := viewOf(lhr); !v.equal(want) {
			t.Fatalf("%v after the rogue BSM: lhr %v, want %v", d, v, want)
		}
	}
	if got := lhr.Snapshot().Counters["pim/to-rb"]["dropped/"+pim.DropBSMNotStartup]; got != 2 {
		t.Errorf("lhr's %s drops on to-rb: %d, want 2 (counters %v)", pim.DropBSMNotStartup, got, lhr.Snapshot().Counters["pim/to-rb"])
	}
	for _, e := range pimTrace(n, tRogue) {
		if jp, ok := e.msg.(*pimmsg.JoinPrune); ok && e.from == "lhr/to-rb" {
			t.Errorf("lhr sent a Join/Prune toward rb after the rogue BSM: %v %+v", e, jp)
		}
	}
	st.Stop()
	n.Run(time.Second)
	d := Deliveries(h.ReceivedFrom(srcAddr, bsrGrp), st.Sent()-1)
	if len(d.Missing) != 0 || d.Duplicates != 0 {
		t.Errorf("delivery: %d unique of %d sent, missing %v, %d duplicates", d.Unique, st.Sent(), d.Missing, d.Duplicates)
	}
	t.Logf("rogue BSMs at %v (BSR known since %v): dropped, RP unchanged; %d datagrams, none lost", tRogue, conv, d.Unique)
}
