// The work of a sweep, in whatever process runs it (a worker process, or the
// caller's for `workers: 0`): resolve the scenario for each seed, prepare the
// kernel and a snapshot after loading once per seed, run the reference of a
// seed (no stale frame, with the footprint recorder: the regions) and run
// one (gfn, seed, shift) from the snapshot, classified.
import { loadScenario, type ScenarioSpec } from '../xen/scenario.ts';
import { resolveScenario, type ResolvedScenario } from '../xen/scenarioResolve.ts';
import { prepareScenario, startScenario } from '../run/scenarioRun.ts';
import { FootprintRecorder } from '../run/footprint.ts';
import type { BootRun } from '../run/bootRun.ts';
import type { LoadPlan } from '../boot/kexec/index.ts';
import { decompressorPlacement, decompressorRegions } from '../boot/decompressorLayout.ts';
import type { Vmlinux } from '../boot/vmlinux.ts';
import { ImageCheck } from './imageCheck.ts';
import { placeWrites, type ScenarioRun } from './scenarioBoot.ts';
import type { BootResult } from './checkedBoot.ts';
import { classifyRun, type SweepRow } from './sweepClassify.ts';
import { withPhaseShift, type PlannedRun, type SweepJob, type SweepRange, type SweepReference } from './sweepPlan.ts';

type Prepared = ReturnType<typeof prepareScenario>;

/** Hooks for tests of the machinery around a run (sweepWorker.ts). */
export interface RunHooks {
  /** Called once the run is under way (after at most 2M instructions), before it ends. */
  midway?: () => void;
}

export class SweepExecutor {
  private readonly spec: ScenarioSpec;
  /** The bzImage the job boots. */
  readonly kernelPath: string;
  /** Prepared kernels and snapshots by seed (the two most recent: runs come seed by seed). */
  private readonly cache = new Map<number, { r: ResolvedScenario; pre: Prepared }>();

  constructor(readonly job: SweepJob) {
    this.spec = loadScenario(job.scenarioFile);
    this.kernelPath = job.kernel ?? resolveScenario(this.spec).kernelPath;
  }

  /** The scenario resolved with `seed`, and the kernel prepared with a snapshot after loading. */
  private seeded(seed: number): { r: ResolvedScenario; pre: Prepared } {
    let c = this.cache.get(seed);
    if (c) return c;
    const job = this.job;
    const r = resolveScenario({ ...this.spec, seed, ...(job.kernel ? { kernel: job.kernel } : {}), ...(job.load ? { load: job.load } : {}) });
    if (job.kernel) r.kernelPath = job.kernel;
    c = { r, pre: prepareScenario(r) };
    if (this.cache.size >= 2) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(seed, c);
    return c;
  }

  /** The reference run of a seed: the scenario without a stale frame, the job's budget, with the frames each phase touched. */
  reference(seed: number): SweepReference {
    const { r, pre } = this.seeded(seed);
    const rec = new FootprintRecorder();
    const boot = startScenario(r, { sharedInfoGpa: null, prepared: pre.prepared, snapshot: pre.snapshot, maxInstructions: this.job.budget }, [rec]);
    rec.attach(boot.run);
    const res = boot.run.runToEnd();
    return referenceOf(seed, boot.run, res, rec, pre.prepared.decompressor);
  }

  /** One run: the stale shared_info at `run.gfn`, the scenario with `run.seed`, its schedules shifted by `run.shift`; classified. */
  run(run: PlannedRun, ref: SweepReference, hooks: RunHooks = {}): SweepRow {
    const { r, pre } = this.seeded(run.seed);
    const rs = withPhaseShift(r, run.shift);
    const t = Date.now();
    const check = new ImageCheck();
    const boot = startScenario(rs, { sharedInfoGpa: run.gfn * 4096, prepared: pre.prepared, snapshot: pre.snapshot, maxInstructions: this.job.budget }, [check]);
    if (hooks.midway) {
      boot.run.advance(Math.min(Math.floor(this.job.budget / 2), 2_000_000));
      hooks.midway();
    }
    const result: BootResult = { ...boot.run.runToEnd(), imageDiff: check.diff };
    const x = boot.xen();
    const sr: ScenarioRun = { result, timeline: x.attachment.timeline, xen: x.xen, scenario: rs, state: boot.state, options: boot.options, image: null };
    placeWrites(sr);
    return classifyRun(sr, run.gfn, Date.now() - t, ref, { seed: run.seed, shift: run.shift, region: run.region });
  }
}

const page = (a: number) => Math.floor(a / 4096);

