// Explaining a failure past where data flow stops, by counterfactual
// replay: the boot is deterministic, so it can be run again with some of
// the hypervisor's writes left out. First without any (is Xen the cause at
// all?), then delta debugging finds a minimal set of writes that still
// produces the same failure, and two runs — with and without that set —
// are compared on the virtual clock to find the first instruction whose
// outcome differs: a different value read, a different branch, a fault.
// That instruction, what it read, and the write that changed what it read
// explain the failure whatever the dependency was (a corrupted length, a
// flag, a loop count), where a data-flow chain would end at "computed".
import { captureState, GPR_NAMES, type CpuState } from '../../emulator/index.ts';
import { startScenario, type ScenarioOverrides } from '../run/scenarioRun.ts';
import { BootRun } from '../run/bootRun.ts';
import type { MachineRun } from '../run/machineRun.ts';
import type { ResolvedScenario } from '../xen/scenarioResolve.ts';
import type { XenWriteEvent } from '../xen/attach.ts';
import { pageWalk } from '../machine/pageWalk.ts';
import { ImageCheck } from './imageCheck.ts';
import { decodeAtRip, memoryReads } from './causeChain.ts';

/** What a run's failure is, coarse enough to compare runs. */
export interface FailureSignature { outcome: string; imageDiffers: boolean; phase: string; text: string; /** A bare-metal program's exit status. */ status: number | null }

export interface Divergence {
  /** Instructions retired before the first instruction whose outcome differs. */
  icount: number;
  rip: bigint;
  where: string;
  instruction: string;
  kind: 'value' | 'branch' | 'end';
  /** Registers that differ after it: failing run vs counterfactual run. */
  registers: { name: string; failing: bigint; counterfactual: bigint }[];
  /** Memory it read whose bytes differ between the runs. */
  reads: { addr: number; failing: string; counterfactual: string }[];
}

export interface Explanation {
  failure: FailureSignature;
  withoutXen: FailureSignature;
  /** False when the failure happens without any hypervisor write after kexec: Xen's writes are not its cause. */
  xenCaused: boolean;
  /** A minimal set of hypervisor writes that, alone, still produce the same failure. */
  minimal: XenWriteEvent[];
  divergence: Divergence | null;
  /** Boots run for the explanation. */
  runs: number;
}

type Key = string;
/** A hypervisor write as explain sees it: when, where, which field; identified across runs by these (Xen's schedule is fixed in time). */
export interface WriteId { icount: number; addr: number; field: string; /** Which of several writes with the same count, address and field (e.g. a version's odd and even halves). */ seq?: number }
const keyOf = (w: WriteId): Key => `${w.icount}:${w.addr}:${w.field}:${w.seq ?? 0}`;

/** Numbers writes that share count, address and field, in the order they happen (stable across runs: the schedule is fixed). */
function sequencer(): (w: WriteId) => WriteId {
  const seen = new Map<string, number>();
  return (w) => {
    const k = `${w.icount}:${w.addr}:${w.field}`;
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return { ...w, seq: n };
  };
}

/** Leave out the writes for which this returns true. */
export type Suppress = (w: WriteId) => boolean;

/**
 * How to boot the failing run again with some hypervisor writes left out:
 * `boot(null)` is the run as it was; the writes of the returned run are the
 * guest-visible ones that happened (not suppressed).
 */
export type CounterfactualBoot = (suppress: Suppress | null) => { run: MachineRun; check?: ImageCheck; writes(): XenWriteEvent[] };
const hex = (v: number | bigint) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const n = (x: number) => x.toLocaleString('en-US');

/** A Xen scenario as a counterfactual boot. */
export function scenarioCounterfactual(r: ResolvedScenario, o: ScenarioOverrides = {}): CounterfactualBoot {
  return (suppress) => {
    const check = new ImageCheck();
    const boot = startScenario(r, { ...o, serial: undefined, progress: undefined }, [check]);
    const att = boot.xen().attachment;
    const seq = sequencer();
    att.suppressWrites(suppress ? (w) => suppress(seq(w)) : null);
    const writes = () => {
      const number = sequencer();
      return att.timeline.hypervisorWrites.filter((w) => w.event !== 'initial_state' && w.guestVisible).map((w) => ({ ...w, seq: number(w).seq })).filter((w) => !w.suppressed);
    };
    return { run: boot.run, check, writes };
  };
}

