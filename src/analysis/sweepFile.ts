// A sweep's JSON lines (`--out file.jsonl`, `--json`): one object per line.
//   {"type":"sweep", …}   first: the job, its inputs' hashes, the shard, the reference run of each seed (with the regions)
//   {"type":"run", …}     one per finished run, in the order runs finish: everything to repeat it and its classification
//   {"type":"done", …}    when a sweep (or a resumed part of it) finished: counts and wall time
// A file is appended to line by line as runs finish, so an interrupted sweep
// leaves every finished run and at most one partial last line, which
// --resume drops. `mergeSweepFiles` puts shards back together.
import { appendFileSync, closeSync, openSync, readFileSync, ftruncateSync, fstatSync } from 'node:fs';
import type { SweepResult } from './sweep.ts';
import { SWEEP_CLASSES, type SweepRow } from './sweepClassify.ts';
import {
  canonicalJson, describeMismatch, planRuns, reproduceCommand, SweepFileError,
  type PlannedRun, type Shard, type SweepInputs, type SweepJob, type SweepReference,
} from './sweepPlan.ts';

export const SWEEP_FORMAT = 'bootpath-sweep/1';

export interface SweepHeader {
  type: 'sweep';
  format: string;
  job: SweepJob;
  inputs: SweepInputs;
  shard: Shard | null;
  /** Runs in the whole job, and in this shard. */
  runs: number;
  shardRuns: number;
  references: SweepReference[];
}

const hex = (n: number) => `0x${n.toString(16)}`;

export function headerLine(job: SweepJob, inputs: SweepInputs, shard: Shard | null, references: SweepReference[], runs: number, shardRuns: number): SweepHeader {
  return { type: 'sweep', format: SWEEP_FORMAT, job, inputs, shard, runs, shardRuns, references };
}

/** Fields a run line has besides its row. */
const RUN_EXTRA = ['type', 'index', 'address', 'scenario', 'kernel', 'load', 'budget', 'reproduce'] as const;

/** A run's line: what reproduces it (scenario, kernel, load, budget, gfn, seed, shift, and the command), then its row. */
export function runLine(job: SweepJob, run: PlannedRun, row: SweepRow): Record<string, unknown> {
  const { gfn, seed, shift, ...rest } = row;
  return {
    type: 'run', index: run.index, gfn, address: hex(gfn * 4096), seed, shift,
    scenario: job.scenarioFile, ...(job.kernel ? { kernel: job.kernel } : {}), ...(job.load ? { load: job.load } : {}), budget: job.budget,
    ...rest, reproduce: reproduceCommand(job, row),
  };
}

export function countClasses(rows: Iterable<SweepRow>): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of rows) c[r.class] = (c[r.class] ?? 0) + 1;
  return c;
}

export function doneLine(runs: number, rows: Map<number, SweepRow>, seconds: number, workers: number, retried: number): Record<string, unknown> {
  return { type: 'done', runs, finished: rows.size, classes: countClasses(rows.values()), seconds, workers, retried };
}

export function appendLines(path: string, lines: unknown[]): void {
  appendFileSync(path, lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

/** Drop a partial last line (a sweep killed while writing it) so appends start on a fresh line. */
export function truncatePartialLine(path: string): void {
  const text = readFileSync(path);
  const cut = text.lastIndexOf(0x0a) + 1;
  const fd = openSync(path, 'r+');
  try { if (fstatSync(fd).size !== cut) ftruncateSync(fd, cut); } finally { closeSync(fd); }
}

export interface SweepFile {
  path: string;
  header: SweepHeader | null;
  /** Rows by canonical index (a run written twice: the later line). */
  rows: Map<number, SweepRow>;
  /** The file ends in a line without its newline (dropped). */
  partialLine: boolean;
}

/** Read a sweep's JSON lines. Throws SweepFileError naming the file and line for anything that is not one. */
export function readSweepFile(path: string): SweepFile {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new SweepFileError(`${path}: cannot read: ${(e as Error).message}`); }
  const lines = text.split('\n');
  const partialLine = lines[lines.length - 1] !== '';
  lines.pop(); // '' after the last newline, or the partial line
  let header: SweepHeader | null = null;
  const rows = new Map<number, SweepRow>();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let o: Record<string, unknown>;
    try { o = JSON.parse(line) as Record<string, unknown>; } catch { throw new SweepFileError(`${path}:${i + 1}: not JSON (not a sweep's JSON lines file?)`); }
    if (i === 0) {
      if (o.type !== 'sweep' || o.format !== SWEEP_FORMAT) throw new SweepFileError(`${path}:1: not a sweep's JSON lines (the first line must be {"type":"sweep","format":"${SWEEP_FORMAT}",…})`);
      header = o as unknown as SweepHeader;
      return;
    }
    if (o.type === 'run') {
      if (typeof o.index !== 'number' || !(SWEEP_CLASSES as readonly string[]).includes(o.class as string)) throw new SweepFileError(`${path}:${i + 1}: a run line without its index or class`);
      const row = { ...o } as Record<string, unknown>;
      for (const k of RUN_EXTRA) delete row[k];
      rows.set(o.index, row as unknown as SweepRow);
    } else if (o.type !== 'done' && o.type !== 'sweep') throw new SweepFileError(`${path}:${i + 1}: unknown line type ${JSON.stringify(o.type)}`);
  });
  return { path, header, rows, partialLine };
}

