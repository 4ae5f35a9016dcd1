package mld

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// checkpointState builds listener state through Reports and Queries, as a
// running router learns it (times are seconds after tR):
//
//	ff0e::100  INCLUDE {a, b}; b refreshed at 40
//	ff0e::200  EXCLUDE, Requested List {d}, Exclude List {c}
//	ff0e::300  MLDv1 mode (EXCLUDE {})
//	ff05::400  INCLUDE {e}, refreshed at 100
//	ff02::123  link scope: tracked, never routed
//
// and an MLDv1 Querier (at 30) with a higher address than ours.
func checkpointState(t *testing.T) *Router {
	r := newRouter(t, tR, DefaultConfig())
	r.Receive(tR, ifx, report(t,
		rec(mldmsg.ModeIsInclude, addr("ff0e::100"), "a", "b"),
		rec(mldmsg.ModeIsExclude, addr("ff0e::200"), "c"),
		rec(mldmsg.ModeIsInclude, addr("ff05::400"), "e"),
		rec(mldmsg.ChangeToExclude, addr("ff02::123")),
	))
	r.Receive(at(10), ifx, report(t, rec(mldmsg.AllowNewSources, addr("ff0e::200"), "d")))
	r.Receive(at(20), ifx, reportV1(t, addr("ff0e::300")))
	r.Receive(at(30), ifx, queryFrom(t, higher, &mldmsg.QueryV1{MaxRespDelay: 10000, Group: unspec}))
	r.Receive(at(40), ifx, report(t, rec(mldmsg.ModeIsInclude, addr("ff0e::100"), "b")))
	r.Receive(at(100), ifx, report(t, rec(mldmsg.ModeIsInclude, addr("ff05::400"), "e")))
	r.Expire(at(100))
	return r
}

// groupsOf is the interface's group state without what a checkpoint does
// not keep: timer IDs (a new router draws its own) and the specific
// Query retransmissions.
func groupsOf(r *Router, now time.Time) ([]GroupState, InterfaceState) {
	sts := r.Snapshot(now)
	if len(sts) != 1 {
		return nil, InterfaceState{}
	}
	st := sts[0]
	gs := st.Groups
	for i := range gs {
		gs[i].FilterTimer, gs[i].CompatTimer, gs[i].QueriesLeft = 0, 0, 0
		for j := range gs[i].Sources {
			gs[i].Sources[j].Timer, gs[i].Sources[j].QueriesLeft = 0, 0
		}
	}
	return gs, st
}

// restoreInto restores cps into a new router with the interface eth0 at
// another index, added at now as at start-up.
func restoreInto(t *testing.T, now time.Time, cfg Config, cps []InterfaceCheckpoint, o RestoreOptions) (*Router, []Action, Restored) {
	t.Helper()
	r := New(new(timerq.IDs))
	if _, err := r.AddInterface(now, 7, "eth0", self, cfg); err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 || cps[0].Name != "eth0" {
		t.Fatalf("checkpoint %+v, want eth0 only", cps)
	}
	acts, res := r.Restore(now, 7, cps[0], o)
	return r, acts, res
}

// TestCheckpointRoundTrip: a checkpoint taken at t1 and restored into a
// new router at t1+d gives the state the old router has at t1+d (its
// timers fired meanwhile, the restored ones lost d, and what ran out is
// gone either way); the restore reports the listeners as ListenerUpdates;
// from then on both routers behave the same.
func TestCheckpointRoundTrip(t *testing.T) {
	for _, d := range []float64{0, 5, 150, 230, 275} {
		t.Run(time.Duration(secs(d)).String(), func(t *testing.T) {
			old := checkpointState(t)
			t1 := at(120)
			old.Expire(t1)
			cps := old.Checkpoint(t1)
			// Through JSON, as the daemon stores it.
			b, err := json.Marshal(cps)
			if err != nil {
				t.Fatal(err)
			}
			var back []InterfaceCheckpoint
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			diff(t, "checkpoint through JSON", cps, back)

			t2 := t1.Add(secs(d))
			old.Expire(t2)
			r, acts, res := restoreInto(t, t2, DefaultConfig(), back, RestoreOptions{Taken: t1})
			wantGroups, wantIf := groupsOf(old, t2)
			gotGroups, gotIf := groupsOf(r, t2)
			diff(t, "groups", wantGroups, gotGroups)
			diff(t, "older querier", []any{wantIf.OlderVersionQuerier, wantIf.OlderVersionQuerierLeft, wantIf.SendsV1},
				[]any{gotIf.OlderVersionQuerier, gotIf.OlderVersionQuerierLeft, gotIf.SendsV1})
			if res.Groups != len(wantGroups) {
				t.Errorf("restored %+v, want %d groups", res, len(wantGroups))
			}
			var updates []ListenerUpdate
			for _, a := range acts {
				if u, ok := a.(ListenerUpdate); ok {
					u.IfIndex = ifx
					updates = append(updates, u)
				}
			}
			diff(t, "listener updates", old.Listeners(ifx), updates)

			// The same future for both: a Report, then time.
			for _, step := range []struct {
				at  float64
				pkt *Packet
			}{
				{121 + d, new(report(t, rec(mldmsg.ModeIsInclude, addr("ff0e::100"), "a")))},
				{200 + d, nil},
				{261, nil},
				{400 + d, nil},
			} {
				now := at(step.at)
				var la, lb actlog
				if step.pkt != nil {
					la.add(now, old.Receive(now, ifx, *step.pkt))
					lb.add(now, r.Receive(now, 7, *step.pkt))
				} else {
					la.add(now, old.Expire(now))
					lb.add(now, r.Expire(now))
				}
				diff(t, "updates at "+now.Sub(tR).String(), la.Updates, lb.Updates)
				og, _ := groupsOf(old, now)
				ng, _ := groupsOf(r, now)
				diff(t, "groups at "+now.Sub(tR).String(), og, ng)
			}
		})
	}
}

