package mld

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// TestLinkScopeGroups: the router's own kernel reports ff02::16, ff02::2 and
// its solicited-node group from its own address. They are tracked but never
// routed; a site-scope group is routed.
func TestLinkScopeGroups(t *testing.T) {
	r := newRouter(t, tR, DefaultConfig())
	own := packet(t, self, mldv2Dst, &mldmsg.ReportV2{Records: []mldmsg.Record{
		rec(mldmsg.ChangeToExclude, addr("ff02::16")),
		rec(mldmsg.ChangeToExclude, addr("ff02::2")),
		rec(mldmsg.ChangeToExclude, addr("ff02::1:ff00:10")),
		rec(mldmsg.ChangeToExclude, addr("ff05::1:3")),
	}})
	var l actlog
	l.add(tR, r.Receive(tR, ifx, own))
	diff(t, "updates", []upd{{0, "ff05::1:3", Exclude, nil}}, l.Updates)
	var got []string
	for _, g := range r.Snapshot(tR)[0].Groups {
		got = append(got, g.Group.String()+map[bool]string{true: " routed", false: ""}[g.Routed])
	}
	diff(t, "groups", []string{"ff02::2", "ff02::16", "ff02::1:ff00:10", "ff05::1:3 routed"}, got)
	// Expiry emits nothing for them either.
	l = actlog{}
	l.add(at(260), r.Expire(at(260)))
	diff(t, "updates at expiry", []upd{{260, "ff05::1:3", Include, nil}}, l.Updates)
}

// TestRemoveInterface withdraws every routed group's listeners and stops
// every timer of the interface.
func TestRemoveInterface(t *testing.T) {
	r := newRouter(t, tR, DefaultConfig())
	r.Receive(tR, ifx, report(t,
		rec(mldmsg.ModeIsInclude, grp, "a", "b"),
		rec(mldmsg.ChangeToExclude, addr("ff05::1"), "c"),
		rec(mldmsg.ChangeToExclude, addr("ff02::16")),
	))
	r.Receive(tR, ifx, reportV1(t, addr("ff05::2")))
	r.Receive(tR, ifx, report(t, rec(mldmsg.BlockOldSources, grp, "a")))
	var l actlog
	l.add(at(1), r.RemoveInterface(at(1), ifx))
	diff(t, "updates", []upd{
		{1, "ff05::1", Include, nil}, {1, "ff05::2", Include, nil}, {1, grp.String(), Include, nil},
	}, l.Updates)
	if l.Queries != nil || l.Others != nil {
		t.Errorf("other actions: %+v", l)
	}
	if n := r.q.Len(); n != 0 {
		t.Errorf("%d timers left", n)
	}
	if _, ok := r.NextDeadline(); ok {
		t.Error("NextDeadline with no interface")
	}
	if r.Snapshot(at(1)) != nil || r.RemoveInterface(at(1), ifx) != nil {
		t.Error("interface still there")
	}
}

