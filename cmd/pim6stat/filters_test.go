package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

// queries serves the rich router and records what each request asked.
type queries struct {
	mu  sync.Mutex
	got []ctl.Query
}

func (qs *queries) daemon(t *testing.T) string {
	return daemonWith(t, ctl.Handler{Snapshot: func(_ context.Context, q ctl.Query) (*ctl.Snapshot, error) {
		qs.mu.Lock()
		qs.got = append(qs.got, q)
		qs.mu.Unlock()
		return q.Apply(ctltest.Rich())
	}})
}

func (qs *queries) take() []ctl.Query {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	got := qs.got
	qs.got = nil
	return got
}

// Each view asks the daemon for what it shows, with the filters given;
// the report asks for everything.
func TestViewsAskTheirPart(t *testing.T) {
	var qs queries
	sock := qs.daemon(t)
	grp := netip.MustParsePrefix("ff05::1/128")
	src := netip.MustParseAddr("2001:db8:1::10")
	for _, c := range []struct {
		args []string
		want ctl.Query
	}{
		{nil, ctl.Query{}},
		{[]string{"--interface", "eth1"}, ctl.Query{Interface: "eth1"}},
		{[]string{"interfaces"}, ctl.Query{Parts: []string{"interfaces", "queriers", "counters", "limits"}}},
		{[]string{"interfaces", "--interface", "eth1"}, ctl.Query{Parts: []string{"interfaces", "queriers", "counters", "limits"}, Interface: "eth1"}},
		{[]string{"neighbors", "--interface", "eth0"}, ctl.Query{Parts: []string{"neighbors", "interfaces"}, Interface: "eth0"}},
		{[]string{"mld", "--group", "ff05::1", "--source", "2001:db8:1::10"}, ctl.Query{Parts: []string{"queriers", "groups"}, Group: grp, Source: src}},
		{[]string{"--group", "ff05::1", "routes"}, ctl.Query{Parts: []string{"routes", "cache_mirrors", "interfaces"}, Group: grp}},
		{[]string{"routes", "--group", "ff05::/16", "--interface", "eth1"}, ctl.Query{Parts: []string{"routes", "cache_mirrors", "interfaces"},
			Group: netip.MustParsePrefix("ff05::/16"), Interface: "eth1"}},
		{[]string{"rp"}, ctl.Query{Parts: []string{"rp_set", "anycast_rp"}}},
		{[]string{"watch", "--interval", "1ms", "--count", "1", "--view", "routes", "--source", "2001:db8:1::10"},
			ctl.Query{Parts: []string{"routes", "cache_mirrors", "interfaces"}, Source: src}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errOut := runPim6stat(append(c.args, "--socket", sock)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if diff := cmp.Diff([]ctl.Query{c.want}, qs.take(), ctltest.CmpOptions); diff != "" {
				t.Errorf("asked (-want +got)\n%s", diff)
			}
		})
	}
}

