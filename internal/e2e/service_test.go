package e2e

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// repoRoot is the module's root (this package is internal/e2e).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// makeInstall runs `make TARGET DESTDIR=dest PREFIX=/usr/local` in the
// repository: the documented install step, staged.
func makeInstall(t *testing.T, target, dest string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is missing")
	}
	cmd := exec.Command("make", "-s", "-C", repoRoot(t), target, "DESTDIR="+dest, "PREFIX=/usr/local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	return string(out)
}

// installed is every file `make install` puts, with its mode.
var installed = []struct {
	path string
	mode os.FileMode
}{
	{"usr/local/sbin/pim6sd", 0o755},
	{"usr/local/sbin/pim6stat", 0o755},
	{"usr/local/share/man/man8/pim6sd.8", 0o644},
	{"usr/local/share/man/man8/pim6stat.8", 0o644},
	{"usr/local/share/man/man5/pim6sd.toml.5", 0o644},
	{"usr/local/lib/systemd/system/pim6sd.service", 0o644},
	{"etc/pim6sd/pim6sd.toml.example", 0o644},
	{"etc/pim6sd/pim6sd.toml", 0o644},
}

// regularFiles lists the regular files under dir, relative to it.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestInstallUninstall(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, "install", dest)
	example, err := os.ReadFile(filepath.Join(repoRoot(t), "etc/pim6sd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range installed {
		fi, err := os.Stat(filepath.Join(dest, f.path))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != f.mode {
			t.Errorf("%s: mode %v, want %v", f.path, fi.Mode(), f.mode)
		}
	}
	if got := regularFiles(t, dest); len(got) != len(installed) {
		t.Errorf("installed %d files, want %d: %q", len(got), len(installed), got)
	}
	for _, f := range []string{"etc/pim6sd/pim6sd.toml", "etc/pim6sd/pim6sd.toml.example"} {
		if b, _ := os.ReadFile(filepath.Join(dest, f)); !bytes.Equal(b, example) {
			t.Errorf("%s is not etc/pim6sd.toml", f)
		}
	}
	unit, err := os.ReadFile(filepath.Join(dest, "usr/local/lib/systemd/system/pim6sd.service"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ExecStart=/usr/local/sbin/pim6sd --foreground --config /etc/pim6sd/pim6sd.toml\n"; !strings.Contains(string(unit), want) {
		t.Errorf("the installed unit has no %q:\n%s", want, unit)
	}
	out, err := exec.Command(filepath.Join(dest, "usr/local/sbin/pim6sd"), "check-config", filepath.Join(dest, "etc/pim6sd/pim6sd.toml")).CombinedOutput()
	if err != nil {
		t.Errorf("the installed pim6sd refuses the installed configuration: %v\n%s", err, out)
	}

	// A second install keeps the user's configuration.
	conf := filepath.Join(dest, "etc/pim6sd/pim6sd.toml")
	mine := []byte("[global]\nlog-level = \"debug\"\n")
	if err := os.WriteFile(conf, mine, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := makeInstall(t, "install", dest); !strings.Contains(out, "kept the existing") {
		t.Errorf("second install does not say it kept the configuration:\n%s", out)
	}
	if b, _ := os.ReadFile(conf); !bytes.Equal(b, mine) {
		t.Errorf("a second install changed the existing configuration to:\n%s", b)
	}

	// Uninstall removes everything but the configuration.
	makeInstall(t, "uninstall", dest)
	if got := regularFiles(t, dest); len(got) != 1 || got[0] != "etc/pim6sd/pim6sd.toml" {
		t.Errorf("after uninstall: %q, want only etc/pim6sd/pim6sd.toml", got)
	}
	// Without a configuration left, uninstall removes /etc/pim6sd too.
	makeInstall(t, "install", dest)
	os.Remove(conf)
	makeInstall(t, "uninstall", dest)
	if _, err := os.Stat(filepath.Join(dest, "etc/pim6sd")); !os.IsNotExist(err) {
		t.Errorf("uninstall left etc/pim6sd without a configuration in it: %v", err)
	}
	if got := regularFiles(t, dest); len(got) != 0 {
		t.Errorf("after install, rm pim6sd.toml, uninstall: %q left", got)
	}
}

// The man pages render without a warning.
func TestInstallManPages(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is missing (apt-get install groff-base; scripts/deps.sh installs it)")
	}
	for _, page := range []string{"pim6sd.8", "pim6stat.8", "pim6sd.toml.5"} {
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", filepath.Join(repoRoot(t), "man", page))
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff -man -ww %s: %v\n%s", page, err, out)
		}
	}
}

