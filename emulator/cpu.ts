// Architectural state of one x86-64 CPU and its memory access paths.
// 64-bit values are two 32-bit halves (lo/hi Int32Arrays); no BigInt on
// the hot path. The run loop lives in run.ts, decoding in decode.ts.
import { FRAME_READ_SLOW, FRAME_WRITE_SLOW, type PhysicalMemory } from './memory.ts';
import { type PortBus, type CpuidModel, type MsrBus, type RandomSource, noPorts, basicCpuid, noMsrs } from './platform.ts';
import { LazyOp, arithFlags, setArithFlags, ARITH_FLAGS } from './flags.ts';
import type { Block, Insn } from './insn.ts';
import type { CpuFault } from './fault.ts';
import { run as runLoop, runOne as runOneInsn, type Stop } from './run.ts';
import { translate, Access } from './mmu.ts';
import { BlockCache } from './blockcache.ts';
import { DEFAULT_COMPILE_THRESHOLD } from './jit/compile.ts';
import { cpuArrays, type WasmMachine } from './jit/wasm/machine.ts';

export * from './regs.ts';
import { CHECK_AC, CHECK_DBG, Seg, CR0_PE, CR0_AM, CR0_ET, CR0_NE, CR0_MP, CR0_CD, CR0_NW, CR0_PG, CR4_PAE, CR4_OSFXSR, CR4_LA57, EFER_LME, EFER_LMA, EFER_NXE, ATTR_S, ATTR_P, ATTR_L, ATTR_G, ATTR_DB, PagingMode } from './regs.ts';

export interface CpuOptions {
  memory: PhysicalMemory;
  ports?: PortBus;
  cpuid?: CpuidModel;
  msrs?: MsrBus;
  random?: RandomSource;
  /** Nominal TSC ticks per retired instruction (RDTSC = icount * this). */
  tscPerInstruction?: number;
  /**
   * The Wasm backend (emulator/jit/wasm/): hot 64-bit blocks compile to WebAssembly over this machine's memory, and the
   * Cpu keeps its registers and TLB there. `memory.ram` must be the machine's `ram`. Absent: blocks compile to JS.
   */
  wasm?: WasmMachine;
}

const TLB_BITS = 10;
const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;

/** A linear address as one number key (exact below 2^53; kernel addresses keep their low 52 bits distinct). */
export function linearKey(lo: number, hi: number): number {
  return (hi & 0xfffff) * 4294967296 + (lo >>> 0);
}

export class Cpu {
  readonly mem: PhysicalMemory;
  ram: Uint8Array;
  ramView: DataView;
  ports: PortBus;
  cpuidModel: CpuidModel;
  msrBus: MsrBus;
  random: RandomSource | undefined;
  tscPerInstruction: number;

  // General-purpose registers: low and high 32 bits.
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  ripLo = 0; ripHi = 0;

  // Lazy flags (see flags.ts) and the non-arithmetic RFLAGS bits.
  fOp: LazyOp = LazyOp.None; fSize = 32;
  fA = 0; fAh = 0; fB = 0; fBh = 0; fR = 0; fRh = 0; fAux = 0;
  flagsSys = 2;

  // Segment registers with their hidden descriptor parts.
  readonly segSel = new Int32Array(6);
  readonly segBaseLo = new Int32Array(6);
  readonly segBaseHi = new Int32Array(6);
  readonly segLimit = new Int32Array(6);
  readonly segAttr = new Int32Array(6);

  // System registers.
  cr0 = CR0_ET | CR0_CD | CR0_NW; cr2Lo = 0; cr2Hi = 0; cr3Lo = 0; cr3Hi = 0; cr4 = 0; cr8 = 0;
  efer = 0;
  gdtrBaseLo = 0; gdtrBaseHi = 0; gdtrLimit = 0xffff;
  idtrBaseLo = 0; idtrBaseHi = 0; idtrLimit = 0xffff;
  ldtrSel = 0; ldtrBaseLo = 0; ldtrBaseHi = 0; ldtrLimit = 0; ldtrAttr = 0;
  trSel = 0; trBaseLo = 0; trBaseHi = 0; trLimit = 0; trAttr = 0;
  readonly dr = new Float64Array(8);
  /** MSRs the core owns, by index (values as bigint: only touched by rdmsr/wrmsr). */
  readonly msr = new Map<number, bigint>();
  kernelGsBaseLo = 0; kernelGsBaseHi = 0;

