// Package vm runs a command on another Linux kernel: a small qemu virtual
// machine that boots one of Debian's packaged kernels and sees this
// machine's files. It is how the kernel and end-to-end tests run on a host
// whose kernel lacks IPv6 multicast routing (CONFIG_IPV6_MROUTE), and how
// the suite runs on several kernels (`make check-kernels`).
//
// The design follows the shape of cilium/ebpf's run-tests.sh: the host
// compiles, `go test -exec tools/vmrun` hands each test binary to Run, the
// binary runs inside the VM in its package directory with the caller's
// environment, and its output and exit status come back as if it had run
// here.
//
// Boot, in two stages:
//
//  1. An initramfs built here (Initrd: busybox-static, the kernel's own
//     virtio, 9p and overlay modules in modules.dep order, and a busybox
//     init) mounts the host's root read-only over virtio-9p, puts a tmpfs
//     overlay on top (the guest may write anywhere; every write is gone at
//     power-off), mounts the run directory (the second 9p share, writable),
//     binds the kernel's modules over /lib/modules/VERSION and switch_roots.
//  2. The run directory's init (bash, written by Run) is then PID 1 in the
//     host's own userland: it mounts what tests need (devpts, shm,
//     cgroup2), brings lo up, runs the command in the caller's directory
//     with its environment, writes its output to the run directory as it
//     goes and its exit status at the end, and powers off.
//
// The host streams the output file while qemu runs, so `go test -v` shows
// progress, and takes the exit status from the status file. No status (a
// kernel panic, a timeout, qemu failing) is an error that quotes the end of
// the guest's console log, never a pass.
//
// qemu runs with TCG (software emulation, thread=multi): KVM is not used
// because the machines this project runs on expose /dev/kvm but hang at
// boot with it. Everything in the guest is several times slower than on
// the host; tests take their deadlines from protocol timers, not host speed.
package vm
