// What a sweep runs: the job (scenario, what to sweep over, the axes), the
// regions each seed's reference run found, the list of runs in canonical
// order, and which of them a shard takes. Everything here is a pure function
// of the job and the references, so every process of a sharded sweep, a
// resumed sweep and `sweep merge` work out the same list.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadMethod } from '../xen/scenario.ts';
import type { ResolvedScenario } from '../xen/scenarioResolve.ts';
import type { StaleTimer } from '../xen/staleState.ts';
import type { Periodic } from '../xen/hypervisor.ts';

/**
 * What a sweep covers, from a reference run of the same scenario without a
 * stale frame (per seed):
 * - `image`: the new kernel's [_text, _end) where the decompressor put it;
 * - `decompressor`: every frame the decompressor touched after relocating
 *   itself (its own copy, the compressed input, heap, stack, page tables,
 *   boot_params, the output);
 * - `footprint`: every frame purgatory and the decompressor touched (read or
 *   written), kexec's segments included;
 * - `range`: the gfns [from, to] given by hand.
 */
export const SWEEP_OVER = ['image', 'decompressor', 'footprint', 'range'] as const;
export type SweepOver = (typeof SWEEP_OVER)[number];

/** A sweep: the scenario, the frames (over, step), the other axes and the budget. Serialisable (it goes to workers and into JSON lines). */
export interface SweepJob {
  /** Scenario file (absolute path). */
  scenarioFile: string;
  /** Overrides of the scenario: the bzImage (absolute path) and kexec's entry. */
  kernel?: string;
  load?: LoadMethod;
  over: SweepOver;
  /** `over: 'range'`: the first and last gfn (inclusive). */
  range?: { from: number; to: number };
  /** Every step-th frame of each region, starting at the region's first frame. */
  step: number;
  /** The scenario seeds (KASLR, the schedules' jitter). */
  seeds: number[];
  /** Shifts of every hypervisor schedule's phase, in instructions (withPhaseShift). */
  shifts: number[];
  /** The instruction budget of each run, and of the reference runs. */
  budget: number;
}

/** What a job ran on: content hashes of the scenario file and the kernel, so shards and resumed files that ran on other inputs are refused. */
export interface SweepInputs {
  scenarioSha256: string;
  kernelSha256: string;
}

/** A named range of guest-physical memory [start, end), page aligned for sweep regions. */
export interface SweepRange { start: number; end: number; what: string }

/**
 * The reference run of one seed: the scenario without a stale frame, the same
 * budget. Its layout gives the regions; its kernel entry places frames that a
 * run which never reached the kernel would have hit.
 */
export interface SweepReference {
  seed: number;
  outcome: string;
  reason: string;
  instructions: number;
  /** The instruction count at which each phase began (purgatory at 0). */
  phases: { decompressor?: number; kernel?: number };
  /** The new kernel's [_text, _end) in guest-physical memory, when the reference reached startup_64. */
  image: [number, number] | null;
  /** Where the decompressor put the kernel: output base, and the link address that corresponds to it (hex). */
  entry: { outputPhys: number; linkBase: string } | null;
  /** kexec's segments and hand-off pages. */
  load: SweepRange[];
  /** The relocated decompressor's parts (from its ELF, when bundled). */
  decompressorParts: SweepRange[];
  /** The regions of each kind (page-aligned, named, ascending). */
  regions: { image: SweepRange[]; decompressor: SweepRange[]; footprint: SweepRange[] };
}

/** One run of a sweep: the stale shared_info frame, the scenario seed and the schedules' phase shift. */
export interface RunKey { gfn: number; seed: number; shift: number }

/** A run in the job's canonical list. */
export interface PlannedRun extends RunKey {
  /** Position in the job's canonical list (seed, then shift, then frame). */
  index: number;
  /** The region the frame is in (its name). */
  region: string;
}

export const runKey = (k: RunKey): string => `${k.seed}/${k.shift}/${k.gfn}`;

