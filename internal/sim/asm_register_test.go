package sim

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// asmLine: S - lanS - fhr - l12 - rp - l23 - lhr - lanR - h. The RP
// address is on rp's loopback; every router has the static RP for
// ff0e::/16 (and the extra configuration given).
func asmLine(t *testing.T, delay time.Duration, extra string) (*Net, [3]*Router, *Host, *Host) {
	n := New(t, Options{Delay: delay})
	lanS, l12, l23, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l23"), n.AddLink("lanR")
	fhr := n.AddRouter("fhr", asmConf(t, rpAddr, extra))
	rp := n.AddRouter("rp", asmConf(t, rpAddr, extra))
	lhr := n.AddRouter("lhr", asmConf(t, rpAddr, extra))
	fhr.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	fhr.AddInterface("to-rp", l12, "fe80::1")
	rp.AddInterface("to-fhr", l12, "fe80::2")
	rp.AddInterface("to-lhr", l23, "fe80::2")
	rp.AddLoopback(rpAddr)
	lhr.AddInterface("to-rp", l23, "fe80::3")
	lhr.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	return n, [3]*Router{fhr, rp, lhr}, s, h
}

// TestASMRegisterAndRegisterStop: the receiver joins (*,G); the source
// streams. The first packets reach the receiver encapsulated in data
// Registers from the first-hop router to the RP; the RP joins toward S
// and, once native packets reach it, sends a Register-Stop; from then on
// every hop forwards natively, the first-hop router's register tunnel
// gone from its MFC, and only Null-Registers (each answered by a
// Register-Stop) probe. The receiver gets every datagram once. When the
// source stops, the (S,G) state times out everywhere and the (*,G) join
// stays.
func TestASMRegisterAndRegisterStop(t *testing.T) {
	for _, delay := range []time.Duration{0, 100 * time.Microsecond, 5 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) { asmRegister(t, delay) })
	}
}

