package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

func neighborOn(s *ctl.Snapshot, ifname, addr string) bool {
	for _, n := range s.Neighbors {
		if n.Interface == ifname && n.Address.String() == addr {
			return true
		}
	}
	return false
}

func drOn(s *ctl.Snapshot, ifname string) (string, bool) {
	for _, i := range s.Interfaces {
		if i.Name == ifname {
			return i.DRAddress.String(), i.DR
		}
	}
	return "", false
}

func downstreamJoin(s *ctl.Snapshot, src, grp, ifname string) bool {
	mif := -1
	for _, i := range s.Interfaces {
		if i.Name == ifname {
			mif = i.MIF
		}
	}
	for _, r := range s.Routes {
		if r.Source.String() == src && r.Group.String() == grp {
			for _, ds := range r.Downstream {
				if ds.MIF == mif && ds.State == "Join" {
					return true
				}
			}
		}
	}
	return false
}

// sender -- R1 -- R2 -- receiver, pim6sd on both routers: adjacency both
// ways, the DR elected as configured, the (S,G) Join travels from R2 to
// R1, traffic arrives, the Prune travels back and both MFCs go.
func TestSSMTwoRouters(t *testing.T) {
	snd, r1, r2, rcv := newNS(t, "snd"), router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	r1.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::2", "dev", "to-r2")

	// R1 has the lower address on the shared link; its priority makes it DR.
	d1 := startPim6sd(t, r1, "[[interface]]\nname = \"to-r2\"\n[interface.pim]\ndr-priority = 10\nhello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n")
	d2 := startPim6sd(t, r2, "[[interface]]\nname = \"to-r1\"\n[interface.pim]\nhello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n")

	d1.waitFor(10*time.Second, "R1 sees R2", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	d2.waitFor(10*time.Second, "R2 sees R1", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r1", "fe80::1") })
	d2.waitFor(5*time.Second, "R1 is DR on the shared link (priority 10)", func(s *ctl.Snapshot) bool {
		dr, self := drOn(s, "to-r1")
		return dr == "fe80::1" && !self
	})
	if dr, self := drOn(mustSnap(t, d1), "to-r2"); dr != "fe80::1" || !self {
		t.Fatalf("R1 does not consider itself DR: dr=%s self=%v", dr, self)
	}

	rcvSock := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 5000)
	d1.waitFor(5*time.Second, "R2's Join reaches R1", func(s *ctl.Snapshot) bool { return downstreamJoin(s, srcAddr, ssmGrp, "to-r2") })
	waitMroute(t, r1, srcAddr, ssmGrp, 3*time.Second, "R1's MFC", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-snd" && len(r.OIFs) == 1 && r.OIFs[0] == "to-r2"
	})
	waitMroute(t, r2, srcAddr, ssmGrp, 3*time.Second, "R2's MFC", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-r1" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	})

	s := newSender(t, snd, "eth0", ssmGrp, 5000)
	for i := 0; i < 20; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
		time.Sleep(5 * time.Millisecond)
	}
	got := rcvSock.count(500 * time.Millisecond)
	if len(got) != 20 {
		t.Fatalf("the receiver got %d of 20 datagrams through two routers: %v", len(got), got)
	}

	rcvSock.leave()
	waitMroute(t, r2, srcAddr, ssmGrp, 4*time.Second, "R2's MFC goes after the leave", func(_ mroute, ok bool) bool { return !ok })
	took := waitMroute(t, r1, srcAddr, ssmGrp, 6*time.Second, "R1's MFC goes after R2's Prune", func(_ mroute, ok bool) bool { return !ok })
	t.Logf("R1's MFC gone %v after R2's", took)
}

