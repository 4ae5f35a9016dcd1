package e2e

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// Anycast-RP (RFC 4610) on real kernels:
//
//	snd1 -- r1 -- rp1 ----- rp2 -- rcv2
//	              |           |
//	            rcv1         snd2
//
// rp1 and rp2 hold the shared RP address on lo, and each its unique
// address. r1 registers snd1 to the nearest member, rp1, which has a
// receiver of its own and sends the Register on to rp2 for rcv2; rp2 is
// itself the DR of snd2 and registers it to rp1 for rcv1. Without the
// Registers between the members neither far receiver would hear of the
// other side's source: each member's (*,G) tree is its own.
func TestAnycastRP(t *testing.T) {
	const (
		rpa  = "2001:db8:ff::100"
		u1   = "2001:db8:ff::101"
		u2   = "2001:db8:ff::102"
		snd1 = srcAddr // 2001:db8:1::10
		snd2 = "2001:db8:5::10"
	)
	s1, r1, rp1, rp2 := newNS(t, "snd1"), router(t, "r1"), router(t, "rp1"), router(t, "rp2")
	c1, c2, s2 := newNS(t, "rcv1"), newNS(t, "rcv2"), newNS(t, "snd2")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", s1, "eth0", "fe80::10", snd1+"/64")
	link(t, r1, "to-rp1", "fe80::1", "2001:db8:12::1/64", rp1, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, rp1, "to-rp2", "fe80::2", "2001:db8:23::2/64", rp2, "to-rp1", "fe80::3", "2001:db8:23::3/64")
	link(t, rp1, "to-rcv", "fe80::2", "2001:db8:4::2/64", c1, "eth0", "fe80::20", "2001:db8:4::10/64")
	link(t, rp2, "to-rcv", "fe80::3", "2001:db8:6::3/64", c2, "eth0", "fe80::30", "2001:db8:6::10/64")
	link(t, rp2, "to-snd", "fe80::3", "2001:db8:5::3/64", s2, "eth0", "fe80::40", snd2+"/64")
	rp1.AddAddr("lo", rpa+"/128")
	rp1.AddAddr("lo", u1+"/128")
	rp2.AddAddr("lo", rpa+"/128")
	rp2.AddAddr("lo", u2+"/128")
	realChecksums(t, s1, "eth0")
	realChecksums(t, s2, "eth0")
	s1.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	s2.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::3", "dev", "eth0")
	c1.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "eth0")
	c2.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::3", "dev", "eth0")
	// Unicast routing: r1's nearest RP is rp1; each member reaches the
	// other's unique address and side through the link between them.
	r1.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-rp1")
	rp1.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	for _, p := range []string{u2 + "/128", "2001:db8:5::/64", "2001:db8:6::/64"} {
		rp1.MustRun("ip", "-6", "route", "add", p, "via", "fe80::3", "dev", "to-rp2")
	}
	for _, p := range []string{u1 + "/128", "2001:db8:1::/64", "2001:db8:4::/64", "2001:db8:12::/64"} {
		rp2.MustRun("ip", "-6", "route", "add", p, "via", "fe80::2", "dev", "to-rp1")
	}

	conf := func(extra string) string {
		return fmt.Sprintf(`[pim]
hello-period = "2s"
triggered-hello-delay = "1s"
[[rp]]
address = %q
groups = ["ff0e::/16"]
%s`, rpa, extra)
	}
	set := fmt.Sprintf("[anycast-rp]\naddress = %q\nmembers = [%q, %q]\n", rpa, u1, u2)
	capture := rp1.Capture("to-rp2", "ip6 proto 103")
	d1 := startPim6sd(t, r1, conf(""))
	dp1 := startPim6sd(t, rp1, conf(set))
	dp2 := startPim6sd(t, rp2, conf(set))
	dp2.waitFor(10*time.Second, "rp2 sees rp1", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-rp1", "fe80::2") })
	d1.waitFor(10*time.Second, "r1 sees rp1", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-rp1", "fe80::2") })

	// Both receivers join; each member is RP(G) for its own.
	rc1 := joinASM(t, c1, "eth0", asmGrp, 7000)
	rc2 := joinASM(t, c2, "eth0", asmGrp, 7000)
	for _, d := range []*daemon{dp1, dp2} {
		d.waitFor(10*time.Second, "the receiver's (*,G)", func(s *ctl.Snapshot) bool {
			for _, r := range s.Routes {
				if r.Kind == ctl.StarG && r.Group.String() == asmGrp && len(r.Leaves) > 0 {
					return true
				}
			}
			return false
		})
	}

	// Each source sends 200 datagrams, 20 ms apart, named by source.
	const count = 200
	var wg sync.WaitGroup
	for _, snd := range []struct {
		s    *sender
		name string
	}{{newSender(t, s1, "eth0", asmGrp, 7000), "a"}, {newSender(t, s2, "eth0", asmGrp, 7000), "b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range count {
				snd.s.raw.WriteTo(fmt.Appendf(nil, "%s-%d", snd.name, i), snd.s.dst)
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	got1, got2 := rc1.count(time.Second), rc2.count(time.Second)

	// Every receiver gets both sources. The far side's first packets
	// can only come through the Registers between the members (rcv2's
	// snd1 through rp1's copy of r1's Registers, rcv1's snd2 through
	// rp2's own as snd2's DR), then on source trees. Linux drops the
	// packet that reports a switch from the register MIF to the source
	// tree (one per router), so a few early ones may be lost; all must
	// come in the first second.
	for _, c := range []struct {
		name string
		got  map[string]int
	}{{"rcv1", got1}, {"rcv2", got2}} {
		for _, src := range []string{"a", "b"} {
			var missing []int
			dups := 0
			for i := range count {
				n := c.got[fmt.Sprintf("%s-%d", src, i)]
				if n == 0 {
					missing = append(missing, i)
				}
				dups += max(n-1, 0)
			}
			t.Logf("%s from %s: %d of %d, missing %v, %d duplicates", c.name, src, count-len(missing), count, missing, dups)
			if len(missing) > 5 || len(missing) > 0 && missing[len(missing)-1] >= 50 || dups > 0 {
				t.Errorf("%s from source %s: missing %v, %d duplicates\nrp1:\n%s\nrp2:\n%s", c.name, src, missing, dups, mustReport(dp1), mustReport(dp2))
			}
		}
	}
	// What pim6stat shows: Registers both ways between the members.
	for _, c := range []struct {
		d          *daemon
		self, peer string
	}{{dp1, u1, u2}, {dp2, u2, u1}} {
		s, err := c.d.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		a := s.AnycastRP
		if a == nil || a.Self.String() != c.self || !a.Local {
			t.Fatalf("anycast_rp: %+v", a)
		}
		for _, m := range a.Members {
			if m.Address.String() == c.peer && (m.RegistersOut == 0 || m.RegistersIn == 0) {
				t.Errorf("%s's counters for %s: %+v, want data Registers both ways", c.self, c.peer, m)
			}
		}
	}
	out, err := dp1.pim6stat("rp")
	if err != nil || !strings.Contains(out, "anycast RP "+rpa+", this router "+u1) {
		t.Errorf("pim6stat rp: %v\n%s", err, out)
	}

	// On the wire between the members: Registers from one unique address
	// to the other, with the far side's source inside, and none to or
	// from the shared address.
	pkts := capture.Stop()
	seen := map[string]int{}
	for _, p := range pimTypes(pkts)[1] {
		inner := "?"
		if len(p.Payload) >= 8+40 {
			if a, ok := netip.AddrFromSlice(p.Payload[16:32]); ok {
				inner = a.String()
			}
		}
		seen[fmt.Sprintf("%v>%v %s", p.Src, p.Dst, inner)]++
	}
	for _, w := range []string{u1 + ">" + u2 + " " + snd1, u2 + ">" + u1 + " " + snd2} {
		if seen[w] == 0 {
			t.Errorf("no Register %s on rp1-rp2; seen %v", w, seen)
		}
	}
	for k := range seen {
		if strings.Contains(k, rpa) {
			t.Errorf("a Register to or from the shared address between the members: %s", k)
		}
	}
}
