#!/usr/bin/env bash
# Builds the bundled tiny-6.1 test kernels from Debian's linux-source-6.1:
# tinyconfig + tiny-6.1.fragment, one bzImage per compression, plus the one
# vmlinux (with symbols), System.map and .config they share. Then updates
# kernels/manifest.json. Reproducible: fixed build user/host/time/version.
#
#   kernels/build-tiny.sh            # everything, from a clean machine (root)
#   LINUX_SOURCE_VERSION=6.1.x-y kernels/build-tiny.sh   # another Debian revision
#   kernels/build-tiny.sh --check    # build elsewhere, compare with manifest.json
#
# Work happens in $BOOTPATH_CACHE (default <repo>/.cache, gitignored).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${BOOTPATH_CACHE:-$repo/.cache}/tiny-6.1
out=$here/tiny-6.1
check=false
if [[ ${1:-} == --check ]]; then
  # Reproducibility check: build into the cache and compare, bundle untouched.
  check=true
  out=$cache/check-out
fi
fragment=$here/tiny-6.1.fragment
jobs=${JOBS:-2}
pkg=linux-source-6.1
# Pinned so a rebuild gives the same bytes; override if the mirror dropped it.
version=${LINUX_SOURCE_VERSION:-6.1.192-2}
compressions=(gzip bzip2 lzma xz lzo lz4 zstd)

export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=bootpath
export KBUILD_BUILD_HOST=bootpath
export KBUILD_BUILD_VERSION=1
export LC_ALL=C TZ=UTC

# Build dependencies (Debian names). Installed only when a tool is missing.
need_tools=(gcc make flex bison bc lz4 lzop zstd xz bzip2 cpio perl)
missing=()
for t in "${need_tools[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
[[ -f /usr/include/libelf.h && -f /usr/include/openssl/ssl.h ]] || missing+=(headers)
if ((${#missing[@]})); then
  echo "build-tiny: installing build dependencies (missing: ${missing[*]})"
  apt-get update -qq
  apt-get install -y -qq gcc make flex bison bc libelf-dev libssl-dev lz4 lzop \
    zstd xz-utils bzip2 cpio perl >/dev/null
fi

mkdir -p "$cache/debs"
cd "$cache/debs"
deb=$(ls ${pkg}_"${version}"_all.deb 2>/dev/null || true)
if [[ -z $deb ]]; then
  # apt drops privileges to _apt; the cache dir may not be readable by it.
  apt-get download "$pkg=$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
  deb=$(ls ${pkg}_"${version}"_all.deb)
fi
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)

src=$cache/linux-source-6.1
if [[ ! -f $src/Makefile ]]; then
  echo "build-tiny: unpacking $deb"
  rm -rf "$cache/pkg" "$src"
  dpkg -x "$deb" "$cache/pkg"
  tar -xf "$cache/pkg/usr/src/linux-source-6.1.tar.xz" -C "$cache"
  rm -rf "$cache/pkg"
fi

build=$cache/build
mkdir -p "$build"
# lzop stamps stdin data with the current time; the wrapper fixes the mtime.
kmake() { make -C "$src" O="$build" -j"$jobs" KLZOP="node $here/lzop-fixed-time.mjs" "$@"; }

# The base configuration: tinyconfig + fragment, gzip.
kmake -s tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$fragment" >/dev/null
kmake -s olddefconfig
# Every option the fragment asks for must have survived olddefconfig.
while IFS= read -r line; do
  [[ $line =~ ^CONFIG_ ]] || continue
  grep -qx "$line" "$build/.config" || { echo "build-tiny: $line did not stick (a dependency is missing)" >&2; exit 1; }
done <"$fragment"

rm -rf "$out"
mkdir -p "$out"
vmlinux_sha=
for comp in "${compressions[@]}"; do
  for c in "${compressions[@]}"; do
    "$src/scripts/config" --file "$build/.config" --disable "KERNEL_${c^^}"
  done
  "$src/scripts/config" --file "$build/.config" --enable "KERNEL_${comp^^}"
  kmake -s olddefconfig
  grep -qx "CONFIG_KERNEL_${comp^^}=y" "$build/.config"
  echo "build-tiny: building bzImage ($comp)"
  kmake -s bzImage
  cp "$build/arch/x86/boot/bzImage" "$out/bzImage.$comp"
  sha=$(sha256sum "$build/vmlinux" | cut -d' ' -f1)
  if [[ -z $vmlinux_sha ]]; then
    vmlinux_sha=$sha
    cp "$build/vmlinux" "$out/vmlinux"
    cp "$build/System.map" "$out/System.map"
    cp "$build/.config" "$out/config"
  elif [[ $sha != "$vmlinux_sha" ]]; then
    echo "build-tiny: vmlinux changed with compression $comp; the bundle assumes one vmlinux" >&2
    exit 1
  fi
done

gcc_version=$(gcc --version | head -1)
cd "$repo"
[[ -x node_modules/.bin/tsx ]] || npm ci --silent  # the manifest writer runs on tsx
if $check; then
  npx --no-install tsx kernels/manifest.ts --verify tiny-6.1 "$out"
  exit
fi
npx --no-install tsx kernels/manifest.ts tiny-6.1 "$out" \
  "{\"source\":{\"package\":\"$pkg\",\"version\":\"$version\",\"debSha256\":\"$deb_sha\"},\"gcc\":\"$gcc_version\",\"fragment\":\"kernels/tiny-6.1.fragment\",\"recipe\":\"kernels/build-tiny.sh\"}"
echo "build-tiny: done; files in $out"
