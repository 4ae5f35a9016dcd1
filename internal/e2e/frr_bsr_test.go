package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

// frrBSRLine builds snd -- r1 -- r2 -- r3 -- rcv with 2001:db8:ff::N on
// rN's loopback and static routes with link-local next hops (r2 knows
// every prefix; r1 and r3 route everything to r2).
func frrBSRLine(t *testing.T) (snd, r1, r2, r3, rcv *netns.NS) {
	snd, r1, r2, r3, rcv = newNS(t, "snd"), router(t, "r1"), router(t, "r2"), router(t, "r3"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-r3", "fe80::2", "2001:db8:23::2/64", r3, "to-r2", "fe80::3", "2001:db8:23::3/64")
	link(t, r3, "to-rcv", "fe80::3", "2001:db8:2::3/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	for i, r := range []*netns.NS{r1, r2, r3} {
		r.AddAddr("lo", fmt.Sprintf("2001:db8:ff::%d/128", i+1))
	}
	realChecksums(t, snd, "eth0")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::3", "dev", "eth0")
	r1.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-r2")
	r3.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-r2")
	for _, rt := range [][]string{
		{"2001:db8:1::/64", "fe80::1", "to-r1"}, {loR1, "fe80::1", "to-r1"},
		{"2001:db8:2::/64", "fe80::3", "to-r3"}, {loR3, "fe80::3", "to-r3"},
	} {
		r2.MustRun("ip", "-6", "route", "add", rt[0], "via", rt[1], "dev", rt[2])
	}
	return snd, r1, r2, r3, rcv
}

// FRR pim6d (r2) is the Candidate-BSR (priority 100) and the preferred
// Candidate-RP (priority 10); pim6sd on r3 is a Candidate-RP too
// (priority 20). Both pim6sd routers (r1, r3) take BSR r2 from FRR's
// Bootstrap messages and the RP-set {r2/10, r3/20} (so FRR, as the BSR,
// accepted pim6sd's C-RP-Advertisement), map the group to r2, and an ASM
// stream flows from r1's Registers through FRR's RP to r3.
func TestFRRBSRFromFRR(t *testing.T) {
	chroot(t)
	snd, r1, r2, r3, rcv := frrBSRLine(t)
	start := time.Now()
	// BS_Period stays at its default (60 s, FRR's too): a pim6sd router
	// times the BSR out after 2 x its own period + 10 s.
	d1 := startPim6sd(t, r1, bsrConf(bsrOpts{}))
	f := startFRR(t, r2, frrPIMConf("", "lo", "to-r1", "to-r3")+
		"router pim6\n bsr candidate-bsr priority 100 source address "+loR2+"\n bsr candidate-rp priority 10 source address "+loR2+"\n bsr candidate-rp group ff00::/8\nexit\n!\n")
	d3 := startPim6sd(t, r3, bsrConf(bsrOpts{crp: loR3, crpPrio: 20}))
	ds := map[string]*daemon{"r1": d1, "r3": d3}
	waitCond(t, 40*time.Second, "FRR sees both pim6sd routers", func() bool { return frrNeighbor(f, "fe80::1") && frrNeighbor(f, "fe80::3") })

	var learned time.Duration
	func() {
		defer func() {
			if t.Failed() {
				t.Logf("FRR:\n%s", f.vtysh("show ipv6 pim bsr", "show ipv6 pim bsr candidate-rp-database", "show ipv6 pim rp-info"))
			}
		}()
		waitAll(t, ds, 60*time.Second, "pim6sd routers take BSR r2 (FRR) and its RP-set", func(s *ctl.Snapshot) bool {
			return bsrOf(s) == loR2 && preferredRP(s, "bsr", bsrGrp) == loR2
		})
		learned = time.Since(start)
		waitAll(t, ds, 30*time.Second, "FRR's RP-set carries pim6sd's Candidate-RP r3", func(s *ctl.Snapshot) bool {
			return slices.Equal(rpSetRPs(s, "bsr"), []string{loR2 + "/10", loR3 + "/20"})
		})
	}()
	t.Logf("pim6sd learned FRR's BSR and RP %v after start; with pim6sd's C-RP after %v\n%s", learned.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), rpSummary(ds))
	t.Logf("FRR:\n%s", f.vtysh("show ipv6 pim bsr", "show ipv6 pim bsr candidate-rp-database", "show ipv6 pim rp-info"))
	if !frrBSRIs(f, loR2) || !frrRPFromBSR(f, loR2, "ff00::/8") {
		t.Errorf("FRR does not show itself as BSR with RP %s from BSR", loR2)
	}

	sock := joinASM(t, rcv, "eth0", bsrGrp, 7300)
	d3.waitFor(10*time.Second, "r3's (*,G) maps to FRR's RP", func(s *ctl.Snapshot) bool { return starGRP(s, bsrGrp) == loR2 })
	time.Sleep(time.Second) // the (*,G) Join reaches FRR
	s := newSender(t, snd, "eth0", bsrGrp, 7300)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200 through FRR's BSR-advertised RP, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		t.Fatalf("through FRR's RP the receiver got %d of 200 (%d duplicates)\nr1:\n%s\nFRR: %s", got, dups, mustReport(d1), f.vtysh("show ipv6 pim upstream", "show ipv6 mroute"))
	}
}

