package e2e

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// kill -9, then a new daemon with the same configuration and state file
// (global.state-file): the kernel held no route while no daemon ran, and
// the checkpoint brings the listener back at once: of the stream at 100
// datagrams/s, what was sent from the new daemon's start on loses at most
// 1 s (without the checkpoint the host answers the startup query within
// the Query Response Interval, 10 s). The time no daemon ran is logged.
func TestCheckpointAfterKill(t *testing.T) {
	tp := newOneRouter(t)
	state := filepath.Join(t.TempDir(), "pim6sd.state")
	d := startPim6sd(t, tp.rtr, "", "--state-file", state)
	rcv := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 7500)
	st := startStream(t, newSender(t, tp.snd, "eth0", ssmGrp, 7500), 10*time.Millisecond)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 10*time.Second, "the (S,G) installed", func(_ mroute, ok bool) bool { return ok })
	time.Sleep(2 * time.Second) // the checkpoint is written within a second
	from := st.n()

	if err := d.proc.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = d.proc.Wait(5 * time.Second)
	killed := time.Now()
	if rs := mroutes(t, tp.rtr); len(rs) != 0 {
		t.Fatalf("MFC entries left after kill -9: %+v", rs)
	}
	d = startPim6sd(t, tp.rtr, "", "--state-file", state)
	started := time.Now()
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 2*time.Second, "the (S,G) back after the restart", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-snd" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	})
	s, err := d.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Counters["checkpoint"]; c["restored"] != 1 {
		t.Errorf("checkpoint counters %v, want restored", c)
	}
	time.Sleep(time.Second)
	to := st.n()
	st.halt()
	got := rcv.count(time.Second)
	all, after := st.losses(got, from, to), st.losses(got, st.indexAt(started), to)
	t.Logf("kill -9, a new daemon answering %v later: %v; from its start: %v", started.Sub(killed).Round(time.Millisecond), all, after)
	if after.lost > 100 {
		t.Errorf("%d datagrams lost after the new daemon started, want at most 100 (1 s)", after.lost)
	}
}
