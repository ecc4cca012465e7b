#!/usr/bin/env bash
# Heavy check, outside `npm test`: kexec-boot Debian's stock kernel
# (linux-image-amd64, xz, ~8 MB) through purgatory, the decompressor and
# startup_64 to x86_64_start_kernel, check the image against the payload's
# vmlinux, and time QEMU TCG to its "Linux version" line in the same run.
#   bash scripts/heavy-boot-debian.sh [--entry 32]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=$(bash "$repo/kernels/fetch-debian.sh" | tail -1)
cd "$repo"
kernel="$cache/vmlinuz"
echo "== bootpath: kexec boot of $kernel to x86_64_start_kernel"
start=$(date +%s.%N)
node bin/bootpath.js boot --kernel "$kernel" --max-instructions 30000000000 "$@"
end=$(date +%s.%N)
echo "bootpath wall time: $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
if command -v qemu-system-x86_64 >/dev/null; then
  echo "== QEMU TCG: -kernel boot of the same bzImage to its first 'Linux version' line"
  start=$(date +%s.%N)
  bash bench/qemu-linux-version.sh "$kernel"
  end=$(date +%s.%N)
  echo "QEMU wall time: $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
fi
