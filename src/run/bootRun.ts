// The run of one kexec boot, as an object front ends drive (a MachineRun):
// it builds the machine from the prepared inputs (loader below it), tracks
// the boot's phases — purgatory, the decompressor from the kernel's entry,
// the kernel from the decompressor's jump to startup_64 — and ends at the
// target (default x86_64_start_kernel), a crash, a hang or the budget.
// Analyses observe it (RunObserver); the CLI, the gdb stub, sweeps and the
// library drive it.
import { captureState as captureCpuState, type CpuState, type TripleFaultEvent } from '../../emulator/index.ts';
import { InputError } from '../errors.ts';
import type { LoadPlan } from '../boot/kexec/index.ts';
import type { KernelSymbols } from '../boot/kernelSymbols.ts';
import type { Vmlinux } from '../boot/vmlinux.ts';
import type { RelocTable } from '../boot/relocs.ts';
import { inferVirtDelta, loadPhysicalAddr, relocSites } from '../boot/expectedImage.ts';
import { describeAddress, type BootContext, type KernelEntry, type Phase } from '../boot/phases.ts';
import { BootMachine } from '../machine/bootMachine.ts';
import { restoreSnapshot } from '../machine/snapshot.ts';
import { pageWalk } from '../machine/pageWalk.ts';
import { DEFAULT_BUDGET, loadPlan, prepareKexec, type BootOptions, type PreparedKexec } from './prepare.ts';
import { HangObserver } from './hang.ts';
import { MachineRun, SerialGate, keyOf, type Outcome, type RunStateBase, type SliceObserver } from './machineRun.ts';

export { type Outcome, type RunStop, type WatchKind, type Watchpoint, type WatchHit } from './machineRun.ts';

/** Analyses that follow a boot. Their state must live in fields (checkpoints restore it in place). */
export interface RunObserver extends SliceObserver {
  /** The decompressor jumped into the new kernel: RAM holds the decompressed image. */
  onKernelEntry?(run: BootRun, entry: KernelEntry): void;
  /** A phase began (the decompressor at the kernel's entry point, the kernel at startup_64). */
  onPhase?(run: BootRun, phase: Phase): void;
}

/** What a boot run ended with (`BootRun.result()`; `bootKexec` adds the image diff). */
export interface RunResult {
  /**
   * 'reached' the target, 'crashed' (a triple fault or an undelivered fault),
   * 'hung' (hlt with no way out, a loop without progress) or 'budget' (the
   * instruction budget ran out).
   */
  outcome: Outcome;
  /** Why it stopped, in words. */
  reason: string;
  /** The phase the run stopped in. */
  phase: Phase;
  /** Instructions retired: the virtual clock at the stop. */
  instructions: number;
  /** Everything the guest wrote to the 16550 UART. */
  console: string;
  /** The VGA text screen at the stop, one string per row. */
  vga: string[];
  /** Registers, segments and control registers at the stop. */
  state: CpuState;
  /** The address the run stopped at when the target was reached. */
  target: { name: string; address: bigint } | null;
  /** Where and when the decompressor jumped into the new kernel's startup_64, its output base and KASLR delta; null if it never did. */
  kernelEntry: KernelEntry | null;
  /** The faulting instruction and the exception chain of a triple fault; null otherwise. */
  tripleFault: TripleFaultEvent | null;
  /** How the run hung (hlt, or a loop without progress); null otherwise. */
  hang: RunStateBase['hang'];
  /** kexec's load plan the boot ran with. */
  plan: LoadPlan;
  /** The new kernel's symbols and where they came from. */
  symbols: KernelSymbols;
  /** The machine as it stopped: the CPU, RAM with its write provenance, the devices. */
  machine: BootMachine;
  /** The phases: when each began, and the kernel's entry. */
  context: BootContext;
}

type Target = { kind: 'symbol'; name: string; address: bigint } | { kind: 'address'; address: bigint } | { kind: 'entry' } | { kind: 'none' };

/** What a boot adds to the run's state (captured with it by checkpoints). */
interface BootState {
  ctx: BootContext;
  /** The target's resolved address once known (a kernel symbol becomes known at kernel entry). */
  target: { name: string; address: bigint } | null;
}

