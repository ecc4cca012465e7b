// `bootpath sweep`: a Xen scenario booted with its stale shared_info frame at
// each frame of a region (the new kernel's image, the decompressor's
// footprint, everything kexec and the decompressor touch, or a range), for
// each seed and phase shift, on worker processes; prints the outcome map.
// `bootpath sweep merge` puts a sharded sweep's JSON lines back together.
// Exit codes: 0 the sweep finished (whatever the guests did), 1 some runs
// could not be run (class error), 2 bad usage or input.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Command } from './commands.ts';
import { ProgressLine } from './progress.ts';
import { parseOptions } from './options.ts';
import { UsageError } from './errors.ts';
import { InputError } from '../errors.ts';
import { parseCount } from './units.ts';
import { scenarioFile as resolveScenarioArg } from '../xen/index.ts';
import { loadScenario } from '../xen/scenario.ts';
import { DEFAULT_BUDGET } from '../run/prepare.ts';
import { runSweep, type SweepResult } from '../analysis/sweep.ts';
import {
  parseSeeds, parseShard, parseShifts, shardFromEnv, SweepFileError, SWEEP_OVER,
  type Shard, type SweepJob, type SweepOver,
} from '../analysis/sweepPlan.ts';
import { formatSweepMap } from '../analysis/sweepMap.ts';
import { mergeSweepFiles, resultLines } from '../analysis/sweepFile.ts';
import { writeSweepReport } from '../report/sweepReport.ts';
import { commandLine } from '../report/write.ts';

const USAGE = `usage: bootpath sweep --over image|decompressor|footprint [--step <n>] [options]
       bootpath sweep --gfn-from <gfn> --gfn-to <gfn> [--step <n>] [options]      (= --over range)
       bootpath sweep merge <a.jsonl> <b.jsonl> ... [--json] [--out <merged.jsonl>]
  Boots the scenario once per swept frame, seed and phase shift, with the stale shared_info frame at that gfn,
  and prints a map of the outcomes (docs/sweeps.md). The regions come from a reference run of the same
  scenario without a stale frame (one per seed):
    image         the new kernel's [_text, _end)
    decompressor  every frame the decompressor touches after relocating itself (its code, the compressed
                  input, heap, stack, page tables, boot_params, the output)
    footprint     every frame purgatory and the decompressor touch (kexec's segments included)
    range         gfns --gfn-from..--gfn-to (page numbers: 0xec00 = 0xec00000)
  --step <n>              every n-th frame of each region, from its first (default 1)
  --seeds <list>          scenario seeds (KASLR and the schedules' jitter): 2012, 1..8, 1..4,9 (default: the scenario's)
  --phase-shift <list>    shift every hypervisor schedule by these many instructions (the virtual clock's unit;
                          5ms etc. are converted with the scenario's clock): 0,250000 or 0..1000000/250000 (default 0)
  --scenario <name|file>  a bundled scenario (default, 2012-shift) or a scenario file; --kernel <bzImage>, --load
                          bzImage64|legacy32 override it
  --max-instructions <n>  budget of each run and of the reference runs (default ${DEFAULT_BUDGET.toLocaleString('en-US')})
  --workers <n>           worker processes (default: the CPUs, at most 8); 0 runs in this process
  --shard <i>/<n>         run only shard i of n (1-based; run i of the canonical list goes to shard (i mod n) + 1)
  --shards <n>            the same, with i = JOB_COMPLETION_INDEX + 1 (a Kubernetes Indexed Job's pod index)
  --out <file.jsonl>      append each finished run to this file as JSON lines as it finishes
  --resume                continue an --out file: run only the runs not in it (starts it if it does not exist)
  --json                  print JSON lines (header with the regions, one line per run, done) instead of the map
  --report <file.html>    also write the outcome map as a self-contained HTML page (each run: details, how to reproduce it)`;

