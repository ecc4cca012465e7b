// One kexec boot, end to end: plan the load as kexec-tools would, write it
// into a fresh machine, start from relocate_kernel's hand-off state, and
// run purgatory → decompressor → startup_64 until the target symbol, a
// crash, a hang or the budget. At the decompressor's jump into the new
// kernel the image in RAM is compared with vmlinux.
import { readFileSync } from 'node:fs';
import { Stop, captureState, type CpuState, type TripleFaultEvent } from '../../emulator/index.ts';
import { InputError } from '../cli/errors.ts';
import { planKexecLoad, type LoadPlan, type KexecLoadOptions } from './kexec/index.ts';
import { parseBzImage } from './bzimage.ts';
import { decompressPayload } from './payload.ts';
import { readVmlinux, type Vmlinux } from './vmlinux.ts';
import { kernelSymbols, type KernelSymbols } from './kernelSymbols.ts';
import { applyHandoff } from './applyHandoff.ts';
import { BootMachine, type BootMachineOptions } from '../machine/bootMachine.ts';
import { diffImage, type ImageDiff } from '../analysis/imageDiff.ts';
import { loadPhysicalAddr } from '../analysis/expectedImage.ts';
import type { RelocTable } from './relocs.ts';
import { HangDetector } from '../analysis/hang.ts';
import { restoreSnapshot, type MachineSnapshot } from '../machine/snapshot.ts';

export type Phase = 'purgatory' | 'decompressor' | 'kernel';
export type Outcome = 'reached' | 'crashed' | 'hung' | 'budget';

export interface BootOptions {
  /** The bzImage: a path or its bytes. */
  kernel: string | Uint8Array;
  kernelName?: string;
  vmlinux?: string;
  systemMap?: string;
  purgatory?: string;
  entry?: 64 | 32;
  cmdline?: string;
  ramSize?: number;
  /** Stop here: a kernel symbol, 'startup_64' (the decompressor's jump into the new kernel), or an address. Default x86_64_start_kernel. */
  until?: string | bigint;
  maxInstructions?: number;
  seed?: number;
  placement?: KexecLoadOptions['placement'];
  kernelAlignment?: number;
  /** Called with each byte the guest writes to the serial port. */
  serial?: (byte: number) => void;
  /** Called every `progressEvery` instructions with where the run is. */
  progress?: (p: Progress) => void;
  progressEvery?: number;
  /** Changes to make to guest RAM after loading, before the run (tests of purgatory's checksum, scenarios). */
  patch?: (m: BootMachine, plan: LoadPlan) => void;
  /** Set up before the run (the Xen shim attaches here). */
  prepare?: (m: BootMachine, plan: LoadPlan, ctx: BootContext) => void;
  /** Called on the new machine before anything is loaded (the Xen shim installs here: kexec's copy went through Xen's mapping). */
  beforeLoad?: (m: BootMachine, plan: LoadPlan) => void;
  /** The parsed kernel and load plan from prepareKexec (sweeps reuse them; `kernel`, `entry`, … are then ignored). */
  prepared?: PreparedKexec;
  /** Load by restoring this snapshot (src/machine/snapshot.ts, taken after loading) instead of writing the plan's segments. */
  snapshot?: MachineSnapshot;
}

/** What bootKexec works out before it builds a machine: the bzImage parsed, its payload, symbols and kexec's load plan. */
export interface PreparedKexec {
  kernelName: string;
  payload: ReturnType<typeof decompressPayload>;
  elf: Vmlinux;
  symbols: KernelSymbols;
  plan: LoadPlan;
}