func TestAddInterface(t *testing.T) {
	r := New(nil)
	bad := DefaultConfig()
	bad.Robustness = 0
	if _, err := r.AddInterface(tR, ifx, "eth0", self, bad); err == nil || !strings.Contains(err.Error(), "Robustness") {
		t.Errorf("bad config: err = %v", err)
	}
	if _, err := r.AddInterface(tR, ifx, "eth0", addr("2001:db8::1"), DefaultConfig()); err == nil {
		t.Error("global address accepted as the link-local one")
	}
	if len(r.Interfaces()) != 0 {
		t.Error("interface added after an error")
	}
	// Adding again keeps the state, as SetConfig and SetAddress.
	r.AddInterface(tR, ifx, "eth0", self, DefaultConfig())
	r.Receive(tR, ifx, report(t, rec(mldmsg.ModeIsExclude, grp)))
	cfg := DefaultConfig()
	cfg.QueryInterval = 60 * time.Second
	acts, err := r.AddInterface(at(1), ifx, "eth0", addr("fe80::11"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "actions", []Action{QuerierChange{IfIndex: ifx, Querier: addr("fe80::11"), Self: true}}, acts)
	st := r.Snapshot(at(1))[0]
	diff(t, "state", []any{addr("fe80::11"), 60 * time.Second, 1}, []any{st.Address, st.QueryInterval, len(st.Groups)})
}

// TestSetConfig: a reload keeps group state and applies the difference.
func TestSetConfig(t *testing.T) {
	t.Run("invalid-refused-whole", func(t *testing.T) {
		r := newRouter(t, tR, DefaultConfig())
		bad := DefaultConfig()
		bad.QueryResponseInterval = 200 * time.Second
		bad.MaxGroups = 0
		_, err := r.SetConfig(at(1), ifx, bad)
		if err == nil || !strings.Contains(err.Error(), "QueryResponseInterval") || !strings.Contains(err.Error(), "MaxGroups") {
			t.Errorf("err = %v", err)
		}
		if got := r.ifaces[ifx].cfg.MaxGroups; got != 8192 {
			t.Errorf("MaxGroups = %d after a refused reload", got)
		}
	})
	t.Run("shorter-query-interval-brings-query-forward", func(t *testing.T) {
		r, l := startRouter(t, DefaultConfig())
		expireUntil(r, &l, 40) // startup done: next at 156.25
		cfg := DefaultConfig()
		cfg.QueryInterval, cfg.StartupQueryInterval = 30*time.Second, 7*time.Second
		if _, err := r.SetConfig(at(50), ifx, cfg); err != nil {
			t.Fatal(err)
		}
		expireUntil(r, &l, 120)
		diff(t, "queries", []q{{At: 0}, {At: 31.25}, {At: 80}, {At: 110}}, l.Queries)
	})
	t.Run("V2-ends-MLDv1-state", func(t *testing.T) {
		r := newRouter(t, tR, DefaultConfig())
		r.Receive(tR, ifx, queryFrom(t, higher, &mldmsg.QueryV1{MaxRespDelay: 10000, Group: unspec}))
		r.Receive(tR, ifx, reportV1(t, grp))
		cfg := DefaultConfig()
		cfg.Version = V2
		acts, _ := r.SetConfig(at(1), ifx, cfg)
		diff(t, "actions", []Action{OlderQuerier{IfIndex: ifx, Querier: higher}}, acts)
		diff(t, "state", exc(259, nil), view(r, at(1), grp))
	})
	t.Run("SSM-range-now-covers-EXCLUDE-group", func(t *testing.T) {
		r := newRouter(t, tR, DefaultConfig())
		seedGroup(r, tR, grp, seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 0}})
		seedGroup(r, tR, addr("ff0e::200"), seed{mode: Exclude, filter: 200, sources: src4{"b": 0}})
		cfg := DefaultConfig()
		cfg.SSMRange = []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}
		acts, err := r.SetConfig(at(1), ifx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var l actlog
		l.add(at(1), acts)
		diff(t, "updates", []upd{{1, grp.String(), Include, []string{"a"}}, {1, "ff0e::200", Include, nil}}, l.Updates)
		diff(t, "state", inc(src4{"a": 99}), view(r, at(1), grp))
	})
	t.Run("higher-limits-end-episode", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.MaxGroups = 1
		r := newRouter(t, tR, cfg)
		r.Receive(tR, ifx, report(t, rec(mldmsg.ModeIsExclude, grp), rec(mldmsg.ModeIsExclude, addr("ff0e::2"))))
		cfg.MaxGroups = 2
		r.SetConfig(at(1), ifx, cfg)
		cfg.MaxGroups = 1 // at the limit again, not over it: a new episode
		r.SetConfig(at(1), ifx, cfg)
		r.Receive(tR, ifx, report(t, rec(mldmsg.ModeIsExclude, addr("ff0e::2"))))
		diff(t, "limit hits", map[string]uint64{LimitGroups: 2}, r.Stats(ifx).LimitHits)
	})
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want []string // fields named in the error
	}{
		{"version", func(c *Config) { c.Version = 4 }, []string{"Version"}},
		{"zero-everything", func(c *Config) { *c = Config{} }, []string{
			"Version", "Robustness", "QueryInterval", "QueryResponseInterval", "StartupQueryInterval",
			"StartupQueryCount", "LastListenerQueryInterval", "LastListenerQueryCount", "MaxGroups", "MaxSources",
		}},
		{"QRI-not-below-QI", func(c *Config) { c.Version = V2; c.QueryResponseInterval = c.QueryInterval }, []string{"QueryResponseInterval"}},
		{"QI-sub-second", func(c *Config) {
			c.QueryInterval = 500 * time.Millisecond
			c.QueryResponseInterval = 100 * time.Millisecond
			c.StartupQueryInterval = 100 * time.Millisecond
		}, []string{"QueryInterval"}},
		{"QI-too-long-for-QQIC", func(c *Config) { c.QueryInterval = mldmsg.QueryIntervalLimit + time.Second }, []string{"QueryInterval"}},
		{"QRI-too-long-for-MLDv1", func(c *Config) { c.QueryResponseInterval = 70 * time.Second }, []string{"QueryResponseInterval"}},
		{"LLQI-too-long-for-MRC", func(c *Config) { c.Version = V2; c.LastListenerQueryInterval = mldmsg.MaxRespDelayLimit + time.Second }, []string{"LastListenerQueryInterval"}},
		{"startup-slower-than-query-interval", func(c *Config) { c.StartupQueryInterval = c.QueryInterval + 1 }, []string{"StartupQueryInterval"}},
		{"negative-intervals", func(c *Config) { c.StartupQueryInterval = -1; c.LastListenerQueryInterval = -1 }, []string{"StartupQueryInterval", "LastListenerQueryInterval"}},
		{"startup-QRI-below-1ms", func(c *Config) { c.StartupQueryResponseInterval = time.Microsecond }, []string{"StartupQueryResponseInterval"}},
		{"startup-QRI-negative", func(c *Config) { c.StartupQueryResponseInterval = -time.Second }, []string{"StartupQueryResponseInterval"}},
		{"startup-QRI-longer-than-QRI", func(c *Config) { c.StartupQueryResponseInterval = c.QueryResponseInterval + 1 }, []string{"StartupQueryResponseInterval"}},
		{"counts-too-large", func(c *Config) { c.Robustness, c.StartupQueryCount, c.LastListenerQueryCount = 256, 256, 256 }, []string{"Robustness", "StartupQueryCount", "LastListenerQueryCount"}},
		{"SSM-range-not-multicast", func(c *Config) {
			c.SSMRange = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("ff3e::/32"), netip.MustParsePrefix("10.0.0.0/8"), {}}
		}, []string{"SSMRange[0]", "SSMRange[2]", "SSMRange[3]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.mod(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				field, _, _ := strings.Cut(strings.TrimPrefix(e.Error(), "mld: "), ":")
				got = append(got, field)
			}
			diff(t, "fields", c.want, got)
		})
	}
	t.Run("robustness-1-and-V2-long-delays-allowed", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Robustness, cfg.Version = 1, V2
		cfg.QueryInterval, cfg.QueryResponseInterval = 300*time.Second, 100*time.Second
		if err := cfg.Validate(); err != nil {
			t.Error(err)
		}
	})
}

