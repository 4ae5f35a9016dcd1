#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: tshark and
# tcpdump decode PIM and MLD independently of our code, iproute2 builds the
# namespace topologies, systemd-analyze (systemd) verifies the unit and
# groff (groff-base) and man (man-db) check the man pages. qemu, busybox
# (busybox-static), depmod (kmod) and xz (xz-utils) run the test VM, whose
# kernel is Debian 12's own (scripts/vm-kernel.sh bookworm, kept in
# /var/cache/pim6sd-vm): the kernel tests run there when the host's kernel
# has no IPv6 multicast routing, and the VM runner's own test runs always.
# Go modules come from the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for cmd in tshark tcpdump ip ping ssmping ethtool systemd-analyze groff man \
	qemu-system-x86_64 depmod xz; do
	command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing ${need[*]}; run as root (make deps)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture: no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq tshark tcpdump iproute2 iputils-ping ssmping ethtool systemd groff-base man-db >/dev/null
	apt-get install -y -qq --no-install-recommends qemu-system-x86 busybox-static kmod xz-utils >/dev/null
fi
if [ "$(id -u)" -eq 0 ]; then
	./scripts/vm-kernel.sh bookworm
else
	echo "deps: not root: the test VM's kernel is not fetched (VM tests are skipped without root)" >&2
fi
go mod download
