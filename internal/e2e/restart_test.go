package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

// restartConf shortens what a restart waits for: hosts answer the startup
// query within 2 s, and entries nothing asks for again go 5 s after the
// takeover.
func restartConf() string {
	return asmConf(`[global]
restart-grace = "5s"
[mld]
query-response-interval = "2s"
`)
}

// procMIFs is the number of MIFs in ns's default table.
func procMIFs(t *testing.T, ns *netns.NS) int {
	t.Helper()
	out := strings.TrimSpace(ns.MustRun("cat", "/proc/net/ip6_mr_vif"))
	return len(strings.Split(out, "\n")) - 1 // a header line
}

// SIGUSR2 restarts each router of sender -- r1 -- r2 (RP) -- r3 -- receiver
// in turn while an SSM and an ASM stream flow at 100 datagrams/s: not one
// datagram is lost. Each restarted daemon is the same process with a new
// Generation ID, took its table over (no MIF doubled), keeps every entry
// still wanted and removes none of them when its grace ends.
func TestRestartKeepsForwarding(t *testing.T) {
	snd, r1, r2, r3, rcv := asmChain(t)

	ds := map[string]*daemon{}
	nss := map[string]*netns.NS{"r1": r1, "r2": r2, "r3": r3}
	for _, name := range []string{"r1", "r2", "r3"} {
		ds[name] = startPim6sd(t, nss[name], restartConf())
	}
	ds["r3"].waitFor(10*time.Second, "r3 sees r2", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })
	ds["r1"].waitFor(10*time.Second, "r1 sees r2", func(s *ctl.Snapshot) bool { return neighborOn(s, "to-r2", "fe80::2") })

	ssm := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 7100)
	asm := joinASM(t, rcv, "eth0", asmGrp, 7200)
	stSSM := startStream(t, newSender(t, snd, "eth0", ssmGrp, 7100), 10*time.Millisecond)
	stASM := startStream(t, newSender(t, snd, "eth0", asmGrp, 7200), 10*time.Millisecond)
	for _, r := range []*netns.NS{r1, r2, r3} {
		waitMroute(t, r, srcAddr, ssmGrp, 10*time.Second, "SSM (S,G) on "+r.Name, func(_ mroute, ok bool) bool { return ok })
		waitMroute(t, r, srcAddr, asmGrp, 10*time.Second, "ASM source tree on "+r.Name, func(m mroute, ok bool) bool {
			return ok && !strings.HasPrefix(m.IIF, "pim6reg")
		})
	}
	// Both streams flow on the source tree; losses count from here.
	time.Sleep(time.Second)
	from := [2]int{stSSM.n(), stASM.n()}

	for _, name := range []string{"r3", "r2", "r1"} {
		d, ns := ds[name], nss[name]
		before, err := d.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		mifs := procMIFs(t, ns)
		d.signal(syscall.SIGUSR2)
		var after *ctl.Snapshot
		d.waitFor(10*time.Second, name+" restarted", func(s *ctl.Snapshot) bool {
			after = s
			return s.Daemon.Restart != nil && s.Daemon.Started.After(before.Daemon.Started)
		})
		if after.Daemon.PID != before.Daemon.PID {
			t.Errorf("%s: pid %d after the restart, was %d", name, after.Daemon.PID, before.Daemon.PID)
		}
		if r := after.Daemon.Restart; r.MIFs != mifs || r.Entries < 2 {
			t.Errorf("%s: took over %+v, want %d MIFs and both streams' entries", name, r, mifs)
		}
		if got := procMIFs(t, ns); got != mifs {
			t.Errorf("%s: %d MIFs after the restart, %d before", name, got, mifs)
		}
		for _, i := range after.Interfaces {
			for _, b := range before.Interfaces {
				if i.Name == b.Name && i.GenerationID != 0 && i.GenerationID == b.GenerationID {
					t.Errorf("%s/%s: Generation ID %#x kept across the restart", name, i.Name, i.GenerationID)
				}
			}
		}
		var last *ctl.Snapshot
		d.waitFor(20*time.Second, name+"'s grace ends", func(s *ctl.Snapshot) bool {
			last = s
			return s.Daemon.Restart != nil && s.Daemon.Restart.GraceLeft == 0
		})
		if last.Daemon.Restart.Swept != 0 {
			t.Errorf("%s: the grace's end removed %d entries still in use", name, last.Daemon.Restart.Swept)
		}
		for _, g := range []string{ssmGrp, asmGrp} {
			if _, ok := findMroute(mroutes(t, ns), srcAddr, g); !ok {
				t.Errorf("%s: (%s,%s) gone after the restart", name, srcAddr, g)
			}
		}
		t.Logf("%s restarted: took over %d MIFs and %d entries", name, after.Daemon.Restart.MIFs, after.Daemon.Restart.Entries)
	}
	time.Sleep(time.Second)
	to := [2]int{stSSM.n(), stASM.n()}
	stSSM.halt()
	stASM.halt()
	gotSSM, gotASM := ssm.count(time.Second), asm.count(time.Second)
	lSSM, lASM := stSSM.losses(gotSSM, from[0], to[0]), stASM.losses(gotASM, from[1], to[1])
	t.Logf("SSM across three restarts: %v", lSSM)
	t.Logf("ASM across three restarts: %v", lASM)
	if lSSM.lost != 0 || lASM.lost != 0 {
		t.Errorf("datagrams lost across the restarts: SSM %v; ASM %v", lSSM, lASM)
		lossDiagnostics(t, ds, nss)
	}
}
