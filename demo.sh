#!/usr/bin/env bash
# pim6sd demo: a sender, a router running pim6sd and a receiver, each in its
# own network namespace. The receiver runs ssmping against ssmpingd on the
# sender; the replies come back as SSM multicast routed by pim6sd. Then it
# shows pim6stat and the kernel's multicast routes on the router.
#
#   ./demo.sh              # as root; everything is removed at the end (or on Ctrl-C)
#   ./demo.sh --count 10   # ssmping count (default 5)
#   ./demo.sh --vm         # run it in a VM on Debian 12's kernel
#
# On a kernel without IPv6 multicast routing (CONFIG_IPV6_MROUTE) the demo
# says so and runs in a qemu VM that boots Debian 12's packaged kernel and
# sees this machine's files (tools/vmrun); --vm does that on any kernel.
# Needs root, Go, iproute2 and ssmping (installed from Debian if missing;
# for the VM also qemu-system-x86, busybox-static and the kernel package).
set -euo pipefail

count=5 vm=auto bindir=
while [ $# -gt 0 ]; do
	case "$1" in
	--count) count=$2; shift 2 ;;
	--vm) vm=yes; shift ;;
	--no-vm) vm=no; shift ;;           # (used inside the VM)
	--bin) bindir=$2; shift 2 ;;       # prebuilt pim6sd and pim6stat (used inside the VM)
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: needs root (network namespaces, multicast routing): run it as root" >&2
	exit 1
fi
cd "$(dirname "$0")"
export PATH=$PATH:/usr/local/go/bin

if [ "$vm" = auto ]; then
	if [ -e /proc/net/ip6_mr_vif ]; then
		vm=no
	else
		echo "demo.sh: this kernel ($(uname -r)) has no IPv6 multicast routing (CONFIG_IPV6_MROUTE); running the demo in a VM on Debian 12's kernel"
		vm=yes
	fi
fi

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ssmping >/dev/null || need+=(ssmping)
if [ "$vm" = yes ]; then
	command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
	[ -x /bin/busybox ] || need+=(busybox-static)
	command -v depmod >/dev/null || need+=(kmod)
	command -v xz >/dev/null || need+=(xz-utils)
fi
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

if [ "$vm" = yes ]; then
	command -v go >/dev/null || { echo "demo.sh: Go is needed to build pim6sd" >&2; exit 1; }
	./scripts/vm-kernel.sh bookworm
	vmbin=$(mktemp -d /tmp/pim6sd-demo-bin.XXXXXX)
	trap 'rm -rf "$vmbin"' EXIT
	echo "== building pim6sd, pim6stat and the VM runner"
	go build -o "$vmbin/" ./cmd/pim6sd ./cmd/pim6stat ./tools/vmrun
	echo "== booting Debian 12's kernel in qemu (software emulation: about 10 s, then everything runs several times slower)"
	status=0
	"$vmbin/vmrun" -kernel bookworm -mem 2048 -- ./demo.sh --no-vm --bin "$vmbin" --count "$count" || status=$?
	exit $status
fi

work=$(mktemp -d /tmp/pim6sd-demo.XXXXXX)
snd=demo-snd-$$ rtr=demo-rtr-$$ rcv=demo-rcv-$$
pids=()
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for ns in $snd $rtr $rcv; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$bindir" ]; then
	cp "$bindir/pim6sd" "$bindir/pim6stat" "$work/"
else
	command -v go >/dev/null || { echo "demo.sh: Go is needed to build pim6sd" >&2; exit 1; }
	echo "== building pim6sd and pim6stat"
	go build -o "$work/" ./cmd/pim6sd ./cmd/pim6stat
fi

echo "== on kernel $(uname -r): sender ($snd) -- router ($rtr) -- receiver ($rcv)"
for ns in $snd $rtr $rcv; do
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$ns" link set lo up
done
ip -n "$rtr" link add to-snd type veth peer name eth0 netns "$snd"
ip -n "$rtr" link add to-rcv type veth peer name eth0 netns "$rcv"
ip netns exec "$rtr" sysctl -q -w net.ipv6.conf.all.forwarding=1
ip -n "$rtr" addr add fe80::1/64 dev to-snd nodad
ip -n "$rtr" addr add 2001:db8:1::1/64 dev to-snd nodad
ip -n "$rtr" addr add fe80::1/64 dev to-rcv nodad
ip -n "$rtr" addr add 2001:db8:2::1/64 dev to-rcv nodad
ip -n "$snd" addr add 2001:db8:1::10/64 dev eth0 nodad
ip -n "$rcv" addr add 2001:db8:2::10/64 dev eth0 nodad
for l in "$rtr to-snd" "$rtr to-rcv" "$snd eth0" "$rcv eth0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$snd" -6 route add default via fe80::1 dev eth0
ip -n "$rcv" -6 route add default via fe80::1 dev eth0

echo "== starting pim6sd on the router (no config file: RFC defaults, SSM ff3x::/32)"
ip netns exec "$rtr" "$work/pim6sd" --foreground --socket "$work/pim6sd.sock" \
	--pidfile "$work/pim6sd.pid" --log-level info >"$work/pim6sd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	[ -S "$work/pim6sd.sock" ] && break
	sleep 0.1
done
[ -S "$work/pim6sd.sock" ] || { echo "pim6sd did not start:"; cat "$work/pim6sd.log"; exit 1; }

echo "== ssmpingd on the sender"
ip netns exec "$snd" ssmpingd >"$work/ssmpingd.log" 2>&1 &
pids+=($!)
sleep 0.5

echo "== ssmping from the receiver: unicast and multicast replies from 2001:db8:1::10 (group ff3e::4321:1234)"
ip netns exec "$rcv" ssmping -6 -c "$count" 2001:db8:1::10 | tee "$work/ssmping.out"

echo
echo "== pim6stat on the router"
ip netns exec "$rtr" "$work/pim6stat" --socket "$work/pim6sd.sock"
echo "== ip -6 mroute on the router"
ip -n "$rtr" -6 mroute
echo
echo "== pim6stat explain on the router: the ssmping channel, step by step"
ip netns exec "$rtr" "$work/pim6stat" --socket "$work/pim6sd.sock" explain 2001:db8:1::10 ff3e::4321:1234 || true
echo

if grep -q "multicast from" "$work/ssmping.out"; then
	echo "demo: multicast replies arrived through pim6sd"
	status=0
else
	echo "demo: no multicast reply arrived; pim6sd log:"
	cat "$work/pim6sd.log"
	status=1
fi
echo "== removing the namespaces"
exit $status
