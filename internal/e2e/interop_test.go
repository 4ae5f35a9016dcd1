package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// frrPIMConf enables PIM on the interfaces (and MLD on mldIf).
func frrPIMConf(mldIf string, ifs ...string) string {
	var b strings.Builder
	for _, i := range ifs {
		fmt.Fprintf(&b, "interface %s\n ipv6 pim\n!\n", i)
	}
	if mldIf != "" {
		fmt.Fprintf(&b, "interface %s\n ipv6 pim\n ipv6 mld\n ipv6 mld version 2\n!\n", mldIf)
	}
	return b.String()
}

func frrNeighbor(f *frr, addr string) bool {
	var v map[string]map[string]any
	if err := f.vtyJSON("show ipv6 pim neighbor json", &v); err != nil {
		return false
	}
	for _, nbrs := range v {
		if _, ok := nbrs[addr]; ok {
			return true
		}
	}
	return false
}

func waitCond(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sender -- R1 (pim6sd) -- R2 (FRR pim6d) -- receiver: adjacency both
// ways, the receiver's SSM join at FRR reaches us as a PIM Join, traffic
// flows, and the Prune clears our state.
func TestFRRJoinsThroughUs(t *testing.T) {
	chroot(t)
	snd, r1, r2, rcv := newNS(t, "snd"), router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	r1.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::2", "dev", "to-r2")

	d := startPim6sd(t, r1, "")
	f := startFRR(t, r2, frrPIMConf("to-rcv", "to-r1"))
	d.waitFor(40*time.Second, "pim6sd sees FRR as a neighbor", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	waitCond(t, 40*time.Second, "FRR sees pim6sd as a neighbor", func() bool { return frrNeighbor(f, "fe80::1") })

	sock := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 6000)
	d.waitFor(20*time.Second, "FRR's Join reaches pim6sd", func(s *ctl.Snapshot) bool { return downstreamJoin(s, srcAddr, ssmGrp, "to-r2") })
	s := newSender(t, snd, "eth0", ssmGrp, 6000)
	for i := 0; i < 20; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
		time.Sleep(5 * time.Millisecond)
	}
	if got := sock.count(time.Second); len(got) < 19 {
		t.Fatalf("the receiver got %d of 20 through pim6sd and FRR\nFRR: %s", len(got), f.vtysh("show ipv6 pim upstream", "show ipv6 mroute"))
	}
	sock.leave()
	waitMroute(t, r1, srcAddr, ssmGrp, 20*time.Second, "pim6sd's MFC goes after FRR's Prune", func(_ mroute, ok bool) bool { return !ok })
}

// sender -- R1 (FRR pim6d) -- R2 (pim6sd) -- receiver: our Join makes
// FRR forward.
func TestFRRForwardsOurJoin(t *testing.T) {
	chroot(t)
	snd, r1, r2, rcv := newNS(t, "snd"), router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	r1.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::2", "dev", "to-r2")

	f := startFRR(t, r1, frrPIMConf("", "to-snd", "to-r2"))
	d := startPim6sd(t, r2, "")
	d.waitFor(40*time.Second, "pim6sd sees FRR", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r1", "fe80::1") })
	waitCond(t, 40*time.Second, "FRR sees pim6sd", func() bool { return frrNeighbor(f, "fe80::2") })

	sock := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 6001)
	waitMroute(t, r1, srcAddr, ssmGrp, 20*time.Second, "FRR installs (S,G) toward us", func(r mroute, ok bool) bool {
		return ok && len(r.OIFs) == 1 && r.OIFs[0] == "to-r2"
	})
	s := newSender(t, snd, "eth0", ssmGrp, 6001)
	for i := 0; i < 20; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
		time.Sleep(5 * time.Millisecond)
	}
	if got := sock.count(time.Second); len(got) < 19 {
		t.Fatalf("the receiver got %d of 20 through FRR and pim6sd\nFRR: %s", len(got), f.vtysh("show ipv6 pim join", "show ipv6 mroute"))
	}
}
