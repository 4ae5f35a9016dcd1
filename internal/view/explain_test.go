package view

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// fakeKernel is the kernel's routing table (routes; everything else: no
// route) and its forwarding entries' counters (counts; everything else:
// not installed).
type fakeKernel struct {
	routes map[netip.Addr]kernel.Route
	counts map[[2]netip.Addr]kernel.SGCounters
}

func (k *fakeKernel) RouteTo(a netip.Addr) (kernel.Route, error) {
	if r, ok := k.routes[a]; ok {
		return r, nil
	}
	return kernel.Route{}, kernel.ErrNoRoute
}

func (k *fakeKernel) SGCount(src, grp netip.Addr) (kernel.SGCounters, error) {
	if c, ok := k.counts[[2]netip.Addr{src, grp}]; ok {
		return c, nil
	}
	return kernel.SGCounters{}, kernel.ErrNoMFC
}

// pimConfig is the PIM configuration of a daemon with no configuration
// file.
func pimConfig() pim.Config {
	pc := pim.DefaultConfig()
	pc.Rand = func() uint32 { return 4 }
	return pc
}

// newState is the state of a router with engines of configuration pc and
// no interfaces, at now, reading kernel k.
func newState(t *testing.T, now time.Time, pc pim.Config, k Lookup) *State {
	t.Helper()
	var ids timerq.IDs
	p, err := pim.New(&ids, pc)
	if err != nil {
		t.Fatal(err)
	}
	return &State{Now: now, MLD: mld.New(&ids), PIM: p, MRIB: mrib.New(), Kernel: k}
}

func stepOf(e *ctl.Explain, check string) (ctl.ExplainStep, bool) {
	for _, s := range e.Steps {
		if s.Check == check {
			return s, true
		}
	}
	return ctl.ExplainStep{}, false
}

func TestExplainWithoutTopology(t *testing.T) {
	rp := netip.MustParseAddr("2001:db8:ff::2")
	withRP := pimConfig()
	withRP.RPs = []pim.StaticRP{{Addr: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	withOverride := pimConfig()
	withOverride.RPs = []pim.StaticRP{{Addr: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}, Override: true}}
	embedded := pimConfig()
	embedded.EmbeddedRP = true
	src := netip.MustParseAddr("2001:db8:1::10")
	for _, tc := range []struct {
		name        string
		cfg         pim.Config
		src, grp    string
		mode        string
		check       string
		verdict     ctl.Verdict
		reason      string
		summaryPart string
	}{
		{"link-scope group", pimConfig(), "", "ff02::1:3", "invalid", ctl.CheckGroup, ctl.VerdictProblem, "never routed", "not forwarding: ff02::1:3 has scope 2"},
		{"SSM without a source", pimConfig(), "", "ff3e::1", "ssm", ctl.CheckGroup, ctl.VerdictProblem, "receivers must name a source", "not forwarding: ff3e::1 is an SSM group"},
		{"SSM no route", pimConfig(), src.String(), "ff3e::1", "ssm", ctl.CheckRouteSource, ctl.VerdictProblem, "no route to the source 2001:db8:1::10", "not forwarding: no route to the source 2001:db8:1::10"},
		{"ASM no RP", pimConfig(), "", "ff0e::1", "asm", ctl.CheckRP, ctl.VerdictProblem, "no RP for the group (no static RP configured, no BSR known)", "not forwarding: no RP for the group"},
		{"ASM static RP", withRP, "", "ff0e::1", "asm", ctl.CheckRP, ctl.VerdictOK, "RP 2001:db8:ff::2 (static mapping)", "not forwarding: no route to the RP 2001:db8:ff::2"},
		{"ASM static override", withOverride, "", "ff0e::1", "asm", ctl.CheckRP, ctl.VerdictOK, "RP 2001:db8:ff::2 (static mapping with override)", ""},
		{"ASM embedded RP", embedded, "", "ff7e:140:2001:db8:ff::1234", "asm", ctl.CheckRP, ctl.VerdictOK, "RP 2001:db8:ff::1 (embedded in the group address", ""},
		{"ASM static RP does not cover", withRP, "", "ff05::1", "asm", ctl.CheckRP, ctl.VerdictProblem, "no static RP covers it", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s netip.Addr
			if tc.src != "" {
				s = netip.MustParseAddr(tc.src)
			}
			e := Explain(newState(t, time.Unix(1000, 0), tc.cfg, &fakeKernel{}), s, netip.MustParseAddr(tc.grp))
			if e.Mode != tc.mode {
				t.Errorf("mode %q, want %q", e.Mode, tc.mode)
			}
			st, ok := stepOf(e, tc.check)
			if !ok {
				t.Fatalf("no %s step: %+v", tc.check, e.Steps)
			}
			if st.Verdict != tc.verdict || !strings.Contains(st.Reason, tc.reason) {
				t.Errorf("%s step: %s %q, want %s containing %q", tc.check, st.Verdict, st.Reason, tc.verdict, tc.reason)
			}
			if e.Verdict.Forwarding || !strings.HasPrefix(e.Verdict.Summary, "not forwarding") || !strings.Contains(e.Verdict.Summary, tc.summaryPart) {
				t.Errorf("verdict %+v, want not forwarding with %q", e.Verdict, tc.summaryPart)
			}
		})
	}
}

// A route through an interface the daemon does not run PIM on.
func TestExplainRPFInterfaceWithoutPIM(t *testing.T) {
	src := netip.MustParseAddr("2001:db8:1::10")
	k := &fakeKernel{routes: map[netip.Addr]kernel.Route{src: {
		Dst: netip.MustParsePrefix("2001:db8:1::/64"), Gateway: netip.MustParseAddr("fe80::1"), LinkIndex: 7, Metric: 1024,
	}}}
	st := newState(t, time.Unix(1000, 0), pimConfig(), k)
	st.Interfaces = []Interface{{Index: 7, Name: "eth7"}}
	e := Explain(st, src, netip.MustParseAddr("ff3e::1"))
	route, _ := stepOf(e, ctl.CheckRouteSource)
	if route.Verdict != ctl.VerdictOK || route.Reason != "route to the source 2001:db8:1::10: 2001:db8:1::/64 via fe80::1 dev eth7 metric 1024" {
		t.Errorf("route step %+v", route)
	}
	pimStep, _ := stepOf(e, ctl.CheckRPFInterface)
	if pimStep.Verdict != ctl.VerdictProblem || pimStep.Interface != "eth7" || !strings.Contains(pimStep.Reason, "PIM does not run on eth7") {
		t.Errorf("rpf-interface step %+v", pimStep)
	}
	if len(e.RPF) != 1 || !e.RPF[0].Found || e.RPF[0].NextHop != netip.MustParseAddr("fe80::1") || e.RPF[0].Interface != "eth7" || e.RPF[0].PIM {
		t.Errorf("rpf %+v", e.RPF)
	}
	if mrib, _ := stepOf(e, ctl.CheckMRIB); mrib.Verdict != ctl.VerdictOK {
		t.Errorf("mrib step %+v", mrib)
	}
}
