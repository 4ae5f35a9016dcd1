// Command vmrun runs a command inside a small qemu VM that boots one of
// Debian's packaged kernels and sees this machine's files (internal/vm).
// It exits with the command's exit status, and its output is the
// command's output, so it works as `go test -exec`:
//
//	go test -exec 'bin/vmrun -kernel bookworm' ./kernel/
//	bin/vmrun -kernel trixie -- ip -6 mroute
//
// Kernels come from scripts/vm-kernel.sh RELEASE (bookworm is fetched by
// `make deps`). Flags may also come from the environment: PIM6SD_VM_KERNEL,
// PIM6SD_VM_MEM, PIM6SD_VM_TIMEOUT, PIM6SD_VM_VERBOSE=1, PIM6SD_VM_KEEP=1.
// Exit status 125 means the VM itself failed (no boot, crash, timeout); the
// end of its console log is printed then.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/pim6sd/pim6sd/internal/vm"
)

// exitVM is the exit status when the VM, not the command, failed.
const exitVM = 125

func main() {
	os.Exit(run(os.Args[1:]))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(args []string) int {
	fs := flag.NewFlagSet("vmrun", flag.ContinueOnError)
	kernel := fs.String("kernel", envOr("PIM6SD_VM_KERNEL", vm.DefaultRelease), "kernel: a release in "+vm.CacheDir()+" (bookworm, trixie) or a directory made by scripts/vm-kernel.sh")
	mem, _ := strconv.Atoi(envOr("PIM6SD_VM_MEM", "6144"))
	memMB := fs.Int("mem", mem, "guest memory in MiB")
	cpus := fs.Int("cpus", 2, "virtual CPUs")
	defTimeout, err := time.ParseDuration(envOr("PIM6SD_VM_TIMEOUT", "0"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmrun: PIM6SD_VM_TIMEOUT: %v\n", err)
		return 2
	}
	timeout := fs.Duration("timeout", defTimeout, "bound for the whole run, boot included (0: none)")
	verbose := fs.Bool("v", os.Getenv("PIM6SD_VM_VERBOSE") == "1", "say how long boot and run took")
	keep := fs.Bool("keep", os.Getenv("PIM6SD_VM_KEEP") == "1", "keep the run directory (console log, output, status)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vmrun [flags] [--] COMMAND [ARG...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	k, err := vm.OpenKernel(*kernel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		return exitVM
	}
	// Any of these ends the VM and removes the run directory; SIGPIPE is
	// a reader that went away (`vmrun ... | head`).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()
	code, err := vm.Run(ctx, vm.Options{
		Kernel: k, MemMB: *memMB, CPUs: *cpus, Timeout: *timeout,
		Verbose: *verbose, Keep: *keep,
	}, fs.Args())
	if err != nil {
		if _, ok := err.(*vm.ExitError); !ok {
			fmt.Fprintln(os.Stderr, "vmrun:", err)
		}
		return exitVM
	}
	return code
}
