package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

func fixedExplain() *ctl.Explain {
	a := netip.MustParseAddr
	return &ctl.Explain{
		Source: a("2001:db8:1::10"), Group: a("ff3e::4321:1234"), Mode: "ssm",
		RPF: []ctl.ExplainRPF{{Target: ctl.RPFTargetSource, Address: a("2001:db8:1::10"), Found: true,
			Prefix: netip.MustParsePrefix("2001:db8:1::/64"), NextHop: a("fe80::1"), Interface: "to-r1", Metric: 1024, PIM: true}},
		Interfaces: []ctl.ExplainInterface{
			{Name: "to-r1", MIF: 0, PIM: true, DR: a("fe80::2"), DRSelf: true, State: ctl.DownstreamUpstream},
			{Name: "to-rcv", MIF: 1, PIM: true, DR: a("fe80::1"), Listeners: "include", ListenerSources: []netip.Addr{a("2001:db8:1::10")},
				ListenersWant: true, State: ctl.DownstreamNotDR},
		},
		Steps: []ctl.ExplainStep{
			{Section: ctl.SectionGroup, Check: ctl.CheckGroup, Verdict: ctl.VerdictOK, Reason: "ff3e::4321:1234 is an SSM group (in ff3e::/16)"},
			{Section: ctl.SectionUpstream, Check: ctl.CheckRouteSource, Verdict: ctl.VerdictOK, Interface: "to-r1", Reason: "route to the source 2001:db8:1::10: 2001:db8:1::/64 via fe80::1 dev to-r1 metric 1024"},
			{Section: ctl.SectionUpstream, Check: ctl.CheckUpstreamNbr, Verdict: ctl.VerdictProblem, Interface: "to-r1", Reason: "no PIM neighbor upstream on to-r1 (next hop fe80::1 sends no PIM Hellos)"},
			{Section: ctl.SectionDownstream, Check: ctl.CheckDownstream, Verdict: ctl.VerdictInfo, Interface: "to-r1", Reason: "to-r1 is the incoming (RPF) interface of the flow"},
			{Section: ctl.SectionDownstream, Check: ctl.CheckDownstream, Verdict: ctl.VerdictProblem, Interface: "to-rcv", Reason: "receiver on a link where this router is not DR (DR is fe80::1)"},
			{Section: ctl.SectionKernel, Check: ctl.CheckMFC, Verdict: ctl.VerdictInfo, Reason: "no kernel entry for the flow"},
		},
		Verdict: ctl.ExplainVerdict{Problems: 2, Summary: "not forwarding: no PIM neighbor upstream on to-r1 (next hop fe80::1 sends no PIM Hellos)"},
	}
}

func TestWriteExplain(t *testing.T) {
	var b bytes.Buffer
	if err := writeExplain(&b, fixedExplain()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"explain (2001:db8:1::10,ff3e::4321:1234): SSM\n",
		"\nGROUP\n  ok       ff3e::4321:1234 is an SSM group (in ff3e::/16)\n",
		"\nUPSTREAM\n  ok       route to the source 2001:db8:1::10: 2001:db8:1::/64 via fe80::1 dev to-r1 metric 1024\n" +
			"  PROBLEM  no PIM neighbor upstream on to-r1 (next hop fe80::1 sends no PIM Hellos)\n",
		"  PROBLEM  to-rcv: receiver on a link where this router is not DR (DR is fe80::1)\n",
		"  INTERFACE", "  to-rcv     1    yes  fe80::1  include {2001:db8:1::10}  -      not-dr\n",
		"  to-r1      0    yes  us ",
		"\nKERNEL\n  info     no kernel entry for the flow\n",
		"\nVERDICT: not forwarding: no PIM neighbor upstream on to-r1 (next hop fe80::1 sends no PIM Hellos)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PIM STATE") {
		t.Errorf("a section without steps is printed:\n%s", out)
	}
}

func TestExplainArgs(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		src, grp string
		json     bool
		err      string
	}{
		{args: []string{"2001:db8::1", "ff3e::1"}, src: "2001:db8::1", grp: "ff3e::1"},
		{args: []string{"ff0e::1"}, grp: "ff0e::1"},
		{args: []string{"ff0e::1", "--json"}, grp: "ff0e::1", json: true},
		{args: nil, err: "give SOURCE GROUP, or GROUP alone for (*,G) (got 0 arguments)"},
		{args: []string{"a", "b", "c"}, err: "got 3 arguments"},
		{args: []string{"ff3e::1", "2001:db8::1"}, err: "give SOURCE GROUP, in that order"},
		{args: []string{"2001:db8::1"}, err: "group 2001:db8::1 is not a multicast address"},
		{args: []string{"2001:db8::zz", "ff3e::1"}, err: `source "2001:db8::zz" is not an IPv6 address`},
	} {
		src, grp, js, err := explainArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if (tc.src == "") == src.IsValid() || src.IsValid() && src.String() != tc.src || grp.String() != tc.grp || js != tc.json {
			t.Errorf("%q: %v %v %v", tc.args, src, grp, js)
		}
	}
}

func TestExplainErrors(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	// A bad address is refused before any daemon is asked: exit 2, and
	// no word about the (absent) daemon.
	code, out, errOut := runPim6stat("explain", "--socket", sock, "2001:db8::1")
	if code != 2 || out != "" || !strings.Contains(errOut, "pim6stat explain: group 2001:db8::1 is not a multicast address") || strings.Contains(errOut, "daemon") {
		t.Errorf("bad group: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runPim6stat("explain", "--socket", sock, "2001:db8::1", "ff3e::1")
	if code != 1 || !strings.Contains(errOut, "cannot reach pim6sd at "+sock+": is the daemon running?") {
		t.Errorf("no daemon: exit %d, stderr %q", code, errOut)
	}
}

func TestExplainAgainstServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	var asked []string
	srv, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{Explain: func(_ context.Context, s, g netip.Addr) (*ctl.Explain, error) {
		asked = append(asked, s.String()+" "+g.String())
		return fixedExplain(), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })

	code, out, errOut := runPim6stat("--socket", path, "explain", "--json", "2001:db8:1::10", "ff3e::4321:1234")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var e ctl.Explain
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if e.Verdict.Problems != 2 || len(e.Steps) != 6 || e.Steps[2].Check != ctl.CheckUpstreamNbr || e.Interfaces[1].State != ctl.DownstreamNotDR {
		t.Errorf("JSON round trip: %+v", e)
	}
	code, out, _ = runPim6stat("explain", "--socket", path, "ff0e::1")
	if code != 0 || !strings.Contains(out, "VERDICT: not forwarding") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
	if len(asked) != 2 || asked[0] != "2001:db8:1::10 ff3e::4321:1234" || asked[1] != "invalid IP ff0e::1" {
		t.Errorf("asked %q", asked)
	}
}