export function prepareKexec(opts: BootOptions): PreparedKexec {
  const kernelName = opts.kernelName ?? (typeof opts.kernel === 'string' ? opts.kernel : 'kernel');
  const bytes = kernelBytes(opts.kernel);
  const bz = parseBzImage(bytes, kernelName);
  const payload = decompressPayload(bz);
  const elf: Vmlinux = readVmlinux(payload.elf, `${kernelName} (payload)`);
  const symbols = kernelSymbols({ vmlinux: opts.vmlinux, systemMap: opts.systemMap, kernelPath: typeof opts.kernel === 'string' ? opts.kernel : undefined, elf: payload.elf });
  const plan = planKexecLoad({
    kernel: bytes, kernelName, purgatory: opts.purgatory, cmdline: opts.cmdline ?? DEFAULT_CMDLINE,
    ramSize: opts.ramSize, entry: opts.entry, placement: opts.placement, kernelAlignment: opts.kernelAlignment,
  });
  return { kernelName, payload, elf, symbols, plan };
}

export interface Progress { instructions: number; phase: Phase; rip: bigint }

/** What the run learned on the way, for hooks (the Xen shim, the cause chain). */
export interface BootContext {
  phase: Phase;
  /** Instruction count when each phase began. */
  phaseStart: Partial<Record<Phase, number>>;
  kernelEntry: KernelEntry | null;
}

export interface KernelEntry {
  /** Instruction count at the first instruction of the new kernel's startup_64. */
  icount: number;
  /** Guest-physical address of startup_64 and of the decompressor's output base. */
  startup64Phys: number;
  outputPhys: number;
  /** The KASLR virtual delta inferred from the relocation sites. */
  virtDelta: bigint;
  /** vmlinux's link address of the output base (its lowest PT_LOAD virtual address). */
  linkBase: bigint;
}

export interface BootResult {
  outcome: Outcome;
  /** Why it stopped, in words. */
  reason: string;
  phase: Phase;
  instructions: number;
  console: string;
  vga: string[];
  state: CpuState;
  /** The address the run stopped at when the target was reached. */
  target: { name: string; address: bigint } | null;
  kernelEntry: KernelEntry | null;
  imageDiff: ImageDiff | null;
  tripleFault: TripleFaultEvent | null;
  hang: { kind: 'hlt' | 'loop'; detail: string } | null;
  plan: LoadPlan;
  symbols: KernelSymbols;
  machine: BootMachine;
  context: BootContext;
}

/**
 * "symbol+0xoff" for an address, by where it is: purgatory's symbols inside
 * purgatory; vmlinux's for the new kernel (kernel-mapping addresses are
 * un-relocated by the KASLR delta first); the decompressor has no symbols.
 */
export function describeAddress(r: Pick<BootResult, 'symbols' | 'kernelEntry' | 'plan' | 'phase'> & { context?: BootContext }, addr: bigint, atIcount?: number): string {
  const phase = atIcount === undefined || !r.context ? r.phase : phaseAt(r.context, atIcount);
  const hex = `0x${addr.toString(16)}`;
  const p = r.plan.purgatory;
  if (addr >= BigInt(p.base) && addr < BigInt(p.base + p.memsz)) {
    const best = Object.entries(p.symbols).filter(([, a]) => BigInt(a) <= addr).sort((x, y) => y[1] - x[1])[0];
    return best ? `purgatory:${best[0]}+0x${(addr - BigInt(best[1])).toString(16)}` : `purgatory+0x${(addr - BigInt(p.base)).toString(16)}`;
  }
  if (phase !== 'kernel' || !r.symbols.table.size) return phase === 'decompressor' ? `${hex} (decompressor)` : hex;
  const delta = r.kernelEntry?.virtDelta ?? 0n;
  const kernelMap = addr >= 0xffffffff80000000n;
  if (!kernelMap && r.kernelEntry) {
    // identity-mapped kernel code before the switch to the kernel mapping: physical → link address
    const phys = addr - BigInt(r.kernelEntry.outputPhys);
    return `${r.symbols.table.describe(r.kernelEntry.linkBase + phys)} (phys)`;
  }
  return r.symbols.table.describe(kernelMap ? addr - delta : addr);
}

