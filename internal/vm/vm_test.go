package vm

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cavaliergopher/cpio"
	"github.com/google/go-cmp/cmp"
)

func TestModulesDepLoadOrder(t *testing.T) {
	const dep = `kernel/fs/overlayfs/overlay.ko.xz:
kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz
kernel/net/9p/9pnet.ko.xz:
kernel/fs/netfs/netfs.ko.xz:
kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz
kernel/drivers/virtio/virtio_ring.ko.xz:
kernel/drivers/char/hw_random/virtio-rng.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz
`
	md, err := parseModulesDep(strings.NewReader(dep))
	if err != nil {
		t.Fatal(err)
	}
	files, other := md.loadOrder([]string{"virtio_pci", "virtio_rng", "9pnet_virtio", "9p", "overlay"})
	want := []string{
		"kernel/drivers/virtio/virtio_ring.ko.xz",
		"kernel/drivers/char/hw_random/virtio-rng.ko.xz", // '-' in the file, '_' in the name
		"kernel/net/9p/9pnet.ko.xz",
		"kernel/net/9p/9pnet_virtio.ko.xz",
		"kernel/fs/netfs/netfs.ko.xz",
		"kernel/fs/9p/9p.ko.xz",
		"kernel/fs/overlayfs/overlay.ko.xz",
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("load order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"virtio_pci"}, other); diff != "" {
		t.Errorf("not in modules.dep (-want +got):\n%s", diff)
	}
	// Every module comes after all of its dependencies.
	pos := map[string]int{}
	for i, f := range files {
		pos[moduleName(f)] = i
	}
	for name, deps := range md.deps {
		if _, ok := pos[name]; !ok {
			continue
		}
		for _, d := range deps {
			if pos[d] > pos[name] {
				t.Errorf("%s loaded before its dependency %s", name, d)
			}
		}
	}

	if _, err := parseModulesDep(strings.NewReader("kernel/a.ko kernel/b.ko\n")); err == nil {
		t.Error("a modules.dep line without ':' was accepted")
	}
}

// fakeKernel lays out a kernel directory as scripts/vm-kernel.sh does, with
// modules that are not real (the initrd is only built, not booted).
func fakeKernel(t *testing.T, builtin string, mods map[string][]byte) *Kernel {
	t.Helper()
	dir := t.TempDir()
	const version = "6.99.0-test"
	moddir := filepath.Join(dir, "lib", "modules", version)
	var dep strings.Builder
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for f := range mods {
			if !yield(f) {
				return
			}
		}
	}) {
		p := filepath.Join(moddir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, mods[f], 0o644); err != nil {
			t.Fatal(err)
		}
		dep.WriteString(f + ":\n")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(moddir, 0o755))
	must(os.WriteFile(filepath.Join(moddir, "modules.dep"), []byte(dep.String()), 0o644))
	must(os.WriteFile(filepath.Join(moddir, "modules.builtin"), []byte(builtin), 0o644))
	must(os.WriteFile(filepath.Join(dir, "vmlinuz"), []byte("not a kernel"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "version"), []byte(version+"\n"), 0o644))
	k, err := OpenKernel(dir)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInitrdContents(t *testing.T) {
	requireBusybox(t)
	k := fakeKernel(t, "kernel/drivers/virtio/virtio_pci.ko\n", map[string][]byte{
		"kernel/fs/9p/9p.ko":               []byte("9p module"),
		"kernel/net/9p/9pnet_virtio.ko.gz": gz(t, []byte("9pnet_virtio module")),
		"kernel/fs/overlayfs/overlay.ko":   []byte("overlay module"),
	})
	path, err := k.Initrd()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	modes := map[string]cpio.FileMode{}
	r := cpio.NewReader(zr)
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], modes[h.Name] = b, h.Mode
	}
	for _, d := range []string{"bin", "dev", "proc", "sys", "lower", "upper", "newroot"} {
		if !modes[d].IsDir() {
			t.Errorf("no directory %s in the initrd", d)
		}
	}
	if modes["init"].Perm() != 0o755 || !strings.HasPrefix(string(files["init"]), "#!/bin/busybox sh\n") {
		t.Errorf("init: mode %v, starts %q", modes["init"], string(files["init"])[:min(30, len(files["init"]))])
	}
	init := string(files["init"])
	for _, want := range []string{
		"mount -o bind \"/newroot" + k.Modules() + "\" /newroot/lib/modules/6.99.0-test",
		"exec switch_root /newroot /bin/bash /run/pim6vm/init",
		"mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower",
	} {
		if !strings.Contains(init, want) {
			t.Errorf("init lacks %q", want)
		}
	}
	bb, _ := os.ReadFile(Busybox)
	if !bytes.Equal(files["bin/busybox"], bb) {
		t.Error("bin/busybox differs from " + Busybox)
	}
	// virtio_pci is built in: not loaded. The .gz module is stored
	// decompressed. The order is modules.dep's.
	if got, want := string(files["mods/order"]), "00-9pnet_virtio.ko\n01-9p.ko\n02-overlay.ko\n"; got != want {
		t.Errorf("mods/order = %q, want %q", got, want)
	}
	if got := string(files["mods/00-9pnet_virtio.ko"]); got != "9pnet_virtio module" {
		t.Errorf("9pnet_virtio stored as %q, want it decompressed", got)
	}

	// Reused while nothing changed.
	again, err := k.Initrd()
	if err != nil || again != path {
		t.Errorf("second Initrd() = %q, %v; want the same file %q", again, err, path)
	}
}

