package daemon

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
)

// explainKernel is a kernel with no interfaces whose routing table is
// routes (everything else: no route).
type explainKernel struct {
	routes map[netip.Addr]kernel.Route
}

func (k *explainKernel) Links() ([]kernel.Link, error)                                  { return nil, nil }
func (k *explainKernel) Addrs() ([]kernel.Addr, error)                                  { return nil, nil }
func (k *explainKernel) AddMIF(int) (kernel.MIF, error)                                 { return 0, nil }
func (k *explainKernel) DelMIF(kernel.MIF) error                                        { return nil }
func (k *explainKernel) AddRegisterMIF() (kernel.MIF, error)                            { return 0, nil }
func (k *explainKernel) EnablePIM(bool) error                                           { return nil }
func (k *explainKernel) JoinMLD(int) error                                              { return nil }
func (k *explainKernel) LeaveMLD(int) error                                             { return nil }
func (k *explainKernel) SendMLD([]byte, int, netip.Addr, netip.Addr) error              { return nil }
func (k *explainKernel) JoinPIM(int) error                                              { return nil }
func (k *explainKernel) LeavePIM(int) error                                             { return nil }
func (k *explainKernel) SendPIM([]byte, int, netip.Addr, netip.Addr) error              { return nil }
func (k *explainKernel) SetMFC(netip.Addr, netip.Addr, kernel.MIF, kernel.MIFSet) error { return nil }
func (k *explainKernel) DelMFC(netip.Addr, netip.Addr) error                            { return nil }
func (k *explainKernel) Start(func(Input)) error                                        { return nil }
func (k *explainKernel) Close() error                                                   { return nil }
func (k *explainKernel) SGCount(netip.Addr, netip.Addr) (kernel.SGCounters, error) {
	return kernel.SGCounters{}, kernel.ErrNoMFC
}

func (k *explainKernel) RouteTo(a netip.Addr) (kernel.Route, error) {
	if r, ok := k.routes[a]; ok {
		return r, nil
	}
	return kernel.Route{}, kernel.ErrNoRoute
}

func explainDaemon(t *testing.T, c *conf.Config, k *explainKernel) *Daemon {
	t.Helper()
	d, err := New(c, k, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return d
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
	withRP := conf.Default()
	withRP.RPs = []conf.RP{{Address: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	withOverride := conf.Default()
	withOverride.RPs = []conf.RP{{Address: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}, Override: true}}
	embedded := conf.Default()
	embedded.EmbeddedRP.Enable = true
	src := netip.MustParseAddr("2001:db8:1::10")
	for _, tc := range []struct {
		name        string
		cfg         *conf.Config
		src, grp    string
		mode        string
		check       string
		verdict     ctl.Verdict
		reason      string
		summaryPart string
	}{
		{"link-scope group", conf.Default(), "", "ff02::1:3", "invalid", ctl.CheckGroup, ctl.VerdictProblem, "never routed", "not forwarding: ff02::1:3 has scope 2"},
		{"SSM without a source", conf.Default(), "", "ff3e::1", "ssm", ctl.CheckGroup, ctl.VerdictProblem, "receivers must name a source", "not forwarding: ff3e::1 is an SSM group"},
		{"SSM no route", conf.Default(), src.String(), "ff3e::1", "ssm", ctl.CheckRouteSource, ctl.VerdictProblem, "no route to the source 2001:db8:1::10", "not forwarding: no route to the source 2001:db8:1::10"},
		{"ASM no RP", conf.Default(), "", "ff0e::1", "asm", ctl.CheckRP, ctl.VerdictProblem, "no RP for the group (no static RP configured, no BSR known)", "not forwarding: no RP for the group"},
		{"ASM static RP", withRP, "", "ff0e::1", "asm", ctl.CheckRP, ctl.VerdictOK, "RP 2001:db8:ff::2 (static mapping)", "not forwarding: no route to the RP 2001:db8:ff::2"},
		{"ASM static override", withOverride, "", "ff0e::1", "asm", ctl.CheckRP, ctl.VerdictOK, "RP 2001:db8:ff::2 (static mapping with override)", ""},
		{"ASM embedded RP", embedded, "", "ff7e:140:2001:db8:ff::1234", "asm", ctl.CheckRP, ctl.VerdictOK, "RP 2001:db8:ff::1 (embedded in the group address", ""},
		{"ASM static RP does not cover", withRP, "", "ff05::1", "asm", ctl.CheckRP, ctl.VerdictProblem, "no static RP covers it", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := explainDaemon(t, tc.cfg, &explainKernel{})
			var s netip.Addr
			if tc.src != "" {
				s = netip.MustParseAddr(tc.src)
			}
			e := d.ExplainAt(time.Unix(1000, 0), s, netip.MustParseAddr(tc.grp))
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
	k := &explainKernel{routes: map[netip.Addr]kernel.Route{src: {
		Dst: netip.MustParsePrefix("2001:db8:1::/64"), Gateway: netip.MustParseAddr("fe80::1"), LinkIndex: 7, Metric: 1024,
	}}}
	d := explainDaemon(t, conf.Default(), k)
	d.ifs[7] = &iface{index: 7, name: "eth7"}
	e := d.ExplainAt(time.Unix(1000, 0), src, netip.MustParseAddr("ff3e::1"))
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
