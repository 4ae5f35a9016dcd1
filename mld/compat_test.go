package mld

import (
	"net/netip"
	"testing"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

func v1(g *gview) *gview { g.Compat = V1; return g }

// TestMLDv1Listeners covers RFC 3810 section 8.3.2: the Older Version Host
// Present timer, the translations Report -> IS_EX({}) and Done ->
// TO_IN({}), BLOCK ignored and TO_EX(x) taken as TO_EX({}) in MLDv1 mode,
// and MLDv2 behaviour back when the timer expires.
func TestMLDv1Listeners(t *testing.T) {
	g := grp.String()
	cases := []struct {
		name    string
		events  []event
		end     float64
		want    *gview
		log     actlog
		dropped map[string]uint64
	}{
		{
			name:   "Report-is-IS_EX({})",
			events: []event{recv(0, reportV1(t, grp))},
			want:   v1(exc(260, nil)),
			log:    actlog{Updates: []upd{{0, g, Exclude, nil}}},
		},
		{
			name: "BLOCK-ignored-in-MLDv1-mode",
			events: []event{
				recv(0, reportV1(t, grp)),
				recv(1, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
			},
			end:     1,
			want:    v1(exc(259, nil)),
			log:     actlog{Updates: []upd{{0, g, Exclude, nil}}},
			dropped: map[string]uint64{DropCompatV1: 1},
		},
		{
			// EXCLUDE ({},{}) TO_EX ({}): nothing to delete or query;
			// Filter Timer=MALI. With its sources it would have put a
			// in the Requested List and queried it.
			name: "TO_EX(x)-is-TO_EX({})-in-MLDv1-mode",
			events: []event{
				recv(0, reportV1(t, grp)),
				recv(10, report(t, rec(mldmsg.ChangeToExclude, grp, "a"))),
			},
			end:  10,
			want: v1(exc(260, nil)),
			log:  actlog{Updates: []upd{{0, g, Exclude, nil}}},
		},
		{
			// At 260 the Older Version Host Present timer expires; an
			// MLDv2 IS_EX kept the Filter Timer up. BLOCK now works:
			// EXCLUDE BLOCK (A): (A-X-Y)=Filter Timer, Send Q(MA,A-Y).
			name: "MLDv2-again-after-timer",
			events: []event{
				recv(0, reportV1(t, grp)),
				recv(200, report(t, rec(mldmsg.ModeIsExclude, grp))),
				expire(259.9), expire(260),
				recv(300, report(t, rec(mldmsg.BlockOldSources, grp, "a"))),
			},
			end:  300,
			want: exc(160, src4{"a": 2}),
			log: actlog{
				Queries: []q{{At: 300, Group: g, Sources: []string{"a"}}},
				Updates: []upd{{0, g, Exclude, nil}},
			},
		},
		{
			// Done is TO_IN({}): Send Q(MA), twice; no answer: the
			// Filter Timer (lowered to LLQT) expires and the record goes.
			name: "Done-in-MLDv1-mode",
			events: []event{
				recv(0, reportV1(t, grp)),
				recv(10, done(t, grp)),
				expire(11), expire(12),
			},
			end: 12,
			log: actlog{
				Queries: []q{{At: 10, Group: g}, {At: 11, Group: g}},
				Updates: []upd{{0, g, Exclude, nil}, {12, g, Include, nil}},
			},
		},
		{
			name: "Done-answered-by-Report",
			events: []event{
				recv(0, reportV1(t, grp)),
				recv(10, done(t, grp)),
				recv(10.5, reportV1(t, grp)),
				expire(11), expire(12),
			},
			end:  12,
			want: v1(exc(258.5, nil)),
			log: actlog{
				Queries: []q{{At: 10, Group: g}, {At: 11, Group: g, S: true}},
				Updates: []upd{{0, g, Exclude, nil}},
			},
		},
		{
			name: "Done-in-MLDv2-mode-ignored",
			events: []event{
				recv(0, report(t, rec(mldmsg.ChangeToExclude, grp))),
				recv(10, done(t, grp)),
			},
			end:     10,
			want:    exc(250, nil),
			log:     actlog{Updates: []upd{{0, g, Exclude, nil}}},
			dropped: map[string]uint64{DropDone: 1},
		},
		{
			name:    "Done-for-unknown-group-ignored",
			events:  []event{recv(0, done(t, grp))},
			dropped: map[string]uint64{DropDone: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t, tR, DefaultConfig())
			got := play(r, c.events)
			got.Queries = specific(got.Queries)
			diff(t, "actions", c.log, got)
			diff(t, "state", c.want, view(r, at(c.end), grp))
			diff(t, "dropped", c.dropped, r.Stats(ifx).Dropped)
		})
	}
}

// TestMLDv1Querier covers RFC 3810 section 8.3.1 and the Version setting.
func TestMLDv1Querier(t *testing.T) {
	v1General := func(at float64) q { return q{At: at, V1: true} }
	v1Query := &mldmsg.QueryV1{MaxRespDelay: 10000, Group: unspec}
	t.Run("Both/falls-back-while-MLDv1-Querier-heard", func(t *testing.T) {
		r, l := startRouter(t, DefaultConfig())
		l.add(at(10), r.Receive(at(10), ifx, queryFrom(t, higher, v1Query)))
		l.add(at(20), r.Receive(at(20), ifx, queryFrom(t, higher, v1Query)))
		r.Receive(at(20), ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "a")))
		l.add(at(25), r.Receive(at(25), ifx, report(t, rec(mldmsg.BlockOldSources, grp, "a"))))
		expireUntil(r, &l, 300)
		diff(t, "queries", []q{
			{At: 0},
			{At: 25, V1: true, Group: grp.String()}, {At: 26, V1: true, Group: grp.String()}, // Q(MA,{a}) as MLDv1 Q(MA)
			v1General(31.25),                // MLDv1 since 10
			v1General(156.25), {At: 281.25}, // MLDv2 again from 20+260 = 280
		}, l.Queries)
		diff(t, "events", []other{
			{0, QuerierChange{IfIndex: ifx, Querier: self, Self: true}},
			{10, OlderQuerier{IfIndex: ifx, Querier: higher, Present: true}},
			{280, OlderQuerier{IfIndex: ifx, Querier: higher}},
		}, l.Others)
	})
	t.Run("V2/never-falls-back", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Version = V2
		r, l := startRouter(t, cfg)
		l.add(at(10), r.Receive(at(10), ifx, queryFrom(t, higher, v1Query)))
		l.add(at(11), r.Receive(at(11), ifx, reportV1(t, grp)))
		l.add(at(12), r.Receive(at(12), ifx, done(t, grp)))
		expireUntil(r, &l, 40)
		diff(t, "queries", []q{{At: 0}, {At: 31.25}}, l.Queries)
		diff(t, "events", 1, len(l.Others))
		diff(t, "dropped", map[string]uint64{DropVersion: 2}, r.Stats(ifx).Dropped)
		diff(t, "received", map[string]uint64{RecvQueryV1: 1, RecvReportV1: 1, RecvDone: 1}, r.Stats(ifx).Received)
	})
	t.Run("V1/MLDv1-only", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Version = V1
		r, l := startRouter(t, cfg)
		l.add(at(1), r.Receive(at(1), ifx, report(t, rec(mldmsg.ModeIsExclude, grp))))
		l.add(at(2), r.Receive(at(2), ifx, reportV1(t, grp)))
		l.add(at(3), r.Receive(at(3), ifx, done(t, grp)))
		expireUntil(r, &l, 40)
		diff(t, "queries", []q{
			v1General(0), {At: 3, V1: true, Group: grp.String()}, {At: 4, V1: true, Group: grp.String()}, v1General(31.25),
		}, l.Queries)
		diff(t, "updates", []upd{{2, grp.String(), Exclude, nil}, {5, grp.String(), Include, nil}}, l.Updates)
		diff(t, "dropped", map[string]uint64{DropVersion: 1}, r.Stats(ifx).Dropped)
	})
}

