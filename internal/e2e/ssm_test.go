package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

const (
	srcAddr = "2001:db8:1::10"
	ssmGrp  = "ff3e::4321:1234"
)

// oneRouter is sender -- router -- receiver with pim6sd on the router.
type oneRouter struct {
	snd, rtr, rcv *netns.NS
}

func newOneRouter(t *testing.T) oneRouter {
	tp := oneRouter{snd: newNS(t, "snd"), rtr: router(t, "rtr"), rcv: newNS(t, "rcv")}
	link(t, tp.rtr, "to-snd", "fe80::1", "2001:db8:1::1/64", tp.snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, tp.rtr, "to-rcv", "fe80::1", "2001:db8:2::1/64", tp.rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	tp.snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	tp.rcv.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	return tp
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: `make deps` (or .ci/run) installs it", name)
	}
}

// ssmping through pim6sd gets multicast replies; the kernel's MFC and
// pim6stat show the (S,G) with the right interfaces; after the receiver
// leaves, the MFC goes within the Last Listener Query Time plus a second.
func TestSSMThroughOneRouter(t *testing.T) {
	requireTool(t, "ssmping")
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "")
	tp.snd.Start("ssmpingd")
	time.Sleep(300 * time.Millisecond)

	out, err := tp.rcv.Run("ssmping", "-6", "-c", "5", srcAddr)
	if err != nil {
		t.Fatalf("ssmping: %v\n%s", err, out)
	}
	if n := strings.Count(out, "multicast from "+srcAddr); n < 4 {
		t.Fatalf("ssmping got %d multicast replies of 5:\n%s", n, out)
	}
	t.Logf("ssmping: %d multicast replies of 5", strings.Count(out, "multicast from "+srcAddr))

	// ssmping has exited and left the group; the MFC entry goes.
	took := waitMroute(t, tp.rtr, srcAddr, ssmGrp, 3*time.Second, "the (S,G) leaves the kernel after the receiver left",
		func(_ mroute, ok bool) bool { return !ok })
	t.Logf("MFC gone %v after ssmping exited", took)

	// Join again with a long-lived socket to look at the state.
	rcv := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 4321)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 3*time.Second, "the (S,G) in the kernel", func(r mroute, ok bool) bool {
		return ok && r.IIF == "to-snd" && len(r.OIFs) == 1 && r.OIFs[0] == "to-rcv"
	})
	snap, err := d.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	mif := map[string]int{}
	for _, i := range snap.Interfaces {
		mif[i.Name] = i.MIF
	}
	var route *ctl.Route
	for i := range snap.Routes {
		if snap.Routes[i].Source.String() == srcAddr && snap.Routes[i].Group.String() == ssmGrp {
			route = &snap.Routes[i]
		}
	}
	if route == nil || route.Incoming != mif["to-snd"] || !equalInts(route.Leaves, []int{mif["to-rcv"]}) || !equalInts(route.Outgoing, []int{mif["to-rcv"]}) {
		t.Fatalf("pim6stat route: %+v (MIFs %v)", route, mif)
	}
	report, err := d.pim6stat()
	if err != nil {
		t.Fatal(err)
	}
	n := len(snap.Interfaces) // the register MIF and the two links
	for _, want := range []string{
		" " + srcAddr + "  " + ssmGrp + " NULL            CACHE SG\n",
		"Leaves   oifs: " + bits(mif["to-rcv"], 'l', n),
		"Outgoing oifs: " + bits(mif["to-rcv"], 'o', n),
		"Incoming     : " + bits(mif["to-snd"], 'I', n),
		"Number of Cache MIRRORs: 1\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	rcv.leave()
	took = waitMroute(t, tp.rtr, srcAddr, ssmGrp, 3*time.Second, "the (S,G) leaves the kernel after the leave", func(_ mroute, ok bool) bool { return !ok })
	t.Logf("MFC gone %v after the MLD leave (LLQT 2s)", took)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// bits renders the report's per-MIF string with c at mif, padded to 20.
func bits(mif int, c byte, n int) string {
	b := []byte(strings.Repeat(".", n))
	b[mif] = c
	return string(b) + strings.Repeat(" ", 20-n)
}

// Signals: SIGUSR1 dumps, SIGHUP reloads only a good file, SIGTERM says
// goodbye (Hello holdtime 0), removes kernel state, pid file and socket.
func TestSignals(t *testing.T) {
	tp := newOneRouter(t)
	// A PIM neighbor on the sender side to hear the goodbye.
	capture := tp.snd.Capture("eth0", "ip6 proto 103")
	cfg := `[global]
dump-file = "%DIR%/pim6sd.dump"
[[interface]]
name = "to-snd"
[interface.pim]
dr-priority = 5
`
	dir := t.TempDir()
	cfg = strings.ReplaceAll(cfg, "%DIR%", dir)
	d := startPim6sd(t, tp.rtr, cfg)
	pidfile := filepath.Join(d.dir, "pim6sd.pid")
	if _, err := os.Stat(pidfile); err != nil {
		t.Fatalf("no pid file: %v", err)
	}

	d.signal(syscall.SIGUSR1)
	dump := filepath.Join(dir, "pim6sd.dump")
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(dump)
		if err == nil && strings.HasPrefix(string(b), "\nMulticast Interface Table\n") && strings.Contains(string(b), "CallOut Timer Queue") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGUSR1 wrote no dump at %s (%v)", dump, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	prio := func(s *ctl.Snapshot) uint32 {
		for _, i := range s.Interfaces {
			if i.Name == "to-snd" {
				return i.Priority
			}
		}
		return 0
	}
	d.waitFor(3*time.Second, "configured DR priority 5", func(s *ctl.Snapshot) bool { return prio(s) == 5 })
	// A bad file is refused whole.
	write := func(text string) {
		if err := os.WriteFile(filepath.Join(d.dir, "pim6sd.toml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(strings.Replace(cfg, "dr-priority = 5", "dr-priority = 7\nno-such-key = 1", 1))
	d.signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if s, _ := d.snapshot(); s == nil || prio(s) != 5 {
		t.Fatalf("a bad configuration was applied (priority now %v)", s)
	}
	if !strings.Contains(d.proc.Output(), "new configuration refused") {
		t.Errorf("no log line about the refused configuration:\n%s", d.proc.Output())
	}
	// A good one is applied.
	write(strings.Replace(cfg, "dr-priority = 5", "dr-priority = 9", 1))
	d.signal(syscall.SIGHUP)
	d.waitFor(3*time.Second, "reloaded DR priority 9", func(s *ctl.Snapshot) bool { return prio(s) == 9 })

	d.signal(syscall.SIGTERM)
	if err := d.proc.Wait(10 * time.Second); err != nil {
		t.Fatalf("pim6sd did not exit cleanly on SIGTERM: %v\n%s", err, d.proc.Output())
	}
	for _, f := range []string{pidfile, d.socket} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s still exists after SIGTERM", f)
		}
	}
	if out := tp.rtr.MustRun("cat", "/proc/net/ip6_mr_vif"); strings.Count(out, "\n") > 1 {
		t.Errorf("MIFs left in the kernel after SIGTERM:\n%s", out)
	}
	var goodbye bool
	for _, p := range capture.Stop() {
		// PIM Hello (type 0) whose Holdtime option (type 1, length 2) is 0.
		b := p.Payload
		if len(b) >= 10 && b[0] == 0x20 && b[4] == 0 && b[5] == 1 && b[6] == 0 && b[7] == 2 && b[8] == 0 && b[9] == 0 {
			goodbye = true
		}
	}
	if !goodbye {
		t.Error("no Hello with holdtime 0 was sent on SIGTERM")
	}
}

// Without --foreground, pim6sd detaches and its exit status says whether
// the daemon started; a second one on the same table is refused clearly.
func TestBackgroundStart(t *testing.T) {
	tp := newOneRouter(t)
	dir := t.TempDir()
	sock, pidfile := filepath.Join(dir, "s.sock"), filepath.Join(dir, "p.pid")
	out, err := tp.rtr.Run(filepath.Join(bin, "pim6sd"), "--socket", sock, "--pidfile", pidfile, "--state-file", filepath.Join(dir, "s.state"))
	if err != nil || !strings.Contains(out, "running in the background") {
		t.Fatalf("background start: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("no pid file: %v", err)
	}
	pid := strings.TrimSpace(string(b))
	t.Cleanup(func() { tp.rtr.Run("kill", "-TERM", pid) })
	if out, err := exec.Command(filepath.Join(bin, "pim6stat"), "--socket", sock).CombinedOutput(); err != nil || !strings.Contains(string(out), "Multicast Interface Table") {
		t.Fatalf("pim6stat against the background daemon: %v\n%s", err, out)
	}
	// A second daemon on the same multicast table fails with a clear error.
	out, err = tp.rtr.Run(filepath.Join(bin, "pim6sd"), "--socket", filepath.Join(dir, "2.sock"), "--pidfile", "")
	if err == nil || !strings.Contains(out, "table") || !strings.Contains(out, "in use") {
		t.Fatalf("second daemon: err=%v\n%s", err, out)
	}
	tp.rtr.MustRun("kill", "-TERM", pid)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(pidfile); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background daemon did not remove its pid file after SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