export const sweep: Command = {
  name: 'sweep',
  summary: 'boot a Xen scenario with the stale shared_info at each frame of a region (image, decompressor, footprint, range); map the outcomes',
  async run(args) {
    if (args[0] === 'merge') return merge(args.slice(1));
    const v = parseOptions(args, {
          scenario: { type: 'string' }, kernel: { type: 'string' }, load: { type: 'string' },
          over: { type: 'string' }, 'gfn-from': { type: 'string' }, 'gfn-to': { type: 'string' }, step: { type: 'string' },
          seeds: { type: 'string' }, 'phase-shift': { type: 'string' },
          workers: { type: 'string' }, 'max-instructions': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
          shard: { type: 'string' }, shards: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' },
          report: { type: 'string' },
        }, USAGE);
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const hasRange = v['gfn-from'] !== undefined || v['gfn-to'] !== undefined;
    const over = (v.over ?? (hasRange ? 'range' : undefined)) as SweepOver | undefined;
    if (over === undefined) throw new UsageError(`say what to sweep: --over image|decompressor|footprint, or --gfn-from and --gfn-to\n${USAGE}`);
    if (!(SWEEP_OVER as readonly string[]).includes(over)) throw new UsageError(`--over must be one of ${SWEEP_OVER.join(', ')}, not ${over}`);
    let range: SweepJob['range'];
    if (over === 'range') {
      if (v['gfn-from'] === undefined || v['gfn-to'] === undefined) throw new UsageError(`--gfn-from and --gfn-to are required\n${USAGE}`);
      const from = parseCount(v['gfn-from'], '--gfn-from'), to = parseCount(v['gfn-to'], '--gfn-to');
      if (to < from) throw new UsageError('--gfn-to must be >= --gfn-from');
      range = { from, to };
    } else if (hasRange) throw new UsageError(`--gfn-from/--gfn-to go with --over range, not --over ${over}`);
    const step = v.step !== undefined ? parseCount(v.step, '--step') : 1;
    if (step < 1) throw new UsageError('--step must be >= 1');
    if (v.load !== undefined && v.load !== 'bzImage64' && v.load !== 'legacy32') throw new UsageError(`--load must be bzImage64 or legacy32, not ${v.load}`);
    if (v.resume && v.out === undefined) throw new UsageError('--resume needs --out <file.jsonl> (the file to continue)');
    const scenarioFile = resolveScenarioArg(v.scenario);
    const spec = loadScenario(scenarioFile); // bad files fail here, with the scenario's own errors
    const usage = <T>(f: () => T): T => { try { return f(); } catch (e) { throw new UsageError((e as Error).message); } };
    const seeds = v.seeds !== undefined ? usage(() => parseSeeds(v.seeds!)) : [spec.seed];
    const shifts = v['phase-shift'] !== undefined ? usage(() => parseShifts(v['phase-shift']!, spec.clock.instructionsPerSecond)) : [0];
    let shard: Shard | undefined;
    if (v.shard !== undefined && v.shards !== undefined) throw new UsageError('give --shard i/n or --shards n, not both');
    if (v.shard !== undefined) shard = usage(() => parseShard(v.shard!));
    if (v.shards !== undefined) shard = usage(() => shardFromEnv(parseCount(v.shards!, '--shards')));
    const job: SweepJob = {
      scenarioFile, over, ...(range ? { range } : {}), step, seeds, shifts,
      ...(v.kernel !== undefined ? { kernel: resolve(v.kernel) } : {}),
      ...(v.load !== undefined ? { load: v.load as 'bzImage64' | 'legacy32' } : {}),
      budget: v['max-instructions'] !== undefined ? parseCount(v['max-instructions'], '--max-instructions') : DEFAULT_BUDGET,
    };
    const workers = v.workers !== undefined ? parseCount(v.workers, '--workers') : Math.min(availableParallelism(), 8);
    const json = v.json === true;
    const tty = process.stderr.isTTY === true && !json;
    const line = new ProgressLine(tty);
    const status = (s: string) => line.show(s);
    const seen = new Map<string, number>();
    let res: SweepResult;
    try {
      res = await runSweep(job, {
        workers, ...(shard ? { shard } : {}), ...(v.out !== undefined ? { out: resolve(v.out) } : {}), resume: v.resume === true,
        onReference: (r) => status(`[reference run of seed ${r.seed}: ${r.outcome}]`),
        onRow: (r, done, total) => {
          seen.set(r.class, (seen.get(r.class) ?? 0) + 1);
          const so = [...seen].map(([k, n]) => `${n} ${k}`).join(', ');
          status(`[runs ${line.counts(done, total)}] ${so}`);
        },
      });
    } catch (e) {
      if (e instanceof SweepFileError) throw new InputError(e.message);
      throw e;
    } finally {
      line.clear();
    }
    if (v.report !== undefined) writeSweepReport(v.report, res, commandLine());
    if (json) process.stdout.write(resultLines(res).map((l) => JSON.stringify(l)).join('\n') + '\n');
    else process.stdout.write(formatSweepMap(res) + '\n' + statsLine(res) + '\n');
    return [...res.rows.values()].some((r) => r.class === 'error') ? 1 : 0;
  },
};

function statsLine(res: SweepResult): string {
  const s = res.stats;
  const bits = [`${s.ran.toLocaleString('en-US')} run${s.ran === 1 ? '' : 's'} on ${s.workers === 0 ? 'this process' : `${s.workers} worker${s.workers === 1 ? '' : 's'}`} in ${s.seconds.toFixed(1)} s`];
  if (s.resumed) bits.push(`${s.resumed} taken from ${s.files[0]}`);
  if (s.retried) bits.push(`${s.retried} retried after their worker died`);
  if (s.files.length && !s.resumed) bits.push(`JSON lines in ${s.files[0]}`);
  return bits.join('; ');
}

const MERGE_USAGE = `usage: bootpath sweep merge <a.jsonl> <b.jsonl> ... [--json] [--out <merged.jsonl>]
  Reads the JSON lines of a sharded sweep (--shard i/n --out ...) and prints the map of the whole sweep, as one
  process running it would. Refuses files of different sweeps, shards given twice or missing, runs in two
  files, and incomplete shards (finish them with the same command and --resume).`;

async function merge(args: string[]): Promise<number> {
  let v: { json?: boolean; out?: string; help?: boolean }, files: string[];
  try {
    const { parseArgs } = await import('node:util');
    const p = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean' } } });
    v = p.values; files = p.positionals;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${MERGE_USAGE}`);
  }
  if (v.help) { process.stdout.write(MERGE_USAGE + '\n'); return 0; }
  if (files.length === 0) throw new UsageError(`merge: name the JSON lines files\n${MERGE_USAGE}`);
  let res: SweepResult;
  try { res = mergeSweepFiles(files); } catch (e) {
    if (e instanceof SweepFileError) throw new InputError(`merge: ${e.message}`);
    throw e;
  }
  const lines = resultLines(res).map((l) => JSON.stringify(l)).join('\n') + '\n';
  if (v.out !== undefined) writeFileSync(v.out, lines);
  if (v.json) process.stdout.write(lines);
  else process.stdout.write(formatSweepMap(res) + '\n' + `merged ${files.length} file${files.length === 1 ? '' : 's'}: ${files.join(', ')}\n`);
  return [...res.rows.values()].some((r) => r.class === 'error') ? 1 : 0;
}
