// The classification of one sweep run (the classes are described in
// sweep.ts) and its row: what a sweep reports per run.
import { describeAddress } from '../boot/phases.ts';
import { VECTOR_NAMES } from '../../emulator/fault.ts';
import type { ScenarioRun } from './scenarioBoot.ts';
import type { PlannedRun, SweepReference } from './sweepPlan.ts';

export const SWEEP_CLASSES = ['clean', 'silent', 'shifted', 'crash', 'decompressor-error', 'hang', 'error'] as const;
export type SweepClass = (typeof SWEEP_CLASSES)[number];

/** A run displaced part of the image: at `where` (guest-physical `phys`), `bytes` bytes hold vmlinux's bytes from `shift` earlier. */
export interface RowShift { phys: number; where: string; by: number; bytes: number }

/** One classified run. Every field but `ms` is a deterministic function of the job and the run's key. */
export interface SweepRow {
  gfn: number;
  /** The scenario seed and the phase shift of the hypervisor's schedules (instructions). */
  seed: number;
  shift: number;
  /** The swept region the frame belongs to ("new kernel [_text, _end)", "decompressor heap", …). */
  region: string;
  class: SweepClass;
  /** Within the class: "triple fault (#PF)", "undelivered #GP", "hlt", "loop", "budget", a decompressor error's message, "+8 bytes". */
  kind: string;
  /** The run's character in the map (sweepMap.ts). */
  mark: string;
  /** Short "where": phase and symbol of the stop, or of the first corrupted byte for silent and shifted runs. */
  where: string;
  reason: string;
  phase: string;
  rip: string;
  instructions: number;
  diffBytes: number;
  /** First differing range of the image diff ("phys_base+0x0"). */
  diffAt: string | null;
  /** Differing bytes explained by displacement, and the displaced runs (at most 4). */
  bytesShifted: number;
  imageShifts: RowShift[];
  /** Hypervisor writes that changed guest memory (initial page excluded), and of those, into the new kernel after its entry. */
  xenWrites: number;
  xenWritesIntoKernel: number;
  /** Stale frame inside the new kernel's [_text, _end). */
  latent: boolean;
  /** Where the stale frame is in the new boot's memory ("new kernel: early_top_pgt+0x0", "kexec segment kernel+0x…"). */
  frameIs: string;
  firstGuestWrite: string | null;
  /** Wall time of the run in its worker (the one field that is not deterministic). */
  ms: number;
}

/** The map character of a class and kind. */
export function markOf(cls: SweepClass, kind: string, latent: boolean, shifted: boolean): string {
  switch (cls) {
    case 'clean': return latent ? ':' : '.';
    case 'silent': return 's';
    case 'shifted': return '~';
    case 'decompressor-error': return 'E';
    case 'hang': return kind === 'budget' ? 'b' : 'h';
    case 'error': return '!';
    case 'crash': {
      if (kind.startsWith('triple fault')) return shifted ? '*' : 'T';
      const v = /#([A-Z]+)/.exec(kind)?.[1];
      return ({ GP: 'G', PF: 'P', UD: 'U', DE: 'D', SS: 'S' } as Record<string, string>)[v ?? ''] ?? 'F';
    }
  }
}

const vectorName = (v: number) => VECTOR_NAMES[v] ?? `vector ${v}`;

/** The decompressor's error() message from the console ("\n\n<message>\n\n -- System halted"), or null. */
export function decompressorError(console: string): string | null {
  const i = console.lastIndexOf('-- System halted');
  if (i < 0) return null;
  const before = console.slice(0, i).replace(/\s+$/, '');
  const j = before.lastIndexOf('\n\n');
  const msg = (j >= 0 ? before.slice(j + 2) : before.split('\n').pop() ?? '').trim();
  return msg || 'error()';
}

/** What a classification needs from the reference run: where the kernel went when nothing interfered. */
type RefPlace = { image: [number, number] | null; entry: { outputPhys: number; linkBase: bigint } | null };

function refPlace(ref: ScenarioRun | SweepReference | undefined): RefPlace | null {
  if (!ref) return null;
  if ('result' in ref) {
    const e = ref.result.kernelEntry;
    return { image: ref.image ? [ref.image.start, ref.image.end] : null, entry: e ? { outputPhys: e.outputPhys, linkBase: e.linkBase } : null };
  }
  return { image: ref.image, entry: ref.entry ? { outputPhys: ref.entry.outputPhys, linkBase: BigInt(ref.entry.linkBase) } : null };
}

/**
 * Classify one scenario run with its stale frame at `gfn`. `ref` (the same
 * scenario without a stale frame) places frames for runs that never reached
 * the kernel. `key` names the run's seed, shift and region (default: the
 * scenario's seed, no shift).
 */