/** The reference's summary and its regions, from the run and the footprint recorder. */
export function referenceOf(seed: number, run: BootRun, res: ReturnType<BootRun['runToEnd']>, rec: FootprintRecorder, dec: Vmlinux | null): SweepReference {
  const plan = run.plan, e = run.kernelEntry, sym = run.symbols.table;
  let image: [number, number] | null = null;
  const text = sym.lookup('_text'), end = sym.lookup('_end');
  if (e && text !== undefined && end !== undefined) {
    const start = e.outputPhys + Number(text - e.linkBase);
    image = [start, start + Number(end - text)];
  }
  const parts: SweepRange[] = dec ? decompressorRegions(plan, run.elf, dec) : [];
  const place = dec ? decompressorPlacement(plan, run.elf, dec) : null;
  const decSym = (n: string) => dec?.symbols.find((s) => s.name === n)?.value;
  const s32 = decSym('startup_32'), dEnd = decSym('_end');
  // Named ranges, most specific first: a frame takes the first name that overlaps it.
  const named: SweepRange[] = [...parts];
  if (image) {
    named.push({ start: image[0], end: image[1], what: 'new kernel [_text, _end)' });
    named.push({ start: image[1], end: image[0] + plan.kernel.initSize, what: 'decompressor output past _end' });
  }
  let preReloc: [number, number] | null = null;
  if (place && s32 !== undefined && dEnd !== undefined) {
    named.push({ start: Number(place.relocated + s32), end: Number(place.relocated + dEnd), what: 'decompressor (other)' });
    preReloc = [Number(place.loaded + s32), Number(place.loaded + dEnd)];
  }
  named.push(...loadRanges(plan));
  if (preReloc) named.push({ start: preReloc[0], end: preReloc[1], what: 'decompressor at its load address (before relocating)' });
  const nameOf = (f: number) => named.find((r) => r.start < (f + 1) * 4096 && r.end > f * 4096)?.what ?? 'RAM not in the load';

  const dp = rec.footprint('decompressor'), pp = rec.footprint('purgatory');
  const kseg = plan.segments.find((s) => s.name.startsWith('kernel'));
  // After relocating itself: without the decompressor's copy at kexec's load address (its source, and the stack it used
  // there), or, without its ELF, the kexec kernel segment it only read.
  const before = (f: number, written: boolean) => preReloc
    ? f * 4096 >= preReloc[0] && (f + 1) * 4096 <= preReloc[1]
    : !written && kseg !== undefined && f * 4096 >= kseg.mem && (f + 1) * 4096 <= kseg.mem + kseg.memsz;
  const inImage = (f: number) => image !== null && f * 4096 < image[1] && (f + 1) * 4096 > image[0];
  const decFrames = [...dp.written.filter((f) => !before(f, true) || inImage(f)), ...dp.read.filter((f) => !before(f, false) || inImage(f))];
  const footFrames = [...dp.written, ...dp.read, ...pp.written, ...pp.read];
  const ranges = (frames: number[]) => {
    const out: SweepRange[] = [];
    for (const f of [...new Set(frames)].sort((a, b) => a - b)) {
      const what = nameOf(f), last = out[out.length - 1];
      if (last && last.end === f * 4096 && last.what === what) last.end += 4096;
      else out.push({ start: f * 4096, end: (f + 1) * 4096, what });
    }
    return out;
  };
  return {
    seed, outcome: res.outcome, reason: res.reason, instructions: res.instructions,
    phases: { ...(res.context.phaseStart.decompressor !== undefined ? { decompressor: res.context.phaseStart.decompressor } : {}), ...(res.context.phaseStart.kernel !== undefined ? { kernel: res.context.phaseStart.kernel } : {}) },
    image,
    entry: e ? { outputPhys: e.outputPhys, linkBase: `0x${e.linkBase.toString(16)}` } : null,
    load: loadRanges(plan), decompressorParts: parts,
    regions: {
      image: image ? [{ start: page(image[0]) * 4096, end: Math.ceil(image[1] / 4096) * 4096, what: 'new kernel [_text, _end)' }] : [],
      decompressor: ranges(decFrames),
      footprint: ranges(footFrames),
    },
  };
}

function loadRanges(plan: LoadPlan): SweepRange[] {
  return [
    ...plan.segments.map((s) => ({ start: s.mem, end: s.mem + s.memsz, what: `kexec segment ${s.name.replace(/ \(.*\)$/, '')}` })),
    ...plan.handoff.memory.map((b) => ({ start: b.addr, end: b.addr + b.bytes.length, what: `hand-off ${b.what}` })),
  ];
}
