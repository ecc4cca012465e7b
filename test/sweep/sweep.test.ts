// Sweeps end to end on the default scenario, kept small: three frames of
// kexec's purgatory segment, two phase shifts, a 3.1M-instruction budget
// (purgatory is still hashing the segments then). With the schedules 6M
// instructions earlier, Xen's first time update lands in purgatory's code at
// gfn 0x1fff8 and it triple-faults; everything else runs into the budget.
// Checks that every way of running a sweep gives the same rows: in this
// process, on 1 and 2 worker processes, in 3 shards merged, with workers
// killed mid-run, and resumed from a file cut short.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import { runSweep, type SweepJob, type SweepResult, type SweepRow } from '../../src/analysis/sweep.ts';
import { SweepFileError } from '../../src/analysis/sweepPlan.ts';
import { formatSweepMap } from '../../src/analysis/sweepMap.ts';
import { mergeSweepFiles, readSweepFile, resultLines } from '../../src/analysis/sweepFile.ts';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'bootpath-sweep-'));
const job: SweepJob = { scenarioFile: DEFAULT_SCENARIO_PATH, over: 'range', range: { from: 0x1fff7, to: 0x1fff9 }, step: 1, seeds: [2012], shifts: [-6_000_000, 0], budget: 3_100_000 };
const cliArgs = ['sweep', '--gfn-from', '0x1fff7', '--gfn-to', '0x1fff9', '--phase-shift=-6000000,0', '--max-instructions', '3100000'];

/** Rows without their wall time, in canonical order. */
const rowsOf = (r: SweepResult) => [...r.rows.entries()].sort((a, b) => a[0] - b[0]).map(([i, row]) => [i, { ...row, ms: 0 }] as [number, SweepRow]);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const w = process.stdout.write.bind(process.stdout), e = process.stderr.write.bind(process.stderr);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => { out += s; return true; };
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => { err += s; return true; };
  try {
    return { code: await main(args), out, err };
  } finally {
    (process.stdout as unknown as { write: typeof w }).write = w;
    (process.stderr as unknown as { write: typeof e }).write = e;
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

let base: SweepResult;
beforeAll(async () => {
  base = await runSweep(job, { workers: 0 });
});
afterEach(() => { delete process.env.BOOTPATH_SWEEP_TEST_DIE; });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a sweep', () => {
  it('classifies each run; the map shows the crash at one frame and one shift', () => {
    expect(base.runs.length).toBe(6);
    const rows = rowsOf(base).map(([, r]) => r);
    const crash = rows.filter((r) => r.class === 'crash');
    expect(crash.map((r) => [r.gfn, r.shift, r.kind, r.phase])).toEqual([[0x1fff8, -6_000_000, 'triple fault (#PF)', 'purgatory']]);
    expect(rows.filter((r) => r.class === 'hang').every((r) => r.kind === 'budget' && r.instructions === 3_100_000)).toBe(true);
    expect(rows.every((r) => r.frameIs.startsWith('kexec segment purgatory+0x'))).toBe(true);
    const map = formatSweepMap(base);
    expect(map).toMatch(/0x1fff7 shift -6000000 {2}bTb/);
    expect(map).toMatch(/^ +shift 0 +bbb$/m);
  });

  it('gives the same rows in this process, on 1 and on 2 worker processes; appends each run to --out as it finishes', async () => {
    const one = await runSweep(job, { workers: 1 });
    const out = join(dir, 'two.jsonl');
    const lines: number[] = [];
    const two = await runSweep(job, { workers: 2, out, onRow: () => lines.push(readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('"type":"run"')).length) });
    expect(rowsOf(one)).toEqual(rowsOf(base));
    expect(rowsOf(two)).toEqual(rowsOf(base));
    expect(lines).toEqual([1, 2, 3, 4, 5, 6]);
    const f = readSweepFile(out);
    expect(f.header!.job).toEqual(job);
    expect(f.rows.size).toBe(6);
    const run = JSON.parse(readFileSync(out, 'utf8').split('\n')[1]!);
    expect(run).toMatchObject({ type: 'run', scenario: DEFAULT_SCENARIO_PATH, budget: 3_100_000, seed: 2012 });
    expect(run.reproduce).toMatch(/^bootpath sweep --scenario \S+ --gfn-from 0x1fff\w --gfn-to 0x1fff\w --seeds 2012 --phase-shift -?\d+ --max-instructions 3100000$/);
  });

  it('in 3 shards (JOB_COMPLETION_INDEX), merged, gives the same rows and prints the same map', async () => {
    const files = [0, 1, 2].map((i) => join(dir, `shard${i}.jsonl`));
    for (const [i, f] of files.entries()) {
      const r = await cli([...cliArgs, '--workers', '0', '--shards', '3', '--out', f, '--json'], { JOB_COMPLETION_INDEX: String(i) });
      expect(r.code, r.err).toBe(0);
      expect(readSweepFile(f).header!.shard).toEqual({ index: i + 1, count: 3 });
      expect(readSweepFile(f).rows.size).toBe(2);
    }
    const merged = mergeSweepFiles([files[2]!, files[0]!, files[1]!]);
    expect(rowsOf(merged)).toEqual(rowsOf(base));
    const m = await cli(['sweep', 'merge', ...files]);
    expect(m.code, m.err).toBe(0);
    expect(m.out.startsWith(formatSweepMap(base) + '\n')).toBe(true);

    // Shards that do not add up are refused, with the reason.
    const bad = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
    const lines = (f: string) => readFileSync(f, 'utf8').split('\n');
    expect(() => mergeSweepFiles([files[0]!, files[0]!, files[1]!])).toThrow(/shard 1\/3 is given twice/);
    expect(() => mergeSweepFiles([files[0]!, files[1]!])).toThrow(/shard 3\/3 missing/);
    const cut = bad('cut.jsonl', lines(files[1]!).slice(0, 2).join('\n') + '\n');
    expect(() => mergeSweepFiles([files[0]!, cut, files[2]!])).toThrow(/1 of 6 runs missing: .*cut\.jsonl \(shard 2\/3\) has 1 of 2 .*--resume/);
    const other = lines(files[1]!);
    other[0] = other[0]!.replace('"budget":3100000', '"budget":3100001');
    expect(() => mergeSweepFiles([files[0]!, bad('other.jsonl', other.join('\n')), files[2]!])).toThrow(/not shards of the same sweep: job\.budget: 3100001 where 3100000/);
    const stray = lines(files[1]!);
    stray.splice(1, 0, lines(files[0]!)[1]!);
    expect(() => mergeSweepFiles([files[0]!, bad('stray.jsonl', stray.join('\n')), files[2]!])).toThrow(/does not belong to shard 2\/3/);
    const e = await cli(['sweep', 'merge', files[0]!]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/shards 2\/3, 3\/3 missing/);
  });
});

