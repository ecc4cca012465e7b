// Sweeps: one Xen scenario booted with its stale shared_info frame at each
// gfn of a range, each run started from a snapshot taken after loading, on
// worker threads; each run classified.
//
// Classes:
//  - clean:  reached x86_64_start_kernel; the image at the jump to
//            startup_64 is byte-identical to vmlinux, and no hypervisor
//            write landed in the new kernel's [_text, _end) after that jump.
//            (`latent` marks a clean run whose stale frame lies inside the new
//            kernel's [_text, _end): the next time update will corrupt it.)
//  - silent: reached x86_64_start_kernel, but the image differed from vmlinux
//            at the jump, or Xen wrote into [_text, _end) after it. Nothing
//            failed yet: the kernel runs on with wrong bytes.
//  - crash:  a triple fault or an undelivered fault (phase, rip, symbol).
//  - hang:   hlt with interrupts off (e.g. the decompressor's error()), or a
//            loop without progress (purgatory's sha256 mismatch), or the budget.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describeAddress } from '../boot/kexecBoot.ts';
import type { ScenarioRun } from '../xen/bootScenario.ts';

export type SweepClass = 'clean' | 'silent' | 'crash' | 'hang';

export interface SweepRow {
  gfn: number;
  class: SweepClass;
  /** Short "where": phase and symbol of the stop, or of the first corrupted byte for silent runs. */
  where: string;
  reason: string;
  phase: string;
  rip: string;
  instructions: number;
  diffBytes: number;
  /** First differing range of the image diff ("phys_base+0x0"). */
  diffAt: string | null;
  /** Hypervisor writes that changed guest memory (initial page excluded), and of those, into the new kernel after its entry. */
  xenWrites: number;
  xenWritesIntoKernel: number;
  /** Stale frame inside the new kernel's [_text, _end). */
  latent: boolean;
  /** Where the stale frame is in the new boot's memory ("new kernel: early_top_pgt+0x0", "kexec segment kernel+0x…"). */
  frameIs: string;
  firstGuestWrite: string | null;
  ms: number;
}

/** Classify one scenario run. */
export function classifyRun(run: ScenarioRun, gfn: number, ms: number, ref?: ScenarioRun): SweepRow {
  const r = run.result;
  const writes = run.timeline.hypervisorWrites.filter((w) => w.event !== 'initial_state' && w.guestVisible);
  const intoKernel = writes.filter((w) => w.inImageAfterEntry);
  const diffBytes = r.imageDiff?.bytesDiffering ?? 0;
  const where = r.outcome === 'crashed' || r.outcome === 'hung' || r.outcome === 'budget' ? `${r.phase}: ${describeAddress(r, r.state.rip)}` : '';
  let cls: SweepClass;
  if (r.outcome === 'reached') cls = diffBytes > 0 || intoKernel.length > 0 ? 'silent' : 'clean';
  else if (r.outcome === 'crashed') cls = 'crash';
  else cls = 'hang';
  const diffAt = r.imageDiff?.ranges[0]?.where ?? null;
  const addr = gfn * 4096;
  // Where the frame is: in this run's kernel, or (if this run never reached startup_64) where the reference run (no stale frame) put it.
  const img = run.image ?? ref?.image ?? null;
  const entry = r.kernelEntry ?? ref?.result.kernelEntry ?? null;
  const latent = img !== null && addr < img.end && addr + 4096 > img.start;
  let frameIs = 'not in the load';
  if (run.image === null && img) run.image = img;
  if (latent && entry) frameIs = `new kernel: ${r.symbols.table.describe(entry.linkBase + BigInt(addr - entry.outputPhys))}`;
  else {
    const s = r.plan.segments.find((x) => addr < x.mem + x.memsz && addr + 4096 > x.mem);
    if (s) frameIs = `kexec segment ${s.name}+0x${(addr - s.mem).toString(16)}`;
    else if (addr >= r.machine.ram.size) frameIs = 'outside RAM';
  }
  const fg = run.timeline.firstGuestWrite[0];
  return {
    gfn, class: cls,
    where: cls === 'silent' ? `image differs at ${diffAt ?? intoKernel[0]?.landed ?? '?'}` : cls === 'clean' ? '' : where,
    reason: r.reason, phase: r.phase, rip: `0x${r.state.rip.toString(16)}`, instructions: r.instructions,
    diffBytes, diffAt, xenWrites: writes.length, xenWritesIntoKernel: intoKernel.length, latent, frameIs,
    firstGuestWrite: fg ? `${fg.icount}: ${fg.where} ${fg.instruction}` : null, ms,
  };
}

export interface SweepJob {
  /** Scenario file (resolved in each worker). */
  scenarioFile: string;
  /** Overrides of the scenario: kernel path, load method. */
  kernel?: string;
  load?: 'bzImage64' | 'legacy32';
  gfns: number[];
  maxInstructions?: number;
}

