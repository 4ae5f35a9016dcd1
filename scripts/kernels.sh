#!/usr/bin/env bash
# kernels.sh [RELEASE|host ...]: the kernel and end-to-end packages
# (kernel/, internal/daemon/, internal/e2e/) on each kernel of the matrix,
# then a table: kernel, tests passed, failed, skipped, time.
#
# The packages run through scripts/test.sh --only-kernel. Without
# arguments the matrix is Debian 12's kernel (bookworm, 6.1),
# Debian 13's (trixie, 6.12), both run in the qemu VM (tools/vmrun), and the
# host's own kernel when it has IPv6 multicast routing. Each run's whole
# `go test -v` output is kept in OUT (default /tmp/pim6sd-kernels), one file
# per kernel. Exit status 1 when any test failed anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

out=${OUT:-/tmp/pim6sd-kernels}
mkdir -p "$out"
kernels=("$@")
if [ ${#kernels[@]} -eq 0 ]; then
	kernels=(bookworm trixie)
	[ -e /proc/net/ip6_mr_vif ] && kernels+=(host)
fi

rows=()
status=0
for k in "${kernels[@]}"; do
	log=$out/$k.log
	start=$(date +%s)
	if [ "$k" = host ]; then
		if [ ! -e /proc/net/ip6_mr_vif ]; then
			echo "kernels.sh: the host's kernel ($(uname -r)) has no IPv6 multicast routing" >&2
			status=1
			continue
		fi
		name="$(uname -r) (host)"
		echo "== $name"
		./scripts/test.sh --native --only-kernel -v >"$log" 2>&1 || true
	else
		./scripts/vm-kernel.sh "$k"
		name="$(cat "${PIM6SD_VM_CACHE:-/var/cache/pim6sd-vm}/$k/version") ($k)"
		echo "== $name, in the VM"
		./scripts/test.sh --vm --only-kernel --kernel "$k" -v >"$log" 2>&1 || true
	fi
	secs=$(($(date +%s) - start))
	# Top-level tests only: subtests are indented in go test -v output.
	pass=$(grep -c '^--- PASS: ' "$log" || true)
	fail=$(grep -c '^--- FAIL: ' "$log" || true)
	skip=$(grep -c '^--- SKIP: ' "$log" || true)
	# A package that failed without a failing test (build error, panic,
	# timeout, VM failure) counts as a failure too.
	pkgfail=$(grep -c -E '^FAIL[[:space:]]' "$log" || true)
	if [ "$fail" -gt 0 ] || [ "$pkgfail" -gt 0 ]; then
		status=1
		grep -E '^(--- FAIL: |FAIL[[:space:]]|panic: )' "$log" | sed 's/^/   /'
	fi
	rows+=("$(printf '%-34s %6s %6s %7s %5s %8s' "$name" "$pass" "$fail" "$skip" "$pkgfail" "$((secs / 60))m$((secs % 60))s")")
done

echo
printf '%-34s %6s %6s %7s %5s %8s\n' kernel passed failed skipped pkgs time
printf '%-34s %6s %6s %7s %5s %8s\n' ------ ------ ------ ------- ----- ----
for r in "${rows[@]}"; do echo "$r"; done
echo "(passed/failed/skipped: top-level tests; pkgs: packages that failed; logs in $out)"
exit $status