const SLICE = 50_000_000;

/**
 * The run of one kexec boot: drive it step by step (advance, step,
 * breakpoints, watchpoints, history and going back; see MachineRun) or to its
 * end (`runToEnd`). Constructed from BootOptions and observers such as
 * ImageCheck; the constructor plans and loads, the first instruction is
 * purgatory's. Throws InputError on bad inputs or an unknown `until` symbol.
 */
export class BootRun extends MachineRun<BootMachine, BootState> {
  /** The options the run was started with. */
  readonly options: BootOptions;
  /** The parsed kernel, payload, symbols and load plan (`options.prepared`, or worked out by the constructor). */
  readonly prepared: PreparedKexec;
  /** What to stop at: resolved when the run is built, except the default target (a kernel symbol): at the decompressor's entry. */
  private untilTarget: Target | null = null;
  private readonly kernelEntryKey: number;
  private targetKey = -1;
  /** startup_64's first bytes and offset in the image, from the payload: worked out at the decompressor's entry. */
  private entrySignature: { bytes: Uint8Array; startupOffset: number } | null | undefined = undefined;

  constructor(options: BootOptions, observers: RunObserver[] = []) {
    const prepared = options.prepared ?? prepareKexec(options);
    const { plan } = prepared;
    // An explicit target is checked now (an unknown symbol is an input error before the run); the default one needs the
    // kernel's symbols, which may come from kallsyms in the payload that is still being decompressed: it is looked up
    // when the payload is needed (payloadNeeded).
    const until = options.until !== undefined ? resolveTarget(options.until, () => prepared.symbols) : null;
    const gate = new SerialGate(options.serial);
    const m = new BootMachine({ ramSize: options.ramSize ?? 1 << 30, seed: options.seed ?? 0, serial: options.serial ? gate.sink : undefined, jit: options.jit });
    if (options.compile === false) m.cpu.jitThreshold = 0; // 0: never compile a block
    options.beforeLoad?.(m, plan);
    if (options.snapshot) restoreSnapshot(m, options.snapshot);
    else loadPlan(m, plan);
    options.patch?.(m, plan);
    // Hang detection is the run's own policy: a boot spinning without progress ends as hung.
    super(m, { budget: options.maxInstructions ?? DEFAULT_BUDGET, sliceEvery: options.progressEvery ?? SLICE, observers: [new HangObserver(), ...observers], gate },
      { ctx: { phase: 'purgatory', phaseStart: { purgatory: 0 }, kernelEntry: null }, target: null });
    this.options = options;
    this.prepared = prepared;
    this.untilTarget = until;

    // Purgatory hands over to the kernel's entry: the decompressor phase begins there.
    const entryAddr = BigInt(plan.entryPath === 64 ? Number(plan.entry64Regs.rip) : Number(plan.entry32Regs.eip));
    this.kernelEntryKey = keyOf(entryAddr);
    this.setInternal(entryAddr);

    // The decompressor's jump into the new kernel: the first time code with vmlinux's startup_64 bytes is decoded.
    this.armKernelEntry();
    if (until?.kind === 'address') {
      this.state.target = { name: `0x${until.address.toString(16)}`, address: until.address };
      this.targetKey = keyOf(until.address);
      this.setInternal(until.address);
    }
    options.prepare?.(m, plan, this.state.ctx);
  }

  /** The target, looking up the default one (in the kernel's symbols) the first time. */
  private get until(): Target {
    return (this.untilTarget ??= resolveTarget('x86_64_start_kernel', () => this.symbols));
  }

