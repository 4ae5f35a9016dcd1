package sim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestASMKernelSendPIMIfindexZero: as kernel.PIMConn.WriteTo does, the
// simulated PIM socket sends a unicast message given ifindex 0 out of the
// interface its route names (the daemon sends Registers and
// Register-Stops so); a multicast message, or a source the router does
// not own, is refused.
func TestASMKernelSendPIMIfindexZero(t *testing.T) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	l12, l23 := n.AddLink("l12"), n.AddLink("l23")
	a, mid, b := n.AddRouter("a", quietConfig(t)), n.AddRouter("mid", quietConfig(t)), n.AddRouter("b", quietConfig(t))
	a.AddInterface("to-mid", l12, "fe80::1")
	a.AddLoopback("2001:db8:ff::1")
	mid.AddInterface("to-a", l12, "fe80::2")
	mid.AddInterface("to-b", l23, "fe80::2")
	b.AddInterface("to-mid", l23, "fe80::3")
	b.AddLoopback("2001:db8:ff::3")
	n.AutoRoutes()
	n.Run(time.Millisecond)

	src, dst := netip.MustParseAddr("2001:db8:ff::1"), netip.MustParseAddr("2001:db8:ff::3")
	msg := &pimmsg.RegisterStop{Group: pimmsg.Group{Addr: netip.MustParseAddr("ff0e::1"), MaskLen: 128}, Source: srcIP}
	wire, err := pimmsg.Marshal(msg, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Kernel().SendPIM(wire, 0, src, dst); err != nil {
		t.Fatalf("unicast with ifindex 0: %v", err)
	}
	n.Run(time.Millisecond)
	if b.Delivered()["pim/Register-Stop"] != 1 {
		t.Fatalf("b's PIM socket got %v\n%s", b.Delivered(), dump(n))
	}
	var hops []string
	for _, f := range n.Frames() {
		if f.PIM() != nil {
			hops = append(hops, f.From+">"+f.To)
		}
	}
	if len(hops) != 2 || hops[0] != "a/to-mid>mid/to-a" || hops[1] != "mid/to-b>b/to-mid" {
		t.Errorf("hops %v", hops)
	}
	if err := a.Kernel().SendPIM(wire, 0, netip.MustParseAddr("2001:db8:ff::9"), dst); err == nil {
		t.Errorf("sent from an address a does not own")
	}
	if err := a.Kernel().SendPIM(wire, 0, netip.MustParseAddr("fe80::1"), allPIM); err == nil {
		t.Errorf("sent a multicast message with no interface")
	}
}
