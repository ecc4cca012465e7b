// Which guest frames each phase of a boot touches: purgatory, the
// decompressor (after relocating itself it works on its own code, the
// compressed input, its heap, stack and page tables, boot_params and the
// output) and the kernel. Every frame is logged at its first access in each
// phase (one slow-path access per frame and phase: cheap), as read or
// written. Sweeps take their frames from here, and `boot --json` reports
// the result as the boot's layout, named by what kexec put where.
import type { Phase } from '../boot/phases.ts';
import type { LoadPlan } from '../boot/kexec/index.ts';
import type { BootRun, RunObserver } from './bootRun.ts';

export interface FrameRange { start: number; end: number; what: string }

export interface PhaseFootprint {
  /** Frames written in the phase (first access a write, or written later). */
  written: number[];
  /** Frames only read (or executed). */
  read: number[];
}

export class FootprintRecorder implements RunObserver {
  /** Per phase: frame → 1 read, 2 written. */
  readonly frames: Record<Phase, Map<number, number>> = { purgatory: new Map(), decompressor: new Map(), kernel: new Map() };
  private phase: Phase = 'purgatory';
  private attached = false;

  /** Start logging on a run (before it runs). */
  attach(run: BootRun): this {
    const ram = run.machine.ram;
    ram.onFirstAccess = (frame, write) => this.note(run, frame, write);
    ram.logAccesses();
    run.machine.cpu.flushTlb();
    this.attached = true;
    return this;
  }

  onPhase(run: BootRun, phase: Phase): void {
    if (!this.attached) return;
    this.phase = phase;
    run.machine.ram.logAccesses();
    run.machine.cpu.flushTlb();
  }

  private note(run: BootRun, frame: number, write: boolean): void {
    const m = this.frames[this.phase];
    m.set(frame, Math.max(m.get(frame) ?? 0, write ? 2 : 1));
    // A frame first read may be written later in the phase: log its first write too.
    if (!write) run.machine.ram.logFirstWrite(frame);
  }

  footprint(phase: Phase): PhaseFootprint {
    const written: number[] = [], read: number[] = [];
    for (const [f, k] of [...this.frames[phase]].sort((a, b) => a[0] - b[0])) (k === 2 ? written : read).push(f);
    return { written, read };
  }
}

/** Frames as address ranges [start, end), merged where contiguous, each named by what the load put there. */
export function frameRanges(frames: number[], plan: LoadPlan, extra: FrameRange[] = []): FrameRange[] {
  const named = [...extra];
  for (const s of plan.segments) named.push({ start: s.mem, end: s.mem + s.memsz, what: `kexec segment ${s.name}` });
  for (const b of plan.handoff.memory) named.push({ start: b.addr, end: b.addr + b.bytes.length, what: `hand-off ${b.what}` });
  const nameOf = (a: number) => named.find((r) => a >= r.start && a < r.end)?.what ?? 'RAM not in the load';
  const out: FrameRange[] = [];
  for (const f of [...frames].sort((a, b) => a - b)) {
    const a = f * 4096, what = nameOf(a);
    const last = out[out.length - 1];
    if (last && last.end === a && last.what === what) last.end = a + 4096;
    else out.push({ start: a, end: a + 4096, what });
  }
  return out;
}

export interface BootLayout {
  /** What kexec loaded where (segments, hand-off pages). */
  load: FrameRange[];
  /** The decompressor's relocated copy, part by part (needs its ELF). */
  decompressor: FrameRange[];
  /** The decompressed kernel [_text, _end) once the decompressor jumped to it. */
  image: FrameRange | null;
  /** The frames each phase touched, as named ranges. */
  footprint: Record<Phase, { written: FrameRange[]; read: FrameRange[] }>;
}

/** The boot's memory layout as the run found it. `decompressor` are the relocated decompressor's regions (decompressorRegions), if known. */
export function bootLayout(run: BootRun, rec: FootprintRecorder, decompressor: FrameRange[] = []): BootLayout {
  const plan = run.plan, e = run.kernelEntry, sym = run.symbols.table;
  let image: FrameRange | null = null;
  const text = sym.lookup('_text'), end = sym.lookup('_end');
  if (e && text !== undefined && end !== undefined) {
    const start = e.outputPhys + Number(text - e.linkBase);
    image = { start, end: start + Number(end - text), what: 'new kernel [_text, _end)' };
  }
  const extra = [...decompressor, ...(image ? [image] : [])];
  const load = frameRanges([], plan, []);
  for (const s of plan.segments) load.push({ start: s.mem, end: s.mem + s.memsz, what: `kexec segment ${s.name}` });
  for (const b of plan.handoff.memory) load.push({ start: b.addr, end: b.addr + b.bytes.length, what: `hand-off ${b.what}` });
  const fp = (p: Phase) => { const f = rec.footprint(p); return { written: frameRanges(f.written, plan, extra), read: frameRanges(f.read, plan, extra) }; };
  return { load, decompressor, image, footprint: { purgatory: fp('purgatory'), decompressor: fp('decompressor'), kernel: fp('kernel') } };
}
