package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Qemu is the emulator Run starts (Debian's qemu-system-x86).
const Qemu = "qemu-system-x86_64"

// Options configure one Run.
type Options struct {
	Kernel *Kernel
	// MemMB is the guest's memory (default 6144). The guest's writes live
	// in it too (the overlay's upper layer is a tmpfs).
	MemMB int
	// CPUs is the number of virtual CPUs (default 2).
	CPUs int
	// Timeout bounds the whole run, boot included (0: no bound).
	Timeout time.Duration
	// Dir is the working directory of the command in the guest (default:
	// the current one). The guest sees the host's files at the same paths.
	Dir string
	// Env is the command's environment (default: GuestEnv(os.Environ())).
	Env []string
	// Stdout receives the command's output, stdout and stderr merged in
	// the order they were written, while it runs.
	Stdout io.Writer
	// Log receives the runner's own messages: timings when Verbose, the end
	// of the console when the VM fails. Default os.Stderr.
	Log     io.Writer
	Verbose bool
	// Keep leaves the run directory (console log, output, status) in place
	// and says where.
	Keep bool
}

// ExitError is returned when the VM did not report the command's exit
// status: it did not boot, crashed, or ran past the timeout.
type ExitError struct {
	Reason  string
	Console string // the end of the guest's console
}

func (e *ExitError) Error() string { return "vm: " + e.Reason }

// Run boots opt.Kernel, runs argv in the guest and returns its exit status.
// A status was reported whenever err is nil; the command's own failure is
// a non-zero status, not an error.
func Run(ctx context.Context, opt Options, argv []string) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("vm: no command")
	}
	if opt.Kernel == nil {
		return 0, errors.New("vm: no kernel")
	}
	if opt.MemMB == 0 {
		opt.MemMB = 6144
	}
	if opt.CPUs == 0 {
		opt.CPUs = 2
	}
	if opt.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return 0, fmt.Errorf("vm: %w", err)
		}
		opt.Dir = wd
	}
	if opt.Env == nil {
		opt.Env = GuestEnv(os.Environ())
	}
	// The kernel's build configuration, for tests that check what the
	// kernel offers against what it was built with.
	if _, err := os.Stat(opt.Kernel.Config()); err == nil {
		opt.Env = append(opt.Env, "PIM6SD_VM_KERNEL_CONFIG="+opt.Kernel.Config())
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	// The guest finds programs by the caller's PATH: resolve the command
	// here so that a missing one fails fast with the host's message.
	if !strings.ContainsRune(argv[0], '/') {
		p, err := exec.LookPath(argv[0])
		if err != nil {
			return 0, fmt.Errorf("vm: %w", err)
		}
		argv = append([]string{p}, argv[1:]...)
	} else if abs, err := filepath.Abs(argv[0]); err == nil {
		argv = append([]string{abs}, argv[1:]...)
	}
	qemu, err := exec.LookPath(Qemu)
	if err != nil {
		return 0, fmt.Errorf("vm: %w (install Debian's qemu-system-x86: `make deps`)", err)
	}
	initrd, err := opt.Kernel.Initrd()
	if err != nil {
		return 0, err
	}

	run, err := os.MkdirTemp("", "pim6vm-")
	if err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	if opt.Keep {
		fmt.Fprintf(opt.Log, "vmrun: run directory %s\n", run)
	} else {
		defer os.RemoveAll(run)
	}
	if err := os.WriteFile(filepath.Join(run, "init"), []byte(stage2(opt.Dir, opt.Env, argv)), 0o755); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	// The output file exists before the guest starts so that streaming
	// can open it at once.
	if err := os.WriteFile(filepath.Join(run, "output"), nil, 0o644); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}

	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	console := filepath.Join(run, "console.log")
	cmd := exec.CommandContext(ctx, qemu, qemuArgs(opt, initrd, run, console)...)
	var qemuErr bytes.Buffer
	cmd.Stdin = nil // /dev/null: no stdio chardev is used
	cmd.Stdout = &qemuErr
	cmd.Stderr = &qemuErr
	// qemu dies with the runner (go test kills the -exec program on its
	// own timeout), and never outlives a killed runner.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("vm: %s: %w", qemu, err)
	}
	stream := newStreamer(filepath.Join(run, "output"), opt.Stdout)
	booted := make(chan time.Duration, 1)
	if opt.Verbose {
		go watchBoot(filepath.Join(run, "booted"), start, booted, stream.done)
	}
	waitErr := cmd.Wait()
	stream.finish()
	elapsed := time.Since(start)
	if opt.Verbose {
		select {
		case d := <-booted:
			fmt.Fprintf(opt.Log, "vmrun: kernel %s booted in %.1fs, run took %.1fs\n", opt.Kernel.Version, d.Seconds(), elapsed.Seconds())
		default:
			fmt.Fprintf(opt.Log, "vmrun: kernel %s, run took %.1fs\n", opt.Kernel.Version, elapsed.Seconds())
		}
	}

	status, serr := os.ReadFile(filepath.Join(run, "status"))
	if serr == nil {
		code, err := strconv.Atoi(strings.TrimSpace(string(status)))
		if err == nil {
			return code, nil
		}
	}
	reason := "the guest reported no exit status"
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		reason = fmt.Sprintf("timed out after %v (kernel %s)", opt.Timeout, opt.Kernel.Version)
	case ctx.Err() != nil:
		reason = fmt.Sprintf("stopped: %v", ctx.Err())
	case waitErr != nil:
		reason = fmt.Sprintf("qemu: %v: %s", waitErr, strings.TrimSpace(qemuErr.String()))
	default:
		reason += fmt.Sprintf(" (kernel %s; it crashed or failed to boot)", opt.Kernel.Version)
	}
	tail := consoleTail(console, 40)
	fmt.Fprintf(opt.Log, "vmrun: %s\nvmrun: the end of the guest console:\n%s", reason, tail)
	return 0, &ExitError{Reason: reason, Console: tail}
}

