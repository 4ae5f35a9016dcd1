package ctl_test

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

var update = flag.Bool("update", false, "rewrite the generated golden files in testdata/golden (never seed-router.dump)")

const goldenDir = "../../testdata/golden"

func render(t *testing.T, s *ctl.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := ctl.WriteReport(&b, s); err != nil {
		t.Fatalf("WriteReport: %v", err)
	}
	return b.String()
}

// The seed is the reference: the report's example router, with exact
// widths. It is never rewritten by -update.
func TestReportSeed(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(goldenDir, "seed-router.dump"))
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, ctltest.Seed())
	if got != string(want) {
		t.Errorf("report of the seed router differs from seed-router.dump (-want +got):\n%s", cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
	}
}

// Generated goldens for what the seed does not show. Review a rewritten
// file against FORMAT.md before committing it.
func TestReportGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		snap *ctl.Snapshot
	}{
		{"report-rich", ctltest.Rich()},
		{"report-empty", ctltest.Empty()},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(goldenDir, c.name+".dump")
			got := render(t, c.snap)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s (-want +got):\n%s", path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
			}
		})
	}
}

func TestReportDoesNotModifySnapshot(t *testing.T) {
	s := ctltest.Rich()
	render(t, s)
	if diff := cmp.Diff(ctltest.Rich(), s, ctltest.CmpOptions); diff != "" {
		t.Errorf("WriteReport changed its snapshot (-before +after):\n%s", diff)
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-5 * time.Second, "0s"},
		{46*time.Second + 999*time.Millisecond, "46s"}, // ages round down
		{59 * time.Second, "59s"},
		{2 * time.Minute, "2m0s"},
		{time.Hour + 5*time.Second, "1h0m5s"},
		{time.Hour, "1h0m0s"},
		{23*time.Hour + 59*time.Minute + 59*time.Second, "23h59m59s"},
		{24 * time.Hour, "1d0h0m0s"},
		{3*24*time.Hour + 2*time.Hour + 5*time.Minute + 7*time.Second, "3d2h5m7s"},
		{400*24*time.Hour + 1*time.Second, "400d0h0m1s"},
	} {
		t.Run(c.want, func(t *testing.T) {
			if got := ctl.Age(ctl.Duration(c.d)); got != c.want {
				t.Errorf("Age(%v) = %q, want %q", c.d, got, c.want)
			}
		})
	}
}

func TestMinSec(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00"},
		{-time.Second, "0:00"},
		{time.Millisecond, "0:01"}, // times left round up
		{15 * time.Second, "0:15"},
		{110 * time.Second, "1:50"},
		{109*time.Second + 200*time.Millisecond, "1:50"},
		{3599 * time.Second, "59:59"},
		{3600 * time.Second, "60:00"},
	} {
		t.Run(c.want, func(t *testing.T) {
			if got := ctl.MinSec(ctl.Duration(c.d)); got != c.want {
				t.Errorf("MinSec(%v) = %q, want %q", c.d, got, c.want)
			}
		})
	}
}

