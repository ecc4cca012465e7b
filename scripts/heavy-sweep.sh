#!/usr/bin/env bash
# Heavy sweep check, kept out of `npm test`: a 1,000-run sweep that loses
# nothing. 20 frames (gfns 0x1ffec-0x1ffff: RAM below kexec's purgatory
# segment and the segment itself) × 50 phase shifts of the hypervisor's
# schedules (-7,000,000 .. -2,100,000 instructions), each run to 3.1M
# instructions, in 2 shards on 2 worker processes each:
#   - shard 1/2 has one of its workers killed with kill -9 in the middle of
#     the sweep: the pool replaces it and retries the run;
#   - shard 2/2 is killed whole (kill -9 of the sweep) part-way and finished
#     with --resume, which runs only what its file does not have;
# then `sweep merge` puts the shards together and the check counts the runs:
# 1,000, each (gfn, shift) exactly once, none in class error.
# HEAVY_SWEEP_COMPARE=1 also runs the whole sweep in one process (another
# 1,000 runs) and checks it prints the same map as the merge.
#   bash scripts/heavy-sweep.sh      (15 minutes on 2 cores shared with other work)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
work=$(mktemp -d "${TMPDIR:-/tmp}/bootpath-heavy-sweep-XXXXXX")
shifts=${HEAVY_SWEEP_SHIFTS:--7000000..-2100000/100000}
expect=${HEAVY_SWEEP_RUNS:-1000}
args=(sweep --gfn-from 0x1ffec --gfn-to 0x1ffff "--phase-shift=$shifts" --max-instructions 3100000 --workers 2)
bp() { nice -n 10 node bin/bootpath.js "$@"; }
runs_in() { if [ -f "$1" ]; then grep -c '"type":"run"' "$1" || true; else echo 0; fi; }
echo "heavy-sweep: $expect runs in 2 shards, files in $work"
t0=$(date +%s)

# Shard 1: kill -9 one worker process once 40 runs are written.
# (started with exec'ing nice, not through the function: $! is the sweep's own process, its children the workers)
nice -n 10 node bin/bootpath.js "${args[@]}" --shard 1/2 --out "$work/s1.jsonl" > "$work/s1.txt" &
sweep=$!
until [ "$(runs_in "$work/s1.jsonl")" -ge 40 ] || ! kill -0 "$sweep" 2>/dev/null; do sleep 1; done
worker=$(pgrep -P "$sweep" | head -1 || true)
if [ -n "$worker" ]; then kill -9 "$worker"; echo "heavy-sweep: shard 1/2: killed worker $worker (kill -9) after $(runs_in "$work/s1.jsonl") runs"; fi
wait "$sweep"
tail -1 "$work/s1.txt"
grep -q 'retried after their worker died' "$work/s1.txt" || echo "heavy-sweep: note: the killed worker was between runs (nothing to retry)"

# Shard 2: kill -9 the whole sweep once 100 runs are written, then --resume.
nice -n 10 node bin/bootpath.js "${args[@]}" --shard 2/2 --out "$work/s2.jsonl" > /dev/null &
sweep=$!
until [ "$(runs_in "$work/s2.jsonl")" -ge 100 ] || ! kill -0 "$sweep" 2>/dev/null; do sleep 1; done
kill -9 "$sweep" 2>/dev/null || true
wait "$sweep" 2>/dev/null || true
before=$(runs_in "$work/s2.jsonl")
echo "heavy-sweep: shard 2/2: killed the sweep (kill -9) with $before runs written; resuming"
bp "${args[@]}" --shard 2/2 --out "$work/s2.jsonl" --resume > "$work/s2.txt"
tail -1 "$work/s2.txt"
grep -q "$before taken from" "$work/s2.txt" || { echo "heavy-sweep: FAIL: --resume did not take the $before finished runs from the file"; exit 1; }

bp sweep merge "$work/s1.jsonl" "$work/s2.jsonl" --out "$work/merged.jsonl" > "$work/merged.txt"
node - "$work/merged.jsonl" "$expect" <<'EOF'
const [file, want] = process.argv.slice(2);
const lines = require('node:fs').readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const runs = lines.filter((l) => l.type === 'run');
const keys = new Set(runs.map((r) => `${r.gfn}/${r.seed}/${r.shift}`));
const errors = runs.filter((r) => r.class === 'error');
const classes = {};
for (const r of runs) classes[r.class] = (classes[r.class] ?? 0) + 1;
console.log(`heavy-sweep: merged ${runs.length} runs, ${keys.size} distinct (gfn, seed, shift): ${JSON.stringify(classes)}`);
if (runs.length !== Number(want) || keys.size !== Number(want) || lines[0].runs !== Number(want)) { console.log(`heavy-sweep: FAIL: expected ${want} runs, each once`); process.exit(1); }
if (errors.length) { console.log(`heavy-sweep: FAIL: ${errors.length} runs in class error: ${errors[0].reason}`); process.exit(1); }
EOF
sed -n '/^legend/,/^[0-9,]* runs/p' "$work/merged.txt"

if [ "${HEAVY_SWEEP_COMPARE:-0}" = 1 ]; then
  bp "${args[@]}" > "$work/single.txt"
  if diff <(sed '$d' "$work/single.txt") <(sed '$d' "$work/merged.txt") > /dev/null; then echo "heavy-sweep: one process prints the same map as the merged shards"
  else echo "heavy-sweep: FAIL: the single-process map differs from the merged one:"; diff <(sed '$d' "$work/single.txt") <(sed '$d' "$work/merged.txt") | head -20; exit 1; fi
fi
echo "heavy-sweep: ok in $(( $(date +%s) - t0 )) s (map: $work/merged.txt)"
