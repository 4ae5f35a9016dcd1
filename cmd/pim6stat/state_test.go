package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the views in testdata/golden")

// daemon serves snap on a fresh control socket and returns its path.
func daemon(t *testing.T, snap *ctl.Snapshot) string {
	t.Helper()
	return daemonWith(t, ctl.Handler{Snapshot: func(_ context.Context, q ctl.Query) (*ctl.Snapshot, error) { return q.Apply(snap) }})
}

func daemonWith(t *testing.T, h ctl.Handler) string {
	t.Helper()
	s, err := ctl.Listen(ctl.ServerConfig{Path: ctltest.SocketPath(t)}, h)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s.Path()
}

func report(t *testing.T, s *ctl.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := ctl.WriteReport(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportFromDaemon(t *testing.T) {
	for name, snap := range map[string]*ctl.Snapshot{"seed": ctltest.Seed(), "rich": ctltest.Rich(), "empty": ctltest.Empty()} {
		t.Run(name, func(t *testing.T) {
			sock := daemon(t, snap)
			code, out, errOut := runPim6stat("--socket", sock)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if want := report(t, snap); out != want {
				t.Errorf("output is not WriteReport's (-want +got):\n%s", cmp.Diff(strings.Split(want, "\n"), strings.Split(out, "\n")))
			}
		})
	}
	// The seed router prints the golden file itself.
	code, out, _ := runPim6stat("--socket", daemon(t, ctltest.Seed()))
	want, err := os.ReadFile("../../testdata/golden/seed-router.dump")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(want) {
		t.Errorf("exit %d; output differs from seed-router.dump", code)
	}
}

func TestReportJSON(t *testing.T) {
	for _, args := range [][]string{{"--json", "--socket"}, {"--socket"}} {
		sock := daemon(t, ctltest.Rich())
		args := append(args, sock)
		if len(args) == 2 {
			args = append(args, "--json")
		}
		t.Run(strings.Join(args[:1], " "), func(t *testing.T) {
			code, out, errOut := runPim6stat(args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			var got ctl.Snapshot
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not a snapshot: %v\n%s", err, out)
			}
			if diff := cmp.Diff(ctltest.Rich(), &got, ctltest.CmpOptions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-served +printed):\n%s", diff)
			}
			if !strings.HasPrefix(out, "{\n  \"schema_version\": 1,") {
				t.Errorf("not indented JSON: %.60q", out)
			}
		})
	}
}

func TestDumpFileFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pim6sd.dump")
	if err := ctl.WriteDumpFile(path, ctltest.Rich()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"-f", "--file"} {
		t.Run(f, func(t *testing.T) {
			// The socket does not exist: the file alone is read.
			code, out, errOut := runPim6stat("--socket", filepath.Join(dir, "none.sock"), f, path)
			if code != 0 || out != report(t, ctltest.Rich()) {
				t.Fatalf("exit %d, stderr %q, output:\n%s", code, errOut, out)
			}
		})
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"-f", filepath.Join(dir, "none.dump")}, 1, "pim6stat: open " + filepath.Join(dir, "none.dump") + ": no such file or directory\n"},
		{"with --json", []string{"-f", path, "--json"}, 2, "pim6stat: a dump file holds the report text only; --json needs the daemon (drop -f)\n"},
		{"with a view", []string{"-f", path, "neighbors"}, 2, "pim6stat: -f prints a whole dump file; the views need the daemon\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runPim6stat(c.args...)
			if code != c.code || errOut != c.want || out != "" {
				t.Fatalf("exit %d, stderr %q, stdout %q; want exit %d, stderr %q", code, errOut, out, c.code, c.want)
			}
		})
	}
}

