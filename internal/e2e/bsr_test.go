package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

const (
	bsrGrp = "ff0e::4321:b5"
	// The loopbacks of the BSR tests' routers: 2001:db8:ff::N on rN.
	loR1 = "2001:db8:ff::1"
	loR2 = "2001:db8:ff::2"
	loR3 = "2001:db8:ff::3"
	loR4 = "2001:db8:ff::4"
)

// bsrLine builds
//
//	snd -- r1 -- r2 -- r3 -- rcv
//	             |
//	             r4
//
// with static unicast routes (link-local next hops), 2001:db8:ff::N on
// rN's loopback, and routes to every loopback.
func bsrLine(t *testing.T) (snd, r1, r2, r3, r4, rcv *netns.NS) {
	snd, r1, r2, r3, r4, rcv = newNS(t, "snd"), router(t, "r1"), router(t, "r2"), router(t, "r3"), router(t, "r4"), newNS(t, "rcv")
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-r3", "fe80::2", "2001:db8:23::2/64", r3, "to-r2", "fe80::3", "2001:db8:23::3/64")
	link(t, r2, "to-r4", "fe80::2", "2001:db8:24::2/64", r4, "to-r2", "fe80::4", "2001:db8:24::4/64")
	link(t, r3, "to-rcv", "fe80::3", "2001:db8:2::3/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	for i, r := range []*netns.NS{r1, r2, r3, r4} {
		r.AddAddr("lo", fmt.Sprintf("2001:db8:ff::%d/128", i+1))
	}
	realChecksums(t, snd, "eth0")
	snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::3", "dev", "eth0")
	for _, r := range []*netns.NS{r1, r3, r4} {
		r.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-r2")
	}
	for _, rt := range [][]string{
		{"2001:db8:1::/64", "fe80::1", "to-r1"}, {loR1, "fe80::1", "to-r1"},
		{"2001:db8:2::/64", "fe80::3", "to-r3"}, {loR3, "fe80::3", "to-r3"},
		{loR4, "fe80::4", "to-r4"},
	} {
		r2.MustRun("ip", "-6", "route", "add", rt[0], "via", rt[1], "dev", rt[2])
	}
	return snd, r1, r2, r3, r4, rcv
}

// peek copies what a receiver got so far without resetting it.
func (r *receiver) peek() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// waitAll polls every daemon until cond holds on each, and returns the
// time until the last one agreed.
func waitAll(t *testing.T, ds map[string]*daemon, within time.Duration, what string, cond func(*ctl.Snapshot) bool) time.Duration {
	t.Helper()
	d, _ := waitAllEach(t, ds, within, what, cond)
	return d
}

