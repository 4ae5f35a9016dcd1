package mld

import (
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// startRouter adds the interface at tR and returns the start-up actions.
func startRouter(t *testing.T, cfg Config) (*Router, actlog) {
	t.Helper()
	r := New(new(timerq.IDs))
	acts, err := r.AddInterface(tR, ifx, "eth0", self, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var l actlog
	l.add(tR, acts)
	return r, l
}

// expireUntil calls Expire at every deadline up to end (seconds after tR).
func expireUntil(r *Router, l *actlog, end float64) {
	for {
		d, ok := r.NextDeadline()
		if !ok || d.After(at(end)) {
			return
		}
		l.add(d, r.Expire(d))
	}
}

// TestStartupQueries: a new interface is the Querier and sends Startup
// Query Count General Queries at the Startup Query Interval, then one every
// Query Interval (RFC 3810 sections 7.6.2, 9.6, 9.7).
func TestStartupQueries(t *testing.T) {
	cases := []struct {
		name  string
		count int
		want  []float64
	}{
		{"default", 2, []float64{0, 31.25, 156.25, 281.25}},
		{"count-3", 3, []float64{0, 31.25, 62.5, 187.5}},
		{"count-1", 1, []float64{0, 125, 250}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.StartupQueryCount = c.count
			r, l := startRouter(t, cfg)
			expireUntil(r, &l, 290)
			var got []float64
			for _, x := range l.Queries {
				got = append(got, x.At)
			}
			diff(t, "General Query times", c.want, got)
			diff(t, "start-up events", []other{{0, QuerierChange{IfIndex: ifx, Querier: self, Self: true}}}, l.Others)
		})
	}
	t.Run("message", func(t *testing.T) {
		r := New(nil)
		acts, _ := r.AddInterface(tR, ifx, "eth0", self, DefaultConfig())
		want := []Action{
			QuerierChange{IfIndex: ifx, Querier: self, Self: true},
			SendQuery{IfIndex: ifx, Dst: allNodes, Msg: generalV2()},
		}
		diff(t, "actions", want, acts)
	})
}

// TestQuerierElection covers RFC 3810 section 7.6.2 on one interface.
func TestQuerierElection(t *testing.T) {
	t.Run("lower-address-wins-and-times-out", func(t *testing.T) {
		r, l := startRouter(t, DefaultConfig())
		l.add(at(10), r.Receive(at(10), ifx, queryFrom(t, lower, generalV2())))
		st := r.Snapshot(at(20))[0]
		diff(t, "querier", []any{lower, false, at(10), 245 * time.Second, time.Time{}},
			[]any{st.Querier, st.QuerierSelf, st.QuerierSince, st.OtherQuerierPresent, st.NextGeneralQuery})
		expireUntil(r, &l, 400)
		// No query between 10 and 265 (10 + OQPI 255); then Querier again:
		// one General Query and the Query Interval.
		var times []float64
		for _, x := range l.Queries {
			times = append(times, x.At)
		}
		diff(t, "General Query times", []float64{0, 265, 390}, times)
		diff(t, "events", []other{
			{0, QuerierChange{IfIndex: ifx, Querier: self, Self: true}},
			{10, QuerierChange{IfIndex: ifx, Querier: lower}},
			{265, QuerierChange{IfIndex: ifx, Querier: self, Self: true}},
		}, l.Others)
	})
	t.Run("higher-address-is-ignored", func(t *testing.T) {
		r, l := startRouter(t, DefaultConfig())
		l.add(at(10), r.Receive(at(10), ifx, queryFrom(t, higher, generalV2())))
		expireUntil(r, &l, 40)
		diff(t, "queries", []q{{At: 0}, {At: 31.25}}, l.Queries)
		if st := r.Snapshot(at(40))[0]; !st.QuerierSelf || st.OtherQuerierPresentTimer != 0 {
			t.Errorf("not Querier after a Query from a higher address: %+v", st)
		}
	})
	t.Run("own-query-looped-back", func(t *testing.T) {
		r, l := startRouter(t, DefaultConfig())
		l.add(at(1), r.Receive(at(1), ifx, packet(t, self, allNodes, generalV2())))
		if st := r.Snapshot(at(1))[0]; !st.QuerierSelf {
			t.Error("our own Query made us non-Querier")
		}
		diff(t, "stats", map[string]uint64{DropOwnQuery: 1}, r.Stats(ifx).Dropped)
	})
	t.Run("adopts-QRV-and-QQIC", func(t *testing.T) {
		// 5.1.8, 5.1.9: QRV 3 and QQI 60 s: OQPI 3*60+5, MALI 3*60+10.
		r, l := startRouter(t, DefaultConfig())
		qv := generalV2()
		qv.QRV, qv.QQIC = 3, 60
		l.add(at(0), r.Receive(at(0), ifx, queryFrom(t, lower, qv)))
		r.Receive(at(0), ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "a")))
		st := r.Snapshot(at(0))[0]
		diff(t, "adopted", []any{3, 60 * time.Second, 185 * time.Second, 190 * time.Second},
			[]any{st.Robustness, st.QueryInterval, st.OtherQuerierPresent, st.Groups[0].Sources[0].Left})
		// Querier again at 185: our own values.
		expireUntil(r, &l, 185)
		st = r.Snapshot(at(185))[0]
		diff(t, "own again", []any{true, 2, 125 * time.Second}, []any{st.QuerierSelf, st.Robustness, st.QueryInterval})
	})
	t.Run("QRV-0-and-QQIC-0-mean-own-values", func(t *testing.T) {
		r, _ := startRouter(t, DefaultConfig())
		qv := generalV2()
		qv.QRV, qv.QQIC = 0, 0
		r.Receive(at(0), ifx, queryFrom(t, lower, qv))
		st := r.Snapshot(at(0))[0]
		diff(t, "values", []any{2, 125 * time.Second, 255 * time.Second}, []any{st.Robustness, st.QueryInterval, st.OtherQuerierPresent})
	})
}