  // SSE and x87 control state.
  readonly xmm = new Int32Array(64);
  mxcsr = 0x1f80;
  fpuControl = 0x37f; fpuStatus = 0; fpuTag = 0xffff;

  // Derived mode state (recomputed by updateMode()).
  codeBits = 16;
  stackBits = 16;
  cpl = 0;
  pagingMode: PagingMode = PagingMode.None;
  /** Physical address bits (MAXPHYADDR) for reserved-bit checks. */
  physAddrBits = 48;

  /**
   * Per-access checks in force (segcheck.ts): bit s (0-5) when segment s is
   * not flat (legacy/compatibility modes: not a present, writable, expand-up
   * data segment with a 4 GiB limit; real mode: limit below 4 GiB), CHECK_AC
   * when alignment checking is on (CR0.AM, RFLAGS.AC, CPL 3). 0 in 64-bit
   * code without #AC: then no access pays for a check and compiled blocks run.
   */
  checks = 0;
  /** Enabled DR7 breakpoints (debugregs.ts): bit n instruction breakpoint n, bit 4+n data breakpoint n. */
  dbg = 0;
  /** Set by mov ss / pop ss: debug traps wait until after the next instruction (SDM Vol. 3A 6.8.3). */
  ssShadow = false;
  /** Data breakpoints hit by the current instruction (DR6 B0-B3 bits). */
  dbgHit = 0;
  /** Shift of a linear address's high half that must give 0 or -1 for it to be canonical (15: 48-bit, 24: LA57). */
  canonShift = 15;

  // Execution bookkeeping.
  /**
   * The virtual clock: instructions retired, where each iteration of a
   * rep-prefixed string instruction counts as one (docs/time-model.md).
   * Advances a block at a time; rep iterations are added as they happen.
   */
  icount = 0;
  /**
   * The clock value the current block must not pass (set by the run loop:
   * the run's budget, one step, stepLimit). A rep string instruction stops
   * between iterations when it is reached and resumes in the next run.
   */
  limit = Infinity;
  /** The largest icount at which the rest of the current block still fits before `limit` (rep iterations end the block beyond it). */
  fit = Infinity;
  /** The instruction being executed (for fault RIP and write attribution); null between blocks. */
  cur: Insn | null = null;
  /** Set by a compiled block that went on into a successor block (compile.ts regions): the block that ran last. */
  tail: Block | null = null;
  /** The instruction whose fault is being delivered (for reports), while the run loop delivers it. */
  faultInsn: Insn | null = null;
  /** Set by handlers that change how following code must be decoded or run; ends the current block. */
  blockExit = false;
  /** Interrupt shadow after sti / mov ss: no interrupt before the next instruction completes. */
  interruptShadow = false;
  halted = false;
  /** Events (exceptions, interrupts) delivered so far: the run loop tells a single-stepped int n from a plain instruction. */
  events = 0;
  /** Set when a triple fault shut the CPU down. */
  shutdown = false;
  /** Set by a hook or front end to stop the run loop at the next block boundary. */
  stopRequested = false;
  /** Executions of a block before it is compiled to JS (0: never). */
  jitThreshold = DEFAULT_COMPILE_THRESHOLD;
  /** Blocks compiled so far (a statistic: whether and how much the compiler ran). */
  blocksCompiled = 0;
  /** When > 0, blocks execute at most this many instructions, a rep iteration counting as one (single-stepping, exact stops); compiled blocks are not chained. */
  stepLimit = 0;
  /** Run every block in the interpreter (exact stops after any access a hook watches, e.g. a debugger's read watchpoint). */
  interpretOnly = false;
  /** True while the block builder reads code bytes (instruction fetch, not a data read). */
  fetching = false;
  /** Set with Stop.Runaway: execution ran through zero-filled memory (blockcache.ts RUNAWAY_ZERO_BLOCKS). */
  runaway = false;
  /** Called before each block; return true to re-check stop conditions (it may have changed RIP or state). */
  beforeBlock: ((c: Cpu) => boolean) | null = null;
  /** Exception delivery (installed by the system layer); null: faults stop the run. */
  faultHandler: ((c: Cpu, f: CpuFault) => boolean) | null = null;
  /** The last exception raised. */
  lastFault: CpuFault | null = null;
  /**
   * Execution breakpoints by linear address (key: linearKey(lo, hi)). The
   * callback runs before the instruction there executes; returning true
   * stops the run (Stop.Breakpoint) with RIP on it. Blocks end before
   * breakpoint addresses, so the check costs one lookup per block.
   */
  readonly breakpoints = new Map<number, (c: Cpu) => boolean>();
  /** The breakpoint the last stop was at: the next run executes it instead of stopping again. */
  breakpointResume = -1;
  /** Called when a block is decoded (new code reached); returning true stops before it runs (Stop.Requested). */
  onBlockDecoded: ((c: Cpu, linLo: number, linHi: number, phys: number) => boolean) | null = null;