/** The regions a job sweeps for one seed. */
export function regionsOf(job: SweepJob, ref: SweepReference | undefined): SweepRange[] {
  if (job.over === 'range') {
    const r = job.range!;
    return [{ start: r.from * 4096, end: (r.to + 1) * 4096, what: `gfns 0x${r.from.toString(16)}-0x${r.to.toString(16)}` }];
  }
  if (!ref) throw new Error(`sweep over ${job.over}: no reference run`);
  return ref.regions[job.over];
}

/** The swept frames of a region list: every step-th frame of each region from its first, with the region's name. */
export function framesOf(regions: SweepRange[], step: number): { gfn: number; region: string }[] {
  const out: { gfn: number; region: string }[] = [];
  for (const r of regions) {
    for (let g = Math.floor(r.start / 4096); g * 4096 < r.end; g += step) out.push({ gfn: g, region: r.what });
  }
  return out;
}

/** Every run of a job in canonical order: for each seed (as given), each shift (as given), each frame ascending. */
export function planRuns(job: SweepJob, refs: Map<number, SweepReference>): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const seed of job.seeds) {
    const frames = framesOf(regionsOf(job, refs.get(seed)), job.step);
    for (const shift of job.shifts) for (const f of frames) out.push({ index: out.length, gfn: f.gfn, seed, shift, region: f.region });
  }
  return out;
}

/** A shard: `index` of `count`, 1-based (`--shard 2/3`). Shard i takes the runs whose canonical index is i-1 modulo count. */
export interface Shard { index: number; count: number }

export function inShard(run: PlannedRun, shard: Shard | undefined): boolean {
  return !shard || run.index % shard.count === shard.index - 1;
}

/** "2/3" → { index: 2, count: 3 }; throws with the reason. */
export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  if (!m) throw new Error(`not a shard: ${s} (write i/n, e.g. 1/3: the first of three shards)`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new Error(`shard ${s}: the index must be 1..${count} (shards are numbered from 1)`);
  return { index, count };
}

/**
 * `--shards n` with the index from the environment: JOB_COMPLETION_INDEX
 * (a Kubernetes Indexed Job's pods, 0..n-1) is shard index+1.
 */
export function shardFromEnv(count: number, env: NodeJS.ProcessEnv = process.env): Shard {
  const v = env.JOB_COMPLETION_INDEX;
  if (v === undefined || v === '') throw new Error(`--shards ${count}: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it to 0..${count - 1}; elsewhere use --shard i/${count})`);
  if (!/^\d+$/.test(v.trim()) || Number(v) >= count) throw new Error(`--shards ${count}: JOB_COMPLETION_INDEX=${v} is not in 0..${count - 1}`);
  return { index: Number(v) + 1, count };
}

/** "2012", "1..8", "1..8,20,30..31" → seeds in the order written (duplicates refused). */
export function parseSeeds(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*(\d+|0x[0-9a-f]+)\s*(?:\.\.\s*(\d+|0x[0-9a-f]+)\s*)?$/i.exec(part);
    if (!m) throw new Error(`--seeds: not a seed or a range a..b: ${part}`);
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new Error(`--seeds: ${part}: the range goes down`);
    if (b > 0xffffffff) throw new Error(`--seeds: ${part}: seeds are 0..2^32-1`);
    if (b - a > 100_000) throw new Error(`--seeds: ${part}: more than 100,000 seeds`);
    for (let x = a; x <= b; x++) out.push(x);
  }
  if (new Set(out).size !== out.length) throw new Error(`--seeds: a seed is given twice: ${s}`);
  return out;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/**
 * "0,250000,-1000", "0..1000000/250000", "0,5ms": shifts in instructions (the
 * virtual clock's unit). A number is instructions; a number with ns/us/ms/s
 * is converted with the scenario's clock (`instructionsPerSecond`); "insn"
 * is allowed as a unit. `a..b/step` lists a, a+step, … up to b.
 */