// section returns the lines of the report from the line starting with
// first up to (not including) the line starting with end.
func section(t *testing.T, report, first, end string) string {
	t.Helper()
	i := strings.Index(report, "\n"+first)
	if i < 0 {
		t.Fatalf("no line %q in\n%s", first, report)
	}
	rest := report[i+1:]
	j := strings.Index(rest, "\n"+end)
	if j < 0 {
		t.Fatalf("no line %q after %q in\n%s", end, first, report)
	}
	return rest[:j+1]
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mifs(n int) []ctl.Interface {
	var out []ctl.Interface
	for i := range n {
		out = append(out, ctl.Interface{MIF: i, Name: "e" + string(rune('a'+i)), MLDVersions: []int{2}})
	}
	return out
}

// Each case is a small snapshot and the exact text of one section, written
// by hand from FORMAT.md.
func TestReportSections(t *testing.T) {
	sec := ctl.Seconds
	for _, c := range []struct {
		name       string
		snap       ctl.Snapshot
		first, end string
		want       string
	}{
		{
			name: "no flag; an interface that lost its addresses keeps its line",
			snap: ctl.Snapshot{Interfaces: []ctl.Interface{
				{MIF: 0, Name: "eth0", Addresses: []ctl.Address{{Prefix: netip.MustParsePrefix("fe80::1/64"), ScopeID: 2}}, MLDVersions: []int{2, 1}},
				{MIF: 1, Name: "averylongname0", Down: true, HelloIn: ctl.Duration(500 * time.Millisecond)},
			}},
			first: "Multicast Interface Table", end: "PIM Neighbor List",
			want: "Multicast Interface Table\n" +
				" Mif   PhyIF Local-Address/Prefixlen                     Scope Flags         \n" +
				"  0     eth0 fe80::1/64                                  2    \n" +
				"             Timers: PIM hello = 0:00, MLD query = 0:00\n" +
				"             possible MLD version = 1 2 \n" +
				"  1   averylongname0                                                   DOWN\n" +
				"             Timers: PIM hello = 0:01, MLD query = 0:00\n" +
				"             possible MLD version = \n" +
				"\n",
		},
		{
			name: "every interface flag, in order; long name not cut",
			snap: ctl.Snapshot{Interfaces: []ctl.Interface{{
				MIF: 12, Name: "averylongname0", Register: true, Disabled: true, NoListener: true, Down: true,
				DR: true, PIM: true, Querier: true, NoNeighbor: true,
				Addresses: []ctl.Address{{Prefix: netip.MustParsePrefix("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128")}},
			}}},
			first: "Multicast Interface Table", end: "PIM Neighbor List",
			want: "Multicast Interface Table\n" +
				" Mif   PhyIF Local-Address/Prefixlen                     Scope Flags         \n" +
				"  12  regist 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128  0     REGISTER DISABLED NOLISTENER DOWN DR PIM QRY NO-NBR\n" +
				"             Timers: PIM hello = 0:00, MLD query = 0:00\n" +
				"             possible MLD version = \n" +
				"\n",
		},
		{
			name: "several neighbors on several MIFs",
			snap: ctl.Snapshot{
				Interfaces: mifs(2),
				Neighbors: []ctl.Neighbor{
					{MIF: 1, Interface: "eb", Address: mustAddr("fe80::b"), Left: sec(5)},
					{MIF: 0, Interface: "ea", Address: mustAddr("fe80::a1"), Left: sec(105),
						Secondary: []netip.Addr{mustAddr("2001:db8::a1"), mustAddr("2001:db8::a2")}},
					{MIF: 0, Interface: "ea", Address: mustAddr("fe80::a2"), Left: ctl.Duration(100 * time.Millisecond)},
					{MIF: 7, Interface: "gone", Address: mustAddr("fe80::c"), Left: sec(12345)},
				},
			},
			first: "PIM Neighbor List", end: "MLD Querier List",
			want: "PIM Neighbor List\n" +
				" Mif  PhyIF Address                                  Timer\n" +
				" 0       ea fe80::a1                                 105  \n" +
				"                2001:db8::a1\n" +
				"                2001:db8::a2\n" +
				"            fe80::a2                                 1    \n" +
				" 1       eb fe80::b                                  5    \n" +
				" 7     gone fe80::c                                  12345\n" +
				"\n",
		},
		{
			name: "queriers: self shows 255, other its time left",
			snap: ctl.Snapshot{
				Interfaces: mifs(2),
				Queriers: []ctl.Querier{
					{MIF: 1, Address: mustAddr("fe80::99"), Left: ctl.Duration(254*time.Second + time.Millisecond), Age: sec(90061)},
					{MIF: 0, Address: mustAddr("fe80::1"), Self: true, Left: sec(3), Age: sec(3605)},
				},
			},
			first: "MLD Querier List", end: "Reported MLD Group",
			want: "MLD Querier List\n" +
				" Mif  PhyIF Address                                  Timer            Last\n" +
				" 0       ea fe80::1                                    255          1h0m5s\n" +
				" 1       eb fe80::99                                   255        1d1h1m1s\n" +
				"\n",
		},
		{
			name: "groups: exclude with no source, sources, v1",
			snap: ctl.Snapshot{
				Interfaces: mifs(2),
				Groups: []ctl.MLDGroup{
					{MIF: 1, Group: mustAddr("ff0e::1"), Mode: ctl.Exclude, FilterTimerID: 7, Version: 1, CompatTimerID: 8},
					{MIF: 0, Group: mustAddr("ff3e::1"), Mode: ctl.Include, Version: 2,
						Sources: []ctl.MLDSource{{Address: mustAddr("2001:db8::1"), TimerID: 3}, {Address: mustAddr("2001:db8::2"), TimerID: 4}}},
				},
			},
			first: "Reported MLD Group", end: "Multicast Routing Table",
			want: "Reported MLD Group\n" +
				" Mif  PhyIF Group(Group-Timer,MLD-ver(Filter-Mode,Compat-Timer))/Source(TimerID)\n" +
				" 0       ea ff3e::1 (#0 (v2 IN #0))\n" +
				"              2001:db8::1 (#3)\n" +
				"              2001:db8::2 (#4)\n" +
				" 1       eb ff0e::1 (#7 (v1 EX #8))\n" +
				"              (any source) (-)\n" +
				"\n",
		},
		{
			name: "twelve MIFs: two rows of timers; 1ST only on (*,G); flags reordered",
			snap: ctl.Snapshot{
				Interfaces: mifs(12),
				Routes: []ctl.Route{
					{Kind: ctl.SG, Source: mustAddr("2001:db8::5"), Group: mustAddr("ff05::1"), RP: mustAddr("2001:db8::1"),
						Flags: []string{"SG", "1ST", "SPT", "NEWFLAG"}, Leaves: []int{11}, Outgoing: []int{0, 11}, Incoming: 10,
						UpstreamNeighbor: mustAddr("fe80::1"), EntryTimer: sec(210), JPTimer: ctl.Duration(59500 * time.Millisecond),
						OIFTimers: []ctl.Duration{sec(1), 0, 0, 0, 0, 0, 0, 0, 0, 0, sec(10), sec(211)}},
					{Kind: ctl.StarG, Group: mustAddr("ff05::1"), RP: mustAddr("2001:db8::1"), Flags: []string{"WC", "1ST", "RP"},
						Joined: []int{3}, Incoming: -1},
				},
				CacheMirrors: 2,
			},
			first: "Multicast Routing Table", end: "---------------------------RP-Set",
			want: "Multicast Routing Table\n" +
				" Source          Group           RP-addr         Flags\n" +
				"---------------------------(*,G)----------------------------\n" +
				" IN6ADDR_ANY     ff05::1         2001:db8::1     WC RP 1ST\n" +
				"Joined   oifs: ...j........        \n" +
				"Pruned   oifs: ............        \n" +
				"Leaves   oifs: ............        \n" +
				"Asserted oifs: ............        \n" +
				"Outgoing oifs: ............        \n" +
				"Incoming     : ............        \n" +
				"Upstream nbr: NONE\n" +
				"\n" +
				"TIMERS: Entry=0 JP=0 RS=0 Assert=0\n" +
				"  MIF   0   1   2   3   4   5   6   7   8   9\n" +
				"    0   0   0   0   0   0   0   0   0   0   0\n" +
				"    1   0   0\n" +
				"---------------------------(S,G)----------------------------\n" +
				" 2001:db8::5     ff05::1         2001:db8::1     SPT SG NEWFLAG\n" +
				"Joined   oifs: ............        \n" +
				"Pruned   oifs: ............        \n" +
				"Leaves   oifs: ...........l        \n" +
				"Asserted oifs: ............        \n" +
				"Outgoing oifs: o..........o        \n" +
				"Incoming     : ..........I.        \n" +
				"Upstream nbr: fe80::1\n" +
				"\n" +
				"TIMERS: Entry=210 JP=60 RS=0 Assert=0\n" +
				"  MIF   0   1   2   3   4   5   6   7   8   9\n" +
				"    0   1   0   0   0   0   0   0   0   0   0\n" +
				"    1  10 211\n" +
				"--------------------------(*,*,RP)--------------------------\n" +
				"Number of Groups: 1\n" +
				"Number of Cache MIRRORs: 2\n" +
				"\n",
		},
		{
			name: "(*,*,RP) and an SSM (S,G) with no RP; ten MIFs make one row",
			snap: ctl.Snapshot{
				Interfaces: mifs(10),
				Routes: []ctl.Route{
					{Kind: ctl.StarRP, RP: mustAddr("2001:db8::1"), Flags: []string{"RP", "CACHE"}, Outgoing: []int{9}, Incoming: 0,
						OIFTimers: []ctl.Duration{9: sec(200)}},
					{Kind: ctl.SG, Source: mustAddr("2001:db8::10"), Group: mustAddr("ff3e::1"), Flags: []string{"SG"}, Incoming: 1},
				},
			},
			first: "Multicast Routing Table", end: "---------------------------RP-Set",
			want: "Multicast Routing Table\n" +
				" Source          Group           RP-addr         Flags\n" +
				"---------------------------(S,G)----------------------------\n" +
				" 2001:db8::10    ff3e::1         NULL            SG\n" +
				"Joined   oifs: ..........          \n" +
				"Pruned   oifs: ..........          \n" +
				"Leaves   oifs: ..........          \n" +
				"Asserted oifs: ..........          \n" +
				"Outgoing oifs: ..........          \n" +
				"Incoming     : .I........          \n" +
				"Upstream nbr: NONE\n" +
				"\n" +
				"TIMERS: Entry=0 JP=0 RS=0 Assert=0\n" +
				"  MIF   0   1   2   3   4   5   6   7   8   9\n" +
				"    0   0   0   0   0   0   0   0   0   0   0\n" +
				"--------------------------(*,*,RP)--------------------------\n" +
				" RP = 2001:db8::1     IN6ADDR_ANY     RP CACHE\n" +
				"Joined   oifs: ..........          \n" +
				"Pruned   oifs: ..........          \n" +
				"Leaves   oifs: ..........          \n" +
				"Asserted oifs: ..........          \n" +
				"Outgoing oifs: .........o          \n" +
				"Incoming     : I.........          \n" +
				"\n" +
				"TIMERS: Entry=0 JP=0 RS=0 Assert=0\n" +
				"  MIF   0   1   2   3   4   5   6   7   8   9\n" +
				"    0   0   0   0   0   0   0   0   0   0 200\n" +
				"Number of Groups: 1\n" +
				"Number of Cache MIRRORs: 0\n" +
				"\n",
		},
		{
			name:  "no route, no MIF",
			snap:  ctl.Snapshot{},
			first: "Multicast Routing Table", end: "---------------------------RP-Set",
			want: "Multicast Routing Table\n" +
				" Source          Group           RP-addr         Flags\n" +
				"--------------------------(*,*,RP)--------------------------\n" +
				"Number of Groups: 0\n" +
				"Number of Cache MIRRORs: 0\n" +
				"\n",
		},
		{
			name: "RP-set: upstream, none, myself; empty BSR",
			snap: ctl.Snapshot{RPSet: ctl.RPSet{
				BSRPriority: 0,
				RPs: []ctl.RP{
					{Address: mustAddr("2001:db8::1"), Upstream: mustAddr("fe80::2000:1"), UpstreamIf: "eth0",
						Groups: []ctl.RPGroup{
							{Prefix: netip.MustParsePrefix("ff05::/16"), Priority: 192, Holdtime: sec(150), Left: ctl.Duration(19100 * time.Millisecond)},
							{Prefix: netip.MustParsePrefix("ff0e::/16"), Priority: 12345, Holdtime: sec(65535), Left: sec(65535)},
						}},
					{Address: mustAddr("2001:db8::2")},
					{Address: mustAddr("2001:db8::3"), Myself: true, Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff00::/8")}}},
				},
			}},
			first: "---------------------------RP-Set", end: "--------------------CallOut",
			want: "---------------------------RP-Set----------------------------\n" +
				"Current BSR address: :: Prio: 0 Timeout: 0\n" +
				"RP-address(Upstream)/Group prefix             Prio Hold Age\n" +
				"2001:db8::1(fe80::2000:1%eth0)\n" +
				"     ff05::/16                                192  150  20 \n" +
				"     ff0e::/16                                12345 65535 65535\n" +
				"2001:db8::2(none)\n" +
				"2001:db8::3(myself)\n" +
				"     ff00::/8                                 0    0    0  \n" +
				"\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := section(t, render(t, &c.snap), c.first, c.end)
			if got != c.want {
				t.Errorf("(-want +got):\n%s", cmp.Diff(strings.Split(c.want, "\n"), strings.Split(got, "\n")))
			}
		})
	}
}

func TestReportCallOut(t *testing.T) {
	ms := func(n int) ctl.Duration { return ctl.Duration(time.Duration(n) * time.Millisecond) }
	s := &ctl.Snapshot{Timers: []ctl.Timer{
		{ID: 9, Left: ms(259000)},
		{ID: 4, Left: ms(4100)}, // rounds up to 5
		{ID: 20, Left: ms(5000)},
		{ID: 2, Left: ms(5000)}, // same expiry: ID order, delta 0
		{ID: 7, Left: 0},        // due now
		{ID: 8, Left: ms(-30)},  // overdue: shown as due now
	}}
	got := render(t, s)
	got = got[strings.Index(got, "--------------------CallOut"):]
	want := "--------------------CallOut Timer Queue-----------------\n" +
		"TimerID\tExpiry-Time[s]\n" +
		"#8\t0\n" +
		"#7\t0\n" +
		"#4\t5\n" +
		"#2\t0\n" +
		"#20\t0\n" +
		"#9\t254\n"
	if got != want {
		t.Errorf("(-want +got):\n%s", cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReportErrors(t *testing.T) {
	t.Run("unknown route kind writes nothing", func(t *testing.T) {
		var b bytes.Buffer
		err := ctl.WriteReport(&b, &ctl.Snapshot{Routes: []ctl.Route{{Kind: "(S,G,rpt)"}}})
		if err == nil || !strings.Contains(err.Error(), `unknown kind "(S,G,rpt)"`) || b.Len() != 0 {
			t.Errorf("err %v, %d bytes written; want the unknown kind named and nothing written", err, b.Len())
		}
	})
	t.Run("nil snapshot", func(t *testing.T) {
		if err := ctl.WriteReport(&bytes.Buffer{}, nil); err == nil {
			t.Error("no error")
		}
	})
	t.Run("writer error", func(t *testing.T) {
		if err := ctl.WriteReport(failWriter{}, ctltest.Seed()); err == nil || err.Error() != "disk full" {
			t.Errorf("err %v, want the writer's", err)
		}
	})
}