  // Scratch outputs so hot helpers return two halves without allocating.
  eaLo = 0; eaHi = 0;
  /** High half returned by 64-bit reads and ALU helpers. */
  outHi = 0;

  // Software TLB: direct-mapped by linear page number; separate read and write sides.
  // (Allocated by the constructor: in the Wasm backend's memory when there is one, which its code reads and writes too.)
  private readonly rTagLo: Int32Array;
  private readonly rTagHi: Int32Array;
  private readonly rPhys: Int32Array;
  private readonly wTagLo: Int32Array;
  private readonly wTagHi: Int32Array;
  private readonly wPhys: Int32Array;
  /** The Wasm backend's machine (CpuOptions.wasm), or null: hot blocks compile to JS. */
  readonly wasm: WasmMachine | null;

  readonly blocks: BlockCache;

  constructor(opts: CpuOptions) {
    this.mem = opts.memory;
    this.ram = opts.memory.ram;
    this.wasm = opts.wasm ?? null;
    if (this.wasm !== null && this.ram !== this.wasm.ram) throw new Error('Cpu: with `wasm`, the memory\'s RAM must be the WasmMachine\'s ram');
    const a = cpuArrays(this.wasm, TLB_SIZE);
    this.lo = a.lo; this.hi = a.hi;
    this.rTagLo = a.rTagLo; this.rTagHi = a.rTagHi; this.rPhys = a.rPhys; this.wTagLo = a.wTagLo; this.wTagHi = a.wTagHi; this.wPhys = a.wPhys;
    this.ramView = new DataView(this.ram.buffer, this.ram.byteOffset, this.ram.byteLength);
    this.ports = opts.ports ?? noPorts;
    this.cpuidModel = opts.cpuid ?? basicCpuid;
    this.msrBus = opts.msrs ?? noMsrs;
    this.random = opts.random;
    this.tscPerInstruction = opts.tscPerInstruction ?? 1;
    this.blocks = new BlockCache(this);
    this.resetReal();
  }

  /** Power-on state: real mode at F000:FFF0. */
  resetReal(): void {
    this.lo.fill(0); this.hi.fill(0);
    this.lo[2] = 0x00a10f11; // EDX holds the CPU signature after reset
    this.ripLo = 0xfff0; this.ripHi = 0;
    setArithFlags(this, 0); this.flagsSys = 2;
    for (let s = 0; s < 6; s++) this.loadRealSegment(s, 0);
    this.loadRealSegment(Seg.CS, 0xf000);
    this.segBaseLo[Seg.CS] = 0xffff0000 | 0;
    this.cr0 = CR0_ET | CR0_CD | CR0_NW; this.cr4 = 0; this.efer = 0; this.cr3Lo = 0; this.cr3Hi = 0;
    this.gdtrBaseLo = 0; this.gdtrLimit = 0xffff; this.idtrBaseLo = 0; this.idtrLimit = 0xffff;
    this.updateMode();
  }

  /**
   * Embedding/test mode: 64-bit code, flat zero-based segments, CPL 0,
   * paging off (linear = physical), like Unicorn's x86-64 mode.
   */
  resetFlat64(): void {
    this.resetReal();
    this.lo[2] = 0;
    this.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
    this.cr4 = CR4_PAE | CR4_OSFXSR;
    this.efer = EFER_LME | EFER_LMA | EFER_NXE;
    for (let s = 0; s < 6; s++) this.setSegmentRaw(s, s === Seg.CS ? 0x10 : 0x18, 0, 0, -1, s === Seg.CS ? (0xb | ATTR_S | ATTR_P | ATTR_L | ATTR_G) : (0x3 | ATTR_S | ATTR_P | ATTR_DB | ATTR_G));
    this.ripLo = 0; this.ripHi = 0;
    this.updateMode();
    // Long mode without paging is not architectural; this mode exists for embedding and tests.
    this.pagingMode = PagingMode.None;
  }