// The views print what the filters kept.
func TestViewFilters(t *testing.T) {
	sock := daemon(t, ctltest.Rich())
	for _, c := range []struct {
		args          []string
		want, notWant []string
	}{
		{[]string{"interfaces", "--interface", "eth1"},
			[]string{"1    eth1       3        PIM    fe80::3:1", "eth1  fe80::2/64  scope 3", "pim/eth1  hello-received  90"},
			[]string{"eth0", "eth2", "pim6reg", "kernel"}},
		{[]string{"neighbors", "--interface", "eth0"}, []string{"fe80::2000:1", "fe80::2000:2"}, []string{"fe80::3:1", "fe80::4:1"}},
		{[]string{"mld", "--group", "ff05::1"}, []string{"ff05::1", "fe80::3:1"}, []string{"ff3e::1", "ff0e::db8:1"}},
		{[]string{"mld", "--source", "2001:db8:1::66"}, []string{"ff05::1", "ff0e::db8:1"}, []string{"ff3e::1", "ff02::db8:1"}},
		{[]string{"routes", "--source", "2001:db8:1::5"}, []string{"2001:db8:1::5", "1 entry, 4 installed"}, []string{"2001:db8:1::10", "(*,G)"}},
		{[]string{"routes", "--interface", "eth7"}, []string{"2001:db8:1::10  ff05::1", "eth7 Join (forever)"}, []string{"(*,G)", "2001:db8:1::5 "}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := runPim6stat(append(c.args, "--socket", sock)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
	// The interface table of `interfaces --json` is cut too; its keys
	// are the view's as before.
	_, out, _ := runPim6stat("interfaces", "--json", "--interface", "eth4", "--socket", sock)
	var doc struct {
		Interfaces []ctl.Interface `json:"interfaces"`
		Limits     []ctl.Limit     `json:"limits"`
		Groups     []ctl.MLDGroup  `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Interfaces) != 1 || doc.Interfaces[0].Name != "eth4" || doc.Interfaces[0].PIMNeighbors != 1 || len(doc.Limits) != 0 || doc.Groups != nil {
		t.Errorf("interfaces --json --interface eth4: %s", out)
	}
	// An interface the daemon does not have.
	code, out, errOut := runPim6stat("neighbors", "--interface", "eth99", "--socket", sock)
	if want := `pim6stat: pim6sd: snapshot: no multicast interface "eth99" (known: eth0,`; code != 1 || out != "" || !strings.HasPrefix(errOut, want) {
		t.Errorf("exit %d, stderr %q; want 1, %q...", code, errOut, want)
	}
}

func TestFilterUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--group", "ff05::1", "rp"}, "pim6stat rp: takes no --group\n"},
		{[]string{"--source", "2001:db8::1", "interfaces"}, "pim6stat interfaces: takes no --source\n"},
		{[]string{"routes", "--group", "2001:db8::1"}, `pim6stat routes: --group: "2001:db8::1" is not an IPv6 multicast group or prefix (ff00::/8)` + "\n"},
		{[]string{"routes", "--group", "ff05::/zz"}, `pim6stat routes: --group: "ff05::/zz" is not an IPv6 group or prefix` + "\n"},
		{[]string{"mld", "--source", "ff05::1"}, `pim6stat mld: --source: "ff05::1" is not an IPv6 unicast address` + "\n"},
		{[]string{"--source", "10.0.0.1"}, `pim6stat: --source: "10.0.0.1" is not an IPv6 unicast address` + "\n"},
		{[]string{"neighbors", "--interface", ""}, "pim6stat neighbors: --interface needs a name\n"},
		{[]string{"-f", "/dev/null", "--interface", "eth0"}, "pim6stat: a dump file is printed whole; --interface needs the daemon (drop -f)\n"},
		{[]string{"watch", "--group", "ff05::1"}, "pim6stat watch: --group needs --interval (events are not filtered)\n"},
		{[]string{"watch", "--interval", "1s", "--view", "rp", "--group", "ff05::1"}, "pim6stat watch --view rp: takes no --group\n"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errOut := runPim6stat(append(c.args, "--socket", "/nonexistent/s.sock")...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2, %q", code, errOut, c.want)
			}
		})
	}
}

// `watch --interval --view NAME --json` prints the view's JSON document,
// one per line.
func TestWatchViewJSON(t *testing.T) {
	sock := daemon(t, ctltest.Rich())
	code, out, errOut := runPim6stat("watch", "--socket", sock, "--interval", "1ms", "--count", "2", "--view", "routes", "--json", "--group", "ff0e::/16")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc) != 3 || doc["routes"] == nil || doc["cache_mirrors"] == nil || string(doc["schema_version"]) != "1" {
			t.Errorf("document %s", l)
		}
		var routes []ctl.Route
		json.Unmarshal(doc["routes"], &routes)
		if len(routes) != 1 || routes[0].Group != netip.MustParseAddr("ff0e::db8:1") {
			t.Errorf("routes %s", doc["routes"])
		}
	}
}
