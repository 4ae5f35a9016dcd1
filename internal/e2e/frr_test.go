package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"
)

func chroot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("PIM6SD_FRR_CHROOT")
	if root == "" {
		root = "/var/lib/frr-lab/trixie"
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/frr/pim6d")); err != nil {
		t.Skipf("no FRR pim6d chroot at %s: interop tests are opt-in; set one up with `sudo ../shared/lab/frr-topo.sh setup` (or point PIM6SD_FRR_CHROOT at one)", root)
	}
	return root
}

// frr is FRRouting (mgmtd, zebra, pim6d) running in a namespace from the
// chroot, with its own path space (-N) so several can run side by side.
type frr struct {
	t    *testing.T
	root string
	ns   *netns.NS
	name string // FRR path space
}

// frrExec runs a command in ns, chrooted into FRR's root with /proc and
// /sys mounted (ip netns exec gives a private mount namespace, so nothing
// leaks to the host).
func (f *frr) cmd(args ...string) *exec.Cmd {
	script := `r=$1; shift; mount -t proc proc "$r/proc" 2>/dev/null; mount -t sysfs sysfs "$r/sys" 2>/dev/null; exec chroot "$r" "$@"`
	return exec.Command("ip", append([]string{"netns", "exec", f.ns.Name, "/bin/sh", "-c", script, "sh", f.root}, args...)...)
}

func startFRR(t *testing.T, ns *netns.NS, pim6dConf string) *frr {
	t.Helper()
	root := chroot(t)
	f := &frr{t: t, root: root, ns: ns, name: fmt.Sprintf("p6i%d", os.Getpid()%100000) + ns.Name[len(ns.Name)-3:]}
	run := filepath.Join(root, "run/frr", f.name)
	etc := filepath.Join(root, "etc/frr", f.name)
	logd := filepath.Join(root, "var/log/pim6sd-interop", f.name)
	for _, d := range []string{run, etc, logd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		f.stop()
		os.RemoveAll(run)
		os.RemoveAll(etc)
		if !t.Failed() {
			os.RemoveAll(logd)
		}
	})
	files := map[string]string{"zebra.conf": "hostname " + f.name + "\n", "vtysh.conf": "", "pim6d.conf": "hostname " + f.name + "\n" + pim6dConf}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(etc, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Debian's FRR drops privileges to user frr.
	out, err := exec.Command("chroot", root, "id", "-u", "frr").Output()
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	out, _ = exec.Command("chroot", root, "id", "-g", "frr").Output()
	gid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	for _, d := range []string{run, etc, logd} {
		filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, gid) })
	}
	for _, d := range []string{"mgmtd", "zebra", "pim6d"} {
		args := []string{"/usr/lib/frr/" + d, "-d", "-N", f.name, "--log", "file:/var/log/pim6sd-interop/" + f.name + "/" + d + ".log", "--log-level", "debug"}
		if d != "mgmtd" {
			args = append(args, "-f", "/etc/frr/"+f.name+"/"+d+".conf")
		}
		// -d daemons keep the stdio they inherit: give them none, or a pipe
		// to us would never see EOF.
		c := f.cmd(args...)
		if err := c.Run(); err != nil {
			log, _ := os.ReadFile(filepath.Join(logd, d+".log"))
			t.Fatalf("start FRR %s in %s: %v\n%s", d, ns.Name, err, log)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(run, d+".vty")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(logd, d+".log"))
				t.Fatalf("FRR %s did not come up in %s:\n%s", d, ns.Name, log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return f
}

// stop ends the FRR daemons this test started, by the PIDs they wrote.
func (f *frr) stop() {
	for _, d := range []string{"pim6d", "zebra", "mgmtd"} {
		b, err := os.ReadFile(filepath.Join(f.root, "run/frr", f.name, d+".pid"))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			syscall.Kill(pid, syscall.SIGTERM)
		}
	}
}

// vtysh runs show commands and returns the output.
func (f *frr) vtysh(cmds ...string) string {
	args := []string{"/usr/bin/vtysh", "-N", f.name}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := f.cmd(args...).CombinedOutput()
	if err != nil {
		f.t.Logf("vtysh %v: %v", cmds, err)
	}
	return string(out)
}

func (f *frr) vtyJSON(cmd string, v any) error {
	out := f.vtysh(cmd)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("%s: %v: %s", cmd, err, out)
	}
	return nil
}