export interface SweepResult {
  job: SweepJob;
  rows: SweepRow[];
  workers: number;
  seconds: number;
  /** The new kernel's [_text, _end) and the kernel segment, from the first run. */
  layout: { image: [number, number] | null; kernelSegment: [number, number]; payloadBytes: number; compression: string; prepareMs: number; restoreMs: number } | null;
}

/** Run a sweep on `workers` threads. Each worker prepares the kernel and a snapshot once, then restores it per gfn. */
export async function runSweep(job: SweepJob, workers: number, onRow?: (row: SweepRow) => void): Promise<SweepResult> {
  const t0 = Date.now();
  const tsxApi = tsxEsmApi();
  const workerModule = new URL('./sweepWorker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerModule)}); }).catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); });`;
  const queue = [...job.gfns];
  const rows: SweepRow[] = [];
  let layout: SweepResult['layout'] = null;
  const n = Math.max(1, Math.min(workers, queue.length));
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    const w = new Worker(boot, { eval: true, workerData: { job } });
    const next = () => {
      const gfn = queue.shift();
      if (gfn === undefined) { void w.terminate().then(() => resolve()); return; }
      w.postMessage({ type: 'run', gfn });
    };
    w.on('message', (msg: { type: string; row?: SweepRow; layout?: SweepResult['layout']; message?: string }) => {
      if (msg.type === 'ready') { if (!layout && msg.layout) layout = msg.layout; next(); }
      else if (msg.type === 'row') { rows.push(msg.row!); onRow?.(msg.row!); if (msg.layout && layout) layout.image ??= msg.layout.image; next(); }
      else if (msg.type === 'error') { void w.terminate(); reject(new Error(`sweep worker: ${msg.message}`)); }
    });
    w.on('error', reject);
  })));
  rows.sort((a, b) => a.gfn - b.gfn);
  return { job, rows, workers: n, seconds: (Date.now() - t0) / 1000, layout };
}

/** The URL of tsx's ESM API (its `register()` lets the worker import TypeScript). */
function tsxEsmApi(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  try { if (meta.resolve) return meta.resolve('tsx/esm/api'); } catch { /* fall through */ }
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api'); // …/dist/esm/api/index.cjs
  return pathToFileURL(cjs.replace(/index\.cjs$/, 'index.mjs')).href;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The table: consecutive gfns with the same class and where are folded into one line. */
export function formatSweepTable(res: SweepResult): string {
  const L: string[] = [];
  const lay = res.layout;
  if (lay) {
    L.push(`kernel segment ${hex(lay.kernelSegment[0])}-${hex(lay.kernelSegment[1])} (${lay.payloadBytes.toLocaleString('en-US')} bytes of bzImage, ${lay.compression})` +
      (lay.image ? `; new kernel [_text, _end) decompressed to ${hex(lay.image[0])}-${hex(lay.image[1])}` : ''));
  }
  L.push(`${'gfn'.padEnd(17)} ${'class'.padEnd(7)} ${'frame is'.padEnd(44)} what happened`);
  const key = (r: SweepRow) => `${r.class}|${r.where}|${r.latent}`;
  for (let i = 0; i < res.rows.length;) {
    let j = i;
    while (j + 1 < res.rows.length && key(res.rows[j + 1]!) === key(res.rows[i]!)) j++;
    const a = res.rows[i]!, b = res.rows[j]!;
    const g = i === j ? hex(a.gfn) : `${hex(a.gfn)}-${hex(b.gfn)}`;
    const cls = a.class === 'clean' && a.latent ? 'clean*' : a.class;
    const what = a.class === 'clean' ? (a.latent ? 'reached, image identical (frame inside the new kernel: latent)' : 'reached, image identical')
      : a.class === 'silent' ? `reached; ${a.diffBytes} bytes differ at startup_64${a.diffAt ? ` (${a.diffAt})` : ''}, ${a.xenWritesIntoKernel} Xen writes into the kernel after entry`
      : `${a.reason} at ${a.where}`;
    L.push(`${g.padEnd(17)} ${cls.padEnd(7)} ${(i === j ? a.frameIs : `${a.frameIs} …`).slice(0, 44).padEnd(44)} ${what}${i === j ? '' : ` (${j - i + 1} runs)`}`);
    i = j + 1;
  }
  const count = (c: SweepClass) => res.rows.filter((r) => r.class === c).length;
  L.push(`${res.rows.length} runs on ${res.workers} worker(s) in ${res.seconds.toFixed(1)} s: ${count('clean')} clean, ${count('silent')} silent corruption, ${count('crash')} crash, ${count('hang')} hang`);
  return L.join('\n');
}