// The views' text is checked against generated golden files (review them
// after -update) and for the details each view exists for.
func TestViews(t *testing.T) {
	sock := daemon(t, ctltest.Rich())
	for _, c := range []struct {
		view string
		want []string // lines (or parts of lines) that must be there
	}{
		{"interfaces", []string{
			"MIF  INTERFACE  IFINDEX  FLAGS           DR            DR-PRIO  PRIO  GENID       HELLO-IN  QUERIER       QUERY-IN  MLD    NBRS  GROUPS\n",
			"0    eth0       2        DR PIM QRY      fe80::1 (us)  1        1     0x00001000  0:01      fe80::1 (us)  2:05      v1+v2  2     3\n",
			"1    eth1       3        PIM             fe80::3:1     100      1     0x00001001  0:02      fe80::3:1     0:00      v1+v2  1     0\n",
			"4    eth4       6        NOLISTENER PIM  -             -        1     0x00001004  0:05      -             0:00      off    1     0\n",
			"11   pim6reg    40       REGISTER        -             -        0     0x00000000  0:00      -             0:00      v1     0     0\n",
			"eth0     2001:db8:0:1::1/64  global\n         fe80::1/64          scope 2\n",
			"pim/eth0    bad-checksum         1\n",
			"pim.max-routes  -          5     10000  2\n",
		}},
		{"neighbors", []string{
			"MIF  INTERFACE  ADDRESS       DR  DR-PRIO  GENID       UPTIME    EXPIRES  HOLDTIME  LAN-PRUNE-DELAY  SECONDARY\n",
			"0    eth0       fe80::2000:1      1        0xdeadbeef  1d2h3m4s  1m30s    1m45s     500ms/2.5s       2001:db8:0:1::2000:1\n" +
				"                                                                                                     2001:db8:0:2::2000:1\n",
			"0    eth0       fe80::2000:2      -        -           59s       2s       1m45s     -                -\n",
			"1    eth1       fe80::3:1     DR  100      0x00000007  2h0m0s    1m44s    1m45s     -                -\n",
			"4    eth4       fe80::4:1         -        0x00000001  1h0m0s    never    forever   -                -\n",
		}},
		{"mld", []string{
			"0    eth0       fe80::1    yes  v2       -        3d2h5m7s ago  2           2m5s            -\n",
			"1    eth1       fe80::3:1  no   v1       3m21s    1h0m5s ago    3           1m0s            fe80::3:1 (4m15s)\n",
			"0    eth0       ff05::1      EXCLUDE  v2      #21 4m20s     -             yes     (any)           -\n",
			"0    eth0       ff3e::1      INCLUDE  v2      -             -             yes     2001:db8:1::5   #22 1m40s\n" +
				"                                                                                  2001:db8:1::10  #23 1m40s\n",
			"0    eth0       ff02::db8:1  EXCLUDE  v2      #24 10s       -             no      2001:db8:1::66  excluded\n",
			"2    eth2       ff0e::db8:1  EXCLUDE  v1      #31 3m20s     #32 4m10s     yes     (any)           -\n",
		}},
		{"routes", []string{
			"(S,G)     2001:db8:1::10  ff05::1      2001:db8::1  SPT,CACHE,SG              eth5  fe80::5:1     Joined (JoinDesired)  eth0[lo] eth1[jo] eth10[lo]  3m30s  33s   0s   0s      10       12000  0         eth1 Join (3m0s), eth2 PrunePending (2m30s, prune in 3s), eth7 Join (forever)\n",
			"(*,G)     *               ff05::1      2001:db8::1  WC,RP,1ST,CACHE           eth0  fe80::2000:1  -                     eth0[lo] eth1[jo] eth2[p]    0s     1m0s",
			"(S,G)     2001:db8:9::1   ff0e::db8:1  -            REG,NULL_OIF,REG_SUPP,SG  -     -             -                     -                            0s     0s    55s",
			"(*,*,RP)  *               *            2001:db8::1  RP,CACHE,PMBR             eth0  -             -                     eth3[o]",
			"\n5 entries, 4 installed in the kernel\n",
		}},
		{"rp", []string{
			"BSR            2001:db8::99  priority 10, hash mask length 126, expires in 2m10s\n",
			"candidate BSR  not configured\n",
			"2001:db8::1      bsr     via fe80::2000:1%eth0  ff05::/16                                    192   2m30s      20s\n",
			"2001:db8::2      static  unreachable            ff0e::/16",
			"2001:db8:0:1::1  static  this router            -                                            -     -          -\n",
			"scope zone     ff15::/16        border eth4\n",
			"BSR            2001:db8:0:1::1  priority 5, hash mask length 126, expires in 45s, elected\n",
			"2001:db8::15  bsr     via fe80::2000:1%eth0  ff15:1::/32  10    2m30s     2m20s\n",
			"scope zone     ff18::/16  no border here, learned from Bootstrap messages\n",
			"BSR            none       accept-any\n",
			"no RP mappings in the zone\n",
		}},
		{"kernel", []string{
			"  last  20s ago  found 0 missing, 1 changed, 0 extra, 0 MIFs\n",
			"  runs  42  repaired in all: 2 missing, 1 changed, 3 extra, 1 MIFs; errors 0\n",
			"  took over  4 MIFs, 7 entries\n",
			"  kept       2 entries nothing asked for again, for 10s more\n",
			"  restored  1\n",
		}},
	} {
		t.Run(c.view, func(t *testing.T) {
			// The socket flag works before and after the view's name.
			code, out, errOut := runPim6stat(c.view, "--socket", sock)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if code, out2, _ := runPim6stat("--socket", sock, c.view); code != 0 || out2 != out {
				t.Errorf("--socket before the view: exit %d, other output", code)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			path := filepath.Join("../../testdata/golden", "pim6stat-"+c.view+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (-want +got):\n%s", path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(out, "\n")))
			}
		})
	}
}

func TestViewsEmpty(t *testing.T) {
	sock := daemon(t, ctltest.Empty())
	for view, want := range map[string]string{
		"interfaces": "no interfaces\n\nCOUNTERS\nnone\n",
		"neighbors":  "no PIM neighbors\n",
		"mld":        "QUERIERS\nnone\n\nGROUPS\nnone\n",
		"routes":     "no routing entries (0 installed in the kernel)\n",
		"rp":         "BSR            none\ncandidate BSR  not configured\ncandidate RP   not configured\n\nno RP mappings\n",
		"kernel":     "Kernel audit\n  last  none yet\n  runs  0  repaired in all: nothing; errors 0\n",
	} {
		t.Run(view, func(t *testing.T) {
			code, out, errOut := runPim6stat(view, "--socket", sock)
			if code != 0 || out != want {
				t.Errorf("exit %d, stderr %q, output %q; want %q", code, errOut, out, want)
			}
		})
	}
}

// Each view's --json is its part of the snapshot, under the snapshot's
// own keys, with the schema version.
func TestViewsJSON(t *testing.T) {
	snap := ctltest.Rich()
	sock := daemon(t, snap)
	var whole map[string]json.RawMessage
	_, out, _ := runPim6stat("--json", "--socket", sock)
	if err := json.Unmarshal([]byte(out), &whole); err != nil {
		t.Fatal(err)
	}
	for view, keys := range map[string][]string{
		"interfaces": {"interfaces", "counters", "limits"},
		"neighbors":  {"neighbors"},
		"mld":        {"queriers", "groups"},
		"routes":     {"routes", "cache_mirrors"},
		"rp":         {"rp_set", "anycast_rp"},
	} {
		for _, args := range [][]string{{view, "--json"}, {"--json", view}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := runPim6stat(append(args, "--socket", sock)...)
				if code != 0 {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
				var got map[string]json.RawMessage
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, out)
				}
				if len(got) != len(keys)+1 || string(got["schema_version"]) != "1" {
					t.Errorf("keys %v, want schema_version and %v", mapKeys(got), keys)
				}
				for _, k := range keys {
					var a, b any
					json.Unmarshal(whole[k], &a)
					json.Unmarshal(got[k], &b)
					if !cmp.Equal(a, b) {
						t.Errorf("%q differs from the whole snapshot's", k)
					}
				}
			})
		}
	}
	// A neighbor's details are there.
	_, out, _ = runPim6stat("neighbors", "--json", "--socket", sock)
	var doc struct {
		Neighbors []ctl.Neighbor `json:"neighbors"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snap.Neighbors, doc.Neighbors, ctltest.CmpOptions); diff != "" {
		t.Errorf("neighbors (-served +printed):\n%s", diff)
	}
}

func mapKeys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// Without a daemon every state command says where it looked and why it
// failed, and exits 1.
func TestDaemonNotRunning(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none.sock")
	stale := ctltest.SocketPath(t)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	for _, c := range []struct {
		name, sock, want string
	}{
		{"no socket", none, "pim6stat: cannot reach pim6sd at " + none + ": is the daemon running? (no such file or directory)\n"},
		{"connection refused", stale, "pim6stat: cannot reach pim6sd at " + stale + ": is the daemon running? (connection refused)\n"},
	} {
		for _, args := range [][]string{{}, {"--json"}, {"interfaces"}, {"neighbors"}, {"mld"}, {"routes"}, {"rp"}} {
			t.Run(c.name+" "+strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := runPim6stat(append(args, "--socket", c.sock)...)
				if code != 1 || errOut != c.want || out != "" {
					t.Fatalf("exit %d, stderr %q, stdout %q; want exit 1, stderr %q", code, errOut, out, c.want)
				}
			})
		}
	}
	t.Run("permission denied", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root connects whatever the socket's mode; ctl's TestClientUnreachable checks the message")
		}
		sock := daemon(t, ctltest.Seed())
		os.Chmod(sock, 0)
		code, _, errOut := runPim6stat("--socket", sock)
		want := "pim6stat: cannot reach pim6sd at " + sock + ": permission denied (the control socket is root's only: run as root)\n"
		if code != 1 || errOut != want {
			t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
		}
	})
	t.Run("default socket", func(t *testing.T) {
		if _, err := os.Stat(ctl.DefaultSocketPath); err == nil {
			t.Skip("a daemon's socket is at the default path")
		}
		code, _, errOut := runPim6stat()
		if want := "pim6stat: cannot reach pim6sd at /var/run/pim6sd.sock: is the daemon running? ("; code != 1 || !strings.HasPrefix(errOut, want) {
			t.Fatalf("exit %d, stderr %q; want %q...", code, errOut, want)
		}
	})
}

func TestDaemonErrors(t *testing.T) {
	sock := daemonWith(t, ctl.Handler{Snapshot: func(context.Context, ctl.Query) (*ctl.Snapshot, error) { return nil, errors.New("loop stopped") }})
	code, out, errOut := runPim6stat("--socket", sock)
	if want := "pim6stat: pim6sd: snapshot: loop stopped\n"; code != 1 || errOut != want || out != "" {
		t.Errorf("exit %d, stderr %q; want %q", code, errOut, want)
	}
	bad := &ctl.Snapshot{SchemaVersion: ctl.SchemaVersion, Routes: []ctl.Route{{Kind: "(S,G,rpt)"}}}
	code, out, errOut = runPim6stat("--socket", daemon(t, bad))
	if want := "pim6stat: ctl: route 0: unknown kind \"(S,G,rpt)\"\n"; code != 1 || errOut != want || out != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want %q", code, errOut, out, want)
	}
	newer := &ctl.Snapshot{SchemaVersion: 2}
	code, _, errOut = runPim6stat("--socket", daemon(t, newer))
	if want := "pim6stat: pim6sd speaks snapshot schema version 2, this pim6stat version 1: use the pim6stat of the same release as the daemon\n"; code != 1 || errOut != want {
		t.Errorf("exit %d, stderr %q; want %q", code, errOut, want)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, "pim6stat: unknown command \"bogus\" (see pim6stat --help)\n"},
		{[]string{"neighbors", "extra"}, "pim6stat neighbors: takes no argument (got \"extra\")\n"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errOut := runPim6stat(c.args...)
			if code != 2 || errOut != c.want {
				t.Errorf("exit %d, stderr %q; want exit 2, %q", code, errOut, c.want)
			}
		})
	}
}