// qemuArgs is the emulator's command line: TCG, no devices but the two 9p
// shares and an RNG, the serial console into a file.
func qemuArgs(opt Options, initrd, run, console string) []string {
	return []string{
		"-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
		"-no-reboot",
		"-accel", "tcg,thread=multi", "-cpu", "max",
		"-smp", strconv.Itoa(opt.CPUs), "-m", strconv.Itoa(opt.MemMB),
		"-kernel", opt.Kernel.Image(), "-initrd", initrd,
		// panic=-1: a panic reboots at once, which -no-reboot turns
		// into qemu exiting; no reboot loop, no hang.
		"-append", "console=ttyS0 quiet panic=-1 oops=panic",
		"-serial", "file:" + console,
		"-virtfs", "local,path=/,mount_tag=" + tagHostRoot + ",security_model=none,readonly=on,multidevs=remap",
		"-virtfs", "local,path=" + run + ",mount_tag=" + tagRun + ",security_model=none,multidevs=remap",
		"-device", "virtio-rng-pci",
	}
}

// stage2 is the run directory's init: PID 1 of the guest after
// switch_root, in the host's userland. It runs argv in dir with env,
// output into the run directory, and powers off.
func stage2(dir string, env, argv []string) string {
	var b strings.Builder
	b.WriteString(`#!/bin/bash
# pim6sd test VM, stage 2 (internal/vm): PID 1 in the host's userland.
R=` + guestRunDir + `
mkdir -p /dev/pts /dev/shm
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname pim6vm
ip link set lo up
ulimit -n 65536
: >"$R/booted"
status=125
if cd -- ` + shellQuote(dir) + `; then
	env -i --`)
	for _, e := range env {
		b.WriteString(" \\\n\t\t" + shellQuote(e))
	}
	for _, a := range argv {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString(` >>"$R/output" 2>&1 </dev/null
	status=$?
else
	echo "vmrun: no directory ` + strings.ReplaceAll(shellQuote(dir), `"`, `\"`) + ` in the guest" >>"$R/output"
fi
echo "$status" >"$R/status.tmp" && mv "$R/status.tmp" "$R/status"
sync
echo o >/proc/sysrq-trigger
sleep 10
`)
	return b.String()
}

// shellQuote quotes s for bash as one word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hostOnlyEnv are variables that describe the host's session or service
// manager; in the guest they would point at sockets and descriptors that do
// not exist there (a test of pim6sd's systemd notification must not find
// the host's NOTIFY_SOCKET).
var hostOnlyEnv = map[string]bool{
	"NOTIFY_SOCKET": true, "WATCHDOG_PID": true, "WATCHDOG_USEC": true,
	"LISTEN_PID": true, "LISTEN_FDS": true, "LISTEN_FDNAMES": true,
	"INVOCATION_ID": true, "JOURNAL_STREAM": true, "MANAGERPID": true,
	"DISPLAY": true, "WAYLAND_DISPLAY": true, "XDG_RUNTIME_DIR": true,
	"DBUS_SESSION_BUS_ADDRESS": true, "SSH_AUTH_SOCK": true, "SSH_AGENT_PID": true,
	"SSH_CONNECTION": true, "SSH_CLIENT": true, "SSH_TTY": true, "TMUX": true, "TMUX_PANE": true,
}

// GuestEnv is the environment a command gets in the guest: the caller's,
// without host-only variables, with PIM6SD_VM=1 added so that a test can
// tell (and say) that it runs emulated.
func GuestEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		if hostOnlyEnv[name] || name == "PIM6SD_VM" || name == "PIM6SD_VM_KERNEL_CONFIG" {
			continue
		}
		out = append(out, e)
	}
	return append(out, "PIM6SD_VM=1")
}

// consoleTail is the last n lines of the console log.
func consoleTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no console log: %v)\n", err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(b), "\n")+"\n", "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

func watchBoot(path string, start time.Time, out chan<- time.Duration, done <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if _, err := os.Stat(path); err == nil {
				out <- time.Since(start)
				return
			}
		}
	}
}