func mustSnap(t *testing.T, d *daemon) *ctl.Snapshot {
	t.Helper()
	s, err := d.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// lanNS builds a LAN: a bridge in its own namespace with one port per
// member (member ends are named ifname in each member namespace).
func lan(t *testing.T, label string, members map[*netns.NS]string) *netns.NS {
	t.Helper()
	l := newNS(t, label)
	var ports []string
	i := 0
	for m, ifname := range members {
		p := fmt.Sprintf("p%d", i)
		i++
		netns.Veth(t, l, p, m, ifname)
		ports = append(ports, p)
	}
	l.Bridge("br0", ports...)
	return l
}

// twoRouterLANs builds snd -- srclan -- r1, r2 -- rcvlan -- rcv: both
// routers on both LANs (fe80::1 and fe80::2, 2001:db8:1::N and
// 2001:db8:2::N), the hosts routed through fe80::1.
func twoRouterLANs(t *testing.T) (snd, r1, r2, rcv *netns.NS) {
	snd, r1, r2, rcv = newNS(t, "snd"), router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	lan(t, "srclan", map[*netns.NS]string{snd: "eth0", r1: "to-src", r2: "to-src"})
	lan(t, "rcvlan", map[*netns.NS]string{rcv: "eth0", r1: "to-rcv", r2: "to-rcv"})
	snd.AddAddr("eth0", "fe80::10/64")
	snd.AddAddr("eth0", srcAddr+"/64")
	rcv.AddAddr("eth0", "fe80::20/64")
	rcv.AddAddr("eth0", "2001:db8:2::10/64")
	for n, r := range []*netns.NS{r1, r2} {
		ll := fmt.Sprintf("fe80::%d", n+1)
		r.AddAddr("to-src", ll+"/64")
		r.AddAddr("to-src", fmt.Sprintf("2001:db8:1::%d/64", n+1))
		r.AddAddr("to-rcv", ll+"/64")
		r.AddAddr("to-rcv", fmt.Sprintf("2001:db8:2::%d/64", n+1))
	}
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	return snd, r1, r2, rcv
}

// A LAN with two routers toward the receiver: only the DR adds the local
// receiver, so the receiver counts no duplicates.
func TestLANOnlyDRForwards(t *testing.T) {
	snd, r1, r2, rcv := twoRouterLANs(t)

	// R2 has the higher address but R1's priority wins the receiver LAN.
	hello := "hello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n"
	d1 := startPim6sd(t, r1, "[pim]\n"+hello+"[[interface]]\nname = \"to-rcv\"\n[interface.pim]\ndr-priority = 100\n")
	d2 := startPim6sd(t, r2, "[pim]\n"+hello)
	for _, d := range []*daemon{d1, d2} {
		d.waitFor(10*time.Second, "R1 is DR on the receiver LAN", func(s *ctl.Snapshot) bool {
			dr, _ := drOn(s, "to-rcv")
			return dr == "fe80::1"
		})
	}

	rcvSock := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 5001)
	waitMroute(t, r1, srcAddr, ssmGrp, 5*time.Second, "the DR (R1) forwards", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-src" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	})
	// Give R2 the same time to (wrongly) install something.
	time.Sleep(time.Second)
	if r, ok := findMroute(mroutes(t, r2), srcAddr, ssmGrp); ok && len(r.OIFs) > 0 {
		t.Fatalf("the non-DR R2 forwards too: %+v", r)
	}

	s := newSender(t, snd, "eth0", ssmGrp, 5001)
	for i := 0; i < 50; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
		time.Sleep(2 * time.Millisecond)
	}
	got := rcvSock.count(500 * time.Millisecond)
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	if len(got) != 50 || dups != 0 {
		t.Fatalf("the receiver got %d distinct datagrams of 50 and %d duplicates", len(got), dups)
	}
}

// kill -9 and start again: the kernel keeps no stale state after the
// daemon reconverged, and traffic flows again.
func TestRestartAfterKill(t *testing.T) {
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	rcvSock := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 5002)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 3*time.Second, "the (S,G) installed", func(_ mroute, ok bool) bool { return ok })

	if err := d.proc.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = d.proc.Wait(5 * time.Second)
	// The kernel cleans a dead mroute socket's table.
	if rs := mroutes(t, tp.rtr); len(rs) != 0 {
		t.Fatalf("MFC entries left after kill -9: %+v", rs)
	}

	// The host answers the new querier's start-up query after a random
	// delay of up to the query's Maximum Response Delay: keep that short
	// so the wait below bounds it (with the default 10s it did not).
	startPim6sd(t, tp.rtr, "[mld]\nquery-response-interval = \"2s\"\n")
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 6*time.Second, "the (S,G) back after the restart", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-snd" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	})
	if rs := mroutes(t, tp.rtr); len(rs) != 1 {
		t.Fatalf("kernel MFC after the restart: %+v", rs)
	}
	vifs := tp.rtr.MustRun("cat", "/proc/net/ip6_mr_vif")
	if n := strings.Count(vifs, "\n") - 1; n != 3 || !strings.Contains(vifs, "pim6reg") {
		t.Fatalf("want 3 MIFs (pim6reg and the two links) after the restart, /proc/net/ip6_mr_vif:\n%s", vifs)
	}
	s := newSender(t, tp.snd, "eth0", ssmGrp, 5002)
	for i := 0; i < 10; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
	}
	if got := rcvSock.count(500 * time.Millisecond); len(got) != 10 {
		t.Fatalf("after the restart the receiver got %d of 10", len(got))
	}
}
