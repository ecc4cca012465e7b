#!/usr/bin/env bash
# Builds the bundled tiny-6.1 test kernels from Debian's linux-source-6.1:
# tinyconfig + tiny-6.1.fragment, one bzImage per compression, plus the one
# vmlinux (with symbols), System.map and .config they share, and per
# compression the decompressor's own ELF (arch/x86/boot/compressed/vmlinux
# without the compressed kernel in it) for debugger symbols. Then updates
# kernels/manifest.json. Reproducible: fixed build user/host/time/version.
#
#   kernels/build-tiny.sh            # everything, from a clean machine (root)
#   LINUX_SOURCE_VERSION=6.1.x-y kernels/build-tiny.sh   # another Debian revision
#   kernels/build-tiny.sh --check    # build from scratch elsewhere, compare with manifest.json
#   kernels/build-tiny.sh --variant markers-2012 [--check]
#       the same kernel with the 2012 reporter's debug change carried to 6.1
#       (markers-2012.patch: marker quads around phys_base, loaded into r9-r15
#       at the start of startup_64) and markers-2012.fragment (verbose
#       decompressor), gzip only, into tiny-6.1-markers/
#
# Work happens in $BOOTPATH_CACHE (default <repo>/.cache, gitignored).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache_root=${BOOTPATH_CACHE:-$repo/.cache}
check=false
variant=
while (($#)); do
  case $1 in
    --check) check=true ;;
    --variant) variant=${2:?--variant needs a name}; shift ;;
    *) echo "usage: $0 [--check] [--variant markers-2012]" >&2; exit 2 ;;
  esac
  shift
done

# What a variant changes: its bundle name, compressions, an extra config
# fragment and patches applied to the kernel source before building.
fragments=("$here/tiny-6.1.fragment")
patches=()
case $variant in
  '')
    name=tiny-6.1
    compressions=(gzip bzip2 lzma xz lzo lz4 zstd) ;;
  markers-2012)
    name=tiny-6.1-markers
    compressions=(gzip) # the 2012 kernels' default
    fragments+=("$here/markers-2012.fragment")
    patches+=("$here/markers-2012.patch") ;;
  *) echo "build-tiny: unknown variant '$variant' (known: markers-2012)" >&2; exit 2 ;;
esac

jobs=${JOBS:-2}
pkg=linux-source-6.1
# Pinned so a rebuild gives the same bytes; override if the mirror dropped it.
version=${LINUX_SOURCE_VERSION:-6.1.192-2}
# The section of arch/x86/boot/compressed/vmlinux that holds the compressed
# kernel (mkpiggy's output; its own output section in compressed/vmlinux.lds.S).
payload_section=.rodata..compressed

export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=bootpath
export KBUILD_BUILD_HOST=bootpath
export KBUILD_BUILD_VERSION=1
export LC_ALL=C TZ=UTC