/** The phase the boot was in after `icount` instructions. */
export function phaseAt(ctx: BootContext, icount: number): Phase {
  const p = ctx.phaseStart;
  if (p.kernel !== undefined && icount >= p.kernel) return 'kernel';
  if (p.decompressor !== undefined && icount >= p.decompressor) return 'decompressor';
  return 'purgatory';
}

export const DEFAULT_CMDLINE = 'console=ttyS0,115200 earlyprintk=serial,ttyS0,115200';
export const DEFAULT_BUDGET = 4_000_000_000;

function kernelBytes(k: string | Uint8Array): Uint8Array {
  if (typeof k !== 'string') return k;
  try { return new Uint8Array(readFileSync(k)); } catch (e) { throw new InputError(`${k}: cannot read kernel: ${(e as Error).message}`); }
}

export function bootKexec(opts: BootOptions): BootResult {
  const { payload, elf, symbols, plan } = opts.prepared ?? prepareKexec(opts);
  const until = resolveTarget(opts.until ?? 'x86_64_start_kernel', symbols);
  const mopts: BootMachineOptions = { ramSize: opts.ramSize ?? 1 << 30, seed: opts.seed ?? 0, serial: opts.serial };
  const m = new BootMachine(mopts);
  opts.beforeLoad?.(m, plan);
  if (opts.snapshot) restoreSnapshot(m, opts.snapshot);
  else loadPlan(m, plan);
  opts.patch?.(m, plan);

  const ctx: BootContext = { phase: 'purgatory', phaseStart: { purgatory: 0 }, kernelEntry: null };
  const c = m.cpu;
  let imageDiff: ImageDiff | null = null;
  let target: BootResult['target'] = null;
  let stopAtEntry = until.kind === 'entry';

  // Purgatory hands over to the kernel's entry: note the phase, keep going.
  const kernelEntryAddr = plan.entryPath === 64 ? Number(plan.entry64Regs.rip) : Number(plan.entry32Regs.eip);
  c.addBreakpoint(kernelEntryAddr | 0, 0, () => {
    if (ctx.phase === 'purgatory') { ctx.phase = 'decompressor'; ctx.phaseStart.decompressor = c.icount; }
    return false;
  });

  // The decompressor's jump into the new kernel: the first time code with vmlinux's startup_64 bytes is reached.
  const startup64 = elf.symbols.find((s) => s.name === 'startup_64')?.value ?? symbols.table.lookup('startup_64');
  const seg0 = elf.segments.find((s) => startup64 !== undefined && startup64 >= s.vaddr && startup64 < s.vaddr + BigInt(s.filesz));
  const signature = seg0 && startup64 !== undefined ? seg0.data.slice(Number(startup64 - seg0.vaddr), Number(startup64 - seg0.vaddr) + 16) : null;
  const startupOffset = seg0 && startup64 !== undefined ? Number(seg0.paddr - loadPhysicalAddr(elf) + (startup64 - seg0.vaddr)) : 0;
  c.onBlockDecoded = (cpu, _lo, _hi, phys) => {
    if (ctx.phase !== 'decompressor' || signature === null) return false;
    const here = m.ram.ram.subarray(phys, phys + 16);
    if (here.length < 16 || !here.every((b, k) => b === signature[k])) return false;
    const outputPhys = phys - startupOffset;
    imageDiff = diffImage({ vmlinux: elf, relocs: payload.relocs as RelocTable | undefined, outputPhys, readPhys: (a, n) => m.ram.read(a, n), symbols: symbols.table });
    const linkBase = elf.segments.reduce((lo, sg) => (sg.vaddr < lo ? sg.vaddr : lo), elf.segments[0]!.vaddr);
    ctx.kernelEntry = { icount: cpu.icount, startup64Phys: phys, outputPhys, virtDelta: imageDiff.virtDelta, linkBase };
    ctx.phase = 'kernel'; ctx.phaseStart.kernel = cpu.icount;
    cpu.onBlockDecoded = null;
    if (until.kind === 'symbol') {
      const a = until.address + imageDiff.virtDelta;
      target = { name: until.name, address: a };
      cpu.addBreakpoint(Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0, () => true);
    }
    return stopAtEntry;
  };
  if (until.kind === 'address') {
    target = { name: `0x${until.address.toString(16)}`, address: until.address };
    c.addBreakpoint(Number(until.address & 0xffffffffn) | 0, Number(until.address >> 32n) | 0, () => true);
  }

  opts.prepare?.(m, plan, ctx);

  const budget = opts.maxInstructions ?? DEFAULT_BUDGET;
  const every = opts.progressEvery ?? 50_000_000;
  const hang = new HangDetector();
  let outcome: Outcome = 'budget', reason = `instruction budget of ${budget} exhausted`;
  let hangInfo: BootResult['hang'] = null;
  for (;;) {
    const left = budget - c.icount;
    if (left <= 0) break;
    const stop = m.run(Math.min(left, every));
    opts.progress?.({ instructions: c.icount, phase: ctx.phase, rip: c.getRip() });
    if (stop === Stop.Budget) {
      const h = hang.sample(c);
      if (h) { outcome = 'hung'; reason = h; hangInfo = { kind: 'loop', detail: h }; break; }
      continue;
    }
    if (stop === Stop.Breakpoint) { outcome = 'reached'; reason = `reached ${target?.name ?? 'the breakpoint'}`; break; }
    if (stop === Stop.Requested) {
      if (stopAtEntry && ctx.kernelEntry) { outcome = 'reached'; reason = 'reached the new kernel\'s startup_64'; target = { name: 'startup_64', address: BigInt(ctx.kernelEntry.startup64Phys) }; break; }
      continue;
    }
    if (stop === Stop.TripleFault) { outcome = 'crashed'; reason = 'triple fault'; break; }
    if (stop === Stop.Halt) {
      if (!(c.getRflags() & 0x200)) { outcome = 'hung'; reason = 'hlt with interrupts disabled'; hangInfo = { kind: 'hlt', detail: reason }; break; }
      outcome = 'hung'; reason = 'hlt with no interrupt source'; hangInfo = { kind: 'hlt', detail: reason }; break;
    }
    if (stop === Stop.Fault) { outcome = 'crashed'; reason = `unhandled ${c.lastFault?.message ?? 'fault'}`; break; }
  }
  stopAtEntry = false;
  return {
    outcome, reason, phase: ctx.phase, instructions: c.icount, console: m.serialText, vga: m.vgaText,
    state: captureState(c), target: outcome === 'reached' ? target : null, kernelEntry: ctx.kernelEntry, imageDiff,
    tripleFault: m.events.tripleFault, hang: hangInfo, plan, symbols, machine: m, context: ctx,
  };
}

