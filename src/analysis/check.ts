// Checks for CI: each kernel booted on each entry path (and placement) to
// x86_64_start_kernel with the image check, one boot per job on worker
// threads. A boot passes when it reached the target and the image the
// decompressor produced is byte-identical to vmlinux (relocated by the KASLR
// delta). Anything else fails, with what happened: the outcome and where, the
// differing ranges, or the input error (a bzImage that does not parse, a
// payload that does not decompress on the host).
import { bootKexec } from './checkedBoot.ts';
import { InputError } from '../errors.ts';
import { describeAddress } from '../boot/phases.ts';
import { startModuleWorker } from '../moduleWorker.ts';
import type { BootOptions } from '../run/prepare.ts';
import type { JitBackend } from '../machine/jit.ts';

/** Where kexec puts the kernel in one check: kexec's choice for the entry path, a direction, or an address. */
export type CheckPlacement = 'kexec' | 'top-down' | 'bottom-up' | number;

/** One boot of a check. */
export interface CheckJob {
  /** The bzImage's path. */
  kernel: string;
  /** kexec's entry path. */
  entry: 64 | 32;
  /** Where kexec puts the kernel. */
  placement: CheckPlacement;
  /** The instruction budget (default: the boot's). */
  maxInstructions?: number;
  /** The RNG seed (the decompressor's KASLR choice). */
  seed?: number;
  /** The block compiler (default: the boot's, wasm). */
  jit?: JitBackend;
}

/** How one boot of a check went. */
export interface CheckRow {
  /** The boot: kernel, entry path, placement. */
  job: CheckJob;
  /** True when the boot reached x86_64_start_kernel with an image identical to vmlinux. */
  passed: boolean;
  /** The boot's outcome, or 'error' when the kernel could not be booted at all (its message in `reason`). */
  outcome: 'reached' | 'crashed' | 'hung' | 'budget' | 'exited' | 'error';
  /** Why it stopped, in words (the input error's message for 'error'). */
  reason: string;
  /** Why it failed, in one line ('' when it passed). */
  failure: string;
  /** The phase it stopped in. */
  phase: string;
  /** "symbol+0xoff" of rip where it stopped. */
  where: string;
  /** Instructions retired. */
  instructions: number;
  /** The image check: bytes compared and differing, the first differing ranges; null when the kernel was never entered. */
  image: { compared: number; differing: number; ranges: { phys: number; length: number; where: string }[] } | null;
  /** Guest-physical address the decompressor put the kernel at (null: never entered). */
  outputPhys: number | null;
  /** Guest-physical address where kexec loaded the kernel segment. */
  kernelSegment: number | null;
  /** The guest's console output. */
  console: string;
  /** Wall time of the boot, in seconds. */
  seconds: number;
}

/** The result of a whole check. */
export interface CheckResult {
  /** One row per job, in the jobs' order. */
  rows: CheckRow[];
  /** Worker threads used. */
  workers: number;
  /** Wall time in seconds. */
  seconds: number;
  /** True when every boot passed. */
  passed: boolean;
}

/** Every kernel × entry × placement, in that order. */
export function checkJobs(kernels: string[], entries: (64 | 32)[], placements: CheckPlacement[], extra: Pick<CheckJob, 'maxInstructions' | 'seed' | 'jit'> = {}): CheckJob[] {
  const jobs: CheckJob[] = [];
  for (const kernel of kernels) for (const entry of entries) for (const placement of placements) jobs.push({ kernel, entry, placement, ...extra });
  return jobs;
}

/** "entry 64", "entry 32, placement bottom-up", "entry 64, placement 0x2000000". */
export function jobName(j: CheckJob): string {
  const p = j.placement === 'kexec' ? '' : `, placement ${typeof j.placement === 'number' ? `0x${j.placement.toString(16)}` : j.placement}`;
  return `entry ${j.entry}${p}`;
}

/** Boot one job in this thread. Input errors become a failing row; anything else throws. */
export function checkOne(job: CheckJob): CheckRow {
  const t0 = Date.now();
  const placement: BootOptions['placement'] = job.placement === 'kexec' ? undefined : typeof job.placement === 'number' ? { address: job.placement } : job.placement;
  const base = { job, instructions: 0, image: null, outputPhys: null, kernelSegment: null, console: '', phase: '', where: '' };
  let r;
  try {
    r = bootKexec({ kernel: job.kernel, entry: job.entry, placement, until: 'x86_64_start_kernel', maxInstructions: job.maxInstructions, seed: job.seed, jit: job.jit });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ...base, passed: false, outcome: 'error', reason: e.message, failure: e.message.includes(job.kernel) ? e.message : `${job.kernel}: ${e.message}`, seconds: (Date.now() - t0) / 1000 };
  }
  const d = r.imageDiff;
  const image = d && { compared: d.bytesCompared, differing: d.bytesDiffering, ranges: d.ranges.slice(0, 10).map((x) => ({ phys: x.phys, length: x.length, where: x.where })) };
  const where = describeAddress(r, r.state.rip);
  let failure = '';
  if (r.outcome !== 'reached') failure = `${r.outcome}: ${r.reason} in ${r.phase} at ${where}`;
  else if (!d) failure = 'reached, but the decompressor\'s jump to startup_64 was never seen: the image was not checked';
  else if (d.bytesDiffering > 0) {
    const first = d.ranges[0] ?? d.shifts[0];
    failure = `image differs from vmlinux: ${d.bytesDiffering} of ${d.bytesCompared} bytes${first ? `, first at 0x${first.phys.toString(16)} (${first.where})` : ''}`;
  }
  const k = r.plan.segments.find((s) => s.name.startsWith('kernel'));
  return {
    job, passed: failure === '', outcome: r.outcome, reason: r.reason, failure, phase: r.phase, where, instructions: r.instructions, image,
    outputPhys: r.kernelEntry?.outputPhys ?? null, kernelSegment: k?.mem ?? null, console: r.console, seconds: (Date.now() - t0) / 1000,
  };
}

/**
 * Run the jobs on `workers` threads (one boot at a time each) and return the
 * rows in the jobs' order. `onRow` sees each row as it finishes.
 */
export async function runCheck(jobs: CheckJob[], workers: number, onRow?: (row: CheckRow, done: number) => void): Promise<CheckResult> {
  const t0 = Date.now();
  const rows: (CheckRow | undefined)[] = new Array(jobs.length);
  let nextJob = 0, done = 0;
  const n = Math.max(1, Math.min(workers, jobs.length));
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    const w = startModuleWorker(import.meta.url, './checkWorker.ts', null);
    let current = -1;
    const next = () => {
      if (nextJob >= jobs.length) { void w.terminate().then(() => resolve()); return; }
      current = nextJob++;
      w.postMessage({ type: 'run', job: jobs[current] });
    };
    w.on('message', (msg: { type: string; row?: CheckRow; message?: string }) => {
      if (msg.type === 'ready') next();
      else if (msg.type === 'row') { rows[current] = msg.row!; done++; onRow?.(msg.row!, done); next(); }
      else if (msg.type === 'error') { void w.terminate(); reject(new Error(`check worker: ${msg.message}`)); }
    });
    w.on('error', reject);
  })));
  const all = rows as CheckRow[];
  return { rows: all, workers: n, seconds: (Date.now() - t0) / 1000, passed: all.every((r) => r.passed) };
}