export function classifyRun(run: ScenarioRun, gfn: number, ms: number, ref?: ScenarioRun | SweepReference, key?: { seed: number; shift: number; region: string }): SweepRow {
  const r = run.result;
  const writes = run.timeline.hypervisorWrites.filter((w) => w.event !== 'initial_state' && w.guestVisible);
  const intoKernel = writes.filter((w) => w.inImageAfterEntry);
  const diff = r.imageDiff;
  const diffBytes = diff?.bytesDiffering ?? 0;
  const shifts = diff?.shifts ?? [];
  const shifted = shifts.length > 0;
  const stopWhere = `${r.phase}: ${describeAddress(r, r.state.rip)}`;
  const halted = decompressorError(r.console);
  let cls: SweepClass, kind = '';
  if (halted !== null && r.outcome !== 'reached') { cls = 'decompressor-error'; kind = halted; }
  else if (r.outcome === 'reached') {
    if (shifted) { cls = 'shifted'; kind = shifts.map((s) => `${s.shift > 0 ? '+' : ''}${s.shift}`).filter((x, i, a) => a.indexOf(x) === i).join(',') + ' bytes'; }
    else cls = diffBytes > 0 || intoKernel.length > 0 ? 'silent' : 'clean';
  } else if (r.outcome === 'crashed') {
    cls = 'crash';
    const first = r.tripleFault?.chain[0];
    if (r.tripleFault) kind = first ? `triple fault (${vectorName(first.vector)})` : 'triple fault';
    else {
      const f = r.machine.cpu.lastFault;
      kind = f ? `undelivered ${vectorName(f.vector)}` : 'undelivered fault';
    }
  } else {
    cls = 'hang';
    kind = r.outcome === 'budget' ? 'budget' : r.hang?.kind ?? 'hlt';
  }
  const diffAt = diff?.ranges[0]?.where ?? null;
  const addr = gfn * 4096;
  // Where the frame is: in this run's kernel, or (if this run never reached startup_64) where the reference run put it.
  const rp = refPlace(ref);
  const img: [number, number] | null = run.image ? [run.image.start, run.image.end] : rp?.image ?? null;
  const e = r.kernelEntry ? { outputPhys: r.kernelEntry.outputPhys, linkBase: r.kernelEntry.linkBase } : rp?.entry ?? null;
  const latent = img !== null && addr < img[1] && addr + 4096 > img[0];
  let frameIs = 'not in the load';
  if (latent && e) frameIs = `new kernel: ${r.symbols.table.describe(e.linkBase + BigInt(addr - e.outputPhys))}`;
  else {
    const s = r.plan.segments.find((x) => addr < x.mem + x.memsz && addr + 4096 > x.mem);
    if (s) frameIs = `kexec segment ${s.name.replace(/ \(.*\)$/, '')}+0x${(addr - s.mem).toString(16)}`; // without the kernel's path: rows do not depend on where the checkout is
    else if (addr >= r.machine.ram.size) frameIs = 'outside RAM';
  }
  const fg = run.timeline.firstGuestWrite[0];
  const where = cls === 'silent' ? `image differs at ${diffAt ?? intoKernel[0]?.landed ?? '?'}`
    : cls === 'shifted' ? `image shifted at ${shifts[0]!.where}`
    : cls === 'clean' ? '' : stopWhere;
  return {
    gfn, seed: key?.seed ?? run.scenario.spec.seed, shift: key?.shift ?? 0, region: key?.region ?? '',
    class: cls, kind, mark: markOf(cls, kind, latent, shifted),
    where, reason: r.reason, phase: r.phase, rip: `0x${r.state.rip.toString(16)}`, instructions: r.instructions,
    diffBytes, diffAt, bytesShifted: diff?.bytesShifted ?? 0,
    imageShifts: shifts.slice(0, 4).map((s) => ({ phys: s.phys, where: s.where, by: s.shift, bytes: s.length })),
    xenWrites: writes.length, xenWritesIntoKernel: intoKernel.length, latent, frameIs,
    firstGuestWrite: fg ? `${fg.icount}: ${fg.where} ${fg.instruction}` : null, ms,
  };
}

/** The row of a run bootpath could not complete (an exception, or a worker that died on every attempt). */
export function errorRow(run: PlannedRun, message: string): SweepRow {
  return {
    gfn: run.gfn, seed: run.seed, shift: run.shift, region: run.region, class: 'error', kind: 'internal error', mark: '!',
    where: '', reason: message, phase: '', rip: '', instructions: 0, diffBytes: 0, diffAt: null, bytesShifted: 0, imageShifts: [],
    xenWrites: 0, xenWritesIntoKernel: 0, latent: false, frameIs: '', firstGuestWrite: null, ms: 0,
  };
}

