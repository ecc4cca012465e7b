// A kexec boot under a Xen scenario: the shim installed before the loader
// writes the new kernel (kexec's copy went through Xen's mapping), the CPU's
// TSC set to the scenario's clock, and a timeline of Xen's frames.
import { bootKexec, describeAddress, prepareKexec, loadPlan, type BootOptions, type BootResult, type PreparedKexec } from '../boot/kexecBoot.ts';
import { BootMachine } from '../machine/bootMachine.ts';
import { takeSnapshot, type MachineSnapshot } from '../machine/snapshot.ts';
import type { LoadPlan } from '../boot/kexec/index.ts';
import { XenAttachment, type XenTimeline } from './attach.ts';
import { XenHypervisor } from './hypervisor.ts';
import { resolveScenario, type ResolvedScenario } from './scenarioResolve.ts';
import type { ScenarioSpec } from './scenario.ts';
import type { Era } from './firstKernel.ts';
import type { StaleState } from './staleState.ts';

export const FIXES = ['mmio', 'e820-reserved', 'soft-reset'] as const;
export type Fix = (typeof FIXES)[number];

/** Each historical fix as the first kernel's era. */
export const FIX_ERA: Record<Fix, Era> = { 'mmio': 'fix-00e37bdb', 'e820-reserved': 'fix-9d02b43d', 'soft-reset': 'soft-reset' };
export const FIX_WHAT: Record<Fix, string> = {
  'mmio': 'Linux 00e37bdb (3.7): before kexec, shared_info is re-added in the xen-platform PCI device\'s MMIO BAR (0xF2000000), and the RAM page is given back',
  'e820-reserved': 'Linux 9d02b43d (3.8): shared_info lives at 0xFE700000, inside the E820-reserved hole below 4 GiB, never in RAM',
  'soft-reset': 'Linux 0b34a166 + Xen 4.7: SHUTDOWN_soft_reset before kexec; Xen drops shared_info, registered vcpu_info, event channels and timers',
};

/**
 * The same first kernel with a fix applied: its era becomes the fix's. An
 * explicit shared_info address is dropped (the fix is what moves it); an
 * explicit vcpu_info registration is kept (none of the RAM-moving fixes
 * touched it; soft reset drops it).
 */
export function applyFix(spec: ScenarioSpec, fix: Fix): ScenarioSpec {
  const fk = { ...spec.firstKernel, era: FIX_ERA[fix] };
  delete fk.sharedInfo;
  return { ...spec, firstKernel: fk };
}

export interface ScenarioOverrides {
  /** Move the stale shared_info frame to this guest-physical page (sweeps); null: none. */
  sharedInfoGpa?: number | null;
  /** Replace the registered vcpu_info areas. */
  vcpuInfo?: { vcpu: number; gpa: number }[];
  /** Parsed kernel and a snapshot after loading (sweeps: each run restores it instead of loading). */
  prepared?: PreparedKexec;
  snapshot?: MachineSnapshot;
  maxInstructions?: number;
  until?: string;
  serial?: (byte: number) => void;
  progress?: BootOptions['progress'];
}

export interface ScenarioRun {
  result: BootResult;
  timeline: XenTimeline;
  xen: XenHypervisor;
  scenario: ResolvedScenario;
  state: StaleState;
  /** The boot's options (with the shim's hooks): re-running them repeats the run exactly (the cause chain does). */
  options: BootOptions;
  /** The new kernel's extent in guest-physical memory [start, end) ([_text, _end) at the decompressor's output), once known. */
  image: { start: number; end: number } | null;
}

/** The boot options a scenario implies. */
export function scenarioBootOptions(r: ResolvedScenario): BootOptions {
  return { kernel: r.kernelPath, entry: r.load === 'legacy32' ? 32 : 64, ramSize: r.ramSize, seed: r.spec.seed };
}

/** Parse and plan once, and snapshot the machine after loading (no Xen): the start of every run of a sweep. */
export function prepareScenario(r: ResolvedScenario): { prepared: PreparedKexec; snapshot: MachineSnapshot } {
  const o = scenarioBootOptions(r);
  const prepared = prepareKexec(o);
  const m = new BootMachine({ ramSize: r.ramSize, seed: r.spec.seed });
  loadPlan(m, prepared.plan);
  return { prepared, snapshot: takeSnapshot(m, loadedRanges(prepared.plan)) };
}