func asmRegister(t *testing.T, delay time.Duration) {
	n, rs, s, h := asmLine(t, delay, "")
	fhr, rp, lhr := rs[0], rs[1], rs[2]
	n.Run(10 * time.Second)
	t0 := n.Elapsed()
	h.Join(asmGrp)
	n.Run(time.Second)

	// The (*,G) Join goes hop by hop to the RP (here: one hop).
	if j := jpEntries(n, t0, asmGrpIP); len(j) != 1 || j[0].from != "lhr/to-rp" || j[0].kind != "J" || j[0].what != "*" ||
		j[0].addr != netip.MustParseAddr(rpAddr) || j[0].upstream != netip.MustParseAddr("fe80::2") {
		t.Fatalf("want one Join(*,G) naming the RP from lhr to rp:\n%s", jpLines(j))
	}
	if st := starRoute(rp); st == nil || !hasFlags(st, "WC", "RP") || !slices.Equal(mifNames(rp, st.Joined), []string{"to-lhr"}) {
		t.Fatalf("rp's (*,G): %+v", st)
	}

	tData := n.Elapsed()
	st := s.Stream(asmGrp, 100*time.Millisecond)
	n.Run(200 * time.Second)

	// The wire: data Registers first, then a Register-Stop, then only
	// Null-Registers, each answered.
	var regs, stops, nulls []pimEvent
	for _, e := range pimTrace(n, tData) {
		switch {
		case isDataRegister(e.msg):
			regs = append(regs, e)
		case isNullRegister(e.msg):
			nulls = append(nulls, e)
		case isRegisterStop(e.msg):
			stops = append(stops, e)
		}
	}
	trace := eventLines(pimTrace(n, t0))
	if len(regs) == 0 || len(stops) == 0 {
		t.Fatalf("want data Registers and a Register-Stop:\n%s", trace)
	}
	fhrAddr, rpIP := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr(rpAddr)
	for _, e := range regs {
		in, err := ParsePacket(e.msg.(*pimmsg.Register).Packet)
		if e.from != "fhr/to-rp" || e.to != "rp/to-fhr" || e.src != fhrAddr || e.dst != rpIP ||
			err != nil || in.Src != srcIP || in.Dst != asmGrpIP || in.Proto != protoUDP {
			t.Errorf("data Register %v (inner %+v, %v)", e, in, err)
		}
		if e.at > stops[0].at {
			t.Errorf("data Register after the first Register-Stop:\n%s", trace)
		}
	}
	for _, e := range stops {
		rs := e.msg.(*pimmsg.RegisterStop)
		if e.from != "rp/to-fhr" || e.src != rpIP || e.dst != fhrAddr || rs.Source != srcIP || rs.Group.Addr != asmGrpIP {
			t.Errorf("Register-Stop %v from %v to %v", e, e.src, e.dst)
		}
	}
	// The Register-Stop Timer (60 s +- 30 s, minus the 5 s probe time)
	// runs out at least twice in 200 s: each Null-Register gets a
	// Register-Stop, none lets data Registers resume.
	if len(nulls) < 2 || len(stops) != len(nulls)+1 {
		t.Errorf("%d Null-Registers and %d Register-Stops in 200 s, want 2 or more probes each answered:\n%s", len(nulls), len(stops), trace)
	}
	t.Logf("delay %v: %d data Registers (%v to %v), Register-Stop at %v, %d Null-Registers at %v",
		delay, len(regs), regs[0].at, regs[len(regs)-1].at, stops[0].at, len(nulls), func() (out []time.Duration) {
			for _, e := range nulls {
				out = append(out, e.at.Round(time.Millisecond))
			}
			return
		}())

	// The first-hop router's MFC had the register tunnel as its oif
	// before the Register-Stop, and only the native path after.
	var tunnel bool
	for _, l := range n.Trace() {
		if strings.Contains(l, "fhr mfc set (2001:db8:1::10,ff0e::4000:1) iif=eth0 oifs=[pim6reg") {
			tunnel = true
		}
	}
	if !tunnel {
		t.Errorf("fhr never had the register MIF as an oif")
	}
	wantMFC(t, fhr, srcAddr, "eth0", "to-rp")
	wantMFC(t, rp, srcAddr, "to-fhr", "to-lhr")
	wantMFC(t, lhr, srcAddr, "to-rp", "eth1")

	// pim6stat: the first-hop router's Registers are suppressed; the RP
	// and the last-hop router are on the SPT (which here is the RP tree's
	// path).
	if r := sgRoute(fhr, srcAddr); !hasFlags(r, "SPT", "REG_SUPP", "CACHE") || hasFlags(r, "REG") {
		t.Errorf("fhr (S,G) flags %v", r)
	}
	if r := sgRoute(rp, srcAddr); !hasFlags(r, "SPT", "CACHE") || r.UpstreamState != "Joined" || !slices.Equal(mifNames(rp, r.Outgoing), []string{"to-lhr"}) {
		t.Errorf("rp (S,G) %+v", r)
	}
	if r := sgRoute(lhr, srcAddr); !hasFlags(r, "SPT", "CACHE") || r.UpstreamState != "Joined" {
		t.Errorf("lhr (S,G) %+v", r)
	}

	// Native forwarding on every hop after the Register-Stop: every
	// datagram the source sent since crossed each link once.
	tNative := stops[0].at + 10*delay + time.Millisecond
	sentAfter := 0
	for _, f := range n.Frames() {
		if f.Link == "lanS" && f.Proto == protoUDP && f.Elapsed() >= tNative {
			sentAfter++
		}
	}
	for _, c := range []struct{ link, from string }{{"l12", "fhr/to-rp"}, {"l23", "rp/to-lhr"}, {"lanR", "lhr/eth1"}} {
		got := udpFrames(n, c.link, srcAddr, tNative+3*delay)
		if len(got) != 1 || got[c.from] < sentAfter-1 || got[c.from] > sentAfter {
			t.Errorf("%s: datagrams by sender %v, want %d from %s", c.link, got, sentAfter, c.from)
		}
	}

	// The receiver: each datagram at most once; the first ones came
	// through the register tunnel (hop limit 64 at the RP's
	// decapsulation, then two hops: 62), the rest natively (three hops:
	// 61). At most one datagram is lost, at the RP's switch from the
	// tunnel to the native path: with no link delay the native copy of
	// the second datagram reaches the RP while its entry still has the
	// register MIF as iif (dropped, counted wrong_if, WRONGMIF), and its
	// Register is decapsulated just after the daemon moved the iif to
	// to-fhr (dropped again: once the SPT bit is set the RP no longer
	// forwards Registers, RFC 7761 4.4.2).
	st.Stop()
	n.Run(time.Second)
	d := asmDelivery(h, srcAddr, st)
	var viaRegister []uint64
	for _, dg := range h.ReceivedFrom(srcAddr, asmGrp) {
		seq, _ := Seq(dg.Data)
		switch dg.HopLimit {
		case 62:
			viaRegister = append(viaRegister, seq)
		case 61:
		default:
			t.Errorf("datagram %d with hop limit %d", seq, dg.HopLimit)
		}
	}
	if len(viaRegister) == 0 || len(viaRegister) > len(regs) || viaRegister[len(viaRegister)-1] != uint64(len(viaRegister)-1) {
		t.Errorf("datagrams through Registers: %v (of %d data Registers), want the first ones", viaRegister, len(regs))
	}
	switchover := uint64(len(viaRegister))
	if d.Duplicates != 0 || len(d.Missing) > 1 || len(d.Missing) == 1 && d.Missing[0] != switchover {
		t.Errorf("receiver: %d sent, %d received, %d duplicates, missing %v (at most the one at the switchover, %d)",
			st.Sent(), d.Received, d.Duplicates, d.Missing, switchover)
	}
	if e, _ := rp.Entry(srcAddr, asmGrp); e.WrongIf != 1+uint64(len(d.Missing)) {
		t.Errorf("rp's wrong_if %d, want %d (the native copy at the switch, and the late Register of a lost datagram)", e.WrongIf, 1+len(d.Missing))
	}
	t.Logf("delay %v: %d datagrams sent, lost %v, %d duplicates; %v through Registers", delay, st.Sent(), d.Missing, d.Duplicates, viaRegister)

	// The source stops. The first-hop router's Keepalive Timer (210 s)
	// runs out and with it its Register machine (no more Null-Registers);
	// the last-hop router's too; the RP's, last set to
	// RP_Keepalive_Period (3 x 60 + 5 s) by a Null-Register, after that.
	// Then the RP prunes toward S and every (S,G) goes; the (*,G) join
	// stays.
	tStop := n.Elapsed()
	el, ok := n.RunUntil(func() bool {
		for _, r := range rs {
			if _, ok := r.Entry(srcAddr, asmGrp); ok || sgRoute(r, srcAddr) != nil {
				return false
			}
		}
		return true
	}, 10*time.Minute)
	if !ok {
		for _, r := range rs {
			t.Errorf("%s keeps (S,G) 10 minutes after the source stopped: %+v", r.Name(), sgRoute(r, srcAddr))
		}
	}
	if el < 210*time.Second || el > 210*time.Second+185*time.Second+time.Second {
		t.Errorf("(S,G) state gone %v after the source stopped, want between 210 s and 210+185 s", el)
	}
	if j := filterJP(jpEntries(n, tStop, asmGrpIP), "rp/to-fhr", "P", "S"); len(j) != 1 {
		t.Errorf("want one Prune(S,G) from the RP:\n%s", jpLines(jpEntries(n, tStop, asmGrpIP)))
	}
	t.Logf("delay %v: (S,G) state gone %v after the source stopped", delay, el)
	if st := starRoute(lhr); st == nil || st.UpstreamState != "Joined" {
		t.Errorf("lhr's (*,G) %+v", st)
	}
}