# Build dependencies (Debian names). Installed only when a tool is missing.
need_tools=(gcc make flex bison bc lz4 lzop zstd xz bzip2 cpio perl objcopy patch)
missing=()
for t in "${need_tools[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
[[ -f /usr/include/libelf.h && -f /usr/include/openssl/ssl.h ]] || missing+=(headers)
if ((${#missing[@]})); then
  echo "build-tiny: installing build dependencies (missing: ${missing[*]})"
  apt-get update -qq
  apt-get install -y -qq gcc make flex bison bc libelf-dev libssl-dev lz4 lzop \
    zstd xz-utils bzip2 cpio perl binutils patch >/dev/null
fi

# The .deb and the pristine source are shared by every variant.
base=$cache_root/tiny-6.1
mkdir -p "$base/debs"
cd "$base/debs"
deb=$(ls ${pkg}_"${version}"_all.deb 2>/dev/null || true)
if [[ -z $deb ]]; then
  # apt drops privileges to _apt; the cache dir may not be readable by it.
  apt-get download "$pkg=$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
  deb=$(ls ${pkg}_"${version}"_all.deb)
fi
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)
deb=$base/debs/$deb

unpack() { # <dir>: the source tree of $deb as <dir>/linux-source-6.1
  echo "build-tiny: unpacking $(basename "$deb") into $1"
  rm -rf "$1/pkg" "$1/linux-source-6.1"
  mkdir -p "$1"
  dpkg -x "$deb" "$1/pkg"
  tar -xf "$1/pkg/usr/src/linux-source-6.1.tar.xz" -C "$1"
  rm -rf "$1/pkg"
}

work=$cache_root/$name
src=$work/linux-source-6.1
if ((${#patches[@]})); then
  # A patched tree of its own; the stamp names the .deb and the patches.
  stamp=$(cat <(echo "$deb_sha") "${patches[@]}" | sha256sum | cut -d' ' -f1)
  if [[ ! -f $src/Makefile || $(cat "$work/source.stamp" 2>/dev/null) != "$stamp" ]]; then
    unpack "$work"
    for p in "${patches[@]}"; do
      echo "build-tiny: applying $(basename "$p")"
      patch -d "$src" -p1 --fuzz=0 --no-backup-if-mismatch -s <"$p"
    done
    echo "$stamp" >"$work/source.stamp"
  fi
elif [[ ! -f $src/Makefile ]]; then
  unpack "$work"
fi

if $check; then
  # Reproducibility check: a fresh build dir, bundle untouched.
  build=$work/check/build
  out=$work/check/out
  rm -rf "$work/check"
else
  build=$work/build
  out=$work/out
fi
mkdir -p "$build"
# lzop stamps stdin data with the current time; the wrapper fixes the mtime.
kmake() { make -C "$src" O="$build" -j"$jobs" KLZOP="node $here/lzop-fixed-time.mjs" "$@"; }

# The base configuration: tinyconfig + fragment(s), gzip.
kmake -s tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "${fragments[@]}" >/dev/null
kmake -s olddefconfig
# Every option the fragments ask for must have survived olddefconfig.
for fragment in "${fragments[@]}"; do
  while IFS= read -r line; do
    [[ $line =~ ^CONFIG_ ]] || continue
    grep -qx "$line" "$build/.config" || { echo "build-tiny: $line did not stick (a dependency is missing)" >&2; exit 1; }
  done <"$fragment"
done

# The decompressor's ELF for a debugger: compressed/vmlinux without the
# compressed kernel. objcopy keeps each PT_LOAD's file layout, so removing the
# payload from the middle of the first segment would leave a hole as big as
# the payload; with the program headers dropped first (e_phoff = e_phnum = 0)
# objcopy lays the sections out afresh (and writes program headers of its own,
# which a symbol file does not use). Section addresses, code, data and the
# symbol table stay as linked.
decompressor_elf() { # <compressed/vmlinux> <out>
  local tmp=$2.tmp
  cp "$1" "$tmp"
  printf '\0\0\0\0\0\0\0\0' | dd of="$tmp" bs=1 seek=32 conv=notrunc status=none # e_phoff
  printf '\0\0' | dd of="$tmp" bs=1 seek=56 conv=notrunc status=none             # e_phnum
  objcopy --remove-section "$payload_section" "$tmp" "$2"
  rm -f "$tmp"
}

# Build into $out (in the cache); the bundle is replaced only at the end.
rm -rf "$out"
mkdir -p "$out"
vmlinux_sha=
for comp in "${compressions[@]}"; do
  for c in gzip bzip2 lzma xz lzo lz4 zstd; do
    "$src/scripts/config" --file "$build/.config" --disable "KERNEL_${c^^}"
  done
  "$src/scripts/config" --file "$build/.config" --enable "KERNEL_${comp^^}"
  kmake -s olddefconfig
  grep -qx "CONFIG_KERNEL_${comp^^}=y" "$build/.config"
  echo "build-tiny: building bzImage ($comp)"
  kmake -s bzImage
  cp "$build/arch/x86/boot/bzImage" "$out/bzImage.$comp"
  decompressor_elf "$build/arch/x86/boot/compressed/vmlinux" "$out/decompressor.$comp.elf"
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
  npx --no-install tsx kernels/manifest.ts --verify "$name" "$out"
  exit
fi
provenance="{\"source\":{\"package\":\"$pkg\",\"version\":\"$version\",\"debSha256\":\"$deb_sha\"},\"gcc\":\"$gcc_version\",\"fragment\":\"kernels/tiny-6.1.fragment\",\"recipe\":\"kernels/build-tiny.sh\""
if [[ -n $variant ]]; then
  patch_sha=$(cat "${patches[@]}" | sha256sum | cut -d' ' -f1)
  provenance+=",\"variant\":{\"name\":\"$variant\",\"fragment\":\"kernels/$variant.fragment\",\"patch\":\"kernels/$variant.patch\",\"patchSha256\":\"$patch_sha\"}"
fi
provenance+="}"
# Swap the finished build in: the bundle is never half-written.
rm -rf "$here/$name.new"
cp -a "$out" "$here/$name.new"
rm -rf "$here/$name"
mv "$here/$name.new" "$here/$name"
npx --no-install tsx kernels/manifest.ts "$name" "$here/$name" "$provenance"
echo "build-tiny: done; files in $here/$name"