  /**
   * startup_64's first 16 bytes in vmlinux and its offset from the decompressor's output base, or null when the
   * kernel's symbols do not name it. Needs the payload: the first call waits for it.
   */
  private get signature(): { bytes: Uint8Array; startupOffset: number } | null {
    if (this.entrySignature !== undefined) return this.entrySignature;
    const { elf, symbols } = this.prepared;
    const startup64 = elf.symbols.find((s) => s.name === 'startup_64')?.value ?? symbols.table.lookup('startup_64');
    const seg0 = elf.segments.find((s) => startup64 !== undefined && startup64 >= s.vaddr && startup64 < s.vaddr + BigInt(s.filesz));
    return (this.entrySignature = seg0 && startup64 !== undefined ? {
      bytes: seg0.data.slice(Number(startup64 - seg0.vaddr), Number(startup64 - seg0.vaddr) + 16),
      startupOffset: Number(seg0.paddr - loadPhysicalAddr(elf) + (startup64 - seg0.vaddr)),
    } : null);
  }

  /**
   * The decompressor is starting: from here on the run needs what comes from the payload (the kernel's entry, the
   * default target, the decompressor's symbols). Waiting for it here, at a fixed point of the run, keeps the run the
   * same whenever the payload's worker finished.
   */
  private payloadNeeded(): void {
    void this.signature;
    void this.until;
  }

  // ---- what the run knows ------------------------------------------------------

  /** kexec's load plan: segments, purgatory, boot_params, the hand-off state. */
  get plan(): LoadPlan { return this.prepared.plan; }
  /** The new kernel's symbols and where they came from. */
  get symbols(): KernelSymbols { return this.prepared.symbols; }
  /** The vmlinux ELF from the bzImage's payload (the image check's reference). */
  get elf(): Vmlinux { return this.prepared.elf; }
  /** The phase, when each phase began, and the kernel's entry once known. */
  get context(): BootContext { return this.state.ctx; }
  /** The boot's phase now: purgatory, decompressor or kernel. */
  get phase(): Phase { return this.state.ctx.phase; }
  /** Where and when the decompressor jumped to startup_64; null before it did. */
  get kernelEntry(): KernelEntry | null { return this.state.ctx.kernelEntry; }

  /** "symbol+0xoff" for an address, by the stage it belongs to now (or at `atIcount`). */
  override describe(addr: bigint, atIcount?: number): string {
    return describeAddress({ symbols: this.symbols, kernelEntry: this.kernelEntry, plan: this.plan, phase: this.phase, context: this.context }, addr, atIcount);
  }

  /** Add an observer: it sees the kernel's entry and each slice from now on. */
  observe(o: RunObserver): void { this.observers.push(o); }

  /** Run to the end of the boot (target, crash, hang or budget) and return the result. */
  runToEnd(): RunResult {
    for (;;) {
      const s = this.advance(Infinity, false);
      if (s.kind === 'end') return this.result();
    }
  }

  /** The result as it stands (call after the run ended for an outcome). */
  result(): RunResult {
    const m = this.machine, s = this.state;
    return {
      outcome: s.outcome ?? 'budget', reason: s.reason, phase: s.ctx.phase, instructions: m.cpu.icount, console: m.serialText, vga: m.vgaText,
      state: captureCpuState(m.cpu), target: s.outcome === 'reached' ? s.target : null, kernelEntry: s.ctx.kernelEntry,
      tripleFault: m.events.tripleFault, hang: s.hang, plan: this.plan, symbols: this.symbols, machine: m, context: s.ctx,
    };
  }

  // ---- the subclass hooks --------------------------------------------------------------

  protected override immutableInputs(): object[] {
    // Only what is worked out already: naming the payload's parts would wait for them.
    const p = this.prepared, known = this.entrySignature !== undefined;
    return [p, p.plan, ...(known ? [p.symbols, p.elf] : [])];
  }

  protected override onInternalBreak(key: number, icount: number): boolean {
    this.onInternalPass(key, icount);
    const s = this.state;
    if (key === this.targetKey && (this.until.kind === 'address' || s.ctx.kernelEntry !== null)) {
      s.cause = { kind: 'end', outcome: 'reached', reason: `reached ${s.target?.name ?? 'the target'}` };
      return true;
    }
    return false;
  }

  protected override onInternalPass(key: number, icount: number): void {
    const ctx = this.state.ctx;
    if (key === this.kernelEntryKey && ctx.phase === 'purgatory') {
      this.payloadNeeded();
      ctx.phase = 'decompressor'; ctx.phaseStart.decompressor = icount;
      for (const o of this.observers as RunObserver[]) o.onPhase?.(this, 'decompressor');
    }
  }