export function parseShifts(s: string, instructionsPerSecond: number): number[] {
  const one = (t: string): number => {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*(insn|ns|us|ms|s)?\s*$/.exec(t);
    if (!m) throw new Error(`--phase-shift: not a shift (instructions, or a duration such as 5ms): ${t}`);
    const n = Number(m[1]);
    const v = m[2] === undefined || m[2] === 'insn' ? n : Math.round((n * UNIT_NS[m[2]]! * instructionsPerSecond) / 1e9);
    if (!Number.isSafeInteger(v)) throw new Error(`--phase-shift: ${t} is not a whole number of instructions`);
    return v;
  };
  const out: number[] = [];
  for (const part of s.split(',')) {
    const r = /^(.+?)\.\.(.+?)\/(.+)$/.exec(part.trim());
    if (!r) { out.push(one(part)); continue; }
    const a = one(r[1]!), b = one(r[2]!), st = one(r[3]!);
    if (st <= 0) throw new Error(`--phase-shift: ${part}: the step must be positive`);
    if (b < a) throw new Error(`--phase-shift: ${part}: the range goes down`);
    if ((b - a) / st > 100_000) throw new Error(`--phase-shift: ${part}: more than 100,000 shifts`);
    for (let x = a; x <= b; x += st) out.push(x);
  }
  if (new Set(out).size !== out.length) throw new Error(`--phase-shift: a shift is given twice: ${s}`);
  return out;
}

/**
 * The scenario with every hypervisor schedule moved `shift` instructions
 * later (earlier when negative): the phase of each time update, wallclock
 * update and event send, and the first expiry of each timer the first kernel
 * left armed. A phase that would fall before instruction 0 is clamped to 0.
 * Periods, jitter and the seed's jitter draws are unchanged, so two shifts
 * differ only in when things happen.
 */
export function withPhaseShift(r: ResolvedScenario, shift: number): ResolvedScenario {
  if (shift === 0) return r;
  const move = (p: Periodic): Periodic => ({ ...p, phase: Math.max(0, p.phase + shift) });
  const ips = r.config.clock.instructionsPerSecond;
  const shiftNs = Math.round((shift * 1e9) / ips);
  const timer = (t: StaleTimer): StaleTimer => t.kind === 'periodic'
    ? { ...t, firstNs: Math.max(0, t.firstNs + shiftNs) }
    : { ...t, atNs: Math.max(0, t.atNs + shiftNs) };
  return {
    ...r,
    state: { ...r.state, timers: r.state.timers.map(timer) },
    config: {
      ...r.config,
      timeUpdates: r.config.timeUpdates.map((t) => ({ ...t, every: move(t.every) })),
      wallclock: r.config.wallclock ? { ...r.config.wallclock, every: move(r.config.wallclock.every) } : null,
      sends: r.config.sends.map((s) => ({ ...s, every: move(s.every) })),
    },
  };
}

/** sha256 of a file's bytes (hex). */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The command line that repeats one run (a sweep of one frame, one seed, one shift). */
export function reproduceCommand(job: SweepJob, k: RunKey): string {
  const q = (s: string) => (/^[\w./:@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['bootpath sweep', `--scenario ${q(job.scenarioFile)}`,
    ...(job.kernel ? [`--kernel ${q(job.kernel)}`] : []), ...(job.load ? [`--load ${job.load}`] : []),
    `--gfn-from ${hex(k.gfn)} --gfn-to ${hex(k.gfn)}`, `--seeds ${k.seed}`, `--phase-shift ${k.shift}`, `--max-instructions ${job.budget}`].join(' ');
}

/** The JSON of a value with object keys sorted: equal for equal values. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

/** A problem with a sweep's JSON-lines files (resume, merge): the CLI reports it and exits 2. */
export class SweepFileError extends Error {}

/** The first fields in which two job descriptions differ, for messages. */
export function describeMismatch(a: unknown, b: unknown, path = ''): string {
  if (canonicalJson(a) === canonicalJson(b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = describeMismatch((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  const show = (v: unknown) => { const s = JSON.stringify(v) ?? 'nothing'; return s.length > 60 ? s.slice(0, 57) + '...' : s; };
  return `${path || 'value'}: ${show(b)} where ${show(a)} was expected`;
}
