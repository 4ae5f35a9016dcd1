#!/usr/bin/env bash
# measure.sh: pim6sd's numbers for docs/PERFORMANCE.md, measured the way
# ../shared/lab/lab-check.sh measures FRRouting's pim6d, in the same kind of
# namespace topologies (same addresses), and FRR's own numbers in the same
# run when the lab is set up (--frr).
#
#   sudo scripts/measure.sh [--trials N] [--channels N] [--frr LABDIR]
#
#   converge: N trials (topologies 1 and 2): the source sends to a new SSM
#             group every 1 ms, 2 s before the receiver joins; time from the
#             join to the first packet at the receiver.
#   scale:    topology 2; the receiver joins N SSM channels; time until the
#             first-hop router has them all joined and in the kernel, pim6sd
#             RSS and CPU before/after, time until all state is gone after
#             the receiver leaves; idle CPU over 10 s.
set -euo pipefail
trials=5 channels=1000 frr=""
while [ $# -gt 0 ]; do
	case "$1" in
	--trials) trials=$2; shift 2 ;;
	--channels) channels=$2; shift 2 ;;
	--frr) frr=$2; shift 2 ;;
	*) echo "measure.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "measure.sh: needs root" >&2; exit 1; }
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
work=$(mktemp -d /tmp/pim6sd-measure.XXXXXX)
P=m6-$$-
SND=${P}snd R1=${P}r1 R2=${P}r2 RCV=${P}rcv
SRC=2001:db8:1::10
pids=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	for ns in $SND $R1 $R2 $RCV; do ip netns del "$ns" 2>/dev/null; done
}
trap 'cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

go build -o "$work/" ./cmd/pim6sd ./cmd/pim6stat ./tools/mcastprobe
probe="$work/mcastprobe"

mkns() {
	ip netns add "$1"
	ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$1" link set lo up
}
# veth A IFA LL_A GLOBAL_A B IFB LL_B GLOBAL_B
veth() {
	ip -n "$1" link add "$2" type veth peer name "$6" netns "$5"
	ip -n "$1" addr add "$3/64" dev "$2" nodad
	ip -n "$1" addr add "$4" dev "$2" nodad
	ip -n "$5" addr add "$7/64" dev "$6" nodad
	ip -n "$5" addr add "$8" dev "$6" nodad
	ip -n "$1" link set "$2" up
	ip -n "$5" link set "$6" up
}
# topo 1|2: the lab's topologies
topo() {
	cleanup
	mkns "$SND"; mkns "$R1"; mkns "$RCV"
	ip netns exec "$R1" sysctl -q -w net.ipv6.conf.all.forwarding=1
	veth "$R1" to-snd fe80::1 2001:db8:1::1/64 "$SND" to-r1 fe80::10 $SRC/64
	if [ "$1" = 2 ]; then
		mkns "$R2"
		ip netns exec "$R2" sysctl -q -w net.ipv6.conf.all.forwarding=1
		veth "$R1" to-r2 fe80::1 2001:db8:12::1/64 "$R2" to-r1 fe80::2 2001:db8:12::2/64
		veth "$R2" to-rcv fe80::1 2001:db8:2::1/64 "$RCV" to-r2 fe80::10 2001:db8:2::10/64
		ip -n "$R2" -6 route add 2001:db8:1::/64 via fe80::1 dev to-r1
		ip -n "$R1" -6 route add 2001:db8:2::/64 via fe80::2 dev to-r2
		ip -n "$RCV" -6 route add default via fe80::1 dev to-r2
	else
		veth "$R1" to-rcv fe80::1 2001:db8:2::1/64 "$RCV" to-r1 fe80::10 2001:db8:2::10/64
		ip -n "$RCV" -6 route add default via fe80::1 dev to-r1
	fi
	ip -n "$SND" -6 route add default via fe80::1 dev to-r1
	for r in $R1 $( [ "$1" = 2 ] && echo "$R2" ); do
		ip netns exec "$r" "$work/pim6sd" --foreground --socket "$work/$r.sock" --pidfile "" \
			--log-level warn >"$work/$r.log" 2>&1 &
		pids+=($!)
		eval "pid_${r//-/_}=$!"
		for _ in $(seq 100); do [ -S "$work/$r.sock" ] && break; sleep 0.05; done
	done
	sleep 1
	if [ "$1" = 2 ]; then
		# wait for the PIM adjacency (first Hello within 5 s)
		for _ in $(seq 200); do
			n=$("$work/pim6stat" --socket "$work/$R2.sock" --json | python3 -c 'import sys,json; print(len(json.load(sys.stdin)["neighbors"]))')
			[ "$n" -ge 1 ] && break
			sleep 0.05
		done
	fi
}
daemon_pid() { local v="pid_${1//-/_}"; echo "${!v}"; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)*1000/hz}' "/proc/$1/stat"; }
# kernel MFC entries on router $1 whose group starts with $2 (read from the
# kernel, so that polling does not make the daemon allocate)
count_routes() { ip -n "$1" -6 mroute | grep -c "$2" || true; }
now_ms() { date +%s%3N; }
heap() { "$work/pim6stat" --socket "$work/$1.sock" --json | python3 -c 'import sys,json; print(json.load(sys.stdin)["daemon"]["memory"]["heap_inuse"]//1024)'; }