// TestCheckpointExpired: what ran out between the checkpoint and the
// restore is gone: INCLUDE-mode sources and records, a Filter Timer
// (EXCLUDE -> INCLUDE with the Requested List), source timers in EXCLUDE
// mode (to the Exclude List), MLDv1 mode.
func TestCheckpointExpired(t *testing.T) {
	c := InterfaceCheckpoint{Name: "eth0", Groups: []GroupCheckpoint{
		{Group: addr("ff0e::1"), Sources: []SourceCheckpoint{{src("a"), secs(5)}, {src("b"), secs(50)}}},
		{Group: addr("ff0e::2"), Sources: []SourceCheckpoint{{src("a"), secs(5)}}},
		{Group: addr("ff0e::3"), Exclude: true, FilterLeft: secs(5), Sources: []SourceCheckpoint{{src("c"), 0}, {src("d"), secs(50)}}},
		{Group: addr("ff0e::4"), Exclude: true, FilterLeft: secs(50), CompatLeft: secs(5),
			Sources: []SourceCheckpoint{{src("c"), 0}, {src("d"), secs(5)}}},
	}}
	r, acts, res := restoreInto(t, at(10), DefaultConfig(), []InterfaceCheckpoint{c}, RestoreOptions{Taken: tR})
	got, _ := groupsOf(r, at(10))
	want := []GroupState{
		{Group: addr("ff0e::1"), Mode: Include, Routed: true, Compat: V2, Sources: []SourceState{{Source: src("b"), Left: secs(40)}}},
		{Group: addr("ff0e::3"), Mode: Include, Routed: true, Compat: V2, Sources: []SourceState{{Source: src("d"), Left: secs(40)}}},
		{Group: addr("ff0e::4"), Mode: Exclude, Routed: true, Compat: V2, FilterTimerLeft: secs(40),
			Sources: []SourceState{{Source: src("c")}, {Source: src("d")}}},
	}
	diff(t, "groups", want, got)
	diff(t, "restored", Restored{Groups: 3, Sources: 4, Expired: 1}, res)
	var l actlog
	l.add(at(10), acts)
	diff(t, "updates", []upd{
		{10, "ff0e::1", Include, []string{"b"}},
		{10, "ff0e::3", Include, []string{"d"}},
		{10, "ff0e::4", Exclude, []string{"c", "d"}},
	}, l.Updates)
}

