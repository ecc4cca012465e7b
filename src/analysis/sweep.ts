// Sweeps: one Xen scenario booted with its stale shared_info frame at each
// frame of a region (the new kernel's image, the decompressor's footprint,
// everything kexec and the decompressor touch, or a range), for each seed
// and each shift of the hypervisor's schedule; each run started from a
// snapshot taken after loading, on worker processes, and classified.
//
// Classes (SweepClass; the map's characters are in sweepMap.ts):
//  - clean:   reached x86_64_start_kernel; the image at the jump to
//             startup_64 is byte-identical to vmlinux, and no hypervisor
//             write landed in the new kernel's [_text, _end) after that jump.
//             (`latent` marks a clean run whose stale frame lies inside the new
//             kernel's [_text, _end): the next time update will corrupt it.)
//  - silent:  reached x86_64_start_kernel, but the image differed from vmlinux
//             at the jump, or Xen wrote into [_text, _end) after it. Nothing
//             failed yet: the kernel runs on with wrong bytes.
//  - shifted: reached, and the image diff found vmlinux displaced by some
//             bytes over a range (imageDiff.shifts): the decompressor's input or
//             state was altered, not bytes overwritten in place.
//  - crash:   a triple fault (kind "triple fault (#PF)": the exception that
//             started it) or an undelivered fault (kind "undelivered #GP").
//  - decompressor-error: the decompressor's error() ran (the console shows
//             "-- System halted"); kind: its message.
//  - hang:    hlt with interrupts off, a loop without progress (kind hlt,
//             loop), or the instruction budget ran out (kind budget).
//  - error:   bootpath itself failed on the run (an exception in the worker,
//             or the worker died on every attempt): not a guest outcome.
import { existsSync } from 'node:fs';
import { loadScenario } from '../xen/scenario.ts';
import { resolveScenario } from '../xen/scenarioResolve.ts';
import { SweepExecutor } from './sweepExec.ts';
import { SweepPool, type PoolFailure } from './sweepPool.ts';
import { appendLines, doneLine, headerLine, jobWithoutPaths, readSweepFile, runLine, truncatePartialLine } from './sweepFile.ts';
import { errorRow, type SweepRow } from './sweepClassify.ts';
import {
  canonicalJson, describeMismatch, fileSha256, inShard, planRuns, runKey, SweepFileError,
  type PlannedRun, type Shard, type SweepInputs, type SweepJob, type SweepReference,
} from './sweepPlan.ts';

export * from './sweepClassify.ts';
export * from './sweepPlan.ts';

/** How to run a sweep. */
export interface SweepOptions {
  /** Worker processes (each a fresh Node process; one that dies is replaced and its run retried). 0: run in this process, no isolation. */
  workers: number;
  /** Run only this shard's runs (canonical index ≡ shard index − 1 mod count). */
  shard?: Shard;
  /** Append each finished run to this JSON-lines file as it finishes (sweepFile.ts). */
  out?: string;
  /** With `out`: an existing file is continued: only the runs not in it are run (runs that ended in `error` are redone). */
  resume?: boolean;
  /** Attempts per run when its worker dies (default 3); after that the run is an `error` row. */
  maxAttempts?: number;
  /** Each finished run, with the count done and to do in this sweep. */
  onRow?: (row: SweepRow, done: number, total: number) => void;
  /** Each reference run as it finishes. */
  onReference?: (ref: SweepReference) => void;
}

/** A sweep's outcome (of one process or shard, or merged from shards). */
export interface SweepResult {
  job: SweepJob;
  inputs: SweepInputs;
  /** The reference run of each seed. */
  references: SweepReference[];
  /** Every run of the job, in canonical order. */
  runs: PlannedRun[];
  /** The shards the rows come from: [] for a whole sweep in one process. */
  shards: Shard[];
  /** The rows there are (this shard's, or all), by canonical index. */
  rows: Map<number, SweepRow>;
  stats: {
    workers: number; seconds: number;
    /** Runs this invocation ran, took from the --out file (resume), retried after a worker died. */
    ran: number; resumed: number; retried: number;
    /** Where the rows came from (merge: the files). */
    files: string[];
  };
}

/** The hashes of what a job runs on. */
export function sweepInputs(job: SweepJob, kernelPath: string): SweepInputs {
  return { scenarioSha256: fileSha256(job.scenarioFile), kernelSha256: fileSha256(kernelPath) };
}

/** The kernel a job boots (the override, or the scenario's). */
export function jobKernelPath(job: SweepJob): string {
  return job.kernel ?? resolveScenario(loadScenario(job.scenarioFile)).kernelPath;
}

/**
 * Run a sweep: the reference run of each seed (its layout gives the regions),
 * then every run of the job (or of one shard), on `workers` processes. With
 * `out`, each finished run is appended to the file as it finishes; with
 * `resume`, the runs already in it are taken from it and not run again.
 * Deterministic: every row (but its `ms`) is the same whatever the workers,
 * shards, retries or resumes.
 */