/** The ranges kexec's loader writes, in its order (as kexecBoot's loadPlan). */
export function loadedRanges(plan: LoadPlan): { addr: number; len: number; what: string }[] {
  const out: { addr: number; len: number; what: string }[] = [];
  for (const s of plan.segments) {
    out.push({ addr: s.mem, len: s.bytes.length, what: `kexec segment: ${s.name}` });
    if (s.memsz > s.bytes.length) out.push({ addr: s.mem + s.bytes.length, len: s.memsz - s.bytes.length, what: `kexec segment: ${s.name} (zero fill)` });
  }
  for (const b of plan.handoff.memory) out.push({ addr: b.addr, len: b.bytes.length, what: `hand-off: ${b.what}` });
  return out;
}

export function resolvedWith(r: ResolvedScenario, o: ScenarioOverrides): StaleState {
  let state = r.state;
  if (o.sharedInfoGpa !== undefined) {
    const gpa = o.sharedInfoGpa;
    state = {
      ...state,
      sharedInfo: gpa === null ? null : { gpa, inRam: gpa + 4096 <= r.ramSize, label: `stale shared_info at gfn 0x${(gpa / 4096).toString(16)}` },
    };
  }
  if (o.vcpuInfo) state = { ...state, vcpuInfo: o.vcpuInfo.map((v) => ({ ...v, label: `registered vcpu_info of vcpu ${v.vcpu} at 0x${v.gpa.toString(16)}` })) };
  return state;
}

export function bootScenario(r: ResolvedScenario, o: ScenarioOverrides = {}): ScenarioRun {
  const state = resolvedWith(r, o);
  let att: XenAttachment | null = null;
  let xen: XenHypervisor | null = null;
  const opts: BootOptions = {
    ...scenarioBootOptions(r),
    until: o.until,
    maxInstructions: o.maxInstructions,
    serial: o.serial,
    progress: o.progress,
    prepared: o.prepared,
    snapshot: o.snapshot,
    beforeLoad: (m) => {
      att = new XenAttachment(m);
      const a = att;
      xen = new XenHypervisor(a, a, state, r.config, { onUpcall: (v, at) => a.upcall(v, at) });
      xen.install();
    },
    prepare: (_m, _plan, ctx) => {
      att!.setContext(ctx);
      att!.configureTsc(r.config.clock);
    },
  };
  const result = bootKexec(opts);
  const a = att as unknown as XenAttachment;
  const run: ScenarioRun = { result, timeline: a.timeline, xen: xen as unknown as XenHypervisor, scenario: r, state, options: opts, image: null };
  placeWrites(run);
  return run;
}

/** Resolve the scenario with a fix applied. */
export function resolveWithFix(r: ResolvedScenario, fix: Fix): ResolvedScenario {
  return resolveScenario(applyFix(r.spec, fix));
}

/** Name where each hypervisor write and first guest write landed, now that the kernel's position is known. */
export function placeWrites(run: ScenarioRun): void {
  const res = run.result;
  const e = res.kernelEntry;
  const sym = res.symbols.table;
  const text = sym.lookup('_text'), end = sym.lookup('_end');
  if (e && text !== undefined && end !== undefined) {
    const start = e.outputPhys + Number(text - e.linkBase);
    run.image = { start, end: start + Number(end - text) };
  }
  const plan = res.plan;
  const where = (addr: number, after: boolean): string => {
    if (run.image && after && addr >= run.image.start && addr < run.image.end) {
      return `new kernel: ${sym.describe(e!.linkBase + BigInt(addr - e!.outputPhys))}`;
    }
    for (const s of plan.segments) if (addr >= s.mem && addr < s.mem + s.memsz) return `kexec segment ${s.name}+0x${(addr - s.mem).toString(16)}`;
    for (const b of plan.handoff.memory) if (addr >= b.addr && addr < b.addr + b.bytes.length) return `hand-off ${b.what}`;
    if (addr >= res.machine.ram.size) return 'outside RAM (Xen-only page)';
    if (run.image && addr >= run.image.start && addr < run.image.end) return `(future) new kernel: ${sym.describe(e!.linkBase + BigInt(addr - e!.outputPhys))}`;
    return 'RAM not used by the load';
  };
  for (const w of run.timeline.hypervisorWrites) {
    const after = e !== null && w.icount >= e.icount;
    w.landed = w.guestVisible ? where(w.addr, after) : 'outside RAM (Xen-only page)';
    w.inImageAfterEntry = after && run.image !== null && w.guestVisible && w.addr < run.image.end && w.addr + w.after.length > run.image.start;
  }
  for (const g of [...run.timeline.firstGuestWrite, ...run.timeline.firstGuestWriteToXenField]) {
    g.where = describeAddress({ symbols: res.symbols, kernelEntry: res.kernelEntry, plan: res.plan, phase: g.phase }, g.rip);
  }
}
