package mld

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// TestRouterSideProcessing covers RFC 3810 section 7.6.1: a Query with the
// S flag clear lowers the queried timers to LLQT (never raises them), one
// with the S flag set changes nothing; an MLDv1 Query has no S flag (RFC
// 2710 section 4).
func TestRouterSideProcessing(t *testing.T) {
	v2 := func(s bool, sources ...string) *mldmsg.QueryV2 {
		return &mldmsg.QueryV2{MaxRespCode: 1000, Group: grp, SuppressRouterSide: s, QRV: 2, QQIC: 125, Sources: srcs(sources...)}
	}
	start := seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 100, "c": 0}}
	cases := []struct {
		name    string
		querier bool // we are the Querier; the Query comes from a higher address
		seed    seed
		query   mldmsg.Message
		want    *gview
	}{
		{"Q(MA)/S-clear", false, start, v2(false), exc(2, src4{"a": 100, "b": 100, "c": 0})},
		{"Q(MA)/S-set", false, start, v2(true), exc(200, src4{"a": 100, "b": 100, "c": 0})},
		{"Q(MA,A)/S-clear", false, start, v2(false, "a", "c", "d"), exc(200, src4{"a": 2, "b": 100, "c": 0})},
		{"Q(MA,A)/S-set", false, start, v2(true, "a"), exc(200, src4{"a": 100, "b": 100, "c": 0})},
		{"MLDv1-Q(MA)", false, start, &mldmsg.QueryV1{MaxRespDelay: 1000, Group: grp}, exc(2, src4{"a": 100, "b": 100, "c": 0})},
		{
			"never-raised", false,
			seed{mode: Exclude, filter: 1, sources: src4{"a": 1.5}},
			v2(false, "a"), exc(1, src4{"a": 1.5}),
		},
		{
			"INCLUDE-has-no-filter-timer", false,
			seed{mode: Include, sources: src4{"a": 100}},
			v2(false), inc(src4{"a": 100}),
		},
		{"Querier-receives-too", true, start, v2(false, "b"), exc(200, src4{"a": 100, "b": 2, "c": 0})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t, tR, DefaultConfig())
			from := higher
			if !c.querier {
				r.Receive(tR, ifx, queryFrom(t, lower, generalV2()))
				from = lower
			}
			seedGroup(r, tR, grp, c.seed)
			var l actlog
			l.add(tR, r.Receive(tR, ifx, queryFrom(t, from, c.query)))
			diff(t, "state", c.want, view(r, tR, grp))
			var want actlog
			if _, v1 := c.query.(*mldmsg.QueryV1); v1 { // 8.3.1
				want.Others = []other{{0, OlderQuerier{IfIndex: ifx, Querier: from, Present: true}}}
			}
			diff(t, "actions", want, l)
		})
	}
}