export async function runSweep(job: SweepJob, opts: SweepOptions): Promise<SweepResult> {
  const t0 = Date.now();
  const maxAttempts = opts.maxAttempts ?? 3;
  const local = opts.workers === 0 ? new SweepExecutor(job) : null;
  const inputs = sweepInputs(job, local?.kernelPath ?? jobKernelPath(job));
  const shard = opts.shard;
  const rows = new Map<number, SweepRow>();
  let refs: SweepReference[] | null = null;
  let fileExists = false;

  if (opts.out && existsSync(opts.out)) {
    if (!opts.resume) throw new SweepFileError(`${opts.out} exists: continue it with --resume, or remove it`);
    const f = readSweepFile(opts.out);
    if (f.header) {
      fileExists = true;
      const want = { job: jobWithoutPaths(job), inputs, shard: shard ?? null };
      const got = { job: jobWithoutPaths(f.header.job), inputs: f.header.inputs, shard: f.header.shard };
      if (canonicalJson(want) !== canonicalJson(got)) {
        throw new SweepFileError(`${opts.out} is from another sweep (${describeMismatch(want, got)}): --resume continues only the same sweep`);
      }
      refs = f.header.references;
      for (const [i, row] of f.rows) if (row.class !== 'error') rows.set(i, row);
    }
    if (f.partialLine) truncatePartialLine(opts.out); // a sweep killed while writing a line (even the header)
  }

  let pool: SweepPool | null = null;
  let retried = 0;
  const getPool = () => (pool ??= new SweepPool({ workers: opts.workers, job, maxAttempts, onRetry: () => { retried++; } }));
  try {
    if (!refs) {
      const seeds = job.seeds;
      const got = new Map<number, SweepReference>();
      if (local) for (const s of seeds) { const ref = local.reference(s); got.set(s, ref); opts.onReference?.(ref); }
      else {
        await getPool().run(seeds.map((seed) => ({ id: `ref ${seed}`, msg: { type: 'reference', seed } })), (task, res) => {
          const seed = (task.msg as { seed: number }).seed;
          if (isFailure(res)) throw new Error(`sweep: the reference run of seed ${seed} failed: ${res.error}`);
          got.set(seed, res as SweepReference);
          opts.onReference?.(res as SweepReference);
        });
      }
      refs = job.seeds.map((s) => got.get(s)!);
    }
    const refMap = new Map(refs.map((r) => [r.seed, r]));
    const runs = planRuns(job, refMap);
    const mine = runs.filter((r) => inShard(r, shard));
    for (const [i, row] of rows) {
      const r = runs[i];
      if (!r || r.gfn !== row.gfn || r.seed !== row.seed || r.shift !== row.shift) throw new SweepFileError(`${opts.out}: run ${i} (gfn 0x${row.gfn.toString(16)}, seed ${row.seed}, shift ${row.shift}) is not run ${i} of this sweep`);
    }
    const resumed = mine.filter((r) => rows.has(r.index)).length;
    const mineIdx = new Set(mine.map((r) => r.index));
    for (const i of [...rows.keys()]) if (!mineIdx.has(i)) rows.delete(i);
    const todo = mine.filter((r) => !rows.has(r.index));
    if (opts.out && !fileExists) appendLines(opts.out, [headerLine(job, inputs, shard ?? null, refs, runs.length, mine.length)]);

    let done = resumed;
    const finish = (run: PlannedRun, row: SweepRow) => {
      rows.set(run.index, row);
      if (opts.out) appendLines(opts.out, [runLine(job, run, row)]);
      done++;
      opts.onRow?.(row, done, mine.length);
    };
    if (local) {
      for (const run of todo) {
        let row: SweepRow;
        try { row = local.run(run, refMap.get(run.seed)!); } catch (e) { row = errorRow(run, `exception: ${(e as Error).stack ?? e}`); }
        finish(run, row);
      }
    } else if (todo.length) {
      const byId = new Map(todo.map((r) => [`run ${runKey(r)}`, r]));
      await getPool().run(todo.map((r) => ({ id: `run ${runKey(r)}`, msg: { type: 'run', run: r, ref: refMap.get(r.seed)! } })), (task, res) => {
        const run = byId.get(task.id)!;
        finish(run, isFailure(res) ? errorRow(run, res.error) : (res as SweepRow));
      });
    }
    const seconds = (Date.now() - t0) / 1000;
    if (opts.out && todo.length) appendLines(opts.out, [doneLine(mine.length, rows, seconds, opts.workers, retried)]);
    return {
      job, inputs, references: refs, runs, shards: shard ? [shard] : [], rows,
      stats: { workers: opts.workers, seconds, ran: todo.length, resumed, retried, files: opts.out ? [opts.out] : [] },
    };
  } finally {
    await (pool as SweepPool | null)?.close();
  }
}

function isFailure(x: unknown): x is PoolFailure {
  return !!x && typeof x === 'object' && (x as PoolFailure).failed === true;
}

