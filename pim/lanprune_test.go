package pim

import (
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// TestLANPruneDelay is the arithmetic of RFC 7761 section 4.3.3 as a table.
// Ours: 500 ms propagation delay, 2500 ms override interval unless set.
func TestLANPruneDelay(t *testing.T) {
	type lpd struct {
		t      bool
		pd, oi uint16
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name           string
		ourPD, ourOI   time.Duration
		nbrs           []*lpd // nil: no option
		enabled        bool
		epd, eoi, jpoi time.Duration
	}{
		{"no neighbors: ours", 500 * ms, 2500 * ms, nil, true, 500 * ms, 2500 * ms, 3000 * ms},
		{"no neighbors, our own values", 100 * ms, 1000 * ms, nil, true, 100 * ms, 1000 * ms, 1100 * ms},
		{"largest wins", 100 * ms, 1000 * ms, []*lpd{{false, 300, 800}, {false, 50, 4000}}, true, 300 * ms, 4000 * ms, 4300 * ms},
		{"ours largest", 900 * ms, 5000 * ms, []*lpd{{false, 300, 800}}, true, 900 * ms, 5000 * ms, 5900 * ms},
		{"one without: defaults", 100 * ms, 1000 * ms, []*lpd{{false, 3000, 9000}, nil}, false, 500 * ms, 2500 * ms, 3000 * ms},
		{"T bits do not change the delays", 500 * ms, 2500 * ms, []*lpd{{true, 500, 2500}}, true, 500 * ms, 2500 * ms, 3000 * ms},
		{"zero values", 0, 0, []*lpd{{false, 0, 0}}, true, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := New(new(timerq.IDs), testConfig(constRand(0)))
			cfg := DefaultIfConfig()
			cfg.PropagationDelay, cfg.OverrideInterval = tc.ourPD, tc.ourOI
			if _, err := r.AddInterface(tR, ifD, "eth0", selfD, nil, cfg); err != nil {
				t.Fatal(err)
			}
			for i, n := range tc.nbrs {
				a := addr("fe80::100")
				for range i {
					a = a.Next()
				}
				if n == nil {
					hello(t, r, at(1), ifD, a, noLPD)
				} else {
					hello(t, r, at(1), ifD, a, withLPD(n.t, n.pd, n.oi))
				}
			}
			st := ifaceState(r, at(1), ifD)
			type view struct {
				Enabled, Suppression bool
				EPD, EOI, JPOI       time.Duration
			}
			// We never set the T bit, so Join suppression stays enabled.
			diff(t, "values", view{tc.enabled, true, tc.epd, tc.eoi, tc.jpoi},
				view{st.LANDelayEnabled, st.SuppressionEnabled, st.EffectivePropagationDelay, st.EffectiveOverrideInterval, st.JPOverrideInterval})
		})
	}
}

// TestRandomTimerValues: t_override and t_suppressed (4.11) from Rand.
func TestRandomTimerValues(t *testing.T) {
	for _, tc := range []struct {
		rand       uint32
		over, supp time.Duration
	}{
		{0, 0, 66 * time.Second},
		{half, 1250 * time.Millisecond, 75 * time.Second},
		{0xffffffff, 2500*time.Millisecond - 1, 84*time.Second - 5},
	} {
		r, _ := New(new(timerq.IDs), testConfig(constRand(tc.rand)))
		mustAdd(t, r, tR, ifD, selfD)
		ifc := r.ifaces[ifD]
		if got := r.tOverride(ifc); got != tc.over {
			t.Errorf("rand %#x: t_override %v, want %v", tc.rand, got, tc.over)
		}
		if got := r.tSuppressed(ifc); got != tc.supp {
			t.Errorf("rand %#x: t_suppressed %v, want %v", tc.rand, got, tc.supp)
		}
	}
}
