package sim

import (
	"strings"
	"testing"
	"time"
)

// A restart that hands the routing socket over (SIGUSR2) loses nothing:
// the kernel keeps forwarding while the new process comes up, learns the
// listeners again from its startup query and the downstream Joins from its
// new Generation ID, and never deletes an entry that is still wanted. An
// entry nobody asks for again is swept when the grace ends, not before.
//
// With the checkpoint the daemon writes when it stops for the restart,
// the new one knows the listeners and Joins at once; q's listener,
// restored, is held until the answers to the last startup query are due
// (41.25 s) and then goes with its entry. Without one (-nockpt), the
// entry goes when the grace ends.
func TestHitlessRestart(t *testing.T) {
	for _, who := range []string{"r2", "r3", "r3-nockpt"} {
		t.Run(who, func(t *testing.T) {
			ckpt := !strings.HasSuffix(who, "-nockpt")
			who = strings.TrimSuffix(who, "-nockpt")
			n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
			r2, r3 := rs[1], rs[2]
			r := map[string]*Router{"r2": r2, "r3": r3}[who]
			// A second receiver on its own LAN behind r3, which will fall
			// silent: its group must be swept after the restart's grace.
			lanQ := n.AddLink("lanQ")
			r3.AddInterface("eth2", lanQ, "fe80::3", "2001:db8:3::3/64")
			q := n.AddHost("q", lanQ, "fe80::30", "2001:db8:3::30")
			n.AutoRoutes()
			const group2 = "ff3e::5678"
			n.Run(10 * time.Second)
			h.JoinSource(group, srcAddr)
			q.JoinSource(group2, srcAddr)
			st := s.Stream(group, 10*time.Millisecond)
			st2 := s.Stream(group2, time.Second)
			runUntil(t, n, "both groups at r3", func() bool {
				_, ok := r3.Entry(srcAddr, group2)
				return hasEntry(r3) && ok
			}, 10*time.Second)
			n.Run(5 * time.Second)
			before := r.Snapshot()

			lanQ.SetSilent(true)
			t0 := n.Elapsed()
			if !ckpt {
				r.cfg.Global.StateFile = "" // the next daemon has no checkpoint
			}
			r.Restart()
			after := r.Snapshot()
			for i, bi := range before.Interfaces {
				if bi.Name == "to-r2" && (i >= len(after.Interfaces) || after.Interfaces[i].GenerationID == bi.GenerationID) {
					t.Errorf("the restarted daemon kept Generation ID %#x", bi.GenerationID)
				}
			}
			// Through the grace and well past it.
			n.Run(60 * time.Second)
			st.Stop()
			st2.Stop()
			n.Run(time.Second)
			checkDelivery(t, h, st, 0)
			if !hasEntry(r) {
				t.Fatalf("%s lost the wanted entry: %v", who, r.MFC())
			}
			for _, line := range n.Trace() {
				if strings.Contains(line, who+" mfc del ("+srcAddr+","+group+")") {
					t.Errorf("the wanted entry was deleted: %s", line)
				}
			}
			if who == "r3" {
				// q's entry was kept through the grace (15 s by default),
				// then swept.
				var del time.Duration
				for _, l := range n.trace {
					if l.frame < 0 && strings.Contains(l.text, "r3 mfc del ("+srcAddr+","+group2+")") {
						del = l.at.Sub(Epoch) - t0
					}
				}
				lo, hi, what := 15*time.Second, 16*time.Second, "the end of the 15 s grace"
				if ckpt {
					lo, hi, what = 41*time.Second, 42*time.Second, "the end of the restored listener's hold (41.25 s)"
				}
				if del < lo || del > hi {
					t.Errorf("q's silent group was removed %v after the restart, want at %s\n%s", del, what, dump(n))
				}
			}
		})
	}
}

// ASM through sender - r1 - r2 (RP) - r3 - receiver, on the source tree:
// each router restarted in place in turn loses nothing. The RP's restored
// state alone would take the (S,G) from the register MIF until data
// arrives natively; the adopted entry says it does already.
func TestHitlessRestartASM(t *testing.T) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, l12, l23, lanR := n.AddLink("lanS"), n.AddLink("l12"), n.AddLink("l23"), n.AddLink("lanR")
	cfg := asmConf(t, rpAddr, "")
	r1, r2, r3 := n.AddRouter("r1", cfg), n.AddRouter("r2", cfg), n.AddRouter("r3", cfg)
	r1.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r1.AddInterface("to-r2", l12, "fe80::1")
	r2.AddInterface("to-r1", l12, "fe80::2")
	r2.AddInterface("to-r3", l23, "fe80::2")
	r2.AddLoopback(rpAddr)
	r3.AddInterface("to-r2", l23, "fe80::3")
	r3.AddInterface("eth1", lanR, "fe80::3", "2001:db8:2::3/64")
	s := n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	n.Run(10 * time.Second)
	h.Join(asmGrp)
	n.Run(time.Second)
	st := s.Stream(asmGrp, 10*time.Millisecond)
	runUntil(t, n, "the source tree", func() bool {
		e2, ok2 := r2.Entry(srcAddr, asmGrp)
		e3, ok3 := r3.Entry(srcAddr, asmGrp)
		return ok2 && ok3 && e2.IIFName == "to-r1" && e3.IIFName == "to-r2"
	}, 20*time.Second)
	n.Run(5 * time.Second)
	before := Deliveries(h.ReceivedFrom(srcAddr, asmGrp), st.Sent()-1)
	for _, r := range []*Router{r3, r2, r1} {
		r.Restart()
		n.Run(30 * time.Second)
	}
	st.Stop()
	n.Run(time.Second)
	d := Deliveries(h.ReceivedFrom(srcAddr, asmGrp), st.Sent())
	if d.Duplicates != 0 || len(d.Missing) != len(before.Missing) {
		t.Errorf("across the restarts: %d duplicates, missing %v (before them: %v)\n%s", d.Duplicates, d.Missing, before.Missing, asmDump(n))
	}
	for _, l := range n.trace {
		if l.frame < 0 && strings.Contains(l.text, "mfc set ("+srcAddr+","+asmGrp+") iif=pim6reg") && l.at.Sub(Epoch) > 20*time.Second {
			t.Errorf("an entry went back to the register MIF: %s", l.text)
		}
	}
}
