#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: tshark and
# tcpdump decode PIM and MLD independently of our code, iproute2 builds the
# namespace topologies, systemd-analyze (systemd) verifies the unit and
# groff (groff-base) and man (man-db) check the man pages. Go modules come
# from the module proxy.
set -euo pipefail
need=()
for cmd in tshark tcpdump ip ping ssmping ethtool systemd-analyze groff man; do
	command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing ${need[*]}; run as root (or: sudo apt-get install -y tshark tcpdump iproute2)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq tshark tcpdump iproute2 iputils-ping ssmping ethtool systemd groff-base man-db >/dev/null
fi
go mod download
