// Package dist_test checks what `make install` puts on a system: the
// files and their modes, the man pages (groff without warnings) and the
// systemd unit (systemd-analyze verify). These tests need neither root nor
// the kernel's multicast routing, so they always run on the host; the
// daemon under the unit's own notify protocol is tested in internal/e2e.
package dist_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module's root (this package is dist).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
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
