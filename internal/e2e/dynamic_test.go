package e2e

import (
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

func hasInterface(s *ctl.Snapshot, name string) bool {
	for _, i := range s.Interfaces {
		if i.Name == name {
			return true
		}
	}
	return false
}

// Interfaces that appear, go down, come back up or disappear while the
// daemon runs are picked up without a restart.
func TestInterfacesComeAndGo(t *testing.T) {
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	d.waitFor(3*time.Second, "both interfaces running", func(s *ctl.Snapshot) bool {
		return hasInterface(s, "to-snd") && hasInterface(s, "to-rcv")
	})

	extra := newNS(t, "extra")
	link(t, tp.rtr, "to-extra", "fe80::1", "2001:db8:3::1/64", extra, "eth0", "fe80::30", "2001:db8:3::30/64")
	d.waitFor(5*time.Second, "a new interface is picked up", func(s *ctl.Snapshot) bool { return hasInterface(s, "to-extra") })

	tp.rtr.MustRun("ip", "link", "set", "to-extra", "down")
	d.waitFor(5*time.Second, "an interface that went down is dropped", func(s *ctl.Snapshot) bool { return !hasInterface(s, "to-extra") })
	tp.rtr.MustRun("ip", "link", "set", "to-extra", "up")
	d.waitFor(5*time.Second, "and comes back when it is up again", func(s *ctl.Snapshot) bool { return hasInterface(s, "to-extra") })

	// Traffic still works on the original interfaces, and a receiver on
	// the new one gets its own (S,G) oif.
	joinSSM(t, extra, "eth0", srcAddr, ssmGrp, 5003)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 5*time.Second, "the (S,G) toward the new interface", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-snd" && len(r.OIFs) == 1 && r.OIFs[0] == "to-extra"
	})
	tp.rtr.MustRun("ip", "link", "del", "to-extra")
	d.waitFor(5*time.Second, "a deleted interface is gone", func(s *ctl.Snapshot) bool { return !hasInterface(s, "to-extra") })
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 5*time.Second, "its (S,G) goes with it", func(_ mroute, ok bool) bool { return !ok })
}

// The route to the source moves from one upstream router to another: the
// Join follows it, the downstream router's MFC changes its incoming
// interface, the old upstream router's MFC goes and traffic keeps flowing.
func TestRPFChangeMovesTheJoin(t *testing.T) {
	snd, ra, rb, r2, rcv := newNS(t, "snd"), router(t, "ra"), router(t, "rb"), router(t, "r2"), newNS(t, "rcv")
	lan(t, "srclan", map[*netns.NS]string{snd: "eth0", ra: "to-src", rb: "to-src"})
	snd.AddAddr("eth0", "fe80::10/64")
	snd.AddAddr("eth0", srcAddr+"/64")
	ra.AddAddr("to-src", "fe80::a/64")
	ra.AddAddr("to-src", "2001:db8:1::a/64")
	rb.AddAddr("to-src", "fe80::b/64")
	rb.AddAddr("to-src", "2001:db8:1::b/64")
	link(t, ra, "to-r2", "fe80::a", "2001:db8:a2::a/64", r2, "to-ra", "fe80::2", "2001:db8:a2::2/64")
	link(t, rb, "to-r2", "fe80::b", "2001:db8:b2::b/64", r2, "to-rb", "fe80::2", "2001:db8:b2::2/64")
	link(t, r2, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::a", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	ra.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::2", "dev", "to-r2")
	rb.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::2", "dev", "to-r2")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::a", "dev", "to-ra")

	fast := "[pim]\nhello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n"
	da := startPim6sd(t, ra, fast)
	db := startPim6sd(t, rb, fast)
	d2 := startPim6sd(t, r2, fast)
	d2.waitFor(10*time.Second, "R2 has both upstream neighbors", func(s *ctl.Snapshot) bool {
		return neighborOn(s, "to-ra", "fe80::a") && neighborOn(s, "to-rb", "fe80::b")
	})

	sock := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 5004)
	da.waitFor(5*time.Second, "the Join goes to RA", func(s *ctl.Snapshot) bool { return downstreamJoin(s, srcAddr, ssmGrp, "to-r2") })
	waitMroute(t, r2, srcAddr, ssmGrp, 3*time.Second, "R2 receives from RA", func(r mroute, ok bool) bool { return ok && r.IIF == "to-ra" })

	r2.MustRun("ip", "-6", "route", "replace", "2001:db8:1::/64", "via", "fe80::b", "dev", "to-rb")
	took := waitMroute(t, r2, srcAddr, ssmGrp, 5*time.Second, "R2's MFC follows the route to RB", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-rb" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	})
	t.Logf("R2's incoming interface moved %v after the route change", took)
	db.waitFor(5*time.Second, "the Join reaches RB", func(s *ctl.Snapshot) bool { return downstreamJoin(s, srcAddr, ssmGrp, "to-r2") })
	waitMroute(t, ra, srcAddr, ssmGrp, 5*time.Second, "RA's MFC goes after R2's Prune", func(_ mroute, ok bool) bool { return !ok })

	s := newSender(t, snd, "eth0", ssmGrp, 5004)
	for i := 0; i < 10; i++ {
		s.send(t, "after-"+string(rune('a'+i)))
		time.Sleep(2 * time.Millisecond)
	}
	if got := sock.count(500 * time.Millisecond); len(got) != 10 {
		t.Fatalf("after the RPF change the receiver got %d of 10", len(got))
	}
}
