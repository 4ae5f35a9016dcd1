package sim

import (
	"net/netip"
	"testing"
	"time"
)

// rpfJoinNet: S - lanS - u; u, r and d on the LAN mid; d - lanR - h. d's
// routes to S (and to the RP, on u's loopback) go through r, r's through
// u: r hears d's Joins on its own RPF interface. d has spt-switch =
// "never", so that an ASM receiver keeps it on the RP tree.
func rpfJoinNet(t *testing.T) (*Net, map[string]*Router, *Host, *Host) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, mid, lanR := n.AddLink("lanS"), n.AddLink("mid"), n.AddLink("lanR")
	rs := map[string]*Router{
		"u": n.AddRouter("u", asmConf(t, rpAddr, "")),
		"r": n.AddRouter("r", asmConf(t, rpAddr, "")),
		"d": n.AddRouter("d", asmConf(t, rpAddr, "[pim]\nspt-switch = \"never\"\n")),
	}
	u, r, d := rs["u"], rs["r"], rs["d"]
	u.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	u.AddInterface("mid", mid, "fe80::1", "2001:db8:99::1/64")
	u.AddLoopback(rpAddr)
	r.AddInterface("mid", mid, "fe80::2", "2001:db8:99::2/64")
	d.AddInterface("mid", mid, "fe80::3", "2001:db8:99::3/64")
	d.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::1/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	d.Route(srcPrefix, "fe80::2", "mid")
	d.Route(rpAddr+"/128", "fe80::2", "mid")
	return n, rs, s, h
}

// TestJoinOnRPFInterface: a Join received on RPF_interface(S) (or
// RPF_interface(RP(G)) for a Join(*,G)) counts toward JoinDesired: RFC
// 7761's immediate_olist (4.1.5) takes nothing out for the RPF interface,
// and JoinDesired(S,G) and JoinDesired(*,G) (4.5.4, 4.5.5) are built on
// it; only forwarding takes the incoming interface out of the olist (4.2).
// d joins through r; r, whose route goes through u on the same LAN, must
// join toward u, or nothing brings the traffic onto mid. r forwards
// nothing itself (its olist is its incoming interface), and the receiver
// gets every datagram from u.
func TestJoinOnRPFInterface(t *testing.T) {
	for _, tc := range []struct {
		name, grp string
		join      func(h *Host, g string)
		what      string // the Join/Prune entry d and r send
	}{
		{"SSM (S,G)", group, func(h *Host, g string) { h.JoinSource(g, srcAddr) }, "S"},
		{"ASM (*,G)", asmGrp, func(h *Host, g string) { h.Join(g) }, "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, rs, s, h := rpfJoinNet(t)
			u, r, d := rs["u"], rs["r"], rs["d"]
			n.Run(10 * time.Second)
			t0 := n.Elapsed()
			tc.join(h, tc.grp)
			n.Run(time.Second)
			st := s.Stream(tc.grp, 100*time.Millisecond)
			n.Run(30 * time.Second)
			st.Stop()
			n.Run(time.Second)

			g := netip.MustParseAddr(tc.grp)
			js := jpEntries(n, t0, g)
			rLL, uLL := netip.MustParseAddr("fe80::2"), netip.MustParseAddr("fe80::1")
			if j := filterJP(js, "d/mid", "J", tc.what); len(j) == 0 || j[0].upstream != rLL {
				t.Fatalf("want d's Join to r on mid:\n%s", jpLines(js))
			}
			if j := filterJP(js, "r/mid", "J", tc.what); len(j) == 0 || j[0].upstream != uLL {
				t.Fatalf("want r's Join to u on mid (d's Join came on r's RPF interface):\n%s", jpLines(js))
			}
			if p := filterJP(js, "r/mid", "P", ""); len(p) != 0 {
				t.Errorf("r pruned:\n%s", jpLines(p))
			}
			if e, ok := u.Entry(srcAddr, tc.grp); !ok || e.IIFName != "eth0" || len(e.OIFNames) != 1 || e.OIFNames[0] != "mid" {
				t.Errorf("u: MFC %v (present %v), want iif eth0 oifs [mid]", e, ok)
			}
			if e, ok := r.Entry(srcAddr, tc.grp); ok && len(e.OIFNames) != 0 {
				t.Errorf("r: MFC %v, want no outgoing interface (mid is the incoming one)", e)
			}
			if e, ok := d.Entry(srcAddr, tc.grp); !ok || e.IIFName != "mid" {
				t.Errorf("d: MFC %v (present %v), want iif mid", e, ok)
			}
			if got := udpFrames(n, "mid", srcAddr, t0); got["u/mid"] == 0 || got["r/mid"] != 0 {
				t.Errorf("mid: %v, want u's datagrams only", got)
			}
			dl := Deliveries(h.ReceivedFrom(srcAddr, tc.grp), st.Sent())
			t.Logf("receiver: %d sent, %d received, %d duplicates, missing %v", st.Sent(), dl.Received, dl.Duplicates, dl.Missing)
			if dl.Received == 0 || len(dl.Missing) > 1 || dl.Duplicates != 0 {
				t.Errorf("receiver: %d sent, %d received, %d duplicates, missing %v", st.Sent(), dl.Received, dl.Duplicates, dl.Missing)
			}
		})
	}
}