/** What must be equal in every file of one sweep: the job (paths aside: they may differ between machines), the inputs' contents, the references. */
export function sweepIdentity(h: Pick<SweepHeader, 'job' | 'inputs' | 'references'>): unknown {
  return { job: jobWithoutPaths(h.job), inputs: h.inputs, references: h.references };
}

/** The job without its file paths (the inputs' hashes stand for them). */
export function jobWithoutPaths(job: SweepJob): Omit<SweepJob, 'scenarioFile' | 'kernel'> {
  const { scenarioFile: _s, kernel: _k, ...rest } = job;
  return rest;
}

const shardName = (s: Shard | null) => (s ? `shard ${s.index}/${s.count}` : 'the whole sweep');

/**
 * Put the JSON lines of a sharded sweep back together: every file must be
 * of the same sweep, the shards must be 1..n each once, no run may be in two
 * files, and every run of the job must be there. The result is the same as
 * one process running the whole sweep (its map prints the same).
 */
export function mergeSweepFiles(paths: string[]): SweepResult {
  if (paths.length === 0) throw new SweepFileError('merge: no files');
  const files = paths.map(readSweepFile);
  for (const f of files) if (!f.header) throw new SweepFileError(`${f.path}: empty (the sweep wrote nothing yet)`);
  const first = files[0]!, h0 = first.header!;
  const id0 = canonicalJson(sweepIdentity(h0));
  for (const f of files.slice(1)) {
    if (canonicalJson(sweepIdentity(f.header!)) !== id0) {
      throw new SweepFileError(`${f.path} and ${first.path} are not shards of the same sweep: ${describeMismatch(sweepIdentity(h0), sweepIdentity(f.header!))}`);
    }
  }
  const count = h0.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const f of files) {
    const s = f.header!.shard;
    if ((s?.count ?? 1) !== count) throw new SweepFileError(`${f.path} is ${shardName(s)} but ${first.path} is ${shardName(h0.shard)}: the shard counts differ`);
    const idx = s?.index ?? 1;
    if (seen.has(idx)) throw new SweepFileError(`${shardName(s)} is given twice: ${seen.get(idx)} and ${f.path} (overlapping shards)`);
    seen.set(idx, f.path);
  }
  const missingShards = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missingShards.length) throw new SweepFileError(`shard${missingShards.length > 1 ? 's' : ''} ${missingShards.map((i) => `${i}/${count}`).join(', ')} missing (have ${[...seen.keys()].sort((a, b) => a - b).map((i) => `${i}/${count}`).join(', ')})`);

  const refs = new Map(h0.references.map((r) => [r.seed, r]));
  const runs = planRuns(h0.job, refs);
  const rows = new Map<number, SweepRow>();
  const from = new Map<number, string>();
  for (const f of files) {
    const s = f.header!.shard;
    for (const [i, row] of f.rows) {
      const run = runs[i];
      if (!run || run.gfn !== row.gfn || run.seed !== row.seed || run.shift !== row.shift) throw new SweepFileError(`${f.path}: run ${i} (gfn ${hex(row.gfn)}, seed ${row.seed}, shift ${row.shift}) is not run ${i} of the sweep`);
      if (s && i % s.count !== s.index - 1) throw new SweepFileError(`${f.path}: run ${i} (gfn ${hex(row.gfn)}, seed ${row.seed}, shift ${row.shift}) does not belong to ${shardName(s)}`);
      if (from.has(i)) throw new SweepFileError(`run ${i} (gfn ${hex(row.gfn)}, seed ${row.seed}, shift ${row.shift}) is in both ${from.get(i)} and ${f.path}`);
      from.set(i, f.path);
      rows.set(i, row);
    }
  }
  const missing = runs.filter((r) => !rows.has(r.index));
  if (missing.length) {
    const per: string[] = [];
    for (const f of files) {
      const s = f.header!.shard;
      const want = runs.filter((r) => !s || r.index % s.count === s.index - 1).length;
      if (f.rows.size < want) per.push(`${f.path} (${shardName(s)}) has ${f.rows.size} of ${want}`);
    }
    throw new SweepFileError(`${missing.length} of ${runs.length} runs missing: ${per.join('; ')} — finish ${per.length > 1 ? 'them' : 'it'} with the same command and --resume`);
  }
  return {
    job: h0.job, inputs: h0.inputs, references: h0.references, runs, shards: files.map((f) => f.header!.shard).filter((s): s is Shard => s !== null).sort((a, b) => a.index - b.index), rows,
    stats: { workers: 0, seconds: 0, ran: 0, resumed: 0, retried: 0, files: paths },
  };
}

/** The whole result as JSON lines (header, runs in canonical order, done): `--json`, `merge --out`. */
export function resultLines(res: SweepResult): unknown[] {
  const shard = res.shards.length === 1 && res.stats.files.length <= 1 ? res.shards[0]! : null;
  const mine = res.runs.filter((r) => res.rows.has(r.index));
  return [
    headerLine(res.job, res.inputs, shard, res.references, res.runs.length, shard ? res.runs.filter((r) => r.index % shard.count === shard.index - 1).length : res.runs.length),
    ...mine.map((r) => runLine(res.job, r, res.rows.get(r.index)!)),
    doneLine(shard ? mine.length : res.runs.length, res.rows, res.stats.seconds, res.stats.workers, res.stats.retried),
  ];
}
