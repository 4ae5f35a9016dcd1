package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The checkpoint (internal/daemon, checkpoint.go): after kill -9 the
// kernel holds no MIF and no MFC entry of the dead daemon, and a daemon
// started again forwards only once its queries and Hellos are answered.
// With the checkpoint it restores the listeners, neighbors and Joins at
// start and forwards at once. Each scenario runs with and without it
// (global.state-file = ""), a stream at 100 packets/s, the router killed
// and started again at the same instant.

// killAndStart is kill -9 and a new daemon; without ckpt the new daemon
// has no checkpoint (state-file = "").
func killAndStart(r *Router, ckpt bool) {
	r.Kill()
	if !ckpt {
		r.cfg.Global.StateFile = ""
	}
	r.Start()
}

// lossAfterKill runs setup's network to a steady stream, kills and
// starts the router `who` and returns how many datagrams h lost, with
// the checkpoint counters of the new daemon.
type lossResult struct {
	missing  int
	counters map[string]uint64
}

func TestCheckpointKillSSM(t *testing.T) {
	for _, who := range []string{"r3", "r2"} {
		t.Run(who, func(t *testing.T) {
			res := map[bool]lossResult{}
			for _, ckpt := range []bool{true, false} {
				n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
				r := map[string]*Router{"r2": rs[1], "r3": rs[2]}[who]
				n.Run(10 * time.Second)
				h.JoinSource(group, srcAddr)
				st := s.Stream(group, 10*time.Millisecond)
				runUntil(t, n, "the entry at r3", func() bool { return hasEntry(rs[2]) }, 10*time.Second)
				n.Run(5 * time.Second)
				if b, saves := r.Checkpoint(); b == nil || saves == 0 {
					t.Fatalf("%s wrote no checkpoint", who)
				}
				before := len(h.ReceivedFrom(srcAddr, group))
				killAndStart(r, ckpt)
				if len(r.MFC()) == 0 && ckpt {
					t.Errorf("%s: no MFC entry right after the restart with a checkpoint", who)
				}
				n.Run(30 * time.Second)
				st.Stop()
				n.Run(time.Second)
				d := Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent())
				if d.Duplicates != 0 {
					t.Errorf("checkpoint %v: %d duplicates", ckpt, d.Duplicates)
				}
				if len(h.ReceivedFrom(srcAddr, group)) <= before {
					t.Fatalf("checkpoint %v: nothing received after the restart\n%s", ckpt, dump(n))
				}
				res[ckpt] = lossResult{len(d.Missing), r.Snapshot().Counters["checkpoint"]}
			}
			checkLoss(t, who, res)
		})
	}
}

// checkLoss: with the checkpoint at most 1 s of the stream is lost (100
// datagrams), and the new daemon says it restored one; without it
// several seconds are (the host answers the startup query within 10 s,
// the downstream router joins after our Hello within 5 s and t_override).
func checkLoss(t *testing.T, who string, res map[bool]lossResult) {
	t.Helper()
	with, without := res[true], res[false]
	t.Logf("%s killed and started again: %d datagrams lost with the checkpoint, %d without", who, with.missing, without.missing)
	if with.missing > 100 {
		t.Errorf("with the checkpoint %d datagrams lost, want at most 100 (1 s)", with.missing)
	}
	if without.missing < 200 || without.missing < with.missing+150 {
		t.Errorf("without the checkpoint only %d datagrams lost (with: %d): the scenario does not show what the checkpoint saves", without.missing, with.missing)
	}
	if with.counters["restored"] != 1 || without.counters["restored"] != 0 {
		t.Errorf("checkpoint counters: with %v, without %v", with.counters, without.counters)
	}
}

