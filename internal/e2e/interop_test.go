package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"

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

// frrRP is FRR's static RP configuration (FRR 10 syntax).
func frrRP(rp string) string {
	return fmt.Sprintf("router pim6\n rp %s ff00::/8\nexit\n!\n", rp)
}

// asmLine builds sender -- r1 -- r2 -- receiver with the RP address on
// r2's loopback.
func asmLine(t *testing.T) (snd, r1, r2, rcv *netns.NS) {
	snd, r1, r2, rcv = newNS(t, "snd"), router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	r2.AddAddr("lo", rpAddr+"/128")
	realChecksums(t, snd, "eth0")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	r1.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-r2")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	return snd, r1, r2, rcv
}

func streamCount(t *testing.T, s *sender, sock *receiver, n int) (got, dups int) {
	t.Helper()
	for i := 0; i < n; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
		time.Sleep(10 * time.Millisecond)
	}
	m := sock.count(time.Second)
	for _, c := range m {
		dups += c - 1
	}
	return len(m), dups
}

// pim6sd as the first-hop router registers to FRR's RP.
func TestFRRAsRP(t *testing.T) {
	chroot(t)
	snd, r1, r2, rcv := asmLine(t)
	capture := r1.Capture("to-r2", "ip6 proto 103")
	d := startPim6sd(t, r1, asmConf(""))
	f := startFRR(t, r2, frrPIMConf("to-rcv", "lo", "to-r1")+frrRP(rpAddr))
	d.waitFor(40*time.Second, "pim6sd sees FRR", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	waitCond(t, 40*time.Second, "FRR sees pim6sd", func() bool { return frrNeighbor(f, "fe80::1") })

	sock := joinASM(t, rcv, "eth0", asmGrp, 7100)
	time.Sleep(2 * time.Second) // FRR: MLD join, (*,G) at the RP
	s := newSender(t, snd, "eth0", asmGrp, 7100)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		t.Fatalf("through pim6sd's Registers to FRR's RP the receiver got %d of 200 (%d duplicates)\nFRR: %s", got, dups, f.vtysh("show ipv6 pim upstream", "show ipv6 mroute"))
	}
	types := pimTypes(capture.Stop())
	t.Logf("on the wire: %d Registers, %d Register-Stops", len(types[1]), len(types[2]))
	if len(types[1]) == 0 || len(types[2]) == 0 {
		t.Fatalf("want Registers from pim6sd and a Register-Stop from FRR; saw %d and %d", len(types[1]), len(types[2]))
	}
}

// FRR as the first-hop router registers to pim6sd's RP.
func TestFRRRegistersToUs(t *testing.T) {
	chroot(t)
	snd, r1, r2, rcv := asmLine(t)
	capture := r1.Capture("to-r2", "ip6 proto 103")
	f := startFRR(t, r1, frrPIMConf("", "lo", "to-snd", "to-r2")+frrRP(rpAddr))
	d := startPim6sd(t, r2, asmConf(""))
	d.waitFor(40*time.Second, "pim6sd sees FRR", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r1", "fe80::1") })
	waitCond(t, 40*time.Second, "FRR sees pim6sd", func() bool { return frrNeighbor(f, "fe80::2") })

	sock := joinASM(t, rcv, "eth0", asmGrp, 7101)
	time.Sleep(time.Second)
	s := newSender(t, snd, "eth0", asmGrp, 7101)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		out, _ := d.pim6stat()
		t.Fatalf("through FRR's Registers to pim6sd's RP the receiver got %d of 200 (%d duplicates)\npim6sd:\n%s\nFRR: %s", got, dups, out, f.vtysh("show ipv6 pim upstream"))
	}
	types := pimTypes(capture.Stop())
	t.Logf("on the wire: %d Registers, %d Register-Stops", len(types[1]), len(types[2]))
	if len(types[1]) == 0 || len(types[2]) == 0 {
		t.Fatalf("want Registers from FRR and a Register-Stop from pim6sd; saw %d and %d", len(types[1]), len(types[2]))
	}
}
