package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/conf"
)

// Flood is a router with the state of a flood, for the views' tests and
// benchmarks: the RP of ff0e::/16 (itself) with a source's LAN on eth0
// and a receivers' LAN on eth1, where a host listens to Groups groups
// (ff0e::1:0 up): Groups MLD records and (*,G) entries. The source sends
// one packet to each of the first Sources of them: as their first-hop
// router and RP, the router makes an (S,G) entry for each and installs it.
type Flood struct {
	Groups, Sources int
}

// FloodSource is the source's address in a Flood.
const FloodSource = "2001:db8:1::10"

// FloodGroup is the i-th group of a Flood.
func FloodGroup(i int) string { return fmt.Sprintf("ff0e::1:%x", i) }

// Build makes the network and runs it until the state is there. The
// router is named "r".
func (f Flood) Build(tb testing.TB) (*Net, *Router) {
	tb.Helper()
	cfg, err := conf.Parse([]byte("[[rp]]\naddress = \"2001:db8:ff::1\"\ngroups = [\"ff0e::/16\"]\n"), "flood.toml")
	if err != nil {
		tb.Fatal(err)
	}
	n := New(tb, Options{Delay: 100 * time.Microsecond})
	lanS, lanR := n.AddLink("lanS"), n.AddLink("lanR")
	r := n.AddRouter("r", cfg)
	r.AddLoopback("2001:db8:ff::1")
	r.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r.AddInterface("eth1", lanR, "fe80::1", "2001:db8:2::1/64")
	s := n.AddHost("s", lanS, "fe80::10", FloodSource)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	n.Run(5 * time.Second)
	for i := range f.Groups {
		h.Join(FloodGroup(i))
		if i%256 == 255 {
			n.Run(100 * time.Millisecond)
		}
	}
	n.Run(2 * time.Second)
	// One at a time: the kernel queues at most 10 unresolved entries.
	for i := range min(f.Sources, f.Groups) {
		s.Send(FloodGroup(i), []byte("flood"))
		n.Run(2 * time.Millisecond)
	}
	n.Run(time.Second)
	return n, r
}