// TestCheckpointHold: with Hold, restored timers are provisional: none
// runs longer than Hold, or than the Startup Queries' response window
// when that is longer (the last Startup Query at 31.25 s, answered within
// 10 s), so that state no listener confirms goes soon.
func TestCheckpointHold(t *testing.T) {
	c := InterfaceCheckpoint{Name: "eth0", Groups: []GroupCheckpoint{
		{Group: addr("ff0e::1"), Sources: []SourceCheckpoint{{src("a"), secs(20)}, {src("b"), secs(250)}}},
		{Group: addr("ff0e::2"), Exclude: true, FilterLeft: secs(250), CompatLeft: secs(250)},
	}}
	for _, tc := range []struct {
		hold, want float64
	}{
		{15, 41.25},
		{60, 60},
	} {
		r, _, _ := restoreInto(t, tR, DefaultConfig(), []InterfaceCheckpoint{c}, RestoreOptions{Taken: tR, Hold: secs(tc.hold)})
		got, _ := groupsOf(r, tR)
		want := []GroupState{
			{Group: addr("ff0e::1"), Mode: Include, Routed: true, Compat: V2,
				Sources: []SourceState{{Source: src("a"), Left: secs(20)}, {Source: src("b"), Left: secs(tc.want)}}},
			{Group: addr("ff0e::2"), Mode: Exclude, Routed: true, Compat: V1, FilterTimerLeft: secs(tc.want), CompatTimerLeft: secs(tc.want)},
		}
		diff(t, "groups with hold "+secs(tc.hold).String(), want, got)
	}
}

// TestCheckpointRefused: a restore never makes state the interface's
// configuration refuses, never replaces state the interface has, and an
// interface that does not exist takes nothing.
func TestCheckpointRefused(t *testing.T) {
	c := InterfaceCheckpoint{Name: "eth0", OlderQuerier: higher, OlderQuerierLeft: secs(100), Groups: []GroupCheckpoint{
		{Group: addr("ff0e::1"), Exclude: true, FilterLeft: secs(100), CompatLeft: secs(100)},
		{Group: addr("ff3e::1"), Exclude: true, FilterLeft: secs(100)},
		{Group: addr("ff3e::2"), Sources: []SourceCheckpoint{{src("a"), secs(100)}}},
		{Group: addr("ff0e::5"), Sources: []SourceCheckpoint{{src("a"), secs(100)}}},
		{Group: addr("2001:db8::1"), Sources: []SourceCheckpoint{{src("a"), secs(100)}}},
		{Group: allNodes, Exclude: true, FilterLeft: secs(100)},
	}}
	cfg := DefaultConfig()
	cfg.Version = V2
	cfg.SSMRange = []netip.Prefix{netip.MustParsePrefix("ff3e::/16")}
	r := New(new(timerq.IDs))
	if _, err := r.AddInterface(tR, 7, "eth0", self, cfg); err != nil {
		t.Fatal(err)
	}
	r.Receive(tR, 7, report(t, rec(mldmsg.ModeIsInclude, addr("ff0e::5"), "b")))
	if acts, res := r.Restore(tR, 8, c, RestoreOptions{}); acts != nil || res != (Restored{}) {
		t.Errorf("restore into an unknown interface: %v, %+v", acts, res)
	}
	_, res := r.Restore(tR, 7, c, RestoreOptions{Taken: tR})
	diff(t, "restored", Restored{Groups: 2, Sources: 1, Refused: 4}, res)
	got, st := groupsOf(r, tR)
	want := []GroupState{
		{Group: addr("ff0e::1"), Mode: Exclude, Routed: true, Compat: V2, FilterTimerLeft: secs(100)},
		{Group: addr("ff0e::5"), Mode: Include, Routed: true, Compat: V2, Sources: []SourceState{{Source: src("b"), Left: secs(260)}}},
		{Group: addr("ff3e::2"), Mode: Include, Routed: true, Compat: V2, Sources: []SourceState{{Source: src("a"), Left: secs(100)}}},
	}
	diff(t, "groups", want, got)
	if st.OlderVersionQuerier.IsValid() || st.SendsV1 {
		t.Errorf("an MLDv2-only interface took an MLDv1 Querier: %+v", st)
	}
	// MaxGroups holds for restored records too.
	cfg = DefaultConfig()
	cfg.MaxGroups = 1
	_, _, res = restoreInto(t, tR, cfg, []InterfaceCheckpoint{{Name: "eth0", Groups: c.Groups[2:4]}}, RestoreOptions{})
	diff(t, "restored over MaxGroups", Restored{Groups: 1, Sources: 1, Refused: 1}, res)
}

// TestCheckpointEmpty: interfaces without state are left out.
func TestCheckpointEmpty(t *testing.T) {
	r := newRouter(t, tR, DefaultConfig())
	if cps := r.Checkpoint(tR); cps != nil {
		t.Errorf("checkpoint of an empty router: %+v", cps)
	}
	r.Receive(tR, ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "a")))
	cps := r.Checkpoint(at(1))
	want := []InterfaceCheckpoint{{Name: "eth0", Groups: []GroupCheckpoint{{Group: grp, Sources: []SourceCheckpoint{{src("a"), secs(259)}}}}}}
	diff(t, "checkpoint", want, cps)
}
