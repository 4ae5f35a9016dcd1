#!/usr/bin/env bash
# vm-kernel.sh RELEASE [CACHE]: fetch Debian's own packaged kernel of
# RELEASE (bookworm = Debian 12, 6.1; trixie = Debian 13, 6.12) for the test
# VM (tools/vmrun). The linux-image-amd64 package that RELEASE's archive
# offers today is downloaded with apt and unpacked, not installed: the
# host's /boot and /lib/modules are not touched.
#
# The result is CACHE/RELEASE (CACHE defaults to $PIM6SD_VM_CACHE or
# /var/cache/pim6sd-vm):
#   vmlinuz                the kernel image
#   config                 its build configuration
#   version                its release (uname -r)
#   lib/modules/VERSION/   its modules, with modules.dep made by depmod
#
# Run again, it does nothing when the directory is complete; delete it to
# take a newer kernel. The host's own apt configuration is used for its own
# release; any other release is read through a private apt state in
# CACHE/.apt-RELEASE that uses the host's mirror and Debian's keyring.
set -euo pipefail

release=${1:?usage: vm-kernel.sh RELEASE [CACHE]  (RELEASE: bookworm, trixie)}
cache=${2:-${PIM6SD_VM_CACHE:-/var/cache/pim6sd-vm}}
dir=$cache/$release

if [ -f "$dir/version" ] && [ -f "$dir/vmlinuz" ] && [ -f "$dir/lib/modules/$(cat "$dir/version")/modules.dep" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "vm-kernel.sh: needs root (apt, depmod) to fetch the $release kernel into $dir" >&2
	exit 1
fi
for cmd in apt-get apt-cache dpkg-deb depmod; do
	command -v "$cmd" >/dev/null || { echo "vm-kernel.sh: $cmd is missing (apt-get install -y kmod)" >&2; exit 1; }
done

# apt options: the host's configuration when RELEASE is the host's own
# release, a private one otherwise.
host_release=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
apt_opts=()
if [ "$release" != "$host_release" ]; then
	state=$cache/.apt-$release
	mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/preferences.d"
	mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	{
		echo "deb [signed-by=$keyring] $mirror $release main"
		echo "deb [signed-by=$keyring] ${mirror%/debian}/debian-security $release-security main"
	} >"$state/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state" -o "Dir::Cache::Archives=$state/archives"
		-o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$state/preferences.d"
		-o APT::Architecture=amd64 -o Debug::NoLocking=1)
	echo "vm-kernel.sh: reading Debian $release's package lists from $mirror" >&2
	apt-get "${apt_opts[@]}" update -qq
elif [ -z "$(apt-cache policy linux-image-amd64 2>/dev/null | awk '/Candidate:/{print $2}')" ] ||
	[ "$(apt-cache policy linux-image-amd64 | awk '/Candidate:/{print $2}')" = "(none)" ]; then
	apt-get update -qq
fi

# linux-image-amd64 is a metapackage: the image is its linux-image-N-amd64
# dependency (the signed variant on some releases: either has the same files).
pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$pkg" ] || { echo "vm-kernel.sh: Debian $release offers no linux-image-amd64" >&2; exit 1; }

tmp=$(mktemp -d "$cache/.fetch-$release.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache/.fetch-$release.XXXXXX"; })
trap 'rm -rf "$tmp"' EXIT
echo "vm-kernel.sh: downloading $pkg (Debian $release)" >&2
(cd "$tmp" && apt-get "${apt_opts[@]}" download -qq "$pkg" 2>&1 | grep -v 'Download is performed unsandboxed' >&2 || true)
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "vm-kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
mkdir "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
image=$(ls "$tmp"/x/boot/vmlinuz-* | head -1)
version=${image##*/vmlinuz-}
[ -d "$tmp/x/lib/modules/$version" ] || [ -d "$tmp/x/usr/lib/modules/$version" ] ||
	{ echo "vm-kernel.sh: $pkg has no modules for $version" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir/lib/modules"
mv "$image" "$dir/vmlinuz"
mv "$tmp/x/boot/config-$version" "$dir/config"
if [ -d "$tmp/x/lib/modules/$version" ]; then
	mv "$tmp/x/lib/modules/$version" "$dir/lib/modules/"
else
	mv "$tmp/x/usr/lib/modules/$version" "$dir/lib/modules/"
fi
depmod -b "$dir" "$version"
basename "$deb" >"$dir/package"
echo "$version" >"$dir/version"
echo "vm-kernel.sh: $release kernel $version in $dir" >&2