  loadRealSegment(s: number, sel: number): void {
    this.setSegmentRaw(s, sel & 0xffff, (sel & 0xffff) << 4, 0, 0xffff, (s === Seg.CS ? 0xb : 0x3) | ATTR_S | ATTR_P);
  }

  setSegmentRaw(s: number, sel: number, baseLo: number, baseHi: number, limit: number, attr: number): void {
    this.segSel[s] = sel; this.segBaseLo[s] = baseLo; this.segBaseHi[s] = baseHi; this.segLimit[s] = limit; this.segAttr[s] = attr;
    if (s === Seg.CS || s === Seg.SS) this.updateMode();
    else this.updateChecks();
  }

  /** Recompute `checks` from the mode, the segments, CR0.AM, RFLAGS.AC and CPL. */
  updateChecks(): void {
    let m = 0;
    if (this.codeBits !== 64) {
      const pe = (this.cr0 & CR0_PE) !== 0 && (this.flagsSys & 0x20000) === 0;
      for (let s = 0; s < 6; s++) {
        if (s === Seg.CS) continue;
        const attr = this.segAttr[s]!;
        const flat = this.segLimit[s] === -1 && (!pe || ((attr & (ATTR_P | ATTR_S | 0xe)) === (ATTR_P | ATTR_S | 0x2)));
        if (!flat) m |= 1 << s;
      }
    }
    if ((this.cr0 & CR0_AM) && (this.flagsSys & 0x40000) && this.cpl === 3) m |= CHECK_AC;
    if (this.dbg & 0xf0) m |= CHECK_DBG;
    this.checks = m;
  }

  /** Recompute code/stack size, CPL and paging mode from CR0/CR4/EFER and CS/SS. */
  updateMode(): void {
    const oldCpl = this.cpl;
    const pe = (this.cr0 & CR0_PE) !== 0;
    const lma = (this.efer & EFER_LMA) !== 0;
    const csAttr = this.segAttr[Seg.CS]!;
    if (!pe) { this.codeBits = 16; this.stackBits = 16; this.cpl = 0; }
    else if (this.flagsSys & 0x20000) { this.codeBits = 16; this.stackBits = 16; this.cpl = 3; }
    else {
      this.codeBits = lma && (csAttr & ATTR_L) ? 64 : (csAttr & ATTR_DB) ? 32 : 16;
      this.stackBits = this.codeBits === 64 ? 64 : (this.segAttr[Seg.SS]! & ATTR_DB) ? 32 : 16;
      this.cpl = this.segSel[Seg.CS]! & 3;
    }
    const pg = (this.cr0 & CR0_PG) !== 0;
    this.pagingMode = !pg ? PagingMode.None : lma ? ((this.cr4 & CR4_LA57) ? PagingMode.Level5 : PagingMode.Level4) : (this.cr4 & CR4_PAE) ? PagingMode.Pae : PagingMode.Legacy32;
    this.canonShift = this.pagingMode === PagingMode.Level5 ? 24 : 15;
    this.updateChecks();
    this.blockExit = true;
    // TLB entries and decoded blocks were checked at the old privilege (U/S): drop them.
    if (this.cpl !== oldCpl) { this.flushTlb(); this.blocks.flush(); }
  }

  // ---- Registers (embedding API; bigint is fine off the hot path) ----

  getReg(i: number): bigint { return (BigInt(this.hi[i]! >>> 0) << 32n) | BigInt(this.lo[i]! >>> 0); }
  setReg(i: number, v: bigint): void { this.lo[i] = Number(v & 0xffffffffn) | 0; this.hi[i] = Number((v >> 32n) & 0xffffffffn) | 0; }
  getRip(): bigint { return (BigInt(this.ripHi >>> 0) << 32n) | BigInt(this.ripLo >>> 0); }
  setRip(v: bigint): void { this.ripLo = Number(v & 0xffffffffn) | 0; this.ripHi = Number((v >> 32n) & 0xffffffffn) | 0; }
  getRflags(): number { return (this.flagsSys & ~ARITH_FLAGS) | 2 | arithFlags(this); }
  setRflags(v: number): void {
    const vmChanged = ((this.flagsSys ^ v) & 0x20000) !== 0;
    this.flagsSys = (v & ~ARITH_FLAGS & 0x3f7fd5) | 2;
    setArithFlags(this, v);
    if (vmChanged) this.updateMode();
    else this.updateChecks();
  }
  getXmm(i: number): Uint8Array { return new Uint8Array(this.xmm.buffer.slice(i * 16, i * 16 + 16)); }
  setXmm(i: number, bytes: Uint8Array): void { new Uint8Array(this.xmm.buffer).set(bytes.subarray(0, 16), i * 16); }
  getCr2(): bigint { return (BigInt(this.cr2Hi >>> 0) << 32n) | BigInt(this.cr2Lo >>> 0); }
  getCr3(): bigint { return (BigInt(this.cr3Hi >>> 0) << 32n) | BigInt(this.cr3Lo >>> 0); }

