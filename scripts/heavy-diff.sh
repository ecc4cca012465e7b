#!/usr/bin/env bash
# Heavy differential check, kept out of `npm test`: the instruction forms of
# test/diff at 6 times their cases (1,552,968 64-bit ones on the host CPU,
# and 285,714 32-bit ones on the host CPU or, where it refuses 32-bit code,
# on QEMU), each in the interpreter and compiled; 0 mismatches allowed, and at least
# 1,000,000 cases must run. Prints the seed (a new one each run unless
# BOOTPATH_DIFF_SEED is set) so a failure can be reproduced:
#   BOOTPATH_DIFF_SEED=<seed> npx tsx test/diff/repro.ts '<case id>'
#   bash scripts/heavy-diff.sh      (944 s for the 1,552,968 on 2 cores shared with other work)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
seed=${BOOTPATH_DIFF_SEED:-$(( (RANDOM << 16 | RANDOM) & 0x7fffffff ))}
scale=${HEAVY_DIFF_SCALE:-6}
echo "heavy-diff: seed $seed, scale $scale, at least 1,000,000 cases"
t0=$(date +%s)
BOOTPATH_DIFF_SEED=$seed BOOTPATH_DIFF_SCALE=$scale BOOTPATH_DIFF_WASM_EVERY=1 BOOTPATH_DIFF_MIN_CASES=${HEAVY_DIFF_MIN:-1000000} \
  nice -n 10 npx vitest run test/diff/diff.test.ts
echo "heavy-diff: passed (seed $seed) in $(( $(date +%s) - t0 )) s"