const keeping = (keep: Set<Key> | null): Suppress | null => (keep === null ? null : (w) => !keep.has(keyOf(w)));

function signature(run: MachineRun, check: ImageCheck | undefined): FailureSignature {
  const bytes = check?.diff?.bytesDiffering ?? 0;
  const s = run.machine.cpu;
  const text = run.outcome === 'reached' || run.outcome === 'exited'
    ? `${run.reason}${bytes ? ` with ${n(bytes)} bytes of the image differing` : check ? ' with an identical image' : ''}`
    : `${run.outcome}: ${run.reason} at ${run.describe(s.getRip())}`;
  return { outcome: run.outcome ?? 'running', imageDiffers: bytes > 0, phase: run instanceof BootRun ? run.phase : '', text, status: run.machine.exitStatus ?? null };
}

/** Run to the end (target, crash, hang, exit or budget). */
function finish(run: MachineRun): void {
  while (run.advance(Infinity, false).kind !== 'end') { /* limits and points are not set here */ }
}

const sameFailure = (a: FailureSignature, b: FailureSignature) => a.outcome === b.outcome && a.imageDiffers === b.imageDiffers && a.phase === b.phase && a.status === b.status;
/** A boot fails when it does not reach its target with an identical image; a bare-metal program when it does not exit with status 1 (QEMU's exit(0)). */
const failed = (s: FailureSignature) => (s.outcome === 'exited' ? s.status !== 1 : s.outcome !== 'reached' || s.imageDiffers);

/**
 * Explain why a run fails, by replaying it without hypervisor writes
 * (`make` builds it again with some left out; scenarioCounterfactual for a
 * Xen scenario). null when the run does not fail. `maxRuns` bounds the
 * delta debugging.
 */
export function explainFailure(make: CounterfactualBoot, opts: { maxRuns?: number } = {}): Explanation | null {
  let runs = 0;
  const boot = (keep: Set<Key> | null) => { runs++; const v = make(keeping(keep)); finish(v.run); return v; };
  const base = boot(null);
  const failure = signature(base.run, base.check);
  if (!failed(failure)) return null;
  const all = base.writes();
  const none = boot(new Set());
  const withoutXen = signature(none.run, none.check);
  if (sameFailure(withoutXen, failure)) return { failure, withoutXen, xenCaused: false, minimal: [], divergence: null, runs };

  // Delta debugging (ddmin) over the writes: the smallest set that alone still fails the same way.
  const maxRuns = opts.maxRuns ?? 60;
  const fails = (set: XenWriteEvent[]) => runs < maxRuns && sameFailure(signature(...(() => { const v = boot(new Set(set.map(keyOf))); return [v.run, v.check] as const; })()), failure);
  let c = all.slice();
  let parts = 2;
  while (c.length >= 2 && runs < maxRuns) {
    const size = Math.ceil(c.length / parts);
    const chunks: XenWriteEvent[][] = [];
    for (let k = 0; k < c.length; k += size) chunks.push(c.slice(k, k + size));
    let reduced = false;
    for (const ch of chunks) if (fails(ch)) { c = ch; parts = 2; reduced = true; break; }
    if (!reduced) {
      for (const ch of chunks) {
        const rest = c.filter((w) => !ch.includes(w));
        if (chunks.length > 2 && fails(rest)) { c = rest; parts = Math.max(parts - 1, 2); reduced = true; break; }
      }
    }
    if (!reduced) {
      if (parts >= c.length) break;
      parts = Math.min(parts * 2, c.length);
    }
  }
  const minimal = c;
  // The earliest write of the minimal set is left out in the counterfactual; the others stay.
  const first = minimal.reduce((a, b) => (b.icount < a.icount ? b : a));
  const keepFailing = new Set(minimal.map(keyOf));
  const keepCounter = new Set(minimal.filter((w) => w !== first).map(keyOf));
  const divergence = findDivergence(make, keepFailing, keepCounter, first.icount);
  runs += 2;
  return { failure, withoutXen, xenCaused: true, minimal, divergence, runs };
}

function registersOf(s: CpuState): Record<string, bigint> {
  const out: Record<string, bigint> = { rip: s.rip, rflags: BigInt(s.rflags) };
  for (const g of GPR_NAMES) out[g] = s.gpr[g]!;
  return out;
}

function differ(a: MachineRun, b: MachineRun): boolean {
  if (a.outcome !== b.outcome || a.icount !== b.icount) return true;
  const x = registersOf(captureState(a.machine.cpu)), y = registersOf(captureState(b.machine.cpu));
  return Object.keys(x).some((k) => x[k] !== y[k]);
}

