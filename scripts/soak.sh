#!/usr/bin/env bash
# soak.sh DURATION [--vm | --native] [--kernel RELEASE] [--seed N]: the soak
# test alone (internal/e2e TestSoak, docs/RELIABILITY.md) with DURATION of
# churn (a Go duration: 2m, 90m, 1h), then its report.
#
# Receivers join and leave, a PIM neighbor comes and goes, links flap, the
# routers are reloaded and restarted, while two sentinel flows are checked
# all along; each daemon's goroutines, descriptors, MIFs, MFC entries and
# heap are sampled and must be back at their baseline once the churn stops.
# Setting up and settling add about a minute to DURATION.
#
# Like scripts/test.sh: on a host whose kernel has IPv6 multicast routing
# (/proc/net/ip6_mr_vif exists) the test runs here, as root; otherwise the
# test binary is compiled here and runs in the qemu VM (tools/vmrun) on
# Debian's kernel. Only one VM at a time on a machine.
#
#   --vm           run in the VM even if the host has multicast routing
#   --native       run here, whatever the kernel
#   --kernel REL   the VM's kernel: bookworm (default) or trixie
#   --seed N       replay the choices of an earlier run (its report and log
#                  name the seed)
#
# The whole log goes to $PIM6SD_SOAK_LOG (default: a new file in /tmp);
# the report is printed again at the end. Exit status: the test's.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
mode=auto kernel=${PIM6SD_VM_KERNEL:-bookworm} dur="" seed=""
while [ $# -gt 0 ]; do
	case "$1" in
	--vm) mode=vm; shift ;;
	--native) mode=native; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	-h | --help) sed -n '2,24p' "$0"; exit 0 ;;
	-*) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
	*)
		[ -z "$dur" ] || { echo "soak.sh: one DURATION only" >&2; exit 2; }
		dur=$1; shift ;;
	esac
done
[ -n "$dur" ] || { echo "usage: soak.sh DURATION [--vm | --native] [--kernel RELEASE] [--seed N]" >&2; exit 2; }

# The duration in seconds (h, m and s, as Go writes them), for the timeouts.
secs=0 rest=$dur
while [ -n "$rest" ]; do
	if [[ $rest =~ ^([0-9]+)([hms])(.*)$ ]]; then
		n=$((10#${BASH_REMATCH[1]}))
		case ${BASH_REMATCH[2]} in
		h) secs=$((secs + n * 3600)) ;;
		m) secs=$((secs + n * 60)) ;;
		s) secs=$((secs + n)) ;;
		esac
		rest=${BASH_REMATCH[3]}
	else
		echo "soak.sh: DURATION $dur: use hours, minutes and seconds, as in 2m, 90m, 1h30m" >&2
		exit 2
	fi
done
[ "$secs" -ge 10 ] || { echo "soak.sh: DURATION $dur: at least 10s" >&2; exit 2; }
if [[ -n $seed && ! $seed =~ ^[0-9]+$ ]]; then
	echo "soak.sh: --seed $seed: a number" >&2
	exit 2
fi
# go test's bound: the churn, plus 20 minutes for setting up, settling and
# an emulated machine's slowness; the VM's a little more, so that a hung
# guest still ends with go test's report.
minutes=$((secs / 60 + 20))

export PIM6SD_SOAK_DURATION=$dur
if [ -n "$seed" ]; then
	export PIM6SD_SOAK_SEED=$seed
fi
log=${PIM6SD_SOAK_LOG:-$(mktemp /tmp/pim6sd-soak.XXXXXX)}

if [ "$mode" = auto ]; then
	if [ -e /proc/net/ip6_mr_vif ]; then
		mode=native
	else
		mode=vm
		echo "soak.sh: this kernel ($(uname -r)) has no IPv6 multicast routing: the soak runs in a VM on Debian's $kernel kernel"
	fi
fi

status=0
if [ "$mode" = native ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "soak.sh: needs root here (network namespaces, the multicast routing socket)" >&2
		exit 1
	fi
	"$GO" test -count=1 -v -run '^TestSoak$' -timeout "${minutes}m" ./internal/e2e/ 2>&1 | tee "$log" || status=$?
else
	# As scripts/test.sh: the daemon, pim6stat and the runner built here
	# into a directory of this run's own, the test binary compiled here and
	# run in the VM by go test -exec.
	vmbin=$(mktemp -d /tmp/pim6sd-soak-bin.XXXXXX)
	trap 'rm -rf "$vmbin"' EXIT
	"$GO" build -o "$vmbin/" ./cmd/pim6sd ./cmd/pim6stat ./tools/vmrun
	./scripts/vm-kernel.sh "$kernel"
	PIM6SD_E2E_BIN=$vmbin "$GO" test -count=1 -v -run '^TestSoak$' -timeout "${minutes}m" \
		-exec "$vmbin/vmrun -kernel $kernel -timeout $((minutes + 5))m" \
		./internal/e2e/ 2>&1 | tee "$log" || status=$?
fi

echo
echo "soak.sh: the whole log is in $log; the report:"
# t.Log indents the lines after the first by 8 spaces.
sed -n '/----- soak report -----/,/----- end of soak report -----/p' "$log" | sed 's/^        //'
exit $status
