package e2e

import (
	"encoding/json"
	"fmt"
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

// bin holds the binaries built for this test run.
var bin string

func TestMain(m *testing.M) {
	// PIM6SD_E2E_BIN names a directory with pim6sd and pim6stat built
	// from this tree (scripts/test.sh builds them on the host before the
	// tests run in a VM, where compiling is several times slower).
	if dir := os.Getenv("PIM6SD_E2E_BIN"); dir != "" {
		for _, b := range []string{"pim6sd", "pim6stat"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				fmt.Fprintf(os.Stderr, "PIM6SD_E2E_BIN: %v\n", err)
				os.Exit(1)
			}
		}
		bin = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "pim6sd-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := exec.Command("go", "build", "-o", dir+"/", "../../cmd/pim6sd", "../../cmd/pim6stat").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the binaries: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a pim6sd process in a namespace.
type daemon struct {
	t      *testing.T
	ns     *netns.NS
	dir    string
	socket string
	proc   *netns.Proc
}

// startPim6sd starts pim6sd in ns with an optional config (TOML text) and
// waits until its control socket answers.
func startPim6sd(t *testing.T, ns *netns.NS, config string, extra ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, ns: ns, dir: t.TempDir()}
	d.socket = filepath.Join(d.dir, "pim6sd.sock")
	args := []string{filepath.Join(bin, "pim6sd"), "--foreground", "--socket", d.socket,
		"--pidfile", filepath.Join(d.dir, "pim6sd.pid"), "--log-level", "debug",
		// Each daemon its own checkpoint: one in /run would be read by the
		// next test's daemon (same configuration, same interface names).
		"--state-file", filepath.Join(d.dir, "pim6sd.state")}
	if config != "" {
		path := filepath.Join(d.dir, "pim6sd.toml")
		if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	args = append(args, extra...)
	d.proc = ns.Start(args...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := d.snapshot(); err == nil {
			return d
		}
		if err := d.proc.Wait(0); err == nil || !strings.Contains(err.Error(), "still running") {
			t.Fatalf("pim6sd in %s exited: %v\n%s", ns.Name, err, d.proc.Output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("pim6sd in %s did not answer on its socket:\n%s", ns.Name, d.proc.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pim6stat runs pim6stat against this daemon.
func (d *daemon) pim6stat(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(bin, "pim6stat"), append([]string{"--socket", d.socket}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *daemon) snapshot() (*ctl.Snapshot, error) {
	out, err := d.pim6stat("--json")
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var s ctl.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("pim6stat --json: %v", err)
	}
	return &s, nil
}

// waitFor polls the daemon's snapshot until cond holds.
func (d *daemon) waitFor(within time.Duration, what string, cond func(*ctl.Snapshot) bool) time.Duration {
	d.t.Helper()
	start := time.Now()
	var last *ctl.Snapshot
	for {
		s, err := d.snapshot()
		if err == nil {
			last = s
			if cond(s) {
				return time.Since(start)
			}
		}
		if time.Since(start) > within {
			b, _ := json.MarshalIndent(last, "", " ")
			d.t.Fatalf("%s: not within %v (in %s); last snapshot:\n%s\nlog:\n%s", what, within, d.ns.Name, b, d.proc.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.proc.Cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

// mroutes lists the kernel's multicast routes in ns (ip -6 -json mroute).
type mroute struct {
	Src  string `json:"src"`
	Grp  string `json:"dst"`
	IIF  string `json:"iif"`
	OIFs []string
	Raw  []struct {
		Oif string `json:"oif"`
	} `json:"multipath"`
}

func mroutes(t *testing.T, ns *netns.NS) []mroute {
	t.Helper()
	out := ns.MustRun("ip", "-6", "-json", "mroute", "show")
	var rs []mroute
	if strings.TrimSpace(out) == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("ip -6 -json mroute: %v\n%s", err, out)
	}
	for i := range rs {
		for _, r := range rs[i].Raw {
			rs[i].OIFs = append(rs[i].OIFs, r.Oif)
		}
	}
	return rs
}

func findMroute(rs []mroute, src, grp string) (mroute, bool) {
	for _, r := range rs {
		if r.Src == src && r.Grp == grp {
			return r, true
		}
	}
	return mroute{}, false
}

// waitMroute polls the kernel until cond holds for (src, grp).
func waitMroute(t *testing.T, ns *netns.NS, src, grp string, within time.Duration, what string, cond func(mroute, bool) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		r, ok := findMroute(mroutes(t, ns), src, grp)
		if cond(r, ok) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v; ip -6 mroute in %s:\n%s", what, within, ns.Name, ns.MustRun("ip", "-6", "mroute"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newNS makes a namespace with DAD off for every interface created later.
func newNS(t *testing.T, label string) *netns.NS {
	n := netns.New(t, label)
	n.Sysctl("net.ipv6.conf.all.accept_dad", "0")
	n.Sysctl("net.ipv6.conf.default.accept_dad", "0")
	return n
}