func TestInitrdMissingBootModule(t *testing.T) {
	k := fakeKernel(t, "", map[string][]byte{"kernel/fs/9p/9p.ko": []byte("x")})
	_, err := k.Initrd()
	if err == nil || !strings.Contains(err.Error(), "9pnet_virtio") || !strings.Contains(err.Error(), "virtio_pci") {
		t.Fatalf("Initrd() error = %v, want one naming the missing 9pnet_virtio, overlay and virtio_pci", err)
	}
}

func TestOpenKernel(t *testing.T) {
	k := fakeKernel(t, "", nil)
	t.Setenv("PIM6SD_VM_CACHE", t.TempDir())
	_, err := OpenKernel("trixie")
	if err == nil || !strings.Contains(err.Error(), "scripts/vm-kernel.sh trixie") {
		t.Errorf("OpenKernel of a missing release: %v; want the command that fetches it", err)
	}
	os.Remove(k.Image())
	if _, err := OpenKernel(k.Dir); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("OpenKernel without vmlinuz: %v, want 'incomplete'", err)
	}
}

func TestShellQuote(t *testing.T) {
	words := []string{"plain", "", "two words", "it's", `"double"`, "$HOME", "a\nb", `back\slash`, "-- -x", "*"}
	var script strings.Builder
	script.WriteString("printf '%s\\0'")
	for _, w := range words {
		script.WriteString(" " + shellQuote(w))
	}
	out, err := exec.Command("bash", "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if diff := cmp.Diff(words, got); diff != "" {
		t.Errorf("words through bash (-want +got):\n%s", diff)
	}
}

func TestGuestEnv(t *testing.T) {
	got := GuestEnv([]string{"PATH=/usr/bin", "NOTIFY_SOCKET=/run/systemd/notify", "GOFLAGS=-count=1",
		"WATCHDOG_USEC=1", "PIM6SD_VM=0", "HOME=/root", "SSH_AUTH_SOCK=/tmp/x", "PIM6SD_VM_KERNEL_CONFIG=/x"})
	want := []string{"PATH=/usr/bin", "GOFLAGS=-count=1", "HOME=/root", "PIM6SD_VM=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GuestEnv (-want +got):\n%s", diff)
	}
}

func TestStage2Script(t *testing.T) {
	s := stage2("/work/it's here", []string{"A=1", "B=two words"}, []string{"/bin/echo", "x y"})
	out, err := exec.Command("bash", "-n", "-c", s).CombinedOutput()
	if err != nil {
		t.Fatalf("bash -n: %v: %s\n%s", err, out, s)
	}
	for _, want := range []string{`cd -- '/work/it'\''s here'`, `'B=two words'`, `'/bin/echo' 'x y' >>"$R/output" 2>&1 </dev/null`, "echo o >/proc/sysrq-trigger"} {
		if !strings.Contains(s, want) {
			t.Errorf("stage 2 lacks %q:\n%s", want, s)
		}
	}
}

func TestStreamerCopiesEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "output")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer // read only after finish: no race with the copier
	s := newStreamer(path, &got)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 200 {
		line := strings.Repeat("x", i) + "\n"
		want.WriteString(line)
		f.WriteString(line)
	}
	f.Close()
	// Written after the last poll may have run: finish must still copy it.
	s.finish()
	if got.String() != want.String() {
		t.Errorf("streamed %d bytes, want %d", len(got.String()), want.Len())
	}
}