// TestCheckpointKillASM: the same for any-source multicast, in the
// triangle of asm_spt_test.go once lhr has switched to the shortest-path
// tree: the last-hop router lhr (its listener in EXCLUDE mode, the (*,G)
// Join toward the RP) and the first-hop router fhr (lhr's (S,G) Join).
func TestCheckpointKillASM(t *testing.T) {
	for _, who := range []string{"lhr", "fhr"} {
		t.Run(who, func(t *testing.T) {
			res := map[bool]lossResult{}
			for _, ckpt := range []bool{true, false} {
				n, rs, s, h := asmTriangle(t, "")
				r := map[string]*Router{"fhr": rs[0], "lhr": rs[2]}[who]
				lhr := rs[2]
				n.Run(10 * time.Second)
				h.Join(asmGrp)
				n.Run(time.Second)
				st := s.Stream(asmGrp, 10*time.Millisecond)
				runUntilASM(t, n, "lhr on the SPT", func() bool {
					e, ok := lhr.Entry(srcAddr, asmGrp)
					return ok && e.IIFName == "to-fhr"
				}, 10*time.Second)
				n.Run(10 * time.Second)
				killAndStart(r, ckpt)
				n.Run(30 * time.Second)
				st.Stop()
				n.Run(time.Second)
				d := asmDelivery(h, srcAddr, st)
				if d.Duplicates != 0 {
					t.Errorf("checkpoint %v: %d duplicates", ckpt, d.Duplicates)
				}
				if e, ok := lhr.Entry(srcAddr, asmGrp); !ok || e.IIFName != "to-fhr" {
					t.Errorf("checkpoint %v: lhr's entry %v, want it on the SPT again\n%s", ckpt, e, asmDump(n))
				}
				res[ckpt] = lossResult{len(d.Missing), r.Snapshot().Counters["checkpoint"]}
			}
			checkLoss(t, who, res)
		})
	}
}

// TestCheckpointRefused: a checkpoint the daemon may not trust is not
// restored, and says why: too old, from another configuration, or not a
// checkpoint at all. The daemon then learns its state as without one.
func TestCheckpointRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(n *Net, r *Router)
		reason string
	}{
		{"stale", func(n *Net, r *Router) { n.Run(61 * time.Second) }, "refused/stale"},
		{"config", func(n *Net, r *Router) { r.cfg.PIM.HelloPeriod = 10 * time.Second }, "refused/config"},
		{"corrupt", func(n *Net, r *Router) { r.SetCheckpoint([]byte("{\"version\":1,")) }, "refused/corrupt"},
		{"version", func(n *Net, r *Router) {
			b, _ := r.Checkpoint()
			r.SetCheckpoint([]byte(strings.Replace(string(b), `"version":1`, `"version":99`, 1)))
		}, "refused/version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
			r3 := rs[2]
			n.Run(10 * time.Second)
			h.JoinSource(group, srcAddr)
			st := s.Stream(group, 10*time.Millisecond)
			runUntil(t, n, "the entry at r3", func() bool { return hasEntry(r3) }, 10*time.Second)
			n.Run(5 * time.Second)
			r3.Kill()
			tc.before(n, r3)
			r3.Start()
			if len(r3.MFC()) != 0 {
				t.Errorf("an entry right after the start: %v", r3.MFC())
			}
			c := r3.Snapshot().Counters["checkpoint"]
			if c[tc.reason] != 1 || c["restored"] != 0 {
				t.Errorf("counters %v, want %s", c, tc.reason)
			}
			runUntil(t, n, "the entry learned again", func() bool { return hasEntry(r3) }, 15*time.Second)
			st.Stop()
		})
	}
}

// TestCheckpointRenamedInterface: state is restored by interface name;
// an interface that is gone takes nothing, the others restore theirs,
// whatever their new indexes.
func TestCheckpointRenamedInterface(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r3 := rs[2]
	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 10*time.Millisecond)
	runUntil(t, n, "the entry at r3", func() bool { return hasEntry(r3) }, 10*time.Second)
	n.Run(5 * time.Second)
	r3.Kill()
	// eth1 goes and comes back as eth9, to-r2 is made again (a new
	// index).
	eth1, up := r3.Iface("eth1"), r3.Iface("to-r2")
	lanR, l23 := eth1.link, up.link
	eth1.Delete()
	up.Delete()
	r3.AddInterface("to-r2", l23, "fe80::3")
	r3.AddInterface("eth9", lanR, "fe80::3", "2001:db8:2::3/64")
	n.AutoRoutes()
	r3.Start()
	sn := r3.Snapshot()
	if c := sn.Counters["checkpoint"]; c["restored"] != 1 {
		t.Fatalf("counters %v", c)
	}
	// The neighbor r2 on to-r2 is back; eth1's listener is not on eth9.
	var nbrs int
	for _, nb := range sn.Neighbors {
		if nb.Interface == "to-r2" {
			nbrs++
		}
	}
	if nbrs != 1 {
		t.Errorf("to-r2 has %d neighbors after the restore, want r2", nbrs)
	}
	if len(r3.MFC()) != 0 {
		t.Errorf("eth1's listener restored elsewhere: %v", r3.MFC())
	}
	st.Stop()
}