// TestSSM covers the SSM-aware router of RFC 4604 with the default SSM range ff3x::/32.
func TestSSM(t *testing.T) {
	ssm := addr("ff3e::8000:1")
	s := ssm.String()
	cases := []struct {
		name    string
		cfg     func(*Config)
		g       netip.Addr
		events  []event
		want    *gview
		log     actlog
		dropped map[string]uint64
	}{
		{
			name:    "IS_EX-ignored",
			g:       ssm,
			events:  []event{recv(0, report(t, rec(mldmsg.ModeIsExclude, ssm, "a")))},
			dropped: map[string]uint64{DropSSMExclude: 1},
		},
		{
			name:    "TO_EX-ignored",
			g:       ssm,
			events:  []event{recv(0, report(t, rec(mldmsg.ChangeToExclude, ssm)))},
			dropped: map[string]uint64{DropSSMExclude: 1},
		},
		{
			name:    "MLDv1-Report-and-Done-ignored",
			g:       ssm,
			events:  []event{recv(0, reportV1(t, ssm)), recv(0, done(t, ssm))},
			dropped: map[string]uint64{DropSSMV1: 2},
		},
		{
			name: "INCLUDE-records-work",
			g:    ssm,
			events: []event{
				recv(0, report(t, rec(mldmsg.AllowNewSources, ssm, "a", "b"))),
				recv(0, report(t, rec(mldmsg.ModeIsInclude, ssm, "c"))),
				recv(0, report(t, rec(mldmsg.BlockOldSources, ssm, "a"))),
				recv(0, report(t, rec(mldmsg.ChangeToInclude, ssm, "c"))),
			},
			want: inc(src4{"a": 2, "b": 2, "c": 260}),
			log: actlog{
				// TO_IN(c) queries A-B = {a,b}: b starts its
				// transmissions; a, already queried by BLOCK, is sent along
				// (every source with retransmission state, 7.6.3.2).
				Queries: []q{{Group: s, Sources: []string{"a"}}, {Group: s, Sources: []string{"a", "b"}}},
				Updates: []upd{{0, s, Include, []string{"a", "b"}}, {0, s, Include, []string{"a", "b", "c"}}},
			},
		},
		{
			name:    "configured-range",
			cfg:     func(c *Config) { c.SSMRange = []netip.Prefix{netip.MustParsePrefix("ff0e::/16")} },
			g:       ssm,
			events:  []event{recv(0, report(t, rec(mldmsg.ModeIsExclude, ssm), rec(mldmsg.ModeIsExclude, grp)))},
			want:    exc(260, nil),
			log:     actlog{Updates: []upd{{0, s, Exclude, nil}}},
			dropped: map[string]uint64{DropSSMExclude: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			r := newRouter(t, tR, cfg)
			got := play(r, c.events)
			got.Queries = specific(got.Queries)
			diff(t, "actions", c.log, got)
			diff(t, "state", c.want, view(r, at(0), c.g))
			diff(t, "dropped", c.dropped, r.Stats(ifx).Dropped)
		})
	}
}
