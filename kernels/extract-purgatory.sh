#!/usr/bin/env bash
# Extracts kexec-tools' purgatory (an ELF64 relocatable embedded in Debian's
# `kexec` binary) into kernels/purgatory/purgatory.o and records its
# provenance in kernels/manifest.json. The bundled copy is bootpath's default
# purgatory.
#
#   kernels/extract-purgatory.sh
#   KEXEC_TOOLS_VERSION=1:2.0.25-3+deb12u3 kernels/extract-purgatory.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${BOOTPATH_CACHE:-$repo/.cache}/kexec-tools
out=$here/purgatory
pkg=kexec-tools
version=${KEXEC_TOOLS_VERSION:-1:2.0.25-3+deb12u3}

mkdir -p "$cache"
cd "$cache"
# apt names the file with the epoch's ':' escaped as %3a.
file_version=${version//:/%3a}
deb=$(ls ${pkg}_"${file_version}"_amd64.deb 2>/dev/null || true)
if [[ -z $deb ]]; then
  [[ -n $(apt-cache policy "$pkg" 2>/dev/null | grep Candidate) ]] || apt-get update -qq
  apt-get download "$pkg=$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
  deb=$(ls ${pkg}_"${file_version}"_amd64.deb)
fi
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)
rm -rf pkg && dpkg -x "$deb" pkg

rm -rf "$out" && mkdir -p "$out"
cd "$repo"
[[ -x node_modules/.bin/tsx ]] || npm ci --silent  # the manifest writer runs on tsx
found=$(npx --no-install tsx kernels/extract-purgatory.ts "$cache/pkg/sbin/kexec" "$out/purgatory.o")
offset=$(echo "$found" | sed -n 's/.*"offset":"\([^"]*\)".*/\1/p')
kexec_sha=$(sha256sum "$cache/pkg/sbin/kexec" | cut -d' ' -f1)
npx --no-install tsx kernels/manifest.ts purgatory "$out" \
  "{\"source\":{\"package\":\"$pkg\",\"version\":\"$version\",\"debSha256\":\"$deb_sha\"},\"from\":{\"path\":\"/sbin/kexec\",\"sha256\":\"$kexec_sha\",\"offset\":\"$offset\"},\"recipe\":\"kernels/extract-purgatory.sh\"}"
echo "extract-purgatory: $out/purgatory.o (from /sbin/kexec at $offset)"
