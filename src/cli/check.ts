// `bootpath check <bzImage>... [--entry 64,32] [--placement ...] [--junit <file>] [--workers n]`:
// the CI front end. Boots every kernel on every entry path (and placement)
// to x86_64_start_kernel with the image check, on worker threads; prints a
// line per boot and a summary, writes JUnit XML. Exit codes: 0 every boot
// reached x86_64_start_kernel with an image identical to vmlinux, 1 some did
// not, 2 bad usage or an unreadable file.
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Command } from './commands.ts';
import { UsageError } from './errors.ts';
import { parseCount } from './units.ts';
import { jsonDocument } from './json.ts';
import { ProgressLine } from './progress.ts';
import { checkJobs, jobName, runCheck, type CheckPlacement, type CheckResult, type CheckRow } from '../analysis/check.ts';
import { checkJunit } from '../report/junit.ts';
import { parseJitOption } from './options.ts';

const USAGE = `usage: bootpath check <bzImage>... [--entry 64,32] [--placement kexec,top-down,bottom-up,<address>]
                      [--junit <file>] [--workers <n>] [--max-instructions <n>] [--seed <n>] [--json] [--jit wasm|js]
  Boots each bzImage on each entry path (default both: 64 = bzImage64, 32 = the legacy 32-bit entry)
  and placement (default kexec's own) to x86_64_start_kernel, checking the decompressed image against
  vmlinux. Exit 0 only when every boot reached it with an identical image; 1 otherwise.
  --junit <file>   also write a JUnit XML report (one testsuite per kernel, one testcase per boot)
  --workers <n>    boots in parallel (default: the CPUs, at most 8)
  --jit wasm|js    the block compiler (default wasm; the same boots either way: docs/boot.md)`;

export const check: Command = {
  name: 'check',
  summary: 'CI: boot bzImages on each entry path to x86_64_start_kernel, check each image; JUnit XML',
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({ args, allowPositionals: true, strict: true, options: {
        entry: { type: 'string' }, placement: { type: 'string' }, junit: { type: 'string' }, workers: { type: 'string' },
        'max-instructions': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
        jit: { type: 'string' },
      } });
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n${USAGE}`);
    }
    const v = parsed.values, kernels = parsed.positionals;
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (kernels.length === 0) throw new UsageError(`no bzImage given\n${USAGE}`);
    for (const k of kernels) {
      let ok = false;
      try { ok = statSync(k).isFile(); accessSync(k, constants.R_OK); } catch (e) { throw new UsageError(`${k}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
      if (!ok) throw new UsageError(`${k}: not a file`);
    }
    const entries = listOption(v.entry ?? '64,32', '--entry').map((e) => {
      if (e !== '64' && e !== '32') throw new UsageError(`--entry: each entry path is 64 or 32, not '${e}'`);
      return Number(e) as 64 | 32;
    });
    const placements = listOption(v.placement ?? 'kexec', '--placement').map((p): CheckPlacement =>
      p === 'kexec' || p === 'top-down' || p === 'bottom-up' ? p : parseCount(p, '--placement'));
    if (v.junit !== undefined) {
      const dir = dirname(resolve(v.junit));
      try { accessSync(dir, constants.W_OK); } catch { throw new UsageError(`--junit ${v.junit}: cannot write into ${dir}`); }
    }
    const workers = v.workers !== undefined ? parseCount(v.workers, '--workers') : Math.min(availableParallelism(), 8);
    if (workers < 1) throw new UsageError('--workers must be at least 1');
    const jobs = checkJobs(kernels, entries, [...new Set(placements)], {
      ...(v['max-instructions'] !== undefined ? { maxInstructions: parseCount(v['max-instructions'], '--max-instructions') } : {}),
      ...(v.seed !== undefined ? { seed: parseCount(v.seed, '--seed') } : {}),
      ...(v.jit !== undefined ? { jit: parseJitOption(v.jit) } : {}),
    });
    const json = v.json === true;
    const progress = new ProgressLine(process.stderr.isTTY === true && !json);
    let failed = 0;
    progress.show(`[check: ${progress.counts(0, jobs.length)}]`);
    const res = await runCheck(jobs, workers, (row, done) => {
      if (!row.passed) failed++;
      progress.clear();
      if (!json) process.stdout.write(rowLine(row) + '\n');
      progress.show(`[check: ${progress.counts(done, jobs.length)}${failed ? `, ${failed} failed` : ''}]`);
    });
    progress.clear();
    if (v.junit !== undefined) writeFileSync(v.junit, checkJunit(res));
    if (json) process.stdout.write(jsonDocument('check', { ...res, junit: v.junit ?? null }));
    else process.stdout.write(summary(res, v.junit) + '\n');
    return res.passed ? 0 : 1;
  },
};

function listOption(s: string, flag: string): string[] {
  const items = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (items.length === 0) throw new UsageError(`${flag}: empty list`);
  return items;
}

/** One line per boot: PASS/FAIL, kernel, entry (placement), what happened. */
export function rowLine(r: CheckRow): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const what = r.passed
    ? `reached x86_64_start_kernel after ${n(r.instructions)} instructions; image identical (${n(r.image!.compared)} bytes)`
    : r.failure;
  return `${r.passed ? 'PASS' : 'FAIL'}  ${r.job.kernel}  ${jobName(r.job)}  ${what}  (${r.seconds.toFixed(1)} s)`;
}

function summary(res: CheckResult, junit: string | undefined): string {
  const bad = res.rows.filter((r) => !r.passed).length;
  const kernels = new Set(res.rows.map((r) => r.job.kernel)).size;
  return `check: ${res.rows.length} boot(s) of ${kernels} kernel(s) on ${res.workers} worker(s) in ${res.seconds.toFixed(1)} s: ` +
    `${res.rows.length - bad} passed, ${bad} failed${junit ? `; JUnit XML in ${junit}` : ''}`;
}
