package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
	"github.com/pim6sd/pim6sd/internal/view"
)

// viewsNet is a router r with some of everything a query can cut: the RP
// of ff0e::/16, a source on eth0, listeners on eth1 (300 ASM groups, an
// SSM channel, a group with a source excluded), a PIM neighbor r2 on eth2
// that joins one group for its own listener, and (S,G) entries for the
// source's packets to 100 of the groups.
func viewsNet(t *testing.T) (*Net, *Router) {
	t.Helper()
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, lanR, lanN, lanR2 := n.AddLink("lanS"), n.AddLink("lanR"), n.AddLink("lanN"), n.AddLink("lanR2")
	r := n.AddRouter("r", asmConf(t, "2001:db8:ff::1", ""))
	r.AddLoopback("2001:db8:ff::1")
	r.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r.AddInterface("eth1", lanR, "fe80::1", "2001:db8:2::1/64")
	r.AddInterface("eth2", lanN, "fe80::1", "2001:db8:3::1/64")
	r2 := n.AddRouter("r2", asmConf(t, "2001:db8:ff::1", ""))
	r2.AddInterface("eth0", lanN, "fe80::2", "2001:db8:3::2/64")
	r2.AddInterface("eth1", lanR2, "fe80::2", "2001:db8:4::2/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h1 := n.AddHost("h1", lanR, "fe80::20", "2001:db8:2::20")
	h2 := n.AddHost("h2", lanR, "fe80::21", "2001:db8:2::21")
	h3 := n.AddHost("h3", lanR2, "fe80::30", "2001:db8:4::30")
	n.AutoRoutes()
	n.Run(5 * time.Second)
	for i := range 300 {
		h1.Join(FloodGroup(i))
		if i%100 == 99 {
			n.Run(100 * time.Millisecond)
		}
	}
	h2.JoinSource(group, srcAddr)
	h2.Join("ff0e::9")
	h2.LeaveSource("ff0e::9", srcAddr)
	h3.Join(FloodGroup(5))
	n.Run(2 * time.Second)
	for i := range 100 {
		s.Send(FloodGroup(i), []byte("x"))
		n.Run(2 * time.Millisecond)
	}
	n.Run(time.Second)
	return n, r
}

// A query's answer is what ctl.Query.Apply takes from the whole snapshot,
// although the daemon builds only that, a few entries at a time.
func TestViewsQueryIsApply(t *testing.T) {
	n, r := viewsNet(t)
	d := r.Daemon()
	whole := d.SnapshotAt(n.Now())
	if len(whole.Groups) < 300 || len(whole.Routes) < 400 || len(whole.Neighbors) != 1 {
		t.Fatalf("state: %d groups, %d routes, %d neighbors", len(whole.Groups), len(whole.Routes), len(whole.Neighbors))
	}
	grp := netip.PrefixFrom(netip.MustParseAddr(FloodGroup(5)), 128)
	src := netip.MustParseAddr(srcAddr)
	var queries []ctl.Query
	for _, p := range ctl.Parts {
		queries = append(queries, ctl.Query{Parts: []string{p}})
	}
	for _, i := range []string{"eth0", "eth1", "eth2", "pim6reg"} {
		queries = append(queries, ctl.Query{Interface: i})
	}
	queries = append(queries,
		ctl.Query{Parts: []string{ctl.PartInterfaces, ctl.PartQueriers, ctl.PartCounters, ctl.PartLimits}, Interface: "eth1"},
		ctl.Query{Group: grp},
		ctl.Query{Group: netip.MustParsePrefix("ff0e::1:0/120")},
		ctl.Query{Group: netip.MustParsePrefix("ff3e::/16")},
		ctl.Query{Source: src},
		ctl.Query{Source: src, Group: grp},
		ctl.Query{Parts: []string{ctl.PartRoutes, ctl.PartGroups}, Interface: "eth2", Group: grp},
		ctl.Query{Parts: []string{ctl.PartGroups}, Source: netip.MustParseAddr("2001:db8:99::1")},
	)
	for _, q := range queries {
		t.Run(queryName(q), func(t *testing.T) {
			got, err := d.SnapshotOfAt(n.Now(), q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := q.Apply(whole)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ctltest.CmpOptions, cmpopts.IgnoreFields(ctl.DaemonInfo{}, "Memory", "ViewPauses")); diff != "" {
				t.Errorf("(-Apply +query)\n%s", diff)
			}
		})
	}
	_, err := d.SnapshotOfAt(n.Now(), ctl.Query{Interface: "eth9"})
	var ne *ctl.NoInterfaceError
	if !errors.As(err, &ne) || ne.Name != "eth9" {
		t.Errorf("unknown interface: %v", err)
	}
}

// What a view's query answers does not grow with state it does not show:
// with 50 times the groups and routes, the full snapshot grows with them
// and the views' answers stay the same size (to a few digits).
func TestViewsAnswerSize(t *testing.T) {
	size := func(t *testing.T, r *Router, now time.Time, q ctl.Query) int {
		s, err := r.Daemon().SnapshotOfAt(now, q)
		if err != nil {
			t.Fatal(err)
		}
		s.Daemon = ctl.DaemonInfo{} // memory and pauses vary
		b, err := json.Marshal(ctl.Response{Version: ctl.ProtocolVersion, OK: true, Snapshot: s})
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	nSmall, small := Flood{Groups: 20, Sources: 10}.Build(t)
	nBig, big := Flood{Groups: 1000, Sources: 500}.Build(t)
	whole := func(n *Net, r *Router) int { return size(t, r, n.Now(), ctl.Query{}) }
	if s, b := whole(nSmall, small), whole(nBig, big); b < 30*s {
		t.Fatalf("full snapshot: %d bytes with 20 groups, %d with 1000: the big state is not big", s, b)
	}
	one := netip.PrefixFrom(netip.MustParseAddr(FloodGroup(3)), 128)
	for name, q := range map[string]ctl.Query{
		"interfaces":              {Parts: []string{ctl.PartInterfaces, ctl.PartQueriers, ctl.PartCounters, ctl.PartLimits}},
		"neighbors":               {Parts: []string{ctl.PartNeighbors, ctl.PartInterfaces}},
		"rp":                      {Parts: []string{ctl.PartRPSet, ctl.PartAnycastRP}},
		"routes --group":          {Parts: []string{ctl.PartRoutes, ctl.PartCacheMirrors, ctl.PartInterfaces}, Group: one},
		"mld --group":             {Parts: []string{ctl.PartQueriers, ctl.PartGroups}, Group: one},
		"routes --source --group": {Parts: []string{ctl.PartRoutes}, Source: netip.MustParseAddr(FloodSource), Group: one},
	} {
		t.Run(name, func(t *testing.T) {
			s, b := size(t, small, nSmall.Now(), q), size(t, big, nBig.Now(), q)
			if b-s > 64 || s-b > 64 {
				t.Errorf("%d bytes with 20 groups, %d with 1000", s, b)
			}
		})
	}
}

// Each read of a view on the loop is a pause, counted in the snapshot's
// daemon section: a large snapshot is read in several pieces of at most
// view.ReadBudget entries, so it holds the loop in several short pauses.
func TestViewPausesCounted(t *testing.T) {
	n, r := Flood{Groups: 600, Sources: 300}.Build(t)
	d := r.Daemon()
	first := d.SnapshotAt(n.Now())
	entries := len(first.Groups) + len(first.Routes)
	if entries != 600+600+300 {
		t.Fatalf("%d groups and routes", entries)
	}
	before := first.Daemon.ViewPauses
	if before == nil || len(before.Buckets) != len(ctl.PauseBounds) {
		t.Fatalf("pauses before this snapshot: %+v", before)
	}
	d.ExplainAt(n.Now(), netip.Addr{}, netip.MustParseAddr(FloodGroup(0)))
	after := d.SnapshotAt(n.Now()).Daemon.ViewPauses
	// The first snapshot: its first read (the small parts and the keys),
	// then the groups and routes ReadBudget at a time; the explain: one.
	reads := 1 + (entries+view.ReadBudget-1)/view.ReadBudget
	if reads < 4 {
		t.Errorf("1500 groups and routes are read in %d pieces: long pauses", reads)
	}
	if got := after.Count - before.Count; got != uint64(reads+1) {
		t.Errorf("%d pauses counted for the snapshot and the explain, want %d", got, reads+1)
	}
	if after.Max <= 0 || after.Sum < before.Sum+after.Max || after.Buckets[len(after.Buckets)-1].Count > after.Count {
		t.Errorf("pauses %+v after %+v", after, before)
	}
}

// queryName names a query in a test's name.
func queryName(q ctl.Query) string {
	name := fmt.Sprint(q.Parts)
	if q.Interface != "" {
		name += " interface=" + q.Interface
	}
	if q.Group.IsValid() {
		name += " group=" + q.Group.String()
	}
	if q.Source.IsValid() {
		name += " source=" + q.Source.String()
	}
	return name
}
