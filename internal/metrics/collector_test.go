package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

var a = netip.MustParseAddr

func testSnapshot() *ctl.Snapshot {
	started := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return &ctl.Snapshot{
		SchemaVersion: ctl.SchemaVersion,
		Daemon:        ctl.DaemonInfo{Version: "v1.2.3", Started: started, Now: started.Add(90 * time.Second), Table: 7},
		Interfaces: []ctl.Interface{
			{MIF: 0, Name: "eth0", DR: true, PIM: true},
			{MIF: 1, Name: "eth1", Querier: true, NoNeighbor: true, Down: true},
			{MIF: 2, Name: "pim6reg", Register: true, NoListener: true},
		},
		Neighbors: []ctl.Neighbor{
			{MIF: 0, Interface: "eth0", Address: a("fe80::2")},
			{MIF: 0, Interface: "eth0", Address: a("fe80::3")},
		},
		Groups: []ctl.MLDGroup{
			{MIF: 1, Interface: "eth1", Group: a("ff3e::1"), Mode: ctl.Include, Sources: []ctl.MLDSource{{Address: a("2001:db8::1")}, {Address: a("2001:db8::2")}}},
			{MIF: 1, Interface: "eth1", Group: a("ff05::2"), Mode: ctl.Exclude},
		},
		Routes: []ctl.Route{
			{Kind: ctl.StarG, Group: a("ff05::2"), Incoming: -1},
			{Kind: ctl.SG, Source: a("2001:db8::1"), Group: a("ff3e::1"), Flags: []string{"SG", "CACHE"}, Packets: 10, Bytes: 1000, WrongIf: 2},
			{Kind: ctl.SG, Source: a("2001:db8::2"), Group: a("ff3e::1"), Flags: []string{"SG"}}, // not installed
			{Kind: ctl.StarRP, RP: a("2001:db8::9"), Incoming: -1},
		},
		CacheMirrors: 1,
		RPSet: ctl.RPSet{
			BSR: a("2001:db8::9"), BSRPriority: 7, BSRHashMaskLen: 126, BSRTimeout: ctl.Duration(100 * time.Second),
			CandidateBSR: &ctl.CandidateBSR{Address: a("2001:db8::5"), Priority: 5, State: "pending"},
			CandidateRP:  &ctl.CandidateRP{Address: a("2001:db8::5")},
			RPs: []ctl.RP{
				{Address: a("2001:db8::9"), Origin: "bsr", Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff05::/16")}, {Prefix: netip.MustParsePrefix("ff0e::/16")}}},
				{Address: a("2001:db8::5"), Origin: "bsr", Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff08::/16")}}},
				{Address: a("2001:db8::7"), Origin: "static", Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff00::/8")}}},
			},
		},
		Counters: map[string]map[string]uint64{
			"mld/eth1": {"received/report-v2": 4, "sent/general": 2, "dropped/bad-checksum": 1},
			"pim/eth0": {"received/hello": 5, "sent/hello": 6, "dropped/bad-group": 3},
			"kernel":   {"upcall/nocache": 3, "resyncs": 1},
		},
		Limits: []ctl.Limit{{Name: "mld.max-groups", Interface: "eth1", Max: 100, Used: 2, Refused: 9}},
		AnycastRP: &ctl.AnycastRP{Address: a("2001:db8::100"), Local: true, Self: a("2001:db8::101"), Members: []ctl.AnycastMember{
			{Address: a("2001:db8::101"), Self: true},
			{Address: a("2001:db8::102"), RegistersIn: 1, NullRegistersIn: 2, RegisterStopsIn: 3, RegistersOut: 4, NullRegistersOut: 5, RegisterStopsOut: 6},
		}},
	}
}

func fixed(s *ctl.Snapshot) SnapshotFunc {
	return func(context.Context) (*ctl.Snapshot, error) { return s, nil }
}

// scrape serves the collector (with the Go and process collectors) over
// HTTP and parses the text exposition.
func scrape(t *testing.T, o Options) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(Handler(NewRegistry(NewCollector(o)), nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return fams
}

// series renders a family as "label=value,... value" lines, sorted.
func series(fams map[string]*dto.MetricFamily, name string) []string {
	f := fams[name]
	if f == nil {
		return nil
	}
	var out []string
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		}
		out = append(out, fmt.Sprintf("%s %g", strings.Join(ls, ","), v))
	}
	sort.Strings(out)
	return out
}

func TestExposition(t *testing.T) {
	fams := scrape(t, Options{Snapshot: fixed(testSnapshot())})
	for _, tc := range []struct {
		name string
		typ  dto.MetricType
		want []string
	}{
		{"pim6sd_up", dto.MetricType_GAUGE, []string{" 1"}},
		{"pim6sd_info", dto.MetricType_GAUGE, []string{"mrt_table=7,version=v1.2.3 1"}},
		{"pim6sd_uptime_seconds", dto.MetricType_GAUGE, []string{" 90"}},
		{"pim6sd_start_time_seconds", dto.MetricType_GAUGE, []string{fmt.Sprintf(" %g", float64(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Unix()))}},
		{"pim6sd_interface_info", dto.MetricType_GAUGE, []string{"interface=eth0,mif=0,register=false 1", "interface=eth1,mif=1,register=false 1", "interface=pim6reg,mif=2,register=true 1"}},
		{"pim6sd_interface_up", dto.MetricType_GAUGE, []string{"interface=eth0 1", "interface=eth1 0"}},
		{"pim6sd_pim_neighbors", dto.MetricType_GAUGE, []string{"interface=eth0 2", "interface=eth1 0"}},
		{"pim6sd_pim_dr", dto.MetricType_GAUGE, []string{"interface=eth0 1", "interface=eth1 0"}},
		{"pim6sd_mld_querier", dto.MetricType_GAUGE, []string{"interface=eth0 0", "interface=eth1 1"}},
		{"pim6sd_mld_groups", dto.MetricType_GAUGE, []string{"interface=eth0 0", "interface=eth1 2"}},
		{"pim6sd_mld_sources", dto.MetricType_GAUGE, []string{"interface=eth0 0", "interface=eth1 2"}},
		{"pim6sd_mifs", dto.MetricType_GAUGE, []string{" 3"}},
		{"pim6sd_mifs_max", dto.MetricType_GAUGE, []string{" 32"}},
		{"pim6sd_route_entries", dto.MetricType_GAUGE, []string{"kind=sg 2", "kind=star_g 1", "kind=star_star_rp 1"}},
		{"pim6sd_mfc_entries", dto.MetricType_GAUGE, []string{" 1"}},
		{"pim6sd_sg_packets_total", dto.MetricType_COUNTER, []string{"group=ff3e::1,source=2001:db8::1 10"}},
		{"pim6sd_sg_bytes_total", dto.MetricType_COUNTER, []string{"group=ff3e::1,source=2001:db8::1 1000"}},
		{"pim6sd_sg_wrong_interface_total", dto.MetricType_COUNTER, []string{"group=ff3e::1,source=2001:db8::1 2"}},
		{"pim6sd_sg_series_omitted", dto.MetricType_GAUGE, []string{" 0"}},
		{"pim6sd_sg_series_max", dto.MetricType_GAUGE, []string{" 1000"}},
		{"pim6sd_messages_received_total", dto.MetricType_COUNTER, []string{"engine=mld,interface=eth1,type=report-v2 4", "engine=pim,interface=eth0,type=hello 5"}},
		{"pim6sd_messages_sent_total", dto.MetricType_COUNTER, []string{"engine=mld,interface=eth1,type=general 2", "engine=pim,interface=eth0,type=hello 6"}},
		{"pim6sd_dropped_total", dto.MetricType_COUNTER, []string{"engine=mld,interface=eth1,reason=bad-checksum 1", "engine=pim,interface=eth0,reason=bad-group 3"}},
		{"pim6sd_upcalls_total", dto.MetricType_COUNTER, []string{"engine=kernel,interface=,type=nocache 3"}},
		{"pim6sd_events_total", dto.MetricType_COUNTER, []string{"engine=kernel,event=resyncs,interface= 1"}},
		{"pim6sd_bsr_known", dto.MetricType_GAUGE, []string{" 1"}},
		{"pim6sd_bsr_info", dto.MetricType_GAUGE, []string{"bsr=2001:db8::9 1"}},
		{"pim6sd_bsr_priority", dto.MetricType_GAUGE, []string{" 7"}},
		{"pim6sd_bsr_hash_mask_length", dto.MetricType_GAUGE, []string{" 126"}},
		{"pim6sd_bsr_timeout_seconds", dto.MetricType_GAUGE, []string{" 100"}},
		{"pim6sd_candidate_bsr_state", dto.MetricType_GAUGE, []string{"state=candidate 0", "state=elected 0", "state=pending 1"}},
		{"pim6sd_candidate_bsr_priority", dto.MetricType_GAUGE, []string{" 5"}},
		{"pim6sd_candidate_rp_info", dto.MetricType_GAUGE, []string{"address=2001:db8::5 1"}},
		{"pim6sd_rps", dto.MetricType_GAUGE, []string{"origin=bsr 2", "origin=embedded 0", "origin=static 1"}},
		{"pim6sd_rp_set_entries", dto.MetricType_GAUGE, []string{"origin=bsr 3", "origin=embedded 0", "origin=static 1"}},
		{"pim6sd_limit_max", dto.MetricType_GAUGE, []string{"interface=eth1,name=mld.max-groups 100"}},
		{"pim6sd_limit_used", dto.MetricType_GAUGE, []string{"interface=eth1,name=mld.max-groups 2"}},
		{"pim6sd_limit_refused_total", dto.MetricType_COUNTER, []string{"interface=eth1,name=mld.max-groups 9"}},
		{"pim6sd_anycast_rp_member_info", dto.MetricType_GAUGE, []string{"address=2001:db8::100,member=2001:db8::101,self=true 1", "address=2001:db8::100,member=2001:db8::102,self=false 1"}},
		{"pim6sd_anycast_rp_messages_total", dto.MetricType_COUNTER, []string{
			"direction=in,member=2001:db8::102,type=register 1", "direction=in,member=2001:db8::102,type=null-register 2", "direction=in,member=2001:db8::102,type=register-stop 3",
			"direction=out,member=2001:db8::102,type=register 4", "direction=out,member=2001:db8::102,type=null-register 5", "direction=out,member=2001:db8::102,type=register-stop 6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fams[tc.name]
			if f == nil {
				t.Fatalf("no family %s", tc.name)
			}
			if f.GetType() != tc.typ {
				t.Errorf("type %v, want %v", f.GetType(), tc.typ)
			}
			if f.GetHelp() == "" {
				t.Error("no HELP")
			}
			want := slices.Clone(tc.want)
			sort.Strings(want)
			if diff := cmp.Diff(want, series(fams, tc.name)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	// The standard collectors are there too.
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", "pim6sd_scrape_snapshot_duration_seconds"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// The families pass the Prometheus naming lint.
func TestLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(NewCollector(Options{Snapshot: fixed(testSnapshot())}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Without a snapshot only pim6sd_up (0) and the scrape duration come out;
// the scrape itself still succeeds.
func TestNoSnapshot(t *testing.T) {
	fams := scrape(t, Options{Snapshot: func(ctx context.Context) (*ctl.Snapshot, error) {
		return nil, errors.New("daemon: stopped")
	}})
	if got := series(fams, "pim6sd_up"); !slices.Equal(got, []string{" 0"}) {
		t.Errorf("pim6sd_up: %v", got)
	}
	for name := range fams {
		if strings.HasPrefix(name, "pim6sd_") && name != "pim6sd_up" && name != "pim6sd_scrape_snapshot_duration_seconds" {
			t.Errorf("%s exported without a snapshot", name)
		}
	}
}

// A loop that does not answer makes the scrape give up after Timeout.
func TestSnapshotTimeout(t *testing.T) {
	start := time.Now()
	n := testutil.CollectAndCount(NewCollector(Options{Timeout: 50 * time.Millisecond, Snapshot: func(ctx context.Context) (*ctl.Snapshot, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}))
	if n != 2 || time.Since(start) > 5*time.Second {
		t.Errorf("%d metrics after %v", n, time.Since(start))
	}
}

// The per-(S,G) series are bounded: the installed entries with the most
// bytes are kept (ties by packets, then by address), the rest counted in
// pim6sd_sg_series_omitted.
func TestSGSeriesBound(t *testing.T) {
	s := testSnapshot()
	s.Routes = nil
	for i := range 10 {
		s.Routes = append(s.Routes, ctl.Route{
			Kind: ctl.SG, Source: a(fmt.Sprintf("2001:db8::%d", i+1)), Group: a("ff3e::1"), Flags: []string{"CACHE"},
			Bytes: uint64(100 * (i % 5)), Packets: uint64(i),
		})
	}
	// Not installed: never a series, never counted as omitted.
	s.Routes = append(s.Routes, ctl.Route{Kind: ctl.SG, Source: a("2001:db8::99"), Group: a("ff3e::1"), Bytes: 1 << 40})
	// A duplicate entry yields one series, not a failed scrape.
	s.Routes = append(s.Routes, s.Routes[4])

	for _, tc := range []struct {
		max     int
		want    []string
		omitted string
	}{
		// Bytes 400 for ::5 (4 packets) and ::10 (9 packets): packets
		// decide; then 300 for ::4 and ::9: ::9 has more packets.
		{3, []string{"group=ff3e::1,source=2001:db8::10 400", "group=ff3e::1,source=2001:db8::5 400", "group=ff3e::1,source=2001:db8::9 300"}, " 7"},
		{-1, nil, " 10"},
		{20, nil, " 0"},
	} {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			fams := scrape(t, Options{Snapshot: fixed(s), MaxSGSeries: tc.max})
			got := series(fams, "pim6sd_sg_bytes_total")
			switch {
			case tc.max == 20:
				if len(got) != 10 {
					t.Errorf("%d series, want 10: %v", len(got), got)
				}
			default:
				want := slices.Clone(tc.want)
				sort.Strings(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got)\n%s", diff)
				}
			}
			if n := len(series(fams, "pim6sd_sg_packets_total")); n != len(got) {
				t.Errorf("%d packet series, %d byte series", n, len(got))
			}
			if o := series(fams, "pim6sd_sg_series_omitted"); !slices.Equal(o, []string{tc.omitted}) {
				t.Errorf("omitted %v, want %q", o, tc.omitted)
			}
		})
	}
}

// Equal bytes and packets: the order is by source, then group, so that
// every scrape of the same state shows the same series.
func TestSGSeriesDeterministic(t *testing.T) {
	var routes []ctl.Route
	for _, src := range []string{"2001:db8::3", "2001:db8::1", "2001:db8::2"} {
		for _, grp := range []string{"ff3e::2", "ff3e::1"} {
			routes = append(routes, ctl.Route{Kind: ctl.SG, Source: a(src), Group: a(grp), Flags: []string{"CACHE"}, Bytes: 5})
		}
	}
	shown, omitted := sgSeries(routes, 3)
	var got []string
	for _, r := range shown {
		got = append(got, r.Source.String()+" "+r.Group.String())
	}
	want := []string{"2001:db8::1 ff3e::1", "2001:db8::1 ff3e::2", "2001:db8::2 ff3e::1"}
	if diff := cmp.Diff(want, got); diff != "" || omitted != 3 {
		t.Errorf("omitted %d; (-want +got)\n%s", omitted, diff)
	}
}

// An empty snapshot (no interfaces, no routes, no BSR) still exports the
// fixed families, with zeros.
func TestEmptySnapshot(t *testing.T) {
	fams := scrape(t, Options{Snapshot: fixed(&ctl.Snapshot{})})
	for name, want := range map[string][]string{
		"pim6sd_mifs":              {" 0"},
		"pim6sd_mfc_entries":       {" 0"},
		"pim6sd_bsr_known":         {" 0"},
		"pim6sd_route_entries":     {"kind=sg 0", "kind=star_g 0", "kind=star_star_rp 0"},
		"pim6sd_sg_series_omitted": {" 0"},
	} {
		if diff := cmp.Diff(want, series(fams, name)); diff != "" {
			t.Errorf("%s (-want +got)\n%s", name, diff)
		}
	}
	for _, name := range []string{"pim6sd_bsr_info", "pim6sd_candidate_bsr_state", "pim6sd_pim_neighbors", "pim6sd_uptime_seconds"} {
		if fams[name] != nil {
			t.Errorf("%s exported for an empty snapshot", name)
		}
	}
}

func TestListen(t *testing.T) {
	for _, bad := range []string{"9642", "[::1]", "::1:9642", "[::1]:", "[::1]:notaport", "[2001:db8::1234]:9642"} {
		if s, err := Listen(bad, Options{Snapshot: fixed(testSnapshot())}); err == nil {
			s.Close()
			t.Errorf("Listen(%q): no error", bad)
		} else {
			t.Logf("Listen(%q): %v", bad, err)
		}
	}
	s, err := Listen("[::1]:0", Options{Snapshot: fixed(testSnapshot())})
	if err != nil {
		s, err = Listen("127.0.0.1:0", Options{Snapshot: fixed(testSnapshot())})
		if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	resp, err := http.Get("http://" + s.Addr().String() + Path)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := series(fams, "pim6sd_up"); !slices.Equal(got, []string{" 1"}) {
		t.Errorf("pim6sd_up %v", got)
	}
	if resp, err := http.Get("http://" + s.Addr().String() + "/nothing"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/nothing: %v %v", resp.Status, err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// The kernel audit's repairs and a restart's takeover are exported.
func TestAuditAndRestartMetrics(t *testing.T) {
	s := testSnapshot()
	s.Daemon.Audit = ctl.Audit{Runs: 7, Errors: 1, Last: time.Unix(1700000000, 0),
		Found: ctl.AuditFindings{Missing: 3, Changed: 2, Extra: 1, MIFs: 4}}
	s.Daemon.Restart = &ctl.Restart{MIFs: 3, Entries: 10, Kept: 2, Swept: 5}
	fams := scrape(t, Options{Snapshot: fixed(s)})
	for name, want := range map[string][]string{
		"pim6sd_kernel_audits_total":                 {" 7"},
		"pim6sd_kernel_audit_errors_total":           {" 1"},
		"pim6sd_kernel_audit_last_timestamp_seconds": {" 1.7e+09"},
		"pim6sd_kernel_repairs_total":                {"kind=changed 2", "kind=extra 1", "kind=mif 4", "kind=missing 3"},
		"pim6sd_restart_kept_entries":                {" 2"},
		"pim6sd_restart_swept_entries":               {" 5"},
	} {
		if diff := cmp.Diff(want, series(fams, name)); diff != "" {
			t.Errorf("%s (-want +got)\n%s", name, diff)
		}
	}
	if fams := scrape(t, Options{Snapshot: fixed(testSnapshot())}); fams["pim6sd_restart_kept_entries"] != nil {
		t.Error("restart figures exported by a daemon that did not restart")
	}
}