// waitAllEach is waitAll that also says when each daemon first agreed (as
// seen by the polls: each poll asks every daemon in turn, so a slow
// machine adds its poll time).
func waitAllEach(t *testing.T, ds map[string]*daemon, within time.Duration, what string, cond func(*ctl.Snapshot) bool) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	first := map[string]time.Duration{}
	names := slices.Sorted(maps.Keys(ds))
	for {
		ok := true
		for _, n := range names {
			s, err := ds[n].snapshot()
			if err != nil || !cond(s) {
				ok = false
				continue
			}
			if _, seen := first[n]; !seen {
				first[n] = time.Since(start)
			}
		}
		if ok {
			var each []string
			for _, n := range names {
				each = append(each, fmt.Sprintf("%s %v", n, first[n].Round(time.Millisecond)))
			}
			return time.Since(start), strings.Join(each, ", ")
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v (agreed: %v)\n%s", what, within, first, rpSummary(ds))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitRecovered waits until datagrams sent after from arrive again, and
// returns the report over the datagrams sent since from up to the last
// one that arrived. The stream's path is FIFO, so a datagram missing
// before one that arrived is lost, not late: the report does not depend on
// how long the path takes, only on what arrived.
func waitRecovered(t *testing.T, st *stream, sock *receiver, from time.Time, within time.Duration, what string) lossReport {
	t.Helper()
	i0 := st.indexAt(from)
	deadline := time.Now().Add(within)
	for {
		time.Sleep(200 * time.Millisecond)
		got := sock.peek()
		n := st.n()
		// Recovered: the last datagram that arrived ends a run of 20 that
		// all arrived.
		if last := lastArrived(got, i0, n); last-i0 >= 20 && st.losses(got, last-19, last+1).lost == 0 {
			return st.losses(got, i0, last+1)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: traffic did not recover within %v: %v", what, within, st.losses(got, i0, n))
		}
	}
}

// lastArrived is the highest datagram number in [from, to) that arrived,
// or -1.
func lastArrived(got map[string]int, from, to int) int {
	for i := to - 1; i >= from; i-- {
		if got[fmt.Sprintf("s-%d", i)] > 0 {
			return i
		}
	}
	return -1
}

// settled waits until a datagram sent at least 5 after number n has
// arrived and returns what the receiver got then: on a FIFO path the
// datagrams before n that are still missing are lost, however slow the
// path (5 leaves room for the rare reordering between two CPUs' queues).
// within bounds the wait when nothing arrives at all.
func settled(t *testing.T, st *stream, sock *receiver, n int, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := sock.peek()
		if lastArrived(got, n+5, st.n()) >= 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no datagram sent after #%d arrived within %v: %v", n+5, within, st.losses(got, 0, st.n()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recovery is the time from an event to the sending of the first
// datagram that arrived after the longest gap (0 when nothing was lost).
func recovery(st *stream, l lossReport, event time.Time) time.Duration {
	if l.lost == 0 {
		return 0
	}
	return st.at(l.gapLast + 1).Sub(event)
}

// Four pim6sd routers: r1 is the Candidate-BSR, r4 (off the path) the
// preferred Candidate-RP (priority 10) and r3 (the last-hop router) the
// other one (priority 20). Every router elects r1 and learns both RPs, the
// receiver's router maps the group to r4, and an ASM stream flows through
// r4 (no switch to the source tree at the last hop). Then
//
//   - r4's daemon is killed: the BSR drops it after the C-RP holdtime, every
//     router maps the group to r3 and traffic recovers through it;
//   - r4's daemon starts again: it learns the BSR from the BSM its neighbor
//     unicasts after its Hello, advertises, and becomes the RP again;
//   - r4 withdraws by SIGHUP (candidate-rp disabled): its C-RP-Adv with
//     holdtime 0 moves every router back to r3 at once.
func TestBSRElectionAndRPFailover(t *testing.T) {
	snd, r1, r2, r3, r4, rcv := bsrLine(t)
	const period, crpPeriod, crpHold = "2s", "2s", "6s"
	// Default Register suppression (60 s). The first Register to the new
	// RP can overtake the Bootstrap message that makes it the RP, which
	// then answers with the Register-Stop of RFC 7761 4.4.2 (it is not
	// RP(G) yet) and holds the first-hop router back for 30 to 90 s; when
	// the BSM arrives, the new RP joins toward the source itself, so the
	// flow recovers within the waits below (docs/PIM.md, Register).
	const regSupp = ""
	conf4 := bsrConf(bsrOpts{crp: loR4, crpPrio: 10, period: period, crpPeriod: crpPeriod, crpHold: crpHold, spt: "never", regSupp: regSupp})
	start := time.Now()
	ds := map[string]*daemon{
		"r1": startPim6sd(t, r1, bsrConf(bsrOpts{bsr: loR1, bsrPrio: 100, period: period, spt: "never", regSupp: regSupp})),
		"r2": startPim6sd(t, r2, bsrConf(bsrOpts{period: period, spt: "never", regSupp: regSupp})),
		"r3": startPim6sd(t, r3, bsrConf(bsrOpts{crp: loR3, crpPrio: 20, period: period, crpPeriod: crpPeriod, crpHold: crpHold, spt: "never", regSupp: regSupp})),
		"r4": startPim6sd(t, r4, conf4),
	}
	d1 := ds["r1"]
	d1.waitFor(20*time.Second, "r1 becomes the BSR", func(s *ctl.Snapshot) bool {
		return s.RPSet.CandidateBSR != nil && s.RPSet.CandidateBSR.State == "elected"
	})
	elected := time.Since(start)
	learned := waitAll(t, ds, 10*time.Second, "every router has BSR r1 and the RP-set {r4/10, r3/20}", func(s *ctl.Snapshot) bool {
		return bsrOf(s) == loR1 && slices.Equal(rpSetRPs(s, "bsr"), []string{loR3 + "/20", loR4 + "/10"}) && preferredRP(s, "bsr", bsrGrp) == loR4
	})
	t.Logf("r1 elected BSR %v after start (start-up wait 15s); every router had the RP-set %v later (%v after start)", elected.Round(time.Millisecond), learned.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	t.Logf("RP-set:\n%s", rpSummary(ds))
	// The report's RP-Set section on the last-hop router (FORMAT.md 6).
	rep := mustReport(ds["r3"])
	for _, want := range []string{
		"Current BSR address: " + loR1 + " Prio: 100 Timeout: ",
		loR4 + "(fe80::2%to-r2)\n     ff00::/8                                 10   6    ",
		loR3 + "(myself)\n     ff00::/8                                 20   6    ",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("r3's report lacks %q:\n%s", want, rep)
		}
	}

	sock := joinASM(t, rcv, "eth0", bsrGrp, 7200)
	ds["r3"].waitFor(10*time.Second, "r3's (*,G) maps to r4", func(s *ctl.Snapshot) bool { return starGRP(s, bsrGrp) == loR4 })
	ds["r4"].waitFor(10*time.Second, "the (*,G) Join reaches r4", func(s *ctl.Snapshot) bool { return starGJoined(s, bsrGrp) })
	st := startStream(t, newSender(t, snd, "eth0", bsrGrp, 7200), 10*time.Millisecond)
	time.Sleep(3 * time.Second)
	n := st.n()
	got := settled(t, st, sock, n, 10*time.Second)
	warm := st.losses(got, 0, n)
	t.Logf("through r4, first 3 s: %v", warm)
	// explain on the last hop names the RP and the BSR it came from.
	if e, err := ds["r3"].explainJSON(bsrGrp); err != nil {
		t.Error(err)
	} else if e.RP == nil || e.RP.Address.String() != loR4 || e.RP.Origin != ctl.RPOriginBSR || e.RP.BSR.String() != loR1 || !e.Verdict.Forwarding {
		t.Errorf("explain on r3: RP %+v, verdict %+v", e.RP, e.Verdict)
	}
	if warm.got < warm.sent-10 {
		t.Fatalf("through the BSR-learned RP r4 the receiver got %v\nr1:\n%s\nr4:\n%s", warm, mustReport(d1), mustReport(ds["r4"]))
	}
	// The first 20 datagrams may meet the path being set up (the kernel
	// queues at most 10 while an entry is unresolved); none after.
	if l := st.losses(got, 20, n); l.lost != 0 {
		t.Errorf("losses after the first 200 ms through r4: %v", l)
		lossDiagnostics(t, ds, map[string]*netns.NS{"r1": r1, "r2": r2, "r3": r3, "r4": r4})
	}

	// 1. r4 dies without a word.
	t.Logf("before the kill, r2's MFC: %s", r2.MustRun("ip", "-6", "mroute"))
	capture := r2.Capture("to-r1", "ip6 proto 103")
	killAt := time.Now()
	ds["r4"].proc.Cmd.Process.Kill()
	var l lossReport
	func() {
		defer func() {
			if t.Failed() {
				t.Logf("PIM on r1-r2 from the kill (r1 is the first-hop router and the BSR):\n%s", pimTimeline(capture.Stop(), killAt))
				for _, n := range []string{"r1", "r2", "r3"} {
					t.Logf("%s:\n%s", n, mustReport(ds[n]))
				}
			}
		}()
		rest := map[string]*daemon{"r1": ds["r1"], "r2": ds["r2"], "r3": ds["r3"]}
		conv := waitAll(t, rest, 15*time.Second, "every router maps the group to r3 after r4 dies", func(s *ctl.Snapshot) bool {
			return slices.Equal(rpSetRPs(s, "bsr"), []string{loR3 + "/20"})
		})
		l = waitRecovered(t, st, sock, killAt, 12*time.Second, "after r4 died")
		t.Logf("r4 killed: RP-set {r3} everywhere after %v (C-RP holdtime %s); traffic: %v; recovered %v after the kill",
			conv.Round(time.Millisecond), crpHold, l, recovery(st, l, killAt).Round(time.Millisecond))
		ds["r3"].waitFor(5*time.Second, "r3's (*,G) maps to itself", func(s *ctl.Snapshot) bool { return starGRP(s, bsrGrp) == loR3 })
	}()
	t.Logf("PIM on r1-r2 from the kill:\n%s", pimTimeline(capture.Stop(), killAt))

	// 2. r4 comes back.
	backAt := time.Now()
	ds["r4"] = startPim6sd(t, r4, conf4)
	back := waitAll(t, ds, 15*time.Second, "every router prefers r4 again after it restarts", func(s *ctl.Snapshot) bool {
		return bsrOf(s) == loR1 && preferredRP(s, "bsr", bsrGrp) == loR4 && len(rpSetRPs(s, "bsr")) == 2
	})
	ds["r4"].waitFor(10*time.Second, "the (*,G) Join reaches the restarted r4", func(s *ctl.Snapshot) bool { return starGJoined(s, bsrGrp) })
	l = waitRecovered(t, st, sock, backAt, 15*time.Second, "after r4 came back")
	t.Logf("r4 restarted: back in every RP-set after %v; traffic: %v", back.Round(time.Millisecond), l)

	// 3. r4 withdraws its candidacy. The BSR must drop r4 on the
	// holdtime-0 advertisement, not when r4's last holdtime runs out: it
	// has to be gone from the BSR's set before the time left on it just
	// before the reload (the check does not depend on how fast the machine
	// runs, only on the order of the two).
	asked := time.Now()
	left, ok := rpLeft(mustSnap(t, d1), loR4)
	if !ok {
		t.Fatalf("r4 is not in the BSR's RP-set before it withdraws:\n%s", rpSummary(ds))
	}
	withdrawAt := time.Now()
	ds["r4"].reload(bsrConf(bsrOpts{period: period, spt: "never", regSupp: regSupp}))
	d1.waitFor(10*time.Second, "the BSR drops r4 after it withdraws", func(s *ctl.Snapshot) bool {
		_, ok := rpLeft(s, loR4)
		return !ok
	})
	if gone := time.Now(); !gone.Before(asked.Add(left)) {
		t.Errorf("the BSR dropped the withdrawn r4 only %v after its holdtime had %v left: by expiry, not by its holdtime-0 advertisement",
			gone.Sub(asked).Round(time.Millisecond), left)
	}
	withdraw, each := waitAllEach(t, ds, 10*time.Second, "every router maps the group to r3 after r4 withdraws", func(s *ctl.Snapshot) bool {
		return slices.Equal(rpSetRPs(s, "bsr"), []string{loR3 + "/20"})
	})
	t.Logf("after the withdrawal, each router first had the RP-set {r3} after: %s", each)
	l = waitRecovered(t, st, sock, withdrawAt, 15*time.Second, "after r4 withdrew")
	t.Logf("r4 withdrew (SIGHUP) with %v of its holdtime left at the BSR, which dropped it before that ran out; RP-set {r3} everywhere after %v; traffic: %v; recovered %v after the reload",
		left, withdraw.Round(time.Millisecond), l, recovery(st, l, withdrawAt).Round(time.Millisecond))
	st.halt()
	t.Logf("whole test: %v", time.Since(start).Round(time.Millisecond))
}

// No RP configured anywhere, no BSR: the group ff7e:240:2001:db8:ff::1234
// names its RP, 2001:db8:ff::2 (prefix 2001:db8:ff::/64, RIID 2), on the
// middle router's loopback (RFC 3956). Every router maps the group to it
// (origin "embedded") and an ASM stream reaches the receiver.
func TestEmbeddedRP(t *testing.T) {
	const grp = "ff7e:240:2001:db8:ff::1234"
	snd, r1, r2, r3, _, rcv := bsrLine(t)
	ds := map[string]*daemon{
		"r1": startPim6sd(t, r1, bsrConf(bsrOpts{})),
		"r2": startPim6sd(t, r2, bsrConf(bsrOpts{})),
		"r3": startPim6sd(t, r3, bsrConf(bsrOpts{})),
	}
	for _, n := range []string{"r1", "r3"} {
		ds[n].waitFor(10*time.Second, n+" sees r2", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	}
	sock := joinASM(t, rcv, "eth0", grp, 7210)
	ds["r3"].waitFor(10*time.Second, "r3's (*,G) maps to the embedded RP", func(s *ctl.Snapshot) bool { return starGRP(s, grp) == loR2 })
	ds["r2"].waitFor(10*time.Second, "the (*,G) Join reaches the embedded RP", func(s *ctl.Snapshot) bool { return starGJoined(s, grp) })
	s3, _ := ds["r3"].snapshot()
	if got := rpSetRPs(s3, "embedded"); len(got) != 1 || got[0][:len(loR2)] != loR2 {
		t.Errorf("r3's RP-set shows embedded RPs %v, want %s", got, loR2)
	}
	s := newSender(t, snd, "eth0", grp, 7210)
	got, dups := streamCount(t, s, sock, 200)
	t.Logf("receiver: %d of 200 through the embedded RP, %d duplicates", got, dups)
	if got < 190 || dups != 0 {
		t.Fatalf("through the embedded RP the receiver got %d of 200 (%d duplicates)\nr1:\n%s\nr2:\n%s", got, dups, mustReport(ds["r1"]), mustReport(ds["r2"]))
	}
	s1, _ := ds["r1"].snapshot()
	if rp := starGRP(s1, grp); rp != "" && rp != loR2 {
		t.Errorf("r1 maps the group to %s, want %s", rp, loR2)
	}
	if e := rpSetRPs(s1, "embedded"); len(e) != 1 {
		t.Errorf("the first-hop router shows embedded RPs %v, want %s", e, loR2)
	}
}
