package pim

import (
	"testing"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestDRElection is dr_is_better of RFC 7761 section 4.3.2 as a table. We
// are fe80::d:1.
func TestDRElection(t *testing.T) {
	type nb struct {
		addr string
		prio *uint32 // nil: no DR Priority option
	}
	for _, tc := range []struct {
		name   string
		ours   uint32
		nbrs   []nb
		dr     string
		drSelf bool
	}{
		{"alone", 1, nil, "fe80::d:1", true},
		{"higher priority wins", 1, []nb{{"fe80::ff:1", u32(1)}, {"fe80::1", u32(9)}}, "fe80::1", false},
		{"our priority wins", 10, []nb{{"fe80::ff:1", u32(9)}, {"fe80::1", u32(9)}}, "fe80::d:1", true},
		{"priority tie: higher address", 5, []nb{{"fe80::1", u32(5)}, {"fe80::ff:1", u32(5)}}, "fe80::ff:1", false},
		{"priority tie: we are higher", 5, []nb{{"fe80::1", u32(5)}, {"fe80::2", u32(5)}}, "fe80::d:1", true},
		{"one missing: address only", 100, []nb{{"fe80::1", u32(1000)}, {"fe80::ff:1", nil}}, "fe80::ff:1", false},
		{"one missing: we are highest", 0, []nb{{"fe80::1", u32(1000)}, {"fe80::2", nil}}, "fe80::d:1", true},
		{"priority 0 loses", 0, []nb{{"fe80::1", u32(1)}}, "fe80::1", false},
		{"all missing", 1, []nb{{"fe80::1", nil}, {"fe80::2", nil}}, "fe80::d:1", true},
		{"max priority", 0xffffffff, []nb{{"fe80::ff:1", u32(0xfffffffe)}}, "fe80::d:1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := New(new(timerq.IDs), testConfig(constRand(0)))
			cfg := DefaultIfConfig()
			cfg.DRPriority = tc.ours
			if _, err := r.AddInterface(tR, ifD, "eth0", selfD, nil, cfg); err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.nbrs {
				hello(t, r, at(1), ifD, addr(n.addr), func(h *pimmsg.Hello) { h.DRPriority = n.prio })
			}
			st := ifaceState(r, at(1), ifD)
			diff(t, "DR", tc.dr, st.DR.String())
			if st.DRSelf != tc.drSelf {
				t.Errorf("DRSelf %v", st.DRSelf)
			}
		})
	}
}

// TestDRChange: DRChange once per change, for neighbors coming and going,
// their priority and ours.
func TestDRChange(t *testing.T) {
	r := newRouter(t)
	dr := func(acts []Action) []string { return only(render(acts), "dr") }
	diff(t, "lower neighbor", []string(nil), dr(hello(t, r, at(1), ifD, nbr1)))
	diff(t, "higher neighbor", []string{"dr(2) fe80::ff:1 self=false"}, dr(hello(t, r, at(2), ifD, addr("fe80::ff:1"))))
	diff(t, "refresh", []string(nil), dr(hello(t, r, at(3), ifD, addr("fe80::ff:1"))))
	diff(t, "nbr1 priority up", []string{"dr(2) fe80::1 self=false"}, dr(hello(t, r, at(4), ifD, nbr1, withPrio(2))))
	diff(t, "same again", []string(nil), dr(hello(t, r, at(5), ifD, nbr1, withPrio(2))))
	cfg := DefaultIfConfig()
	cfg.DRPriority = 3
	acts, _ := r.SetInterfaceConfig(at(6), ifD, cfg)
	diff(t, "our priority up", []string{"dr(2) fe80::d:1 self=true"}, dr(acts))
	diff(t, "ff:1 drops the option", []string{"dr(2) fe80::ff:1 self=false"}, dr(hello(t, r, at(7), ifD, addr("fe80::ff:1"), noPrio)))
	diff(t, "ff:1 leaves", []string{"dr(2) fe80::d:1 self=true"}, dr(hello(t, r, at(8), ifD, addr("fe80::ff:1"), withHoldtime(0))))
	diff(t, "nbr1 times out: no change", []string(nil), only(runUntil(r, at(8), at(200)), "dr"))
}