// pim6sd (r2) is the Candidate-BSR (priority 100) and the preferred
// Candidate-RP (priority 10); FRR pim6d (r3, the last-hop router) is a
// Candidate-RP with priority 20. FRR takes the BSR and the RP-set from our
// Bootstrap messages (show ipv6 pim bsr / rp-info), our BSR takes FRR's
// C-RP-Advertisement, and an ASM stream flows from r1's Registers through
// r2 to FRR's receiver.
func TestFRRBSRFromUs(t *testing.T) {
	chroot(t)
	snd, r1, r2, r3, rcv := frrBSRLine(t)
	start := time.Now()
	const period = "2s" // pim6sd only: FRR keeps its own Bootstrap Timeout (130 s)
	d1 := startPim6sd(t, r1, bsrConf(bsrOpts{period: period}))
	d2 := startPim6sd(t, r2, bsrConf(bsrOpts{bsr: loR2, bsrPrio: 100, crp: loR2, crpPrio: 10, period: period}))
	f := startFRR(t, r3, frrPIMConf("to-rcv", "lo", "to-r2")+
		"router pim6\n bsr candidate-rp priority 20 source address "+loR3+"\n bsr candidate-rp group ff00::/8\nexit\n!\n")
	ds := map[string]*daemon{"r1": d1, "r2": d2}
	waitCond(t, 40*time.Second, "FRR sees pim6sd", func() bool { return frrNeighbor(f, "fe80::2") })

	frrHas := func() bool { return frrBSRIs(f, loR2) && frrRPFromBSR(f, loR2, "ff00::/8") }
	var frrLearned time.Duration
	func() {
		defer func() {
			if t.Failed() {
				t.Logf("FRR:\n%s\npim6sd:\n%s", f.vtysh("show ipv6 pim bsr", "show ipv6 pim rp-info", "show ipv6 pim bsrp-info"), rpSummary(ds))
			}
		}()
		waitAll(t, ds, 30*time.Second, "r2 is the BSR with its own RP", func(s *ctl.Snapshot) bool {
			return bsrOf(s) == loR2 && preferredRP(s, "bsr", bsrGrp) == loR2
		})
		waitCond(t, 30*time.Second, "FRR learns BSR r2 and RP r2", frrHas)
		frrLearned = time.Since(start)
		waitAll(t, ds, 30*time.Second, "our BSR takes FRR's C-RP r3", func(s *ctl.Snapshot) bool {
			return slices.Equal(rpSetRPs(s, "bsr"), []string{loR2 + "/10", loR3 + "/20"})
		})
	}()
	t.Logf("FRR learned our BSR and RP %v after start; our RP-set with FRR's C-RP after %v\n%s", frrLearned.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), rpSummary(ds))
	t.Logf("FRR:\n%s", f.vtysh("show ipv6 pim bsr", "show ipv6 pim rp-info", "show ipv6 pim bsrp-info"))

	sock := joinASM(t, rcv, "eth0", bsrGrp, 7301)
	d2.waitFor(15*time.Second, "FRR's (*,G) Join reaches our RP", func(s *ctl.Snapshot) bool { return starGJoined(s, bsrGrp) })
	s := newSender(t, snd, "eth0", bsrGrp, 7301)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200 through our BSR-advertised RP to FRR, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		t.Fatalf("through our RP to FRR the receiver got %d of 200 (%d duplicates)\nr2:\n%s\nFRR: %s", got, dups, mustReport(d2), f.vtysh("show ipv6 pim upstream", "show ipv6 mroute"))
	}
}

// frrBSRIs says whether FRR's `show ipv6 pim bsr` names bsr as the
// preferred BSR.
func frrBSRIs(f *frr, bsr string) bool {
	for _, l := range strings.Split(f.vtysh("show ipv6 pim bsr"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Current preferred BSR address:") {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "Current preferred BSR address:")) == bsr
		}
	}
	return false
}

// frrRPFromBSR says whether FRR's `show ipv6 pim rp-info` maps grp to rp
// with source BSR.
func frrRPFromBSR(f *frr, rp, grp string) bool {
	for _, l := range strings.Split(f.vtysh("show ipv6 pim rp-info"), "\n") {
		fs := strings.Fields(l)
		if len(fs) >= 6 && fs[0] == rp && fs[1] == grp && slices.Contains(fs, "BSR") {
			return true
		}
	}
	return false
}