// TestSetAddress: a new link-local address re-runs the election.
func TestSetAddress(t *testing.T) {
	t.Run("querier-keeps-role", func(t *testing.T) {
		r, _ := startRouter(t, DefaultConfig())
		newSelf := addr("fe80::99")
		var l actlog
		l.add(at(1), r.SetAddress(at(1), ifx, newSelf))
		diff(t, "events", []other{{1, QuerierChange{IfIndex: ifx, Querier: newSelf, Self: true}}}, l.Others)
	})
	t.Run("non-querier-now-lowest", func(t *testing.T) {
		r, _ := startRouter(t, DefaultConfig())
		r.Receive(at(1), ifx, queryFrom(t, lower, generalV2()))
		var l actlog
		l.add(at(2), r.SetAddress(at(2), ifx, addr("fe80::")))
		diff(t, "queries", []q{{At: 2}}, l.Queries)
		diff(t, "events", []other{{2, QuerierChange{IfIndex: ifx, Querier: addr("fe80::"), Self: true}}}, l.Others)
		if st := r.Snapshot(at(2))[0]; st.OtherQuerierPresentTimer != 0 {
			t.Error("Other Querier Present timer still running")
		}
	})
	t.Run("non-querier-still-higher", func(t *testing.T) {
		r, _ := startRouter(t, DefaultConfig())
		r.Receive(at(1), ifx, queryFrom(t, lower, generalV2()))
		if acts := r.SetAddress(at(2), ifx, addr("fe80::30")); acts != nil {
			t.Errorf("actions %v", acts)
		}
	})
	t.Run("not-link-local-ignored", func(t *testing.T) {
		r, _ := startRouter(t, DefaultConfig())
		if acts := r.SetAddress(at(2), ifx, addr("2001:db8::1")); acts != nil {
			t.Errorf("actions %v", acts)
		}
		if st := r.Snapshot(at(2))[0]; st.Address != self {
			t.Errorf("address %v", st.Address)
		}
	})
}
