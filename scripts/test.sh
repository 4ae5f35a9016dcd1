#!/usr/bin/env bash
# test.sh [--vm | --native] [--kernel RELEASE]: every test of the module.
#
# The packages in KERNEL_PKGS open the kernel's IPv6 multicast routing
# (MRT6). On a host whose kernel has it (/proc/net/ip6_mr_vif exists) all
# packages run here. On a host without it (a kernel built without
# CONFIG_IPV6_MROUTE) the other packages run here and KERNEL_PKGS run in a
# qemu VM that boots Debian's packaged kernel (tools/vmrun, internal/vm):
# the test binaries are compiled here, `go test -exec` runs each in the VM,
# and their output and exit status come back. Nothing is skipped for the
# kernel either way.
#
#   --vm           run KERNEL_PKGS in the VM even if the host has MRT6
#   --native       run everything here, whatever the kernel
#   --kernel REL   the VM's kernel: bookworm (default, Debian 12, 6.1) or
#                  trixie (Debian 13, 6.12), fetched by scripts/vm-kernel.sh
#   --only-kernel  run KERNEL_PKGS only (for scripts/kernels.sh)
#   -v             go test -v (every test's result and log)
#
# Environment: GO (go), VM_TIMEOUT (go test -timeout of a package in the
# VM, in minutes, default 60), PIM6SD_VM_MEM (MiB, default 6144).
set -euo pipefail
cd "$(dirname "$0")/.."

KERNEL_PKGS=(./kernel/ ./internal/daemon/ ./internal/e2e/)
GO=${GO:-go}
mode=auto kernel=${PIM6SD_VM_KERNEL:-bookworm} only_kernel=0 v=()
while [ $# -gt 0 ]; do
	case "$1" in
	--vm) mode=vm; shift ;;
	--native) mode=native; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--only-kernel) only_kernel=1; shift ;;
	-v) v=(-v); shift ;;
	-h | --help) sed -n '2,21p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ "$mode" = auto ]; then
	if [ -e /proc/net/ip6_mr_vif ]; then
		mode=native
	else
		mode=vm
		echo "test.sh: this kernel ($(uname -r)) has no IPv6 multicast routing (CONFIG_IPV6_MROUTE):" \
			"${KERNEL_PKGS[*]} run in a VM on Debian's $kernel kernel"
	fi
fi

if [ "$mode" = native ]; then
	if [ "$only_kernel" = 1 ]; then
		exec "$GO" test -count=1 "${v[@]}" -p 1 -timeout "${VM_TIMEOUT:-60}m" "${KERNEL_PKGS[@]}"
	fi
	# The VM runner's own tests boot VMs (two emulated CPUs, all this
	# machine has): they run after the rest, not beside the timing-bound
	# end-to-end tests.
	status=0
	mapfile -t pkgs < <("$GO" list ./... | grep -v -x -F github.com/pim6sd/pim6sd/internal/vm)
	"$GO" test -count=1 "${pkgs[@]}" || status=$?
	"$GO" test -count=1 ./internal/vm/ || status=$?
	exit $status
fi

status=0
if [ "$only_kernel" = 0 ]; then
	# Everything but KERNEL_PKGS, on the host.
	mapfile -t host_pkgs < <("$GO" list ./... | grep -v -x -F \
		-e github.com/pim6sd/pim6sd/kernel \
		-e github.com/pim6sd/pim6sd/internal/daemon \
		-e github.com/pim6sd/pim6sd/internal/e2e \
		-e github.com/pim6sd/pim6sd/internal/vm)
	"$GO" test -count=1 "${host_pkgs[@]}" || status=$?
	"$GO" test -count=1 ./internal/vm/ || status=$?
fi

# The daemon, pim6stat and the runner, built here into a directory of this
# run's own (the guest reads them while they run: nothing may rebuild them
# meanwhile); the end-to-end tests use these instead of compiling in the VM.
vmbin=$(mktemp -d /tmp/pim6sd-test-bin.XXXXXX)
trap 'rm -rf "$vmbin"' EXIT
"$GO" build -o "$vmbin/" ./cmd/pim6sd ./cmd/pim6stat ./tools/vmrun
./scripts/vm-kernel.sh "$kernel"
# One package at a time: each boots its own VM with two virtual CPUs, which
# is all this machine has. The VM's own bound is a little over go test's,
# so a hung guest still ends with go test's timeout report.
minutes=${VM_TIMEOUT:-60}
minutes=${minutes%m}
PIM6SD_E2E_BIN=$vmbin "$GO" test -count=1 "${v[@]}" -p 1 -timeout "${minutes}m" \
	-exec "$vmbin/vmrun -kernel $kernel -timeout $((minutes + 5))m" \
	"${KERNEL_PKGS[@]}" || status=$?
exit $status