// TestSpecificQueries covers RFC 3810 section 7.6.3: retransmissions and
// the S flag computed anew for each transmission.
func TestSpecificQueries(t *testing.T) {
	g := grp.String()
	cases := []struct {
		name   string
		cfg    func(*Config)
		seed   seed
		events []event
		end    float64
		want   *gview
		log    actlog
	}{
		{
			// 7.6.3.2: a source refreshed while it is queried goes to the
			// S-set Query; the others stay in the S-clear one.
			name: "Q(MA,A)/split-by-S-flag",
			seed: seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			events: []event{
				recv(0, report(t, rec(mldmsg.BlockOldSources, grp, "a", "b"))),
				recv(0.5, report(t, rec(mldmsg.ModeIsInclude, grp, "a"))),
				expire(1), expire(2), expire(3),
			},
			end:  3,
			want: inc(src4{"a": 257.5}),
			log: actlog{
				Queries: []q{
					{At: 0, Group: g, Sources: []string{"a", "b"}},
					{At: 1, Group: g, S: true, Sources: []string{"a"}},
					{At: 1, Group: g, Sources: []string{"b"}},
				},
				Updates: []upd{{2, g, Include, []string{"a"}}},
			},
		},
		{
			// 7.6.3.1: S set when the Filter Timer is above LLQT.
			name: "Q(MA)/S-set-after-refresh",
			seed: seed{mode: Exclude, filter: 200},
			events: []event{
				recv(0, report(t, rec(mldmsg.ChangeToInclude, grp))),
				recv(0.5, report(t, rec(mldmsg.ModeIsExclude, grp))),
				expire(1), expire(2), expire(3),
			},
			end:  3,
			want: exc(257.5, nil),
			log: actlog{Queries: []q{
				{At: 0, Group: g},
				{At: 1, Group: g, S: true},
			}},
		},
		{
			// The S-set source Query is suppressed when Q(MA) goes out at
			// the same time (7.6.3.2, last paragraph).
			name: "Q(MA)-suppresses-S-set-Q(MA,A)",
			seed: seed{mode: Exclude, filter: 200, sources: src4{"a": 100}},
			events: []event{
				recv(0, report(t, rec(mldmsg.ChangeToInclude, grp))),
				recv(0.5, report(t, rec(mldmsg.ModeIsInclude, grp, "a"))),
				expire(1), expire(2),
			},
			end:  2,
			want: inc(src4{"a": 258.5}),
			log: actlog{
				Queries: []q{
					{At: 0, Group: g}, {At: 0, Group: g, Sources: []string{"a"}},
					{At: 1, Group: g},
				},
				Updates: []upd{{2, g, Include, []string{"a"}}},
			},
		},
		{
			// A repeated BLOCK (hosts repeat State Change Reports) finds
			// the timer at or below LLQT and starts nothing new.
			name: "repeated-BLOCK",
			seed: seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			events: []event{
				recv(0, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
				recv(0.5, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
				expire(1), expire(2),
			},
			end:  2,
			want: inc(src4{"b": 98}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"a"}}, {At: 1, Group: g, Sources: []string{"a"}}},
				Updates: []upd{{2, g, Include, []string{"b"}}},
			},
		},
		{
			name: "LastListenerQueryCount-1/no-retransmission",
			cfg:  func(c *Config) { c.LastListenerQueryCount = 1 },
			seed: seed{mode: Include, sources: src4{"a": 100}},
			events: []event{
				recv(0, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
				expire(1),
			},
			end: 1,
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"a"}}},
				Updates: []upd{{1, g, Include, nil}},
			},
		},
		{
			name: "LastListenerQueryCount-3",
			cfg:  func(c *Config) { c.LastListenerQueryCount = 3; c.LastListenerQueryInterval = 500 * time.Millisecond },
			seed: seed{mode: Include, sources: src4{"a": 100}},
			events: []event{
				recv(0, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
				expire(0.5), expire(1), expire(1.5),
			},
			end: 1.5,
			log: actlog{
				Queries: []q{
					{At: 0, Group: g, Sources: []string{"a"}},
					{At: 0.5, Group: g, Sources: []string{"a"}},
					{At: 1, Group: g, Sources: []string{"a"}},
				},
				Updates: []upd{{1.5, g, Include, nil}},
			},
		},
		{
			// A lower router takes over: retransmissions stop, the lowered
			// timer stays lowered.
			name: "querier-lost-stops-retransmissions",
			seed: seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			events: []event{
				recv(0, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
				recv(0.5, queryFrom(t, lower, generalV2())),
				expire(1), expire(2),
			},
			end:  2,
			want: inc(src4{"b": 98}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"a"}}},
				Updates: []upd{{2, g, Include, []string{"b"}}},
				Others:  []other{{0.5, QuerierChange{IfIndex: ifx, Querier: lower}}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			r := newRouter(t, tR, cfg)
			seedGroup(r, tR, grp, c.seed)
			got := play(r, c.events)
			got.Queries = specific(got.Queries)
			diff(t, "actions", c.log, got)
			diff(t, "state", c.want, view(r, at(c.end), grp))
		})
	}
}

// TestSpecificQueryMessage checks a whole specific Query: sent to the
// address (5.1.15), Maximum Response Delay LLQI (5.1.3), our QRV and QQIC.
func TestSpecificQueryMessage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Robustness = 9 // does not fit the QRV: sent as 0 (5.1.8)
	cfg.StartupQueryCount, cfg.LastListenerQueryCount = 9, 1
	r := newRouter(t, tR, cfg)
	r.Receive(tR, ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "b", "a")))
	got := r.Receive(at(1), ifx, report(t, rec(mldmsg.BlockOldSources, grp, "a", "b")))
	want := []Action{SendQuery{IfIndex: ifx, Dst: grp, Msg: &mldmsg.QueryV2{
		MaxRespCode: 1000, Group: grp, QRV: 0, QQIC: 125, Sources: []netip.Addr{src("a"), src("b")},
	}}}
	diff(t, "actions", want, got)
}
