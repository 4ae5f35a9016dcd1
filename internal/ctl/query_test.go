package ctl_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

// What each filter keeps of the rich router, by the entries' names.
func TestQueryApply(t *testing.T) {
	s := ctltest.Rich()
	p := netip.MustParsePrefix
	src := netip.MustParseAddr("2001:db8:1::10")
	type kept struct {
		neighbors, queriers, groups, routes, counters, limits []string
	}
	all := func(s *ctl.Snapshot) kept {
		var k kept
		for _, n := range s.Neighbors {
			k.neighbors = append(k.neighbors, n.Address.String())
		}
		for _, q := range s.Queriers {
			k.queriers = append(k.queriers, q.Interface)
		}
		for _, g := range s.Groups {
			k.groups = append(k.groups, g.Interface+" "+g.Group.String())
		}
		for _, r := range s.Routes {
			k.routes = append(k.routes, string(r.Kind)+" "+r.Source.String()+" "+r.Group.String())
		}
		for scope := range s.Counters {
			k.counters = append(k.counters, scope)
		}
		slices.Sort(k.counters)
		for _, l := range s.Limits {
			k.limits = append(k.limits, l.Name+" "+l.Interface)
		}
		return k
	}
	for _, c := range []struct {
		name string
		q    ctl.Query
		want kept
	}{
		{"interface eth0", ctl.Query{Interface: "eth0"}, kept{
			neighbors: []string{"fe80::2000:1", "fe80::2000:2"},
			queriers:  []string{"eth0"},
			groups:    []string{"eth0 ff05::1", "eth0 ff3e::1", "eth0 ff02::db8:1"},
			routes: []string{"(S,G) 2001:db8:1::10 ff05::1", "(*,G) invalid IP ff05::1", "(S,G) 2001:db8:1::5 ff05::1",
				"(*,*,RP) invalid IP invalid IP"}, // incoming on eth0
			counters: []string{"mld/eth0", "pim/eth0"},
			limits:   []string{"mld.max-groups eth0"},
		}},
		{"interface eth7: a downstream interface", ctl.Query{Interface: "eth7"}, kept{
			routes: []string{"(S,G) 2001:db8:1::10 ff05::1"},
		}},
		{"group", ctl.Query{Group: p("ff05::1/128")}, kept{
			groups:    []string{"eth0 ff05::1"},
			routes:    []string{"(S,G) 2001:db8:1::10 ff05::1", "(*,G) invalid IP ff05::1", "(S,G) 2001:db8:1::5 ff05::1"},
			counters:  []string{"checkpoint", "kernel", "mld/eth0", "pim/eth0", "pim/eth1"},
			limits:    []string{"mld.max-groups eth0", "pim.max-routes "},
			neighbors: []string{"fe80::3:1", "fe80::2000:1", "fe80::2000:2", "fe80::4:1"},
			queriers:  []string{"eth0", "eth1", "eth2"},
		}},
		{"group prefix and parts", ctl.Query{Parts: []string{ctl.PartGroups, ctl.PartRoutes}, Group: p("ff00::/13")}, kept{
			// ff0e::db8:1 is outside; ff02::db8:1 and ff05::1 are in.
			groups: []string{"eth0 ff05::1", "eth0 ff02::db8:1"},
			routes: []string{"(S,G) 2001:db8:1::10 ff05::1", "(*,G) invalid IP ff05::1", "(S,G) 2001:db8:1::5 ff05::1"},
		}},
		{"source", ctl.Query{Parts: []string{ctl.PartGroups, ctl.PartRoutes}, Source: src}, kept{
			// EXCLUDE {} wants it; INCLUDE lists it; ff02::db8:1
			// excludes another source.
			groups: []string{"eth2 ff0e::db8:1", "eth0 ff05::1", "eth0 ff3e::1", "eth0 ff02::db8:1"},
			routes: []string{"(S,G) 2001:db8:1::10 ff05::1"},
		}},
		{"excluded source", ctl.Query{Parts: []string{ctl.PartGroups}, Source: netip.MustParseAddr("2001:db8:1::66")}, kept{
			groups: []string{"eth2 ff0e::db8:1", "eth0 ff05::1"},
		}},
		{"all filters", ctl.Query{Parts: []string{ctl.PartRoutes}, Interface: "eth1", Group: p("ff05::/16"), Source: src}, kept{
			routes: []string{"(S,G) 2001:db8:1::10 ff05::1"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.q.Apply(s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, all(got), cmp.AllowUnexported(kept{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if diff := cmp.Diff(s.Interfaces, got.Interfaces, ctltest.CmpOptions, cmpopts.EquateEmpty()); c.q.Wants(ctl.PartInterfaces) && diff != "" {
				t.Errorf("the interface table is cut (-whole +got)\n%s", diff)
			}
			if got.Query == nil || !cmp.Equal(*got.Query, c.q, ctltest.CmpOptions) {
				t.Errorf("query %+v", got.Query)
			}
		})
	}
	// Parts not asked for are empty; the zero query is everything.
	got, _ := ctl.Query{Parts: []string{ctl.PartNeighbors}}.Apply(s)
	if got.Interfaces != nil || got.Routes != nil || got.Counters != nil || got.RPSet.RPs != nil || got.CacheMirrors != 0 || len(got.Neighbors) != 4 {
		t.Errorf("neighbors only: %+v", got)
	}
	if got, _ := (ctl.Query{}).Apply(s); !cmp.Equal(s, got, ctltest.CmpOptions) {
		t.Error("the zero query is not the whole snapshot")
	}
	_, err := ctl.Query{Interface: "eth99"}.Apply(s)
	var ne *ctl.NoInterfaceError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), `no multicast interface "eth99" (known: eth0, eth1,`) {
		t.Errorf("unknown interface: %v", err)
	}
}

func TestQueryCheck(t *testing.T) {
	for _, c := range []struct {
		q    ctl.Query
		want string
	}{
		{ctl.Query{Parts: []string{"routes", "bogus"}}, `unknown part "bogus" (known: interfaces, neighbors,`},
		{ctl.Query{Parts: []string{strings.Repeat("x", 1000)}}, `unknown part "` + strings.Repeat("x", 64) + `"... (known:`},
		{ctl.Query{Group: netip.MustParsePrefix("10.0.0.0/8")}, "group 10.0.0.0/8 is not an IPv6 prefix"},
		{ctl.Query{Source: netip.MustParseAddr("fe80::1%eth0")}, "source fe80::1%eth0 is not an IPv6 address without a zone"},
		{ctl.Query{Source: netip.MustParseAddr("10.1.2.3")}, "source 10.1.2.3 is not"},
	} {
		if err := c.q.Check(); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.q, err, c.want)
		}
	}
	ok := ctl.Query{Parts: ctl.Parts, Interface: "eth0", Group: netip.MustParsePrefix("ff0e::/16"), Source: netip.MustParseAddr("2001:db8::1")}
	if err := ok.Check(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}

// A partial snapshot's JSON has only its parts (and schema_version,
// daemon, query), as the whole snapshot spells them.
func TestSnapshotPartialJSON(t *testing.T) {
	q := ctl.Query{Parts: []string{ctl.PartRoutes, ctl.PartCacheMirrors}, Group: netip.MustParsePrefix("ff05::1/128")}
	s, err := q.Apply(ctltest.Rich())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"cache_mirrors", "daemon", "query", "routes", "schema_version"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if got := string(doc["query"]); got != `{"parts":["routes","cache_mirrors"],"group":"ff05::1/128"}` {
		t.Errorf("query %s", got)
	}
	var back ctl.Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, &back, ctltest.CmpOptions, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-sent +received)\n%s", diff)
	}
	// The whole snapshot has no query key.
	if b, _ := json.Marshal(ctltest.Rich()); strings.Contains(string(b), `"query"`) {
		t.Error("the whole snapshot names a query")
	}
}