// TestSnapshot shows the whole state of one interface.
func TestSnapshot(t *testing.T) {
	g2 := addr("ff0e::200")
	r := newRouter(t, tR, DefaultConfig())                                   // General Query timer: ID 1
	r.Receive(tR, ifx, reportV1(t, grp))                                     // compat timer 2, Filter Timer 3
	r.Receive(tR, ifx, report(t, rec(mldmsg.AllowNewSources, g2, "a", "b"))) // source timers 4, 5
	r.Receive(at(1), ifx, report(t, rec(mldmsg.BlockOldSources, g2, "a")))   // a lowered; retransmission timer 6
	s := func(x float64) time.Duration { return secs(x) }
	want := []InterfaceState{{
		IfIndex: ifx, Name: "eth0", Address: self, Version: Both,
		Querier: self, QuerierSelf: true, QuerierSince: tR,
		NextGeneralQuery: at(31.25), GeneralQueryTimer: 1, StartupQueriesLeft: 1,
		Robustness: 2, QueryInterval: 125 * time.Second,
		Groups: []GroupState{
			{
				Group: grp, Mode: Exclude, Routed: true,
				FilterTimer: 3, FilterTimerLeft: s(258.5),
				Compat: V1, CompatTimer: 2, CompatTimerLeft: s(258.5),
			},
			{
				Group: g2, Mode: Include, Routed: true, Compat: V2,
				Sources: []SourceState{
					{Source: src("a"), Timer: 4, Left: s(1.5), QueriesLeft: 1},
					{Source: src("b"), Timer: 5, Left: s(258.5)},
				},
			},
		},
	}}
	diff(t, "snapshot", want, r.Snapshot(at(1.5)))
	diff(t, "stats", Stats{
		Received: map[string]uint64{RecvReportV1: 1, RecvReportV2: 2},
		Records:  map[string]uint64{"ALLOW": 1, "BLOCK": 1},
		Sent:     map[string]uint64{SentGeneral: 1, SentAddressSources: 1},
		Groups:   2, Sources: 2,
	}, r.Stats(ifx))
}
