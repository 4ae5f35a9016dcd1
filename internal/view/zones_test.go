package view

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim"
)

// The snapshot shows each administrative scope zone (RFC 5059 1.3) with
// its border, its BSR, this router's candidacy there and its RP-set; the
// global zone's fields stay as they were. A BSR change of a zone names
// it, and explain says which zone's BSR gave a scoped group its RP.
func TestSnapshotZones(t *testing.T) {
	self := netip.MustParseAddr("2001:db8:ff::5")
	zone := netip.MustParsePrefix("ff15::/16")
	pc := pimConfig()
	pc.BSRZones = []pim.BSRZone{{Range: zone, Border: []string{"eth1"}, CandidateBSR: &pim.CandidateBSR{Addr: self, Priority: 5, HashMaskLen: 120}}}
	pc.CandidateRP = &pim.CandidateRP{Addr: self, Priority: 3, Holdtime: 150 * time.Second, Interval: 60 * time.Second,
		Groups: []netip.Prefix{netip.MustParsePrefix("ff15:1::/32")}}
	t0 := time.Unix(1000, 0)
	st := newState(t, t0, pc, &fakeKernel{})
	st.Local = []netip.Addr{self}
	st.PIM.SetLocalAddresses(t0, st.Local)
	// The candidate is elected after its start-up wait (15 s), and its
	// own Candidate-RP is in the zone's RP-set.
	var events []ctl.Event
	now := t0
	for i := 0; i < 100; i++ {
		d, ok := st.PIM.NextDeadline()
		if !ok || d.After(t0.Add(20*time.Second)) {
			break
		}
		now = d
		for _, a := range st.PIM.Expire(now) {
			if ev, ok := PIMEvent(a, func(int) string { return "" }, st.MRIB); ok && ev.Type == ctl.EventBSRChange {
				events = append(events, ev)
			}
		}
	}
	st.Now = now
	s := Snapshot(st)
	want := []ctl.RPSetZone{{
		Range: zone, Border: []string{"eth1"}, BSR: self, BSRPriority: 5, BSRHashMaskLen: 120, BSRTimeout: ctl.Duration(60 * time.Second),
		State:        "elected",
		CandidateBSR: &ctl.CandidateBSR{Address: self, Priority: 5, HashMaskLen: 120, State: "elected"},
		RPs: []ctl.RP{{Address: self, Myself: true, Origin: ctl.RPOriginBSR,
			Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff15:1::/32"), Priority: 3, Holdtime: ctl.Duration(150 * time.Second), Left: ctl.Duration(150 * time.Second)}}}},
	}}
	if diff := cmp.Diff(want, s.RPSet.Zones, addrOpts); diff != "" {
		t.Errorf("zones (-want +got):\n%s", diff)
	}
	if s.RPSet.BSR.IsValid() || len(s.RPSet.RPs) != 0 {
		t.Errorf("the global zone shows the scope zone's state: %+v", s.RPSet)
	}
	if len(events) == 0 || events[len(events)-1].Zone != zone || events[len(events)-1].BSR != self {
		t.Errorf("BSR change events %+v, want the last one of zone %v", events, zone)
	}
	e := Explain(st, netip.Addr{}, netip.MustParseAddr("ff15:1::7"))
	if step, ok := stepOf(e, ctl.CheckRP); !ok || !strings.Contains(step.Reason, "from the BSR 2001:db8:ff::5 of scope zone ff15::/16") ||
		e.RP == nil || e.RP.Zone != zone || e.RP.BSR != self {
		t.Errorf("explain of a scoped group: %+v, RP %+v", step, e.RP)
	}
	e = Explain(st, netip.Addr{}, netip.MustParseAddr("ff15:2::7"))
	if step, ok := stepOf(e, ctl.CheckRP); !ok || !strings.Contains(step.Reason, "the RP-set of the BSR 2001:db8:ff::5 of its scope zone ff15::/16 has no RP for it") {
		t.Errorf("explain of a scoped group without an RP: %+v", step)
	}
}