  protected override afterAdvance(): void { this.enterKernelAtRip(); }

  protected override onSliceBoundary(): void {
    const c = this.machine.cpu;
    this.options.progress?.({ instructions: c.icount, phase: this.phase, rip: c.getRip() });
  }

  /** Watch for the decompressor's jump into the new kernel (decoded code with startup_64's bytes). */
  private armKernelEntry(): void {
    // Armed before it is known whether the kernel's symbols name startup_64 (the payload may still be on its way): the
    // hook only looks in the decompressor phase.
    this.machine.cpu.onBlockDecoded = (_cpu, _lo, _hi, phys) => this.maybeEnterKernel(phys);
  }

  /**
   * Code at guest-physical `phys` is about to run: if the decompressor is
   * jumping to startup_64 (vmlinux's bytes there), the kernel phase begins.
   * Returns true when the run's target is the kernel's entry (stop here).
   */
  private maybeEnterKernel(phys: number): boolean {
    const m = this.machine, cpu = m.cpu, ctx = this.state.ctx;
    if (ctx.phase !== 'decompressor') return false;
    const sig = this.signature;
    if (sig === null) return false;
    const here = m.ram.read(phys, 16);
    if (!here.every((b, k) => b === sig.bytes[k])) return false;
    const outputPhys = phys - sig.startupOffset;
    const { elf, payload } = this.prepared;
    const relocs = payload.relocs as RelocTable | undefined;
    const sites = relocs ? relocSites(elf, relocs) : [];
    const virtDelta = inferVirtDelta(elf, sites, outputPhys, (a, n) => m.ram.view(a, n));
    const linkBase = elf.segments.reduce((lo, sg) => (sg.vaddr < lo ? sg.vaddr : lo), elf.segments[0]!.vaddr);
    const entry: KernelEntry = { icount: cpu.icount, startup64Phys: phys, outputPhys, virtDelta, linkBase };
    ctx.kernelEntry = entry;
    ctx.phase = 'kernel'; ctx.phaseStart.kernel = cpu.icount;
    cpu.onBlockDecoded = null;
    for (const o of this.observers as RunObserver[]) { o.onPhase?.(this, 'kernel'); o.onKernelEntry?.(this, entry); }
    if (this.until.kind === 'symbol') {
      const a = this.until.address + virtDelta;
      this.state.target = { name: this.until.name, address: a };
      this.targetKey = keyOf(a);
      this.setInternal(a);
    }
    if (this.until.kind === 'entry') {
      this.state.target = { name: 'startup_64', address: BigInt(phys) };
      this.state.cause = { kind: 'end', outcome: 'reached', reason: 'reached the new kernel\'s startup_64' };
      return true;
    }
    return false;
  }

  /**
   * A stop right before the kernel's first instruction (an exact count, not
   * a decode) is already in the kernel phase, as a breakpoint there sees it.
   */
  private enterKernelAtRip(): void {
    if (this.state.ctx.phase !== 'decompressor' || this.state.outcome !== null) return;
    const m = this.machine;
    const phys = pageWalk(m.cpu, m.cpu.getRip(), (a, n) => m.ram.read(a, n)).phys;
    if (phys !== null && this.maybeEnterKernel(phys)) this.end('reached', 'reached the new kernel\'s startup_64', null);
  }
}

/** The target `until` names; the kernel's symbols are asked for only when it is a symbol's name (they may not be there yet). */
function resolveTarget(until: string | bigint | null, symbolsOf: () => KernelSymbols): Target {
  if (until === null) return { kind: 'none' };
  if (typeof until === 'bigint') return { kind: 'address', address: until };
  if (until === 'startup_64') return { kind: 'entry' };
  if (/^0x[0-9a-f]+$/i.test(until)) return { kind: 'address', address: BigInt(until) };
  const symbols = symbolsOf();
  const a = symbols.table.lookup(until);
  if (a === undefined) throw new InputError(`--until ${until}: no such symbol in ${symbols.source}`);
  return { kind: 'symbol', name: until, address: a };
}
