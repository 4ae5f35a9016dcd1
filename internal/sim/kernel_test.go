package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// These tests drive a simulated kernel directly, as the daemon will for
// ASM (register MIF, MRT6_PIM, upcalls): the daemon runs on no interface
// (default-interfaces = "none"), so the MIFs and MFC entries are the
// test's own.

const asmGroup = "ff0e::1"

func quietConfig(t *testing.T) *conf.Config {
	c, err := conf.Parse([]byte("[global]\ndefault-interfaces = \"none\"\n"), "quiet.toml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// quietKernel undoes what every daemon does to its kernel at start (the
// register MIF, MRT6_PIM), so a test can drive the kernel model alone.
func quietKernel(t *testing.T, r *Router) {
	t.Helper()
	k := r.Kernel()
	k.mute = true // the tests program the MFC; the daemon's audit must not see it
	if err := k.EnablePIM(false); err != nil {
		t.Fatal(err)
	}
	for m, name := range k.MIFs() {
		if name == "pim6reg" {
			if err := k.DelMIF(m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// bare: S on lanS (eth0), a listener H of asmGroup on lanR (eth1), one
// router whose daemon leaves the kernel alone. Returns the MIFs of eth0
// and eth1.
func bare(t *testing.T) (*Net, *Router, *Host, *Host, kernel.MIF, kernel.MIF) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, lanR := n.AddLink("lanS"), n.AddLink("lanR")
	r := n.AddRouter("r1", quietConfig(t))
	e0 := r.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	e1 := r.AddInterface("eth1", lanR, "fe80::1", "2001:db8:2::1/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	h.Join(asmGroup)
	n.Run(time.Millisecond) // the daemon starts: the kernel is open
	quietKernel(t, r)
	k := r.Kernel()
	m0, err := k.AddMIF(e0.Index())
	if err != nil {
		t.Fatal(err)
	}
	m1, err := k.AddMIF(e1.Index())
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := k.AddMIF(e0.Index()); m != m0 {
		t.Fatalf("AddMIF again gave %d, want %d", m, m0)
	}
	return n, r, s, h, m0, m1
}

func upcallTypes(r *Router) []string {
	var out []string
	for _, u := range r.Upcalls() {
		out = append(out, u.Type.String())
	}
	return out
}

func sg(s, g string) [2]netip.Addr {
	return [2]netip.Addr{netip.MustParseAddr(s), netip.MustParseAddr(g)}
}

// TestKernelNoCacheQueueResolve: an unresolved (S,G) is reported once and
// holds 4 packets, which the MFC entry then forwards (ip6mr's
// cache_unresolved and cache_resolve).
func TestKernelNoCacheQueueResolve(t *testing.T) {
	n, r, s, h, m0, m1 := bare(t)
	k := r.Kernel()
	for i := range 6 {
		s.Send(asmGroup, seqPayload(uint64(i)))
	}
	n.Run(time.Millisecond)
	if got := upcallTypes(r); !slices.Equal(got, []string{"NOCACHE"}) {
		t.Fatalf("upcalls %v, want one NOCACHE", got)
	}
	if u := r.Upcalls()[0]; u.MIF != m0 || u.Src != srcIP || u.Dst != netip.MustParseAddr(asmGroup) || u.Packet != nil {
		t.Errorf("upcall %+v", u)
	}
	if q := k.Unresolved(); q[sg(srcAddr, asmGroup)] != 4 {
		t.Errorf("unresolved %v, want 4 packets queued", q)
	}
	if d := r.Drops()["unresolved-queue"]; d != 2 {
		t.Errorf("%d packets dropped from the full queue, want 2", d)
	}
	if err := k.SetMFC(srcIP, netip.MustParseAddr(asmGroup), m0, kernel.MIFSet(0).Add(m1)); err != nil {
		t.Fatal(err)
	}
	n.Run(time.Millisecond)
	got := h.ReceivedFrom(srcAddr, asmGroup)
	if len(got) != 4 {
		t.Fatalf("h received %d datagrams, want the 4 queued", len(got))
	}
	for i, d := range got {
		if seq, _ := Seq(d.Data); seq != uint64(i) || d.HopLimit != 63 {
			t.Errorf("datagram %d: seq %d hop limit %d", i, seq, d.HopLimit)
		}
	}
	s.Send(asmGroup, seqPayload(6))
	n.Run(time.Millisecond)
	if len(h.Received()) != 5 {
		t.Errorf("the resolved entry does not forward")
	}
	c, err := k.SGCount(srcIP, netip.MustParseAddr(asmGroup))
	if err != nil || c.Packets != 5 || c.WrongIf != 0 || c.Bytes != 5*uint64(40+8+12) {
		t.Errorf("counters %+v, %v", c, err)
	}
	if len(k.Unresolved()) != 0 {
		t.Errorf("still unresolved: %v", k.Unresolved())
	}
	if err := k.DelMFC(srcIP, netip.MustParseAddr(asmGroup)); err != nil {
		t.Fatal(err)
	}
	if err := k.DelMFC(srcIP, netip.MustParseAddr(asmGroup)); !errors.Is(err, kernel.ErrNoMFC) {
		t.Errorf("second DelMFC: %v, want ErrNoMFC", err)
	}
	if _, err := k.SGCount(srcIP, netip.MustParseAddr(asmGroup)); !errors.Is(err, kernel.ErrNoMFC) {
		t.Errorf("SGCount of a deleted entry: %v", err)
	}
}

// TestKernelUnresolvedLimits: unresolved entries expire after 10 s (a
// later packet is reported again), and there are at most 10.
func TestKernelUnresolvedLimits(t *testing.T) {
	n, r, s, _, _, _ := bare(t)
	k := r.Kernel()
	s.Send(asmGroup, []byte("a"))
	n.Run(9 * time.Second)
	s.Send(asmGroup, []byte("b"))
	n.Run(1100 * time.Millisecond)
	if len(k.Unresolved()) != 0 || r.Drops()["unresolved-expired"] != 2 {
		t.Fatalf("unresolved %v, drops %v: want the entry expired with its 2 packets", k.Unresolved(), r.Drops())
	}
	s.Send(asmGroup, []byte("c"))
	n.Run(time.Millisecond)
	if got := upcallTypes(r); len(got) != 2 {
		t.Fatalf("upcalls %v, want a second NOCACHE after the expiry", got)
	}
	for i := range 12 {
		s.Send(fmt.Sprintf("ff0e::1%02d", i), []byte("x"))
	}
	n.Run(time.Millisecond)
	if len(k.Unresolved()) != unresMax || r.Drops()["unresolved-full"] == 0 {
		t.Errorf("%d unresolved entries (drops %v), want at most %d", len(k.Unresolved()), r.Drops(), unresMax)
	}
}

// TestKernelWrongMIF: a packet on the wrong MIF is counted; with MRT6_PIM
// it is reported as WRONGMIF and WRMIFWHOLE, at most every 3 s per entry.
func TestKernelWrongMIF(t *testing.T) {
	n, r, s, h, _, m1 := bare(t)
	k := r.Kernel()
	g := netip.MustParseAddr(asmGroup)
	if err := k.SetMFC(srcIP, g, m1, 0); err != nil { // iif eth1: S's packets come in on eth0
		t.Fatal(err)
	}
	s.Send(asmGroup, []byte("x"))
	n.Run(time.Second)
	if len(r.Upcalls()) != 0 {
		t.Fatalf("upcalls without MRT6_PIM: %v", upcallTypes(r))
	}
	if err := k.EnablePIM(true); err != nil {
		t.Fatal(err)
	}
	st := s.Stream(asmGroup, 500*time.Millisecond)
	n.Run(9750 * time.Millisecond) // packets at 0, 0.5, ... 9.5 s
	st.Stop()
	want := []string{"WRONGMIF", "WRMIFWHOLE", "WRONGMIF", "WRMIFWHOLE", "WRONGMIF", "WRMIFWHOLE"}
	if got := upcallTypes(r); !slices.Equal(got, want) {
		t.Fatalf("upcalls %v, want %v (one pair per 3 s)", got, want)
	}
	ups := r.Upcalls()
	if gap := ups[2].At.Sub(ups[0].At); gap != 3500*time.Millisecond {
		t.Errorf("second report %v after the first, want 3.5 s (the first packet more than 3 s later)", gap)
	}
	p, err := ParsePacket(ups[1].Packet)
	if err != nil || p.Src != srcIP || p.Dst != g || p.HopLimit != 64 || p.Proto != protoUDP || ups[1].MIF != 0 {
		t.Errorf("WRMIFWHOLE upcall %+v: packet %+v %v", ups[1], p, err)
	}
	c, _ := k.SGCount(srcIP, g)
	if c.WrongIf != st.Sent()+1 || c.Packets != c.WrongIf {
		t.Errorf("counters %+v, want every packet counted as wrong_if", c)
	}
	if len(h.Received()) != 0 {
		t.Errorf("a wrong-MIF packet was forwarded")
	}
}

// TestKernelHopLimit: the entry's threshold is 1: hop limit 1 is not
// forwarded, 2 leaves with 1.
func TestKernelHopLimit(t *testing.T) {
	n, r, s, h, m0, m1 := bare(t)
	if err := r.Kernel().SetMFC(srcIP, netip.MustParseAddr(asmGroup), m0, kernel.MIFSet(0).Add(m1)); err != nil {
		t.Fatal(err)
	}
	s.SetHopLimit(1)
	s.Send(asmGroup, []byte("hl1"))
	s.SetHopLimit(2)
	s.Send(asmGroup, []byte("hl2"))
	n.Run(time.Millisecond)
	got := h.Received()
	if len(got) != 1 || string(got[0].Data) != "hl2" || got[0].HopLimit != 1 {
		t.Fatalf("received %+v, want only the hop-limit-2 packet, with 1", got)
	}
	if e, _ := r.Entry(srcAddr, asmGroup); e.Packets != 2 {
		t.Errorf("entry counted %d packets, want 2", e.Packets)
	}
	// Link-scope groups never reach the forwarding code.
	s.Send("ff02::1:2", []byte("ll"))
	n.Run(time.Millisecond)
	if len(r.Upcalls()) != 0 {
		t.Errorf("a link-scope packet was reported: %v", upcallTypes(r))
	}
}

// TestKernelRegisterMIF: the register MIF brings the pim6reg device; an
// entry forwarding to it produces WHOLEPKT upcalls with the whole packet.
func TestKernelRegisterMIF(t *testing.T) {
	n, r, s, h, m0, m1 := bare(t)
	k := r.Kernel()
	reg, err := k.AddRegisterMIF()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := k.AddRegisterMIF(); again != reg {
		t.Errorf("a second AddRegisterMIF gave %d, want %d", again, reg)
	}
	links, _ := k.Links()
	i := slices.IndexFunc(links, func(l kernel.Link) bool { return l.LinkType == "pimreg" })
	if i < 0 || links[i].Name != "pim6reg" || links[i].Multicast || !links[i].Up {
		t.Fatalf("links %+v: want an up pim6reg device without the multicast flag", links)
	}
	g := netip.MustParseAddr(asmGroup)
	if err := k.SetMFC(srcIP, g, m0, kernel.MIFSet(0).Add(m1).Add(reg)); err != nil {
		t.Fatal(err)
	}
	s.Send(asmGroup, []byte("data"))
	n.Run(time.Millisecond)
	if len(h.Received()) != 1 {
		t.Errorf("the interface oif did not get the packet")
	}
	ups := r.Upcalls()
	if len(ups) != 1 || ups[0].Type != kernel.WholePkt || ups[0].MIF != reg {
		t.Fatalf("upcalls %+v, want one WHOLEPKT on the register MIF", ups)
	}
	p, err := ParsePacket(ups[0].Packet)
	if err != nil || p.Src != srcIP || p.Dst != g || p.HopLimit != 64 {
		t.Fatalf("WHOLEPKT packet %+v %v: want the packet as it arrived", p, err)
	}
	if data, ok := parseUDP(p.Src, p.Dst, p.Payload); !ok || string(data) != "data" {
		t.Errorf("WHOLEPKT payload %q", data)
	}
	if e, _ := r.Entry(srcAddr, asmGroup); !slices.Equal(e.OIFNames, []string{"eth1", "pim6reg"}) {
		t.Errorf("entry %v", e)
	}
	if err := k.DelMIF(reg); err != nil {
		t.Fatal(err)
	}
	links, _ = k.Links()
	if slices.ContainsFunc(links, func(l kernel.Link) bool { return l.LinkType == "pimreg" }) {
		t.Errorf("pim6reg outlived its MIF")
	}
	if err := k.SetMFC(srcIP, g, m0, kernel.MIFSet(0).Add(reg)); !errors.Is(err, kernel.ErrUnknownMIF) {
		t.Errorf("SetMFC with a deleted MIF: %v, want ErrUnknownMIF", err)
	}
}

// TestKernelRegisterDecap: a DR's Register, routed hop by hop to the RP's
// loopback address, reaches the RP's PIM socket and, with the register
// MIF, its inner packet is forwarded as arriving on that MIF. A
// Null-Register, and any Register while there is no register MIF, is not
// decapsulated.
func TestKernelRegisterDecap(t *testing.T) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	l13, l32, lanR := n.AddLink("l13"), n.AddLink("l32"), n.AddLink("lanR")
	dr, mid, rp := n.AddRouter("dr", quietConfig(t)), n.AddRouter("mid", quietConfig(t)), n.AddRouter("rp", quietConfig(t))
	dr.AddInterface("to-mid", l13, "fe80::1")
	dr.AddLoopback("2001:db8:ff::1")
	mid.AddInterface("to-dr", l13, "fe80::3")
	mid.AddInterface("to-rp", l32, "fe80::3")
	rp.AddInterface("to-mid", l32, "fe80::2")
	rpOut := rp.AddInterface("eth1", lanR, "fe80::2", "2001:db8:2::2/64")
	rp.AddLoopback("2001:db8:ff::2")
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	h.Join(asmGroup)
	n.AutoRoutes()
	n.Run(time.Millisecond)
	for _, r := range []*Router{dr, mid, rp} {
		quietKernel(t, r)
	}

	g := netip.MustParseAddr(asmGroup)
	drAddr, rpAddr := netip.MustParseAddr("2001:db8:ff::1"), netip.MustParseAddr("2001:db8:ff::2")
	inner := &Packet{Src: srcIP, Dst: g, HopLimit: 64, Proto: protoUDP, Payload: udpDatagram(srcIP, g, 1, 2, []byte("inner"))}
	register := func(null bool) {
		t.Helper()
		b, err := pimmsg.Marshal(&pimmsg.Register{Null: null, Packet: inner.Marshal()}, drAddr, rpAddr)
		if err != nil {
			t.Fatal(err)
		}
		if err := dr.Kernel().SendPIM(b, dr.Iface("to-mid").Index(), drAddr, rpAddr); err != nil {
			t.Fatal(err)
		}
		n.Run(time.Millisecond)
	}

	register(false) // no register MIF yet
	if got := rp.Delivered()["pim/Register"]; got != 1 {
		t.Fatalf("the RP's PIM socket got %d Registers, want 1 (frames:\n%s)", got, dump(n))
	}
	if rp.Drops()["register-no-mif"] != 1 || len(h.Received()) != 0 {
		t.Fatalf("decapsulated without a register MIF: drops %v", rp.Drops())
	}
	// (The RP's daemon, which has no RP for the group, answers with a
	// Register-Stop: only the Register's frames count here.)
	var hls []int
	for _, f := range n.Frames() {
		if _, ok := f.PIM().(*pimmsg.Register); ok {
			hls = append(hls, f.HopLimit)
		}
	}
	if !slices.Equal(hls, []int{64, 63}) {
		t.Errorf("the Register's hop limits on its two hops: %v, want [64 63]", hls)
	}

	k := rp.Kernel()
	reg, err := k.AddRegisterMIF()
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.AddMIF(rpOut.Index())
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetMFC(srcIP, g, reg, kernel.MIFSet(0).Add(out)); err != nil {
		t.Fatal(err)
	}
	register(true) // Null-Register: not decapsulated
	if len(h.Received()) != 0 {
		t.Fatalf("a Null-Register was decapsulated")
	}
	register(false)
	got := h.Received()
	if len(got) != 1 || string(got[0].Data) != "inner" || got[0].HopLimit != 63 {
		t.Fatalf("h received %+v, want the inner packet with hop limit 63", got)
	}
	if e, _ := rp.Entry(srcAddr, asmGroup); e.IIFName != "pim6reg" || e.Packets != 1 {
		t.Errorf("entry %v", e)
	}
	if rp.Delivered()["pim/Register"] != 3 {
		t.Errorf("the RP's PIM socket got %d Registers, want 3", rp.Delivered()["pim/Register"])
	}

	// Unicast to a link-local address goes out of the named interface to
	// the neighbor that owns it, with the unicast hop limit.
	ll1, ll3 := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::3")
	b, err := pimmsg.Marshal(&pimmsg.RegisterStop{Group: pimmsg.Group{Addr: g, MaskLen: 128}, Source: srcIP}, ll1, ll3)
	if err != nil {
		t.Fatal(err)
	}
	if err := dr.Kernel().SendPIM(b, dr.Iface("to-mid").Index(), ll1, ll3); err != nil {
		t.Fatal(err)
	}
	n.Run(time.Millisecond)
	if mid.Delivered()["pim/Register-Stop"] != 1 {
		t.Errorf("mid's PIM socket got %v", mid.Delivered())
	}
	if f := n.Frames(); f[len(f)-1].To != "mid/to-dr" || f[len(f)-1].HopLimit != 64 {
		t.Errorf("last frame %v", f[len(f)-1])
	}
}

// TestMLDDelivery: the Linux rules of which MLD messages reach the
// router's MLD socket.
func TestMLDDelivery(t *testing.T) {
	c, err := conf.Parse([]byte("[global]\ndefault-interfaces = \"none\"\n[[interface]]\nname = \"eth1\"\n"), "one.toml")
	if err != nil {
		t.Fatal(err)
	}
	n := New(t, Options{})
	lan1, lan2 := n.AddLink("lan1"), n.AddLink("lan2")
	r := n.AddRouter("r1", c)
	r.AddInterface("eth1", lan1, "fe80::1", "2001:db8:2::1/64")
	r.AddInterface("eth2", lan2, "fe80::1", "2001:db8:3::1/64")
	v2 := n.AddHost("v2", lan1, "fe80::21", "2001:db8:2::21")
	v1 := n.AddHost("v1", lan1, "fe80::22", "2001:db8:2::22")
	v1.ForceMLDv1()
	other := n.AddHost("other", lan2, "fe80::23", "2001:db8:3::23")
	other.ForceMLDv1()
	n.Run(time.Second)

	base := r.Delivered()["mld"]
	v2.Join("ff0e::2")    // MLDv2 to ff02::16, joined on eth1: delivered
	v1.Join("ff0e::1")    // MLDv1 to the group, eth1 has a MIF: delivered
	v1.Join("ff02::1:5")  // MLDv1 for a link-scope group: not delivered
	other.Join("ff0e::1") // eth2 runs nothing, has no MIF: not delivered
	n.Run(20 * time.Second)
	var want, notWant int
	for _, f := range n.Frames() {
		if f.MLD() == nil || f.From == "r1/eth1" || f.From == "r1/eth2" {
			continue
		}
		if f.From == "other/eth0" || f.Dst == netip.MustParseAddr("ff02::1:5") {
			notWant++
		} else {
			want++
		}
	}
	if got := r.Delivered()["mld"] - base; got != want || want < 3 {
		t.Errorf("%d MLD messages delivered, want %d (drops %v)", got, want, r.Drops())
	}
	if got := r.Drops()["mld-not-delivered"]; got != notWant || notWant < 2 {
		t.Errorf("%d MLD messages not delivered, want %d", got, notWant)
	}
	var groups []string
	for _, g := range r.Snapshot().Groups {
		groups = append(groups, g.Group.String()+"/v"+string(rune('0'+g.Version)))
	}
	slices.Sort(groups)
	if want := []string{"ff0e::1/v1", "ff0e::2/v2"}; !slices.Equal(groups, want) {
		t.Errorf("groups %v, want %v", groups, want)
	}
}

// TestAdminDownRemovesAddressesAndRoutes: Linux's behaviour, as the
// daemon sees it through Addrs, RouteTo and events.
func TestAdminDownRemovesAddressesAndRoutes(t *testing.T) {
	n := New(t, Options{})
	l := n.AddLink("l")
	r := n.AddRouter("r1", nil)
	i := r.AddInterface("eth0", l, "fe80::1", "2001:db8:1::1/64")
	r.Route("2001:db8:9::/64", "fe80::9", "eth0")
	n.Run(time.Second)
	k := r.Kernel()
	rt, err := k.RouteTo(netip.MustParseAddr("2001:db8:9::1"))
	if err != nil || rt.Gateway != netip.MustParseAddr("fe80::9") || rt.LinkIndex != i.Index() || rt.Metric != 1024 || rt.Protocol != 4 {
		t.Fatalf("route %+v %v", rt, err)
	}
	if rt, err := k.RouteTo(netip.MustParseAddr("2001:db8:1::5")); err != nil || rt.Gateway.IsValid() || rt.Metric != 256 || rt.Protocol != 2 {
		t.Fatalf("connected route %+v %v", rt, err)
	}
	if rt, err := k.RouteTo(netip.MustParseAddr("2001:db8:1::1")); err != nil || rt.Type != rtnLocal {
		t.Fatalf("own address: %+v %v", rt, err)
	}
	i.SetUp(false)
	n.Run(time.Second)
	addrs, _ := k.Addrs()
	for _, a := range addrs {
		if a.LinkIndex == i.Index() {
			t.Errorf("address %v survived admin down", a.Prefix)
		}
	}
	for _, a := range []string{"2001:db8:9::1", "2001:db8:1::5"} {
		if _, err := k.RouteTo(netip.MustParseAddr(a)); !errors.Is(err, kernel.ErrNoRoute) {
			t.Errorf("route to %s after admin down: %v, want ErrNoRoute", a, err)
		}
	}
	i.SetUp(true)
	n.Run(time.Second)
	addrs, _ = k.Addrs()
	var mine []string
	for _, a := range addrs {
		if a.LinkIndex == i.Index() {
			mine = append(mine, a.Prefix.String())
		}
	}
	if !slices.Equal(mine, []string{"fe80::1/64"}) {
		t.Errorf("addresses after up: %v, want only the link-local one", mine)
	}
	// Carrier loss keeps addresses and routes (flagged LinkDown).
	i.AddAddr("2001:db8:1::1/64")
	r.Route("2001:db8:9::/64", "fe80::9", "eth0")
	l.SetUp(false)
	n.Run(time.Second)
	rt, err = k.RouteTo(netip.MustParseAddr("2001:db8:9::1"))
	if err != nil || !rt.LinkDown {
		t.Errorf("route after carrier loss: %+v %v, want it kept with LinkDown", rt, err)
	}
	links, _ := k.Links()
	for _, lk := range links {
		if lk.Index == i.Index() && (lk.Up || !lk.AdminUp || lk.LowerUp) {
			t.Errorf("link after carrier loss: %+v", lk)
		}
	}
}

// TestIfaceDelete: a deleted device disappears from Links, its MIF goes
// (the kernel drops it and the daemon frees the slot), and a new
// interface reuses the slot.
func TestIfaceDelete(t *testing.T) {
	n := New(t, Options{})
	l1, l2, l3 := n.AddLink("l1"), n.AddLink("l2"), n.AddLink("l3")
	r := n.AddRouter("r1", nil)
	r.AddInterface("eth0", l1, "fe80::1")
	e1 := r.AddInterface("eth1", l2, "fe80::1")
	n.Run(time.Second)
	mifs := func() []string {
		var out []string
		for m, name := range r.Kernel().MIFs() {
			out = append(out, fmt.Sprintf("%d:%s", m, name))
		}
		slices.Sort(out)
		return out
	}
	// The daemon's register MIF comes first, at start.
	if got := mifs(); !slices.Equal(got, []string{"0:pim6reg", "1:eth0", "2:eth1"}) {
		t.Fatalf("MIFs %v", got)
	}
	e1.Delete()
	n.Run(time.Second)
	links, _ := r.Kernel().Links()
	if slices.ContainsFunc(links, func(l kernel.Link) bool { return l.Name == "eth1" }) {
		t.Errorf("eth1 still listed")
	}
	if got := mifs(); !slices.Equal(got, []string{"0:pim6reg", "1:eth0"}) {
		t.Errorf("MIFs after the deletion %v", got)
	}
	r.AddInterface("eth2", l3, "fe80::1")
	n.Run(time.Second)
	if got := mifs(); !slices.Equal(got, []string{"0:pim6reg", "1:eth0", "2:eth2"}) {
		t.Errorf("MIFs after a new interface %v, want slot 2 reused", got)
	}
	var names []string
	for _, i := range r.Snapshot().Interfaces {
		names = append(names, i.Name)
	}
	if !slices.Equal(names, []string{"pim6reg", "eth0", "eth2"}) {
		t.Errorf("the daemon's interfaces %v", names)
	}
}

// TestSetLinkLocal: a new link-local address replaces the old one in the
// kernel's addresses, and the daemon moves to it as Linux's netlink tells
// it (RFC 7761 4.3.1): the new address is the lower, so the daemon takes
// it while the old one is still there, and says goodbye from the old
// address at once, then sends Hellos from the new one.
func TestSetLinkLocal(t *testing.T) {
	n := New(t, Options{})
	l := n.AddLink("l")
	r := n.AddRouter("r1", nil)
	i := r.AddInterface("eth0", l, "fe80::5")
	n.Run(10 * time.Second)
	t0 := n.Elapsed()
	i.SetLinkLocal("fe80::2")
	n.Run(40 * time.Second)
	var lls []string
	addrs, _ := r.Kernel().Addrs()
	for _, a := range addrs {
		if a.LinkIndex == i.Index() && a.LinkLocal {
			lls = append(lls, a.Prefix.String())
		}
	}
	if !slices.Equal(lls, []string{"fe80::2/64"}) {
		t.Errorf("link-local addresses %v, want fe80::2/64", lls)
	}
	var hellos []string
	for _, f := range n.Frames() {
		if h, ok := f.PIM().(*pimmsg.Hello); ok && f.Elapsed() >= t0 && len(hellos) < 2 {
			hellos = append(hellos, fmt.Sprintf("%v ht=%d", f.Src, *h.Holdtime))
		}
	}
	if want := []string{"fe80::5 ht=0", "fe80::2 ht=105"}; !slices.Equal(hellos, want) {
		t.Errorf("Hellos after the change %v, want %v", hellos, want)
	}
}