// The runner itself, through a real VM: a tiny test binary's pass, failure
// and panic come back with their exit status and output, and the pass says
// it ran on the guest's kernel; `go test -exec` with the tool reports the
// same. Needs root (qemu shares / read-only with the guest; the kernel is
// fetched into /var/cache by `make deps`).
func TestRunnerThroughVM(t *testing.T) {
	k := requireVM(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "tiny.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "./testdata/tiny").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	wd, _ := os.Getwd()
	for _, tc := range []struct {
		run      string
		code     int
		contains []string
	}{
		{"TestPass", 0, []string{"--- PASS: TestPass", "tiny: kernel " + k.Version + ", in " + wd + "/testdata/tiny, PIM6SD_VM=1", "\nPASS\n"}},
		{"TestFail", 1, []string{"--- FAIL: TestFail", "tiny: failing on purpose", "\nFAIL\n"}},
		{"TestPanic", 2, []string{"panic: tiny: panicking on purpose", "tiny_test.go:"}},
	} {
		t.Run(tc.run, func(t *testing.T) {
			var out bytes.Buffer
			code, err := Run(t.Context(), Options{Kernel: k, MemMB: 1024, Dir: filepath.Join(wd, "testdata", "tiny"), Stdout: &out, Log: &out},
				[]string{bin, "-test.v", "-test.run=^" + tc.run + "$"})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			for _, c := range tc.contains {
				if !strings.Contains(out.String(), c) {
					t.Errorf("output lacks %q:\n%s", c, out.String())
				}
			}
		})
	}
}

// go test -exec with the vmrun tool: the package's result line and exit
// status are go test's usual ones.
func TestGoTestExec(t *testing.T) {
	requireVM(t)
	tool := filepath.Join(t.TempDir(), "vmrun")
	if out, err := exec.Command("go", "build", "-o", tool, "../../tools/vmrun").CombinedOutput(); err != nil {
		t.Fatalf("go build vmrun: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "test", "-count=1", "-exec", tool, "-run", "^(TestPass|TestFail)$", "./testdata/tiny")
	cmd.Env = append(os.Environ(), "PIM6SD_VM_MEM=1024")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("go test -exec vmrun: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{"--- FAIL: TestFail", "tiny: failing on purpose", "FAIL\tgithub.com/pim6sd/pim6sd/internal/vm/testdata/tiny"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A VM that does not report a status is an error, never a pass: here the
// command outlives the timeout.
func TestRunnerTimeout(t *testing.T) {
	k := requireVM(t)
	var out bytes.Buffer
	code, err := Run(t.Context(), Options{Kernel: k, MemMB: 512, Timeout: 3 * time.Second, Stdout: &out, Log: &out}, []string{"sleep", "600"})
	if _, ok := err.(*ExitError); !ok || !strings.Contains(err.Error(), "timed out after 3s") {
		t.Fatalf("Run = %d, %v; want an ExitError saying it timed out\n%s", code, err, out.String())
	}
	if !strings.Contains(out.String(), "the end of the guest console") {
		t.Errorf("no console tail in the runner's message:\n%s", out.String())
	}
}

// requireVM returns the default test kernel. Without root the test is
// skipped (the VM shares / and the kernel cache is root's); as root a
// missing kernel or qemu is a failure: `make check` installs both first.
func requireVM(t *testing.T) *Kernel {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the VM shares the host's root; CI runs as root")
	}
	if _, err := exec.LookPath(Qemu); err != nil {
		t.Fatalf("%v: run `make deps`", err)
	}
	k, err := OpenKernel(DefaultRelease)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCheckStatic(t *testing.T) {
	if err := checkStatic("/bin/sh"); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("checkStatic(/bin/sh) = %v, want 'dynamically linked'", err)
	}
	requireBusybox(t)
	if err := checkStatic(Busybox); err != nil {
		t.Errorf("checkStatic(%s) = %v", Busybox, err)
	}
}

// requireBusybox: without root the test is skipped like every test that
// needs `make deps`; as root (CI) a missing busybox-static is a failure.
func requireBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(Busybox); err != nil {
		if os.Geteuid() == 0 {
			t.Fatalf("%v: run `make deps` (Debian's busybox-static)", err)
		}
		t.Skipf("%s missing (Debian's busybox-static; `make deps` installs it)", Busybox)
	}
}