describe('a sweep loses nothing', () => {
  it('a worker killed with SIGKILL in the middle of a run is replaced and the run retried: the same rows', async () => {
    process.env.BOOTPATH_SWEEP_TEST_DIE = 'kill:0x1fff8';
    const r = await runSweep(job, { workers: 2 });
    expect(r.stats.retried).toBe(2); // 0x1fff8 at both shifts, each killed on its first attempt
    expect(rowsOf(r)).toEqual(rowsOf(base));
  });

  it('a worker that exits in the middle of a run (a crash inside it) likewise; a run whose worker dies on every attempt is an error row', async () => {
    process.env.BOOTPATH_SWEEP_TEST_DIE = 'exit:0x1fff7';
    const r = await runSweep({ ...job, range: { from: 0x1fff7, to: 0x1fff7 } }, { workers: 1 });
    expect(r.stats.retried).toBe(2);
    const same = (rows: [number, SweepRow][]) => rows.map(([, x]) => ({ ...x, region: '' })).filter((x) => x.gfn === 0x1fff7); // the region's name is the range's
    expect(same(rowsOf(r))).toEqual(same(rowsOf(base)));
    process.env.BOOTPATH_SWEEP_TEST_DIE = 'kill:0x1fff9';
    const once = await runSweep({ ...job, range: { from: 0x1fff9, to: 0x1fff9 }, shifts: [0] }, { workers: 1, maxAttempts: 1 });
    const errors = [...once.rows.values()];
    expect(errors.map((x) => [x.gfn, x.class, x.mark])).toEqual([[0x1fff9, 'error', '!']]);
    expect(errors[0]!.reason).toMatch(/killed by SIGKILL on each of 1 attempts/);
    expect(formatSweepMap(once)).toMatch(/^ {2}! {2}error: bootpath could not run it\s+1$/m);
  });

  it('--resume runs only what the file does not have (a partial last line dropped); refuses another sweep\'s file', async () => {
    const lines = resultLines(base).map((l) => JSON.stringify(l)); // what `--out` holds after the whole sweep
    expect(lines.length).toBe(8);
    const part = join(dir, 'part.jsonl');
    writeFileSync(part, [lines[0], lines[1], lines[2], lines[3]!.slice(0, 40)].join('\n'));
    const r = await runSweep(job, { workers: 0, out: part, resume: true });
    expect([r.stats.resumed, r.stats.ran]).toEqual([2, 4]);
    expect(rowsOf(r)).toEqual(rowsOf(base));
    const f = readSweepFile(part);
    expect(f.partialLine).toBe(false);
    expect(f.rows.size).toBe(6);
    const again = await runSweep(job, { workers: 0, out: part, resume: true });
    expect([again.stats.resumed, again.stats.ran]).toEqual([6, 0]);
    await expect(runSweep(job, { workers: 0, out: part })).rejects.toThrow(/exists: continue it with --resume/);
    await expect(runSweep({ ...job, budget: 3_000_000 }, { workers: 0, out: part, resume: true })).rejects.toThrow(SweepFileError);
    await expect(runSweep({ ...job, budget: 3_000_000 }, { workers: 0, out: part, resume: true })).rejects.toThrow(/job\.budget: 3100000 where 3000000 was expected/);
    // --resume with no file yet starts one (a retried Kubernetes pod runs the same command)
    const fresh = join(dir, 'fresh.jsonl');
    expect(existsSync(fresh)).toBe(false);
    const r2 = await cli([...cliArgs, '--workers', '0', '--shard', '3/3', '--out', fresh, '--resume', '--json']);
    expect(r2.code, r2.err).toBe(0);
    expect(readSweepFile(fresh).rows.size).toBe(2);
  });
});