# router_ms PCAP GROUP: on the last-hop router's receiver-side interface,
# the time from the receiver's MLD Report for GROUP to the first data packet
# forwarded to it: what the routers themselves take.
router_ms() {
	tcpdump -r "$1" -n -tt -v 2>/dev/null | awk -v g="$2" '
		/listener report v2/ { rep = $1 }
		rep && index($0, "gaddr " g) && !r { r = rep }
		r && index($0, "> " g ".") && !o { o = $1 }
		END { if (r && o) printf "%.2f\n", (o - r) * 1000; else print "nan" }'
}

converge() {
	local t=$1 i out lhr=$R1
	[ "$t" = 2 ] && lhr=$R2
	for i in $(seq "$trials"); do
		local g=ff3e::200:$i
		ip netns exec "$SND" "$probe" send -group "$g" -duration 4s -if to-r1 >/dev/null &
		local sp=$!
		ip netns exec "$lhr" tcpdump -i to-rcv -n -U --immediate-mode -w "$work/conv.pcap" >/dev/null 2>&1 &
		local tp=$!
		sleep 2
		local rif=to-r1; [ "$t" = 2 ] && rif=to-r2
		out=$(ip netns exec "$RCV" "$probe" first -group "$g" -source $SRC -timeout 5s -if $rif)
		sleep 0.2
		kill -INT "$tp"; wait "$tp" 2>/dev/null || true
		wait "$sp" || true
		echo "$out $(router_ms "$work/conv.pcap" "$g")"
	done | python3 -c '
import sys, json, statistics
v, rt = [], []
for l in sys.stdin:
    if not l.strip(): continue
    js, r = l.rsplit(" ", 1)
    v.append(json.loads(js)["first_ms"])
    if r.strip() != "nan": rt.append(float(r))
ok = [x for x in v if x is not None]
print(f"join->first packet at the receiver: min {min(ok):.1f} ms, median {statistics.median(ok):.1f} ms, max {max(ok):.1f} ms ({len(ok)}/{len(v)} trials)" if ok else "no packet")
if rt: print(f"   MLD Report in -> first packet out on the last-hop router: min {min(rt):.2f} ms, median {statistics.median(rt):.2f} ms, max {max(rt):.2f} ms")'
}

