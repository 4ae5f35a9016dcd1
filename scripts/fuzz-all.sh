#!/usr/bin/env bash
# Runs every native fuzz target of the codecs for a while each (default 20s).
set -euo pipefail
t=${1:-20s}
for pkg in ./mld/mldmsg ./pim/pimmsg ./mld; do
	for f in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "== $pkg $f ($t)"
		go test -run='^$' -fuzz="^$f\$" -fuzztime="$t" "$pkg"
	done
done