/**
 * Run the failing and the counterfactual boot side by side from the left-out
 * write on, galloping forward until their registers differ, then bisect to
 * the first instruction after which they differ.
 */
function findDivergence(make: CounterfactualBoot, keepA: Set<Key>, keepB: Set<Key>, from: number): Divergence | null {
  const A = make(keeping(keepA)).run, B = make(keeping(keepB)).run;
  A.enableHistory(1_000_000); B.enableHistory(1_000_000);
  let lo = from, step = 1000;
  A.advance(lo, false); B.advance(lo, false);
  if (differ(A, B)) return null; // they differ before the write: not this write's doing
  let hi = -1;
  for (;;) {
    const t = lo + step;
    A.advance(t, false); B.advance(t, false);
    if (differ(A, B)) { hi = Math.min(t, A.icount, B.icount); break; }
    if (A.outcome !== null && B.outcome !== null) return null;
    lo = t; step = Math.min(step * 2, 10_000_000);
  }
  if (hi <= lo) hi = lo + 1;
  // Bisect: equal at lo, different at hi.
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    A.goto(mid); B.goto(mid);
    if (differ(A, B)) hi = mid; else lo = mid;
  }
  A.goto(lo); B.goto(lo);
  const ins = decodeAtRip(A.machine);
  const reads: Divergence['reads'] = [];
  for (const m of memoryReads(A.machine, ins.ins)) {
    const pa = pageWalk(A.machine.cpu, m.lin, (x, k) => A.machine.ram.read(x, k)).phys;
    const pb = pageWalk(B.machine.cpu, m.lin, (x, k) => B.machine.ram.read(x, k)).phys;
    if (pa === null || pb === null) continue;
    const va = A.machine.ram.read(pa, m.size), vb = B.machine.ram.read(pb, m.size);
    if (va.some((x, k) => x !== vb[k])) reads.push({ addr: pa, failing: Buffer.from(va).toString('hex'), counterfactual: Buffer.from(vb).toString('hex') });
  }
  const rip = A.machine.cpu.getRip();
  const where = A.describe(rip);
  A.advance(lo + 1, false); B.advance(lo + 1, false);
  const x = registersOf(captureState(A.machine.cpu)), y = registersOf(captureState(B.machine.cpu));
  const registers = Object.keys(x).filter((k) => k !== 'rip' && x[k] !== y[k]).map((k) => ({ name: k, failing: x[k]!, counterfactual: y[k]! }));
  const kind: Divergence['kind'] = x.rip !== y.rip ? 'branch' : registers.length || reads.length ? 'value' : 'end';
  return { icount: lo, rip, where, instruction: ins.text, kind, registers, reads };
}

/** The explanation for people. */
export function formatExplanation(e: Explanation, describeWriter?: (w: XenWriteEvent) => string): string {
  const L: string[] = [];
  L.push(`failure:       ${e.failure.text}`);
  L.push(`without Xen:   ${e.withoutXen.text} (the same boot with none of the hypervisor's writes after kexec)`);
  if (!e.xenCaused) { L.push('               → the hypervisor\'s writes after kexec are not the cause'); return L.join('\n'); }
  L.push(`minimal cause: ${e.minimal.length} hypervisor write(s) that alone reproduce it (${e.runs} counterfactual boots):`);
  for (const w of e.minimal) L.push(`  [${n(w.icount)}] ${w.field} @ ${hex(w.addr)}: ${Buffer.from(w.before).toString('hex')} -> ${Buffer.from(w.after).toString('hex')}${describeWriter ? `  (${describeWriter(w)})` : ''}`);
  const d = e.divergence;
  if (!d) { L.push('divergence:    not found (the runs never differ in registers)'); return L.join('\n'); }
  L.push(`first difference: instruction ${n(d.icount)}, rip ${hex(d.rip)} <${d.where}>: ${d.instruction}`);
  for (const m of d.reads) L.push(`  it read ${hex(m.addr)} = ${m.failing} (without the write: ${m.counterfactual})`);
  if (d.kind === 'branch') L.push('  and went elsewhere: a different branch was taken');
  for (const r of d.registers) L.push(`  ${r.name} = ${hex(r.failing)} (without the write: ${hex(r.counterfactual)})`);
  return L.join('\n');
}