// systemd-analyze verify accepts the installed unit. It checks that the
// ExecStart binary exists and that the Documentation= man pages open, so
// the unit is verified as installed in a staging root, with ExecStart
// pointing into it and MANPATH at its man pages.
func TestServiceUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is missing (apt-get install systemd; scripts/deps.sh installs it)")
	}
	dest := t.TempDir()
	makeInstall(t, "install", dest)
	unit, err := os.ReadFile(filepath.Join(dest, "usr/local/lib/systemd/system/pim6sd.service"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	staged := strings.ReplaceAll(string(unit), "/usr/local/sbin/", filepath.Join(dest, "usr/local/sbin")+"/")
	if err := os.WriteFile(filepath.Join(dir, "pim6sd.service"), []byte(staged), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", filepath.Join(dir, "pim6sd.service"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dest, "usr/local/share/man"), "SYSTEMD_LOG_LEVEL=notice")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, want := range []string{"Type=notify", "NotifyAccess=main", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID",
		"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW", "ProtectSystem=strict", "ReadWritePaths=/run"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit has no %q", want)
		}
	}
}

// notifications is a NOTIFY_SOCKET the test owns: every datagram pim6sd
// sends, in order.
type notifications struct {
	t    *testing.T
	path string
	ch   chan string
}

func listenNotify(t *testing.T) *notifications {
	t.Helper()
	n := &notifications{t: t, path: filepath.Join(t.TempDir(), "notify"), ch: make(chan string, 256)}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				close(n.ch)
				return
			}
			n.ch <- string(buf[:k])
		}
	}()
	return n
}

// next waits for a datagram with the line want (skipping others, which
// it returns too) and returns it.
func (n *notifications) next(want string, within time.Duration, skipped *[]string) string {
	n.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-n.ch:
			if !ok {
				n.t.Fatalf("notification socket closed while waiting for %q", want)
			}
			for _, line := range strings.Split(m, "\n") {
				if line == want {
					return m
				}
			}
			if skipped != nil {
				*skipped = append(*skipped, m)
			}
		case <-deadline:
			n.t.Fatalf("no %q within %v", want, within)
		}
	}
}

func TestServiceNotify(t *testing.T) {
	netns.RequireRoot(t)
	r := router(t, "svc")
	h := newNS(t, "svch")
	link(t, r, "eth0", "fe80::1", "2001:db8:1::1/64", h, "eth0", "fe80::2", "")
	n := listenNotify(t)

	d := &daemon{t: t, ns: r, dir: t.TempDir()}
	d.socket = filepath.Join(d.dir, "pim6sd.sock")
	d.proc = r.Start("env", "-u", "WATCHDOG_PID", "NOTIFY_SOCKET="+n.path, "WATCHDOG_USEC=2000000",
		filepath.Join(bin, "pim6sd"), "--foreground", "--socket", d.socket,
		"--pidfile", filepath.Join(d.dir, "pim6sd.pid"), "--log-level", "debug")

	var before []string
	ready := n.next("READY=1", 15*time.Second, &before)
	readyAt := time.Now()
	for _, m := range before {
		if m != "WATCHDOG=1" {
			t.Errorf("before READY=1: %q", m)
		}
	}
	// READY=1 comes once the control socket answers: no retry needed.
	if _, err := d.snapshot(); err != nil {
		t.Errorf("READY=1 received but the control socket does not answer: %v", err)
	}
	if !strings.Contains(ready, "\nSTATUS=1 interfaces, 0 neighbors, ") {
		t.Errorf("READY=1 datagram %q: want STATUS=1 interfaces, 0 neighbors, ...", ready)
	}

	// WATCHDOG_USEC=2000000: a ping every second from the loop.
	var skipped []string
	n.next("WATCHDOG=1", 3*time.Second, &skipped)
	n.next("WATCHDOG=1", 3*time.Second, &skipped)
	if el := time.Since(readyAt); el > 3500*time.Millisecond {
		t.Errorf("two WATCHDOG=1 took %v after READY=1, want about 2s", el)
	}

	// SIGHUP: RELOADING=1, then READY=1 again (no configuration file:
	// nothing to reload, the daemon says so and runs on).
	d.signal(syscall.SIGHUP)
	reloading := n.next("RELOADING=1", 5*time.Second, nil)
	if !strings.Contains(reloading, "\nMONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 datagram %q has no MONOTONIC_USEC=", reloading)
	}
	n.next("READY=1", 5*time.Second, nil)

	d.signal(syscall.SIGTERM)
	if m := n.next("STOPPING=1", 5*time.Second, nil); !strings.Contains(m, "STATUS=stopping") {
		t.Errorf("STOPPING=1 datagram %q: want STATUS=stopping too", m)
	}
	if err := d.proc.Wait(10 * time.Second); err != nil {
		t.Errorf("pim6sd after SIGTERM: %v\n%s", err, d.proc.Output())
	}
}
