package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// frrEmbeddedGrp names its RP (RFC 3956): RIID 2, plen 0x40, prefix
// 2001:db8:ff::/64, so the RP is 2001:db8:ff::2, r2's loopback in
// frrBSRLine.
const frrEmbeddedGrp = "ff7e:240:2001:db8:ff::1234"

// frrEmbeddedRP turns on FRR's Embedded-RP (off by default in FRR; it
// covers ff70::/12 unless a group-list restricts it).
const frrEmbeddedRP = "router pim6\n embedded-rp\nexit\n!\n"

// frrEmbeddedRPInfo finds grp/128 with RP rp and source "Embedd" in FRR's
// `show ipv6 pim rp-info json` (FRR lists each learned embedded RP as a
// host route of its group; the source name is cut to six letters) and
// says whether FRR is that RP.
func frrEmbeddedRPInfo(f *frr, rp, grp string) (found, iAmRP bool) {
	var v map[string][]struct {
		RP     string `json:"rpAddress"`
		Group  string `json:"group"`
		Source string `json:"source"`
		IAmRP  bool   `json:"iAmRP"`
	}
	if err := f.vtyJSON("show ipv6 pim rp-info json", &v); err != nil {
		return false, false
	}
	for _, e := range v[rp] {
		if e.RP == rp && e.Group == grp+"/128" && strings.HasPrefix(e.Source, "Embed") {
			return true, e.IAmRP
		}
	}
	return false, false
}

// pim6sd is the embedded RP (r2) and the first-hop router (r1), FRR the
// last-hop router (r3) with embedded-rp on; no RP is configured anywhere.
// FRR maps the group to the RP in its address from the receiver's MLD
// report, sends the (*,G) Join to pim6sd, and r1's Registers reach the
// receiver through pim6sd's RP and FRR.
func TestFRREmbeddedRPToUs(t *testing.T) {
	chroot(t)
	snd, r1, r2, r3, rcv := frrBSRLine(t)
	d1 := startPim6sd(t, r1, bsrConf(bsrOpts{}))
	d2 := startPim6sd(t, r2, bsrConf(bsrOpts{}))
	f := startFRR(t, r3, frrPIMConf("to-rcv", "lo", "to-r2")+frrEmbeddedRP)
	d1.waitFor(10*time.Second, "r1 sees r2", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	waitCond(t, 40*time.Second, "FRR sees pim6sd", func() bool { return frrNeighbor(f, "fe80::2") })
	d2.waitFor(10*time.Second, "r2 sees FRR", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r3", "fe80::3") })

	sock := joinASM(t, rcv, "eth0", frrEmbeddedGrp, 7400)
	d2.waitFor(15*time.Second, "FRR's (*,G) Join reaches the embedded RP", func(s *ctl.Snapshot) bool { return starGJoined(s, frrEmbeddedGrp) })
	t.Logf("FRR:\n%s", f.vtysh("show ipv6 pim rp-info", "show ipv6 pim upstream"))
	if found, iAm := frrEmbeddedRPInfo(f, loR2, frrEmbeddedGrp); !found || iAm {
		t.Errorf("FRR's rp-info: embedded RP %s for %s found=%v, I am RP=%v; want found, not RP", loR2, frrEmbeddedGrp, found, iAm)
	}
	if rp := starGRP(mustSnap(t, d2), frrEmbeddedGrp); rp != loR2 {
		t.Errorf("r2's (*,G) has RP %q, want %s", rp, loR2)
	}

	s := newSender(t, snd, "eth0", frrEmbeddedGrp, 7400)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200 through pim6sd's embedded RP to FRR, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		t.Fatalf("through pim6sd's embedded RP to FRR the receiver got %d of 200 (%d duplicates)\nr1:\n%s\nr2:\n%s\nFRR: %s", got, dups, mustReport(d1), mustReport(d2), f.vtysh("show ipv6 pim upstream", "show ipv6 mroute", "show ipv6 pim rp-info"))
	}
	if e := rpSetRPs(mustSnap(t, d1), "embedded"); len(e) != 1 || !strings.HasPrefix(e[0], loR2+"/") {
		t.Errorf("the first-hop router shows embedded RPs %v, want %s", e, loR2)
	}
}

// FRR (r2) is the embedded RP: the group's RP address is FRR's own
// loopback. pim6sd is the first-hop (r1) and last-hop (r3) router; no RP
// is configured anywhere. FRR learns the RP from pim6sd's (*,G) Join,
// finds it is the RP, and decapsulates r1's Registers to the receiver.
func TestFRREmbeddedRPFromFRR(t *testing.T) {
	chroot(t)
	snd, r1, r2, r3, rcv := frrBSRLine(t)
	capture := r1.Capture("to-r2", "ip6 proto 103")
	d1 := startPim6sd(t, r1, bsrConf(bsrOpts{}))
	f := startFRR(t, r2, frrPIMConf("", "lo", "to-r1", "to-r3")+frrEmbeddedRP)
	d3 := startPim6sd(t, r3, bsrConf(bsrOpts{}))
	waitCond(t, 40*time.Second, "FRR sees both pim6sd routers", func() bool { return frrNeighbor(f, "fe80::1") && frrNeighbor(f, "fe80::3") })
	for n, d := range map[string]*daemon{"r1": d1, "r3": d3} {
		d.waitFor(10*time.Second, n+" sees FRR", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	}

	sock := joinASM(t, rcv, "eth0", frrEmbeddedGrp, 7401)
	d3.waitFor(10*time.Second, "r3's (*,G) maps to the embedded RP", func(s *ctl.Snapshot) bool { return starGRP(s, frrEmbeddedGrp) == loR2 })
	waitCond(t, 15*time.Second, "FRR learns the embedded RP (itself) from r3's Join", func() bool {
		found, iAm := frrEmbeddedRPInfo(f, loR2, frrEmbeddedGrp)
		return found && iAm
	})
	t.Logf("FRR:\n%s", f.vtysh("show ipv6 pim rp-info", "show ipv6 pim upstream"))

	s := newSender(t, snd, "eth0", frrEmbeddedGrp, 7401)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200 through FRR's embedded RP, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		t.Fatalf("through FRR's embedded RP the receiver got %d of 200 (%d duplicates)\nr1:\n%s\nr3:\n%s\nFRR: %s", got, dups, mustReport(d1), mustReport(d3), f.vtysh("show ipv6 pim upstream", "show ipv6 mroute", "show ipv6 pim rp-info"))
	}
	if e := rpSetRPs(mustSnap(t, d1), "embedded"); len(e) != 1 || !strings.HasPrefix(e[0], loR2+"/") {
		t.Errorf("the first-hop router shows embedded RPs %v, want %s", e, loR2)
	}
	types := pimTypes(capture.Stop())
	t.Logf("on r1-r2: %d Registers from pim6sd, %d Register-Stops from FRR", len(types[1]), len(types[2]))
	if len(types[1]) == 0 || len(types[2]) == 0 {
		t.Errorf("want Registers from pim6sd to FRR's embedded RP and a Register-Stop back; saw %d and %d", len(types[1]), len(types[2]))
	}
}
