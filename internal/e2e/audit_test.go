package e2e

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
)

// The kernel audit on a real kernel: another socket deletes pim6sd's entry,
// changes it, adds one of its own and deletes a MIF; pim6sd restores its
// entry within a second each time, removes the foreign one, adds the MIF
// again at the next periodic audit, and counts each repair.
func TestKernelAudit(t *testing.T) {
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, `[global]
audit-interval = "3s"
`)
	joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 7300)
	ours := func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-snd" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	}
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 10*time.Second, "pim6sd's (S,G)", ours)
	s0, err := d.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	mif := map[string]int{}
	for _, i := range s0.Interfaces {
		mif[i.Name] = i.MIF
	}

	var f *kernel.Foreign
	if err := tp.rtr.Do(func() (err error) { f, err = kernel.OpenForeign(0); return err }); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, grp := netip.MustParseAddr(srcAddr), netip.MustParseAddr(ssmGrp)

	if err := f.DelMFC(src, grp); err != nil {
		t.Fatal(err)
	}
	took := waitMroute(t, tp.rtr, srcAddr, ssmGrp, 3*time.Second, "the deleted entry back", ours)
	t.Logf("deleted entry restored after %v", took)
	if err := f.SetMFC(src, grp, kernel.MIF(mif["to-snd"]), 0); err != nil {
		t.Fatal(err)
	}
	took = waitMroute(t, tp.rtr, srcAddr, ssmGrp, 3*time.Second, "the changed entry back", ours)
	t.Logf("changed entry restored after %v", took)
	other := netip.MustParseAddr("ff3e::4321:7777")
	if err := f.SetMFC(src, other, kernel.MIF(mif["to-snd"]), kernel.MIFSet(0).Add(kernel.MIF(mif["to-rcv"]))); err != nil {
		t.Fatal(err)
	}
	took = waitMroute(t, tp.rtr, srcAddr, other.String(), 3*time.Second, "the foreign entry swept", func(_ mroute, ok bool) bool { return !ok })
	t.Logf("foreign entry removed after %v", took)

	if err := f.DelMIF(kernel.MIF(mif["to-rcv"])); err != nil {
		t.Fatal(err)
	}
	took = waitMroute(t, tp.rtr, srcAddr, ssmGrp, 10*time.Second, "the entry on the MIF added again", ours)
	t.Logf("deleted MIF and its entry back after %v", took)
	var last *ctl.Snapshot
	d.waitFor(5*time.Second, "the audit's record", func(s *ctl.Snapshot) bool {
		last = s
		f := s.Daemon.Audit.Found
		return f.Missing >= 1 && f.Changed >= 1 && f.Extra >= 1 && f.MIFs == 1
	})
	t.Logf("audit: %+v", last.Daemon.Audit)
	if n := procMIFs(t, tp.rtr); n != len(s0.Interfaces) {
		t.Errorf("%d MIFs in the kernel, want %d (none doubled)", n, len(s0.Interfaces))
	}
}
