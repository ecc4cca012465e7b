#!/usr/bin/env bash
# Time QEMU TCG from process start to the kernel's first "Linux version" line
# (the anchor PERFORMANCE.md uses), for comparison with bootpath in the same run.
#   bench/qemu-linux-version.sh <bzImage> [extra qemu args...]
set -uo pipefail
kernel=$1; shift
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
sh -c 'echo $$ > "$0/pid"; exec qemu-system-x86_64 -accel tcg -m 1024 -display none -no-reboot -monitor none -serial stdio "$@"' \
  "$dir" -kernel "$kernel" -append "console=ttyS0 earlyprintk=serial,ttyS0" "$@" 2>/dev/null |
  { grep -m1 -a "Linux version" >/dev/null; status=$?; kill "$(cat "$dir/pid")" 2>/dev/null; exit $status; }
