package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// explainJSON runs `pim6stat explain --json ARGS` against d.
func (d *daemon) explainJSON(args ...string) (*ctl.Explain, error) {
	out, err := d.pim6stat(append([]string{"explain", "--json"}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var e ctl.Explain
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		return nil, fmt.Errorf("pim6stat explain --json: %v\n%s", err, out)
	}
	return &e, nil
}

// explainText runs `pim6stat explain ARGS` against d.
func (d *daemon) explainText(args ...string) string {
	d.t.Helper()
	out, err := d.pim6stat(append([]string{"explain"}, args...)...)
	if err != nil {
		d.t.Fatalf("pim6stat explain %v: %v\n%s", args, err, out)
	}
	return out
}

// waitExplain asks until cond holds for the answer, and returns it.
func (d *daemon) waitExplain(within time.Duration, what string, cond func(*ctl.Explain) bool, args ...string) *ctl.Explain {
	d.t.Helper()
	start := time.Now()
	var last *ctl.Explain
	var lastErr error
	for {
		e, err := d.explainJSON(args...)
		if err == nil {
			last = e
			if cond(e) {
				return e
			}
		}
		lastErr = err
		if time.Since(start) > within {
			b, _ := json.MarshalIndent(last, "", " ")
			d.t.Fatalf("%s: not within %v (in %s); last error %v; last answer:\n%s\nlog:\n%s", what, within, d.ns.Name, lastErr, b, d.proc.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// explainStep is the first step of check (on ifname, when given).
func explainStep(e *ctl.Explain, check, ifname string) (ctl.ExplainStep, bool) {
	for _, s := range e.Steps {
		if s.Check == check && (ifname == "" || s.Interface == ifname) {
			return s, true
		}
	}
	return ctl.ExplainStep{}, false
}

func explainIface(e *ctl.Explain, name string) ctl.ExplainInterface {
	for _, i := range e.Interfaces {
		if i.Name == name {
			return i
		}
	}
	return ctl.ExplainInterface{}
}

// wantStep checks that the step exists with the verdict and a reason
// containing reason.
func wantStep(t *testing.T, e *ctl.Explain, check, ifname string, v ctl.Verdict, reason string) {
	t.Helper()
	s, ok := explainStep(e, check, ifname)
	if !ok {
		b, _ := json.MarshalIndent(e.Steps, "", " ")
		t.Errorf("no %s step (interface %q); steps:\n%s", check, ifname, b)
		return
	}
	if s.Verdict != v || !strings.Contains(s.Reason, reason) {
		t.Errorf("%s step (%s): %s %q, want %s containing %q", check, ifname, s.Verdict, s.Reason, v, reason)
	}
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	t.Logf("pim6stat explain:\n%s", text)
	for _, l := range lines {
		if !strings.Contains(text, l) {
			t.Errorf("explain text lacks %q:\n%s", l, text)
		}
	}
}

// One router, a receiver joined to (S,G), the source sending: every check
// passes and the verdict is "forwarding to to-rcv", with the kernel's
// counters.
func TestExplainSSMForwarding(t *testing.T) {
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 5100)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 5*time.Second, "the (S,G) installed", func(r mroute, ok bool) bool { return ok })
	s := newSender(t, tp.snd, "eth0", ssmGrp, 5100)
	for i := 0; i < 10; i++ {
		s.send(t, fmt.Sprintf("p%d", i))
	}
	e := d.waitExplain(5*time.Second, "the flow forwarded with its packets counted", func(e *ctl.Explain) bool {
		return e.Verdict.Forwarding && len(e.Kernel) == 1 && e.Kernel[0].Packets >= 10
	}, srcAddr, ssmGrp)

	if e.Mode != "ssm" || e.RP != nil {
		t.Errorf("mode %q, rp %+v", e.Mode, e.RP)
	}
	wantStep(t, e, ctl.CheckGroup, "", ctl.VerdictOK, "ff3e::4321:1234 is an SSM group")
	wantStep(t, e, ctl.CheckRouteSource, "to-snd", ctl.VerdictOK, "the source 2001:db8:1::10 is directly connected: route 2001:db8:1::/64 dev to-snd")
	wantStep(t, e, ctl.CheckFirstHop, "to-snd", ctl.VerdictInfo, "the source is on to-snd: this router is a first-hop router and the DR there")
	wantStep(t, e, ctl.CheckDownstream, "to-snd", ctl.VerdictInfo, "to-snd is the incoming (RPF) interface")
	wantStep(t, e, ctl.CheckDownstream, "to-rcv", ctl.VerdictOK, "forwards here: MLD listeners (include {2001:db8:1::10})")
	wantStep(t, e, ctl.CheckEntry, "", ctl.VerdictInfo, "(S,G): upstream")
	wantStep(t, e, ctl.CheckMFC, "to-snd", ctl.VerdictOK, "installed: iif to-snd, oifs to-rcv; ")
	wantStep(t, e, ctl.CheckMRIB, "", ctl.VerdictOK, "the kernel holds the desired forwarding (iif to-snd, oifs to-rcv)")
	if e.Verdict.Summary != "forwarding to to-rcv" || e.Verdict.Problems != 0 {
		t.Errorf("verdict %+v", e.Verdict)
	}
	if i := explainIface(e, "to-rcv"); !i.Forwards || !i.DRSelf || i.Listeners != "include" || !i.ListenersWant || i.State != ctl.DownstreamForwards {
		t.Errorf("to-rcv: %+v", i)
	}
	if k := e.Kernel[0]; !k.Installed || !k.Consistent || k.IIF != "to-snd" || len(k.OIFs) != 1 || k.OIFs[0] != "to-rcv" {
		t.Errorf("kernel: %+v", k)
	}
	if len(e.RPF) != 1 || !e.RPF[0].Connected || e.RPF[0].Interface != "to-snd" || e.RPF[0].Prefix.String() != "2001:db8:1::/64" {
		t.Errorf("rpf: %+v", e.RPF)
	}

	wantLines(t, d.explainText(srcAddr, ssmGrp),
		"explain (2001:db8:1::10,ff3e::4321:1234): SSM\n",
		"  ok       ff3e::4321:1234 is an SSM group",
		"  ok       to-rcv: forwards here: MLD listeners (include {2001:db8:1::10})\n",
		"  ok       installed: iif to-snd, oifs to-rcv; ",
		"\nVERDICT: forwarding to to-rcv\n")
}

// RP (r1, the RP address on its loopback) -- r2 -- receiver, a static RP:
// r2 joins (*,G) toward the RP through its PIM neighbor and forwards to the
// receiver; r1 says it is the RP and forwards toward r2 for its Join.
func TestExplainASMStaticRP(t *testing.T) {
	r1, r2, rcv := router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-rcv", "fe80::2", "2001:db8:2::2/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	r1.AddAddr("lo", rpAddr+"/128")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "eth0")
	r2.MustRun("ip", "-6", "route", "add", rpAddr+"/128", "via", "fe80::1", "dev", "to-r1")
	r1.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::2", "dev", "to-r2")
	d1 := startPim6sd(t, r1, asmConf(""))
	d2 := startPim6sd(t, r2, asmConf(""))
	d2.waitFor(10*time.Second, "r2 sees r1", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r1", "fe80::1") })

	joinASM(t, rcv, "eth0", asmGrp, 5101)
	e := d2.waitExplain(10*time.Second, "r2 forwards (*,G)", func(e *ctl.Explain) bool {
		for _, en := range e.Entries {
			if en.Kind == "(*,G)" && en.Upstream == "Joined" {
				return e.Verdict.Forwarding
			}
		}
		return false
	}, asmGrp)
	if e.Mode != "asm" || e.RP == nil || e.RP.Origin != ctl.RPOriginStatic || e.RP.Address.String() != rpAddr || e.RP.Self {
		t.Errorf("mode %q, rp %+v", e.Mode, e.RP)
	}
	wantStep(t, e, ctl.CheckGroup, "", ctl.VerdictInfo, "ff0e::4321:99 is an ASM group")
	wantStep(t, e, ctl.CheckRP, "", ctl.VerdictOK, "RP 2001:db8:ff::2 (static mapping)")
	wantStep(t, e, ctl.CheckRouteRP, "to-r1", ctl.VerdictOK, "route to the RP 2001:db8:ff::2: 2001:db8:ff::2/128 via fe80::1 dev to-r1")
	wantStep(t, e, ctl.CheckRPFInterface, "to-r1", ctl.VerdictOK, "PIM runs on to-r1")
	wantStep(t, e, ctl.CheckUpstreamNbr, "to-r1", ctl.VerdictOK, "PIM neighbor fe80::1 upstream on to-r1")
	wantStep(t, e, ctl.CheckDownstream, "to-rcv", ctl.VerdictOK, "forwards here: MLD listeners (exclude {})")
	wantStep(t, e, ctl.CheckEntry, "", ctl.VerdictInfo, "(*,G): upstream Joined, RPF' fe80::1 on to-r1")
	if e.Verdict.Summary != "forwarding to to-rcv" {
		t.Errorf("verdict %+v", e.Verdict)
	}

	e1 := d1.waitExplain(10*time.Second, "the RP forwards toward r2", func(e *ctl.Explain) bool { return e.Verdict.Forwarding }, asmGrp)
	if e1.RP == nil || !e1.RP.Self {
		t.Errorf("r1: rp %+v", e1.RP)
	}
	wantStep(t, e1, ctl.CheckRP, "", ctl.VerdictOK, "RP 2001:db8:ff::2 (static mapping); this router is the RP")
	wantStep(t, e1, ctl.CheckRouteRP, "", ctl.VerdictInfo, "this router is the RP 2001:db8:ff::2")
	wantStep(t, e1, ctl.CheckDownstream, "to-r2", ctl.VerdictOK, "forwards here: a downstream PIM Join (neighbors: fe80::2)")
	if j := explainIface(e1, "to-r2").Joins; len(j) != 1 || j[0].Kind != "(*,G)" || j[0].State != "Join" || j[0].ExpiryLeft <= 0 {
		t.Errorf("r1 to-r2 joins %+v", j)
	}
	if e1.Verdict.Summary != "forwarding to to-r2" {
		t.Errorf("r1 verdict %+v", e1.Verdict)
	}
	wantLines(t, d2.explainText(asmGrp),
		"explain (*,ff0e::4321:99): ASM\n",
		"  ok       RP 2001:db8:ff::2 (static mapping)\n",
		"  ok       PIM neighbor fe80::1 upstream on to-r1\n",
		"\nVERDICT: forwarding to to-rcv\n")
}

// A receiver joined to a source the router has no route to.
func TestExplainNoRouteToSource(t *testing.T) {
	const far = "2001:db8:99::10"
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	joinSSM(t, tp.rcv, "eth0", far, ssmGrp, 5102)
	e := d.waitExplain(5*time.Second, "the receiver seen", func(e *ctl.Explain) bool { return explainIface(e, "to-rcv").ListenersWant }, far, ssmGrp)
	wantStep(t, e, ctl.CheckRouteSource, "", ctl.VerdictProblem, "no route to the source 2001:db8:99::10")
	if len(e.RPF) != 1 || e.RPF[0].Found {
		t.Errorf("rpf %+v", e.RPF)
	}
	if e.Verdict.Forwarding || e.Verdict.Summary != "not forwarding: no route to the source 2001:db8:99::10" {
		t.Errorf("verdict %+v", e.Verdict)
	}
	wantLines(t, d.explainText(far, ssmGrp),
		"  PROBLEM  no route to the source 2001:db8:99::10\n",
		"\nVERDICT: not forwarding: no route to the source 2001:db8:99::10\n")
}

// sender -- r1 -- r2 -- receiver with pim6sd on r2 only: the route toward
// the source leads to a router that speaks no PIM.
func TestExplainNoUpstreamNeighbor(t *testing.T) {
	snd, r1, r2, rcv := newNS(t, "snd"), router(t, "r1"), router(t, "r2"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	d2 := startPim6sd(t, r2, "")
	joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 5103)
	e := d2.waitExplain(5*time.Second, "the receiver seen", func(e *ctl.Explain) bool { return explainIface(e, "to-rcv").ListenersWant }, srcAddr, ssmGrp)
	wantStep(t, e, ctl.CheckRouteSource, "to-r1", ctl.VerdictOK, "2001:db8:1::/64 via fe80::1 dev to-r1")
	wantStep(t, e, ctl.CheckRPFInterface, "to-r1", ctl.VerdictOK, "PIM runs on to-r1")
	wantStep(t, e, ctl.CheckUpstreamNbr, "to-r1", ctl.VerdictProblem, "no PIM neighbor upstream on to-r1")
	wantStep(t, e, ctl.CheckEntry, "", ctl.VerdictProblem, "wants to join toward the source but RPF'(S,G) is NULL")
	if e.Verdict.Forwarding || !strings.HasPrefix(e.Verdict.Summary, "not forwarding: no PIM neighbor upstream on to-r1") {
		t.Errorf("verdict %+v", e.Verdict)
	}
	wantLines(t, d2.explainText(srcAddr, ssmGrp),
		"  PROBLEM  no PIM neighbor upstream on to-r1",
		"\nVERDICT: not forwarding: no PIM neighbor upstream on to-r1")
}

// A LAN with two routers toward the receiver: the non-DR says the
// receiver is on a link where it is not the DR, and who is.
func TestExplainReceiverNotDR(t *testing.T) {
	_, r1, r2, rcv := twoRouterLANs(t)
	hello := "hello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n"
	d1 := startPim6sd(t, r1, "[pim]\n"+hello+"[[interface]]\nname = \"to-rcv\"\n[interface.pim]\ndr-priority = 100\n")
	d2 := startPim6sd(t, r2, "[pim]\n"+hello)
	d2.waitFor(10*time.Second, "R1 is DR on the receiver LAN", func(s *ctl.Snapshot) bool {
		dr, _ := drOn(s, "to-rcv")
		return dr == "fe80::1"
	})

	joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 5104)
	e := d2.waitExplain(5*time.Second, "the non-DR sees the receiver", func(e *ctl.Explain) bool { return explainIface(e, "to-rcv").ListenersWant }, srcAddr, ssmGrp)
	wantStep(t, e, ctl.CheckDownstream, "to-rcv", ctl.VerdictProblem, "receiver on a link where this router is not DR (DR is fe80::1)")
	if i := explainIface(e, "to-rcv"); i.State != ctl.DownstreamNotDR || i.Forwards || i.DRSelf || i.DR.String() != "fe80::1" {
		t.Errorf("to-rcv %+v", i)
	}
	if e.Verdict.Forwarding || e.Verdict.Summary != "not forwarding: receiver on a link where this router is not DR (DR is fe80::1)" {
		t.Errorf("verdict %+v", e.Verdict)
	}
	wantLines(t, d2.explainText(srcAddr, ssmGrp),
		"  PROBLEM  to-rcv: receiver on a link where this router is not DR (DR is fe80::1)\n",
		"\nVERDICT: not forwarding: receiver on a link where this router is not DR (DR is fe80::1)\n")

	// The DR itself forwards.
	e1 := d1.waitExplain(5*time.Second, "the DR forwards", func(e *ctl.Explain) bool { return e.Verdict.Forwarding }, srcAddr, ssmGrp)
	if e1.Verdict.Summary != "forwarding to to-rcv" {
		t.Errorf("DR verdict %+v", e1.Verdict)
	}
}

// An ASM group with no RP configured, no BSR, not Embedded-RP.
func TestExplainNoRP(t *testing.T) {
	const grp = "ff0e::4321:77"
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	joinASM(t, tp.rcv, "eth0", grp, 5105)
	e := d.waitExplain(5*time.Second, "the receiver seen", func(e *ctl.Explain) bool { return explainIface(e, "to-rcv").ListenersWant }, grp)
	if e.Mode != "asm" || e.RP != nil {
		t.Errorf("mode %q rp %+v", e.Mode, e.RP)
	}
	wantStep(t, e, ctl.CheckRP, "", ctl.VerdictProblem, "no RP for the group (no static RP configured, no BSR known)")
	if e.Verdict.Forwarding || !strings.HasPrefix(e.Verdict.Summary, "not forwarding: no RP for the group") {
		t.Errorf("verdict %+v", e.Verdict)
	}
	// With a source, the same.
	es, err := d.explainJSON(srcAddr, grp)
	if err != nil {
		t.Fatal(err)
	}
	wantStep(t, es, ctl.CheckRP, "", ctl.VerdictProblem, "no RP for the group")
	wantLines(t, d.explainText(grp),
		"explain (*,ff0e::4321:77): ASM\n",
		"  PROBLEM  no RP for the group",
		"\nVERDICT: not forwarding: no RP for the group")
}

// Bad addresses are refused by pim6stat; a daemon that is not running is
// named.
func TestExplainCLIErrors(t *testing.T) {
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	out, err := d.pim6stat("explain", srcAddr, "2001:db8::1")
	if err == nil || !strings.Contains(out, "pim6stat explain: group 2001:db8::1 is not a multicast address") {
		t.Errorf("bad group: %v %s", err, out)
	}
	d.proc.Cmd.Process.Kill()
	_ = d.proc.Wait(5 * time.Second)
	out, err = d.pim6stat("explain", srcAddr, ssmGrp)
	if err == nil || !strings.Contains(out, "is the daemon running?") {
		t.Errorf("no daemon: %v %s", err, out)
	}
}