scale() {
	local p1 p2 r1rss0 r2rss0 r1cpu0 r2cpu0
	p1=$(daemon_pid "$R1"); p2=$(daemon_pid "$R2")
	sleep 2
	r1cpu0=$(cpu_ms "$p1"); r2cpu0=$(cpu_ms "$p2")
	sleep 10
	echo "idle (10 s, 1 neighbor each): r1 CPU $(echo "$(cpu_ms "$p1") - $r1cpu0" | bc) ms, r2 CPU $(echo "$(cpu_ms "$p2") - $r2cpu0" | bc) ms; RSS r1 $(rss_kb "$p1") KB, r2 $(rss_kb "$p2") KB"
	r1rss0=$(rss_kb "$p1"); r2rss0=$(rss_kb "$p2")
	local r1heap0 r2heap0
	r1heap0=$(heap "$R1"); r2heap0=$(heap "$R2")
	r1cpu0=$(cpu_ms "$p1"); r2cpu0=$(cpu_ms "$p2")
	local hold=25
	ip netns exec "$RCV" "$probe" many -count "$channels" -base ff3e::1000:0 -source $SRC -hold ${hold}s -if to-r2 >"$work/many.json" 2>"$work/many.err" &
	local mp=$! start; start=$(now_ms)
	local t_r2="" t_r1="" n1 n2
	while :; do
		n2=$(count_routes "$R2" ff3e::1000:); n1=$(count_routes "$R1" ff3e::1000:)
		[ -z "$t_r2" ] && [ "$n2" -ge "$channels" ] && t_r2=$(( $(now_ms) - start ))
		[ -z "$t_r1" ] && [ "$n1" -ge "$channels" ] && t_r1=$(( $(now_ms) - start ))
		[ -n "$t_r1" ] && [ -n "$t_r2" ] && break
		[ $(( $(now_ms) - start )) -gt 20000 ] && break
		sleep 0.05
	done
	echo "$channels SSM joins: all in r2's (LHR) kernel after ${t_r2:-never} ms, all joined upstream and in r1's (FHR) kernel after ${t_r1:-never} ms (polling every ~0.1 s)"
	echo "kernel MFC entries: r1 $(ip -n "$R1" -6 mroute | grep -c ff3e::1000:), r2 $(ip -n "$R2" -6 mroute | grep -c ff3e::1000:)"
	sleep 5
	local r1rss r2rss
	r1rss=$(rss_kb "$p1"); r2rss=$(rss_kb "$p2")
	echo "RSS idle -> $channels channels: r1 $r1rss0 -> $r1rss KB, r2 $r2rss0 -> $r2rss KB ($(( (r1rss - r1rss0) * 1024 / channels )) / $(( (r2rss - r2rss0) * 1024 / channels )) bytes per channel)"
	echo "Go heap in use with $channels channels: r1 $(heap "$R1") KB, r2 $(heap "$R2") KB (idle: r1 $r1heap0 KB, r2 $r2heap0 KB)"
	echo "CPU to take $channels joins and hold 5 s: r1 $(echo "$(cpu_ms "$p1") - $r1cpu0" | bc) ms, r2 $(echo "$(cpu_ms "$p2") - $r2cpu0" | bc) ms"
	wait "$mp"
	local left; left=$(now_ms)
	while :; do
		n1=$(count_routes "$R1" ff3e::1000:); n2=$(count_routes "$R2" ff3e::1000:)
		[ "$n1" -eq 0 ] && [ "$n2" -eq 0 ] && [ "$(ip -n "$R1" -6 mroute | grep -c ff3e::1000: || true)" -eq 0 ] && break
		[ $(( $(now_ms) - left )) -gt 60000 ] && break
		sleep 0.05
	done
	echo "all state gone on r1 and r2 (engine and kernel) $(( $(now_ms) - left )) ms after the receiver left (LLQT 2 s)"
}

echo "== pim6sd $("$work/pim6sd" version | cut -d' ' -f2-), $(nproc) cores, $(uname -r)"
for t in 1 2; do
	topo $t
	echo "-- topology $t, SSM: $(converge $t)"
done
topo 2
echo "-- topology 2, scale:"
scale
cleanup

if [ -n "$frr" ]; then
	echo "== FRRouting (the lab in $frr)"
	for t in 1 2; do
		"$frr/frr-topo.sh" up $t >/dev/null 2>&1
		sleep 8
		echo "-- topology $t, lab-check.sh converge:"; "$frr/lab-check.sh" converge "$trials" 2>/dev/null | grep ssm
		# The same measurement as ours above, on the lab's namespaces (same
		# names of interfaces, addresses and groups).
		echo "-- topology $t, this script's converge on FRR: $(SND=snd R1=r1 R2=r2 RCV=rcv converge $t)"
	done
	echo "-- topology 2, scale:"; "$frr/lab-check.sh" scale "$channels" ssm 2>&1 | tail -12
	"$frr/frr-topo.sh" down >/dev/null 2>&1
fi
