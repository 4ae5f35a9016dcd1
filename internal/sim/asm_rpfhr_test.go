package sim

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestASMRPOnFirstHop: S - lanS - fhr (the RP, on its loopback) - l12 -
// mid - l23 - lhr - lanR - h. The first-hop router is the RP: it never
// registers (no Register, Null-Register or Register-Stop on any link),
// forwards natively down the (*,G) join from the first packet, and the
// last-hop router's SPT is the RP tree (no (S,G,rpt) Prune).
func TestASMRPOnFirstHop(t *testing.T) {
	const rp = "2001:db8:ff::1"
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, l12, l23, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l23"), n.AddLink("lanR")
	fhr := n.AddRouter("fhr", asmConf(t, rp, ""))
	mid := n.AddRouter("mid", asmConf(t, rp, ""))
	lhr := n.AddRouter("lhr", asmConf(t, rp, ""))
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-mid", l12, "fe80::1")
	fhr.AddLoopback(rp)
	mid.AddInterface("to-fhr", l12, "fe80::2")
	mid.AddInterface("to-lhr", l23, "fe80::2")
	lhr.AddInterface("to-mid", l23, "fe80::3")
	lhr.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()

	n.Run(10 * time.Second)
	t0 := n.Elapsed()
	h.Join(asmGrp)
	n.Run(time.Second)
	if r := starRoute(fhr); r == nil || !slices.Equal(mifNames(fhr, r.Joined), []string{"to-mid"}) || mifName(fhr, r.Incoming) != "pim6reg" || !hasFlags(r, "WC", "RP") {
		t.Fatalf("fhr (the RP) (*,G): %+v", r)
	}
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(3 * time.Minute) // past a Register Suppression Time and more
	st.Stop()
	n.Run(time.Second)

	for _, e := range pimTrace(n, t0) {
		switch e.msg.(type) {
		case *pimmsg.Register, *pimmsg.RegisterStop:
			t.Errorf("register traffic with the RP on the first-hop router: %v", e)
		}
	}
	for _, r := range n.Routers() {
		got := r.Upcalls()
		if slices.ContainsFunc(got, func(u UpcallRecord) bool { return u.Type.String() == "WHOLEPKT" }) {
			t.Errorf("%s had WHOLEPKT upcalls", r.Name())
		}
		// The daemon counts every upcall the kernel made, by type.
		want := map[string]uint64{}
		for _, u := range got {
			want["upcall/"+strings.ToLower(u.Type.String())]++
		}
		if have := r.Snapshot().Counters["kernel"]; len(want) > 0 && !maps.Equal(have, want) {
			t.Errorf("%s: kernel upcall counters %v, the kernel made %v", r.Name(), have, want)
		}
	}
	wantMFC(t, fhr, srcAddr, "eth0", "to-mid")
	wantMFC(t, mid, srcAddr, "to-fhr", "to-lhr")
	wantMFC(t, lhr, srcAddr, "to-mid", "eth1")
	if r := sgRoute(fhr, srcAddr); !hasFlags(r, "SPT") || hasFlags(r, "REG") || hasFlags(r, "REG_SUPP") || r.RSTimer != 0 {
		t.Errorf("fhr (S,G) %+v, want SPT and no Register state", r)
	}
	if j := filterJP(jpEntries(n, t0, asmGrpIP), "", "", "S,rpt"); len(j) != 0 {
		t.Errorf("(S,G,rpt) Join/Prunes where the SPT is the RP tree:\n%s", jpLines(j))
	}
	d := asmDelivery(h, srcAddr, st)
	if d.Duplicates != 0 || len(d.Missing) != 0 {
		t.Errorf("receiver: %d sent, %d received, %d duplicates, missing %v", st.Sent(), d.Received, d.Duplicates, d.Missing)
	}
	for _, dg := range h.ReceivedFrom(srcAddr, asmGrp) {
		if dg.HopLimit != 61 {
			t.Fatalf("datagram with hop limit %d, want 61 (three native hops)", dg.HopLimit)
		}
	}
	t.Logf("%d datagrams sent, %d received, none lost", st.Sent(), d.Received)
}