// TestCheckpointWrites: a change is in the checkpoint within a second;
// however much changes, it is written at most once a second; nothing
// changing, nothing is written.
func TestCheckpointWrites(t *testing.T) {
	n, rs, _, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r3 := rs[2]
	n.Run(10 * time.Second)
	_, saves := r3.Checkpoint()
	h.JoinSource(group, srcAddr)
	t0 := n.Elapsed()
	runUntil(t, n, "the listener in r3's checkpoint", func() bool {
		b, _ := r3.Checkpoint()
		return strings.Contains(string(b), `"group":"`+group+`"`)
	}, 5*time.Second)
	if d := n.Elapsed() - t0; d > time.Second+time.Millisecond {
		t.Errorf("the listener reached the checkpoint %v after the Report", d)
	}
	// A change every 100 ms for 5 s: written about once a second.
	_, saves = r3.Checkpoint()
	for i := range 50 {
		h.JoinSource(fmt.Sprintf("ff3e::%x", 0x100+i), srcAddr)
		n.Run(100 * time.Millisecond)
	}
	_, after := r3.Checkpoint()
	if w := after - saves; w < 4 || w > 6 {
		t.Errorf("%d writes in 5 s of changes every 100 ms, want one a second", w)
	}
	n.Run(time.Second)
	if b, _ := r3.Checkpoint(); !strings.Contains(string(b), `"group":"ff3e::131"`) {
		t.Errorf("the last group is not in the checkpoint a second later")
	}
	// A daemon that hears nothing writes nothing: all of r3's links
	// silent, its state expires by its timers (the restore expires them
	// too).
	r3.Iface("to-r2").SetSilent(true)
	r3.Iface("eth1").SetSilent(true)
	n.Run(time.Second)
	_, saves = r3.Checkpoint()
	n.Run(5 * time.Minute)
	if _, after := r3.Checkpoint(); after != saves {
		t.Errorf("%d writes with nothing heard", after-saves)
	}
}

// TestCheckpointAfterStop: a graceful stop writes the checkpoint too; a
// daemon started again soon after restores it and forwards at once (the
// neighbors forgot us on our goodbye, but they and the listeners are
// still there, and confirm it).
func TestCheckpointAfterStop(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r3 := rs[2]
	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 10*time.Millisecond)
	runUntil(t, n, "the entry at r3", func() bool { return hasEntry(r3) }, 10*time.Second)
	n.Run(5 * time.Second)
	r3.Stop()
	if len(r3.MFC()) != 0 {
		t.Fatalf("entries after the graceful stop: %v", r3.MFC())
	}
	n.Run(2 * time.Second)
	got := len(h.ReceivedFrom(srcAddr, group))
	r3.Start()
	if !hasEntry(r3) {
		t.Errorf("no entry right after the start: %v", r3.MFC())
	}
	n.Run(100 * time.Millisecond)
	if len(h.ReceivedFrom(srcAddr, group)) <= got {
		t.Errorf("nothing forwarded 100 ms after the start")
	}
	// Confirmed: still forwarding well after the hold.
	n.Run(time.Minute)
	st.Stop()
	n.Run(time.Second)
	d := Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent())
	if d.Duplicates != 0 || len(d.Missing) > 210 {
		t.Errorf("%d missing (the 2 s stopped: 200), %d duplicates", len(d.Missing), d.Duplicates)
	}
	if !hasEntry(r3) {
		t.Errorf("the entry is gone after the hold")
	}
}

// TestCheckpointWriteError: a write that fails is counted and logged, the
// daemon runs on, and the last checkpoint written stays.
func TestCheckpointWriteError(t *testing.T) {
	n, rs, _, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r3 := rs[2]
	n.Run(10 * time.Second)
	old, _ := r3.Checkpoint()
	r3.store.err = errors.New("no space left on device")
	h.JoinSource(group, srcAddr)
	runUntil(t, n, "the entry at r3", func() bool { return hasEntry(r3) }, 10*time.Second)
	n.Run(2 * time.Second)
	if c := r3.Snapshot().Counters["checkpoint"]; c["write-error"] == 0 {
		t.Errorf("counters %v, want write-error", c)
	}
	if b, _ := r3.Checkpoint(); string(b) != string(old) {
		t.Error("the checkpoint changed though the writes failed")
	}
	r3.store.err = nil
	n.Run(2 * time.Second)
	if b, _ := r3.Checkpoint(); !strings.Contains(string(b), `"group":"`+group+`"`) {
		t.Error("the listener is not in the checkpoint once writes work again")
	}
}