/** Write kexec's segments and the hand-off memory, and load relocate_kernel's exit state. */
export function loadPlan(m: BootMachine, plan: LoadPlan): void {
  for (const s of plan.segments) {
    m.load(s.mem, s.bytes, `kexec segment: ${s.name}`);
    if (s.memsz > s.bytes.length) m.load(s.mem + s.bytes.length, new Uint8Array(s.memsz - s.bytes.length), `kexec segment: ${s.name} (zero fill)`);
  }
  for (const b of plan.handoff.memory) m.load(b.addr, b.bytes, `hand-off: ${b.what}`);
  applyHandoff(m.cpu, plan.handoff);
}

type Target = { kind: 'symbol'; name: string; address: bigint } | { kind: 'address'; address: bigint } | { kind: 'entry' };

function resolveTarget(until: string | bigint, symbols: KernelSymbols): Target {
  if (typeof until === 'bigint') return { kind: 'address', address: until };
  if (until === 'startup_64') return { kind: 'entry' };
  if (/^0x[0-9a-f]+$/i.test(until)) return { kind: 'address', address: BigInt(until) };
  const a = symbols.table.lookup(until);
  if (a === undefined) throw new InputError(`--until ${until}: no such symbol in ${symbols.source}`);
  return { kind: 'symbol', name: until, address: a };
}