// The server checks the query and hands it to the daemon; the client
// takes the part itself from a daemon that does not know queries (an
// older one: it answers the whole state).
func TestServerQuery(t *testing.T) {
	var got []ctl.Query
	s := serve(t, ctl.ServerConfig{}, ctl.Handler{Snapshot: func(_ context.Context, q ctl.Query) (*ctl.Snapshot, error) {
		got = append(got, q)
		return q.Apply(ctltest.Rich())
	}})
	cl := &ctl.Client{Path: s.Path()}
	q := ctl.Query{Parts: []string{ctl.PartNeighbors}, Interface: "eth1"}
	snap, err := cl.SnapshotOf(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Neighbors) != 1 || snap.Neighbors[0].Interface != "eth1" || snap.Interfaces != nil {
		t.Errorf("snapshot %+v", snap)
	}
	r := decode(t, raw(t, s.Path(), `{"version":1,"command":"snapshot","query":{"parts":["routes","frobs"]}}`))
	if r.OK || !strings.Contains(r.Error, `snapshot: unknown part "frobs"`) {
		t.Errorf("answer %+v", r)
	}
	if want := []ctl.Query{q}; !cmp.Equal(want, got, ctltest.CmpOptions) {
		t.Errorf("the daemon was asked %+v, want %+v", got, want)
	}
	old := serve(t, ctl.ServerConfig{}, ctl.Handler{Snapshot: func(context.Context, ctl.Query) (*ctl.Snapshot, error) {
		return ctltest.Rich(), nil
	}})
	snap, err = (&ctl.Client{Path: old.Path()}).SnapshotOf(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Neighbors) != 1 || snap.Interfaces != nil || snap.Query == nil {
		t.Errorf("from a daemon without queries: %+v", snap)
	}
}
