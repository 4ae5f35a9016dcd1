package mld

import (
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// generalMRD returns, for each General Query in acts, the Maximum
// Response Delay it carries.
func generalMRD(acts []Action) []time.Duration {
	var out []time.Duration
	for _, a := range acts {
		sq, ok := a.(SendQuery)
		if !ok {
			continue
		}
		switch m := sq.Msg.(type) {
		case *mldmsg.QueryV2:
			if m.Group.IsUnspecified() {
				out = append(out, m.MaxRespDelay())
			}
		case *mldmsg.QueryV1:
			if m.Group.IsUnspecified() {
				out = append(out, time.Duration(m.MaxRespDelay)*time.Millisecond)
			}
		}
	}
	return out
}

// expireAll calls Expire at every deadline up to end (seconds after tR)
// and returns the actions.
func expireAll(r *Router, end float64) []Action {
	var acts []Action
	for {
		d, ok := r.NextDeadline()
		if !ok || d.After(at(end)) {
			return acts
		}
		acts = append(acts, r.Expire(d)...)
	}
}

// The Startup Queries of a new interface (at start-up, and when the
// daemon adds it again after its link came back) carry
// StartupQueryResponseInterval, so that listeners answer sooner and
// forwarding resumes sooner; every later General Query carries the Query
// Response Interval. Zero (the default) is the Query Response Interval:
// the Startup Queries are as before.
func TestStartupQueryResponseInterval(t *testing.T) {
	for _, version := range []Version{V2, V1} {
		cfg := DefaultConfig()
		cfg.Version = version
		cfg.StartupQueryCount = 3
		cfg.StartupQueryResponseInterval = 2 * time.Second
		r := New(nil)
		acts, err := r.AddInterface(tR, ifx, "eth0", self, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Three Startup Queries (0, 31.25, 62.5), then the Query
		// Interval (187.5, 312.5).
		acts = append(acts, expireAll(r, 320)...)
		want := []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second, 10 * time.Second, 10 * time.Second}
		diff(t, "MLDv"+string(rune('0'+version))+" General Query delays", want, generalMRD(acts))

		// The link goes down and comes back: the daemon removes and adds
		// the interface, which starts again with Startup Queries.
		r.RemoveInterface(at(400), ifx)
		acts, err = r.AddInterface(at(500), ifx, "eth0", self, cfg)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "delay after the link came back", []time.Duration{2 * time.Second}, generalMRD(acts))
	}

	t.Run("default: the Query Response Interval", func(t *testing.T) {
		cfg := DefaultConfig()
		if cfg.StartupQueryResponseInterval != 0 {
			t.Errorf("default %v, want 0 (the Query Response Interval)", cfg.StartupQueryResponseInterval)
		}
		r := New(nil)
		acts, _ := r.AddInterface(tR, ifx, "eth0", self, cfg)
		acts = append(acts, expireAll(r, 200)...)
		diff(t, "General Query delays", []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}, generalMRD(acts))
	})

	// Becoming the Querier again after another Querier went quiet
	// (7.6.2), or with a lower address, is no start-up: the router kept
	// the state of the reports it heard, so its one General Query carries
	// the Query Response Interval.
	t.Run("not after the Other Querier Present timer", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.StartupQueryResponseInterval = 2 * time.Second
		r := New(nil)
		r.AddInterface(tR, ifx, "eth0", self, cfg)
		r.Receive(at(1), ifx, queryFrom(t, lower, generalV2()))
		acts := expireAll(r, 300) // Querier again at 1 + OQPI 255
		diff(t, "General Query delays", []time.Duration{10 * time.Second}, generalMRD(acts))
		r.Receive(at(301), ifx, queryFrom(t, addr("fe80::8"), generalV2()))
		acts = r.SetAddress(at(302), ifx, addr("fe80::2"))
		diff(t, "General Query delays after a new lower address", []time.Duration{10 * time.Second}, generalMRD(acts))
	})
}

// The listener state that answers a short Startup Query has the timers
// of RFC 3810 section 9: the Multicast Address Listening Interval (9.4)
// and the Older Version Host Present Timeout (9.13) are Robustness times
// Query Interval plus the Query Response Interval, "the Maximum Response
// Delay ... inserted into the periodic General Queries" (9.3), not the
// shorter delay of the Startup Queries: after the Startup Queries the
// listeners answer the periodic ones, so their state must outlive
// Robustness periodic Queries and a full response delay.
func TestStartupQueryListenerTimers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StartupQueryResponseInterval = 2 * time.Second
	r := New(nil)
	r.AddInterface(tR, ifx, "eth0", self, cfg)
	other := addr("ff0e::200")
	r.Receive(at(1), ifx, report(t, rec(mldmsg.ModeIsExclude, grp), rec(mldmsg.ModeIsInclude, other, "a")))
	r.Receive(at(1), ifx, reportV1(t, addr("ff0e::300")))
	const mali = 2*125 + 10 // not 2*125 + 2
	diff(t, "EXCLUDE group", &gview{Mode: Exclude, Filter: mali, Compat: V2}, view(r, at(1), grp))
	diff(t, "INCLUDE group", &gview{Mode: Include, Compat: V2, Sources: map[string]float64{"a": mali}}, view(r, at(1), other))
	for _, st := range r.Snapshot(at(1)) {
		for _, g := range st.Groups {
			if g.Group == addr("ff0e::300") && (g.Compat != V1 || g.CompatTimerLeft != mali*time.Second || g.FilterTimerLeft != mali*time.Second) {
				t.Errorf("MLDv1 group: compat %v for %v, filter %v; want MLDv1 for %ds", g.Compat, g.CompatTimerLeft, g.FilterTimerLeft, mali)
			}
		}
	}
}

// StartupQueryResponseInterval may be zero (the Query Response Interval)
// or a Maximum Response Delay up to the Query Response Interval
// (TestConfigValidate has the refusals).
func TestStartupQueryResponseIntervalValid(t *testing.T) {
	for _, d := range []time.Duration{0, time.Millisecond, 2 * time.Second, 10 * time.Second} {
		cfg := DefaultConfig()
		cfg.StartupQueryResponseInterval = d
		if err := cfg.Validate(); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
}
