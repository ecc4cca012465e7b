#!/usr/bin/env bash
# Fetches Debian's stock amd64 kernel (what linux-image-amd64 points at) into
# a local cache outside git, for the heavy checks and the benchmark:
#   $BOOTPATH_CACHE/debian-stock/{vmlinuz,config,info.json}
# Debian's package has no real System.map (only a stub; the symbols are in
# the ~860 MB -dbg package): bootpath reads kallsyms from the image instead.
#
#   kernels/fetch-debian.sh            # prints the cache dir on its last line
#   DEBIAN_KERNEL_PACKAGE=linux-image-6.1.0-56-amd64 kernels/fetch-debian.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${BOOTPATH_CACHE:-$repo/.cache}/debian-stock

[[ -n $(apt-cache policy linux-image-amd64 2>/dev/null | grep Candidate) ]] || apt-get update -qq
# The metapackage only depends on the versioned image package; follow it.
pkg=${DEBIAN_KERNEL_PACKAGE:-$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)}
[[ -n $pkg ]] || { echo "fetch-debian: cannot resolve linux-image-amd64's image package" >&2; exit 1; }
version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')

if [[ -f $cache/info.json ]] && grep -q "\"package\": \"$pkg\", \"version\": \"$version\"" "$cache/info.json"; then
  echo "fetch-debian: $pkg $version already cached"
  echo "$cache"
  exit 0
fi

rm -rf "$cache" && mkdir -p "$cache/deb"
cd "$cache/deb"
apt-get download "$pkg=$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
deb=$(ls "${pkg}"_*.deb)
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)
dpkg -x "$deb" "$cache/pkg"
cp "$cache"/pkg/boot/vmlinuz-* "$cache/vmlinuz"
cp "$cache"/pkg/boot/config-* "$cache/config"
rm -rf "$cache/pkg" "$cache/deb"
vmlinuz_sha=$(sha256sum "$cache/vmlinuz" | cut -d' ' -f1)
cat >"$cache/info.json" <<EOF
{ "package": "$pkg", "version": "$version", "debSha256": "$deb_sha",
  "vmlinuz": { "size": $(stat -c %s "$cache/vmlinuz"), "sha256": "$vmlinuz_sha" } }
EOF
echo "fetch-debian: $pkg $version -> $cache/vmlinuz"
echo "$cache"