  // ---- Linear memory access with the TLB fast path ----

  /** Drop every cached translation (CR3 write, paging mode change, frame flag change). */
  flushTlb(): void {
    this.rTagLo.fill(1); this.wTagLo.fill(1);
  }

  /** Drop translations of one linear page (invlpg). */
  flushTlbPage(lo: number, hi: number): void {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.rTagHi[idx] === hi) this.rTagLo[idx] = 1;
    if (this.wTagHi[idx] === hi) this.wTagLo[idx] = 1;
  }

  /** Slow path: translate, install a TLB entry when the frame is plain RAM, return the physical address. */
  private fill(lo: number, hi: number, access: Access): number {
    const phys = translate(this, lo, hi, access);
    const frame = Math.floor(phys / 4096);
    // RAM below 4 GiB: the entry keeps the page's address as an int32 bit pattern (read back with >>> 0).
    if (frame < this.mem.frameFlags.length && phys < 0x100000000) {
      const flags = this.mem.frameFlags[frame]!;
      const idx = (lo >>> 12) & TLB_MASK;
      if (access === Access.Write) {
        if ((flags & FRAME_WRITE_SLOW) === 0 && !this.blocks.isCodeFrame(frame)) {
          this.wTagLo[idx] = lo & ~0xfff; this.wTagHi[idx] = hi; this.wPhys[idx] = phys & ~0xfff;
        }
      } else if ((flags & FRAME_READ_SLOW) === 0) {
        this.rTagLo[idx] = lo & ~0xfff; this.rTagHi[idx] = hi; this.rPhys[idx] = phys & ~0xfff;
      }
    }
    return phys;
  }

  physRead(phys: number, size: number): number {
    const frame = Math.floor(phys / 4096);
    if (frame < this.mem.frameFlags.length && (this.mem.frameFlags[frame]! & FRAME_READ_SLOW) === 0 && phys + size <= this.ram.length) {
      if (size === 1) return this.ram[phys]!;
      if (size === 2) return this.ramView.getUint16(phys, true);
      return this.ramView.getInt32(phys, true);
    }
    const v = this.mem.readSlow(phys, size);
    return size === 4 ? v | 0 : v;
  }

  physWrite(phys: number, size: number, v: number): void {
    const frame = Math.floor(phys / 4096);
    if (this.blocks.isCodeFrame(frame)) this.blocks.invalidateFrame(frame);
    if (frame < this.mem.frameFlags.length && (this.mem.frameFlags[frame]! & FRAME_WRITE_SLOW) === 0 && phys + size <= this.ram.length) {
      if (size === 1) this.ram[phys] = v;
      else if (size === 2) this.ramView.setUint16(phys, v, true);
      else this.ramView.setInt32(phys, v, true);
      return;
    }
    this.mem.writeSlow(phys, size, size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff));
  }

  /** Read `size` (1, 2, 4) bytes at a linear address that may cross a page. */
  private readSlow(lo: number, hi: number, size: number, access: Access): number {
    const off = lo & 0xfff;
    if (off + size <= 0x1000) return this.physRead(this.fill(lo, hi, access), size);
    // Page-crossing: translate both pages first so a fault leaves nothing half done.
    let v = 0;
    const phys: number[] = [];
    for (let k = 0; k < size; k++) {
      const a = (lo + k) | 0, ah = (hi + ((lo >>> 0) + k > 0xffffffff ? 1 : 0)) | 0;
      phys.push(translate(this, a, ah, access));
    }
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.physRead(phys[k]!, 1);
    return size === 4 ? v | 0 : v;
  }

  private writeSlow(lo: number, hi: number, size: number, v: number): void {
    const off = lo & 0xfff;
    if (off + size <= 0x1000) { this.physWrite(this.fill(lo, hi, Access.Write), size, v); return; }
    const phys: number[] = [];
    for (let k = 0; k < size; k++) {
      const a = (lo + k) | 0, ah = (hi + ((lo >>> 0) + k > 0xffffffff ? 1 : 0)) | 0;
      phys.push(translate(this, a, ah, Access.Write));
    }
    for (let k = 0; k < size; k++) this.physWrite(phys[k]!, 1, (v >>> (8 * k)) & 0xff);
  }

  read8(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[idx] === (lo & ~0xfff) && this.rTagHi[idx] === hi) return this.ram[(this.rPhys[idx]! >>> 0) + (lo & 0xfff)]!;
    return this.readSlow(lo, hi, 1, Access.Read);
  }
  read16(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[idx] === (lo & ~0xfff) && this.rTagHi[idx] === hi && (lo & 0xfff) <= 0xffe) return this.ramView.getUint16((this.rPhys[idx]! >>> 0) + (lo & 0xfff), true);
    return this.readSlow(lo, hi, 2, Access.Read);
  }
  /** Returns the value as a signed int32. */
  read32(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[idx] === (lo & ~0xfff) && this.rTagHi[idx] === hi && (lo & 0xfff) <= 0xffc) return this.ramView.getInt32((this.rPhys[idx]! >>> 0) + (lo & 0xfff), true);
    return this.readSlow(lo, hi, 4, Access.Read);
  }
  /** Returns the low half; the high half is left in outHi. */
  read64(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[idx] === (lo & ~0xfff) && this.rTagHi[idx] === hi && (lo & 0xfff) <= 0xff8) {
      const p = (this.rPhys[idx]! >>> 0) + (lo & 0xfff);
      this.outHi = this.ramView.getInt32(p + 4, true);
      return this.ramView.getInt32(p, true);
    }
    if ((lo & 0xfff) <= 0xff8) {
      const p = this.fill(lo, hi, Access.Read);
      const l = this.physRead(p, 4);
      this.outHi = this.physRead(p + 4, 4);
      return l;
    }
    // Crossing a page: check both halves' pages before returning anything.
    const lo2 = (lo + 4) | 0, hi2 = (hi + ((lo >>> 0) + 4 > 0xffffffff ? 1 : 0)) | 0;
    const l = this.readSlow(lo, hi, 4, Access.Read);
    const h = this.readSlow(lo2, hi2, 4, Access.Read);
    this.outHi = h;
    return l;
  }

  write8(lo: number, hi: number, v: number): void {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi) { this.ram[(this.wPhys[idx]! >>> 0) + (lo & 0xfff)] = v; return; }
    this.writeSlow(lo, hi, 1, v & 0xff);
  }
  write16(lo: number, hi: number, v: number): void {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi && (lo & 0xfff) <= 0xffe) { this.ramView.setUint16((this.wPhys[idx]! >>> 0) + (lo & 0xfff), v, true); return; }
    this.writeSlow(lo, hi, 2, v & 0xffff);
  }
  write32(lo: number, hi: number, v: number): void {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi && (lo & 0xfff) <= 0xffc) { this.ramView.setInt32((this.wPhys[idx]! >>> 0) + (lo & 0xfff), v, true); return; }
    this.writeSlow(lo, hi, 4, v);
  }
  write64(lo: number, hi: number, vlo: number, vhi: number): void {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi && (lo & 0xfff) <= 0xff8) {
      const p = (this.wPhys[idx]! >>> 0) + (lo & 0xfff);
      this.ramView.setInt32(p, vlo, true); this.ramView.setInt32(p + 4, vhi, true);
      return;
    }
    if ((lo & 0xfff) > 0xff8) {
      // Crossing a page: make sure the second page is writable before writing the first.
      const lo2 = (lo + 4) | 0, hi2 = (hi + ((lo >>> 0) + 4 > 0xffffffff ? 1 : 0)) | 0;
      translate(this, (lo + 7) | 0, (hi + ((lo >>> 0) + 7 > 0xffffffff ? 1 : 0)) | 0, Access.Write);
      this.writeSlow(lo, hi, 4, vlo);
      this.writeSlow(lo2, hi2, 4, vhi);
      return;
    }
    const p = this.fill(lo, hi, Access.Write);
    this.physWrite(p, 4, vlo);
    this.physWrite(p + 4, 4, vhi);
  }

  // Reads for read-modify-write instructions: translated as writes (so the
  // store that follows cannot fault and leave flags half-updated).
  readRmw8(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi) return this.ram[(this.wPhys[idx]! >>> 0) + (lo & 0xfff)]!;
    return this.readSlow(lo, hi, 1, Access.Write);
  }
  readRmw16(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi && (lo & 0xfff) <= 0xffe) return this.ramView.getUint16((this.wPhys[idx]! >>> 0) + (lo & 0xfff), true);
    return this.readSlow(lo, hi, 2, Access.Write);
  }
  readRmw32(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi && (lo & 0xfff) <= 0xffc) return this.ramView.getInt32((this.wPhys[idx]! >>> 0) + (lo & 0xfff), true);
    return this.readSlow(lo, hi, 4, Access.Write);
  }
  readRmw64(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi && (lo & 0xfff) <= 0xff8) {
      const p = (this.wPhys[idx]! >>> 0) + (lo & 0xfff);
      this.outHi = this.ramView.getInt32(p + 4, true);
      return this.ramView.getInt32(p, true);
    }
    const lo2 = (lo + 4) | 0, hi2 = (hi + ((lo >>> 0) + 4 > 0xffffffff ? 1 : 0)) | 0;
    const l = this.readSlow(lo, hi, 4, Access.Write);
    this.outHi = this.readSlow(lo2, hi2, 4, Access.Write);
    return l;
  }

  /**
   * RAM offset of the 4 KiB page holding a linear address when the read TLB
   * maps it (plain RAM, no FRAME_READ_SLOW), else -1. Never walks tables.
   */
  tlbReadPage(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    return this.rTagLo[idx] === (lo & ~0xfff) && this.rTagHi[idx] === hi ? this.rPhys[idx]! >>> 0 : -1;
  }

  /** Like tlbReadPage for writes: a hit means plain RAM with no FRAME_WRITE_SLOW and no decoded code, dirty bit already set. */
  tlbWritePage(lo: number, hi: number): number {
    const idx = (lo >>> 12) & TLB_MASK;
    return this.wTagLo[idx] === (lo & ~0xfff) && this.wTagHi[idx] === hi ? this.wPhys[idx]! >>> 0 : -1;
  }

  /** Translate a linear address for an execute access (used by the block builder). */
  translateExec(lo: number, hi: number): number {
    return translate(this, lo, hi, Access.Exec);
  }

  physReadByte(phys: number): number { return this.physRead(phys, 1); }

  /** Translate a linear address for a data read (for debuggers and analysis; may set accessed bits, faults throw). */
  translateData(lo: number, hi: number): number {
    return translate(this, lo, hi, Access.Read);
  }

  /**
   * The virtual time of the instruction executing now (of its current
   * iteration, for a rep string instruction). `icount` advances a block at a
   * time (plus rep iterations as they happen); during a block this adds the
   * current instruction's position, so RDTSC and write records see the
   * exact virtual time.
   */
  preciseIcount(): number {
    const i = this.cur;
    return i === null ? this.icount : this.icount + i.pos;
  }

  /**
   * Tell the core that something other than the CPU (a device, the loader,
   * a hypervisor model) wrote guest-physical memory, so decoded code from
   * those frames is dropped.
   */
  notifyPhysicalWrite(addr: number, len: number): void {
    for (let f = Math.floor(addr / 4096); f * 4096 < addr + len; f++) {
      if (this.blocks.isCodeFrame(f)) this.blocks.invalidateFrame(f);
    }
  }

  /** Set an execution breakpoint at a linear address (halves); see `breakpoints`. */
  addBreakpoint(lo: number, hi: number, callback: (c: Cpu) => boolean = () => true): void {
    this.breakpoints.set(linearKey(lo, hi), callback);
    this.blocks.flush(); // blocks must be re-cut so one ends before the new address
  }

  removeBreakpoint(lo: number, hi: number): void {
    if (this.breakpoints.delete(linearKey(lo, hi))) this.blocks.flush();
  }

  /** Run up to `budget` instructions; see run.ts for the stop reasons. */
  run(budget: number): Stop { return runLoop(this, budget); }

  /** Execute one instruction without delivering exceptions: -1, or the vector raised. */
  runOne(): number { return runOneInsn(this); }
}
