// The per-case builder the instruction forms use: allocates distinct
// registers, picks edge/random values, builds memory operands that land in
// the data window, and records which state is undefined (masked).

import type { Mem, RM } from './encode.ts';
import { ALL_FLAGS, COMPARED_FLAGS, ID, DATA_WIN, STACK_WIN, WIN_SIZE, CODE_ENTRY, type CaseInput, type Patch } from './layout.ts';
import { Rng } from './rng.ts';

export type Size = 8 | 16 | 32 | 64;
/** 8-bit register set: 'legacy' = AL..BH with AH..BH, no REX; 'rex' = AL..R15B with SPL..DIL. */
export type Mode8 = 'legacy' | 'rex';

/** A register operand: encoding number and where its bits live. */
export interface RegOp { enc: number; gpr: number; shift: 0 | 8; size: Size }

/** An r/m operand as allocated: register or memory (addr = its linear address). */
export type RmOp = ({ kind: 'reg' } & RegOp) | { kind: 'mem'; mem: Mem; addr: number; size: Size };

const MASKS = Array.from({ length: 129 }, (_, i) => (1n << BigInt(i)) - 1n);
export function maskOf(size: number): bigint { return MASKS[size]!; }
const FULL = MASKS[64]!;

export interface Masks {
  flags: number;                 // RFLAGS bits compared
  gpr: bigint[];                 // per-GPR bits compared
  mem: [number, number][];       // [addr, len] ranges not compared
  notes: string[];               // which undefined state was masked in this case
}

export class Gen {
  readonly rng: Rng;
  readonly gpr = new BigUint64Array(16);
  rflags: number;
  readonly xmm: Uint8Array;
  readonly memSeed: number;
  readonly patches: Patch[] = [];
  code: Uint8Array = new Uint8Array();
  /** The branch target, if the instruction may branch (0 = none). */
  branchTarget = 0;
  /** FS and GS segment bases, for forms with FS/GS overrides (undefined: the host keeps its own). */
  fsBase: bigint | undefined;
  gsBase: bigint | undefined;
  /** The case is an invalid encoding on purpose (both sides must raise #UD): exempt from the one-instruction check. */
  ud = false;
  /** For forms that may stop mid-instruction in the core (rep string ops). */
  rep = false;
  readonly masks: Masks;
  private used = new Set<number>();
  private used8 = new Set<number>();

  constructor(seed: number, formId: string, readonly index: number, readonly mode: 32 | 64 = 64) {
    this.rng = new Rng(seed, formId, index);
    for (let i = 0; i < 16; i++) this.gpr[i] = this.randomU64();
    // RSP points into the stack window (16-byte aligned or not).
    this.gpr[4] = BigInt(STACK_WIN + 128 + this.rng.range(-4, 4) * 8 + (this.rng.bool(0.2) ? this.rng.range(1, 7) : 0));
    // User code may also set ID (AC would turn on alignment checks: Linux runs with CR0.AM set).
    this.rflags = (this.rng.u32() & (COMPARED_FLAGS | ID)) | 0x202;
    this.xmm = new Uint8Array(256);
    const x32 = new Uint32Array(this.xmm.buffer);
    for (let i = 0; i < 64; i++) x32[i] = this.rng.u32();
    this.memSeed = this.rng.u32();
    this.masks = { flags: ALL_FLAGS, gpr: new Array<bigint>(16).fill(FULL), mem: [], notes: [] };
    if (mode === 32) {
      // The host switches to compatibility mode and back by far jumps; the upper halves of the GPRs
      // are undefined across the switch (Intel SDM Vol. 1 §3.4.1.1: software must not depend on them).
      this.masks.gpr.fill(maskOf(32));
      this.masks.notes.push('32-bit code: GPR bits 63:32 undefined across the mode switch (compared: bits 31:0)');
    }
  }

  // ---- values --------------------------------------------------------

  randomU64(): bigint {
    const r = this.rng;
    switch (r.int(6)) {
      case 0: return BigInt(r.u32() & 0xff);
      case 1: return BigInt.asUintN(64, -BigInt(r.range(1, 300)));
      default: return r.u64();
    }
  }

  /** An operand value of `size` bits: half edge cases, half random. */
  value(size: number): bigint {
    const r = this.rng;
    const m = maskOf(size), sign = 1n << BigInt(size - 1);
    if (r.bool(0.5)) {
      const edges = [0n, 1n, 2n, m, m - 1n, sign, sign - 1n, sign + 1n, BigInt(size - 1), BigInt(size), BigInt(size + 1), 0x80n, 0x7fn, 0xffn, 0x100n];
      return r.pick(edges) & m;
    }
    switch (r.int(4)) {
      case 0: return BigInt(r.range(0, 255)) & m;
      case 1: return (m - BigInt(r.range(0, 255))) & m;
      default: return r.u64() & m;
    }
  }

  /** A shift/rotate count (the raw 8-bit value before the CPU masks it). */
  count(size: number): number {
    const r = this.rng;
    if (r.bool(0.6)) return r.pick([0, 1, 2, size - 1, size, size + 1, 2 * size - 1, 31, 32, 33, 63, 64, 65, 127, 128, 255, 9, 17]);
    return r.range(0, 255);
  }

  // ---- registers -----------------------------------------------------

  /** Keep a register out of allocation (implicit operands; 4 = the stack pointer in stack forms). */
  reserve(...regs: number[]): void { for (const x of regs) this.used.add(x); }

  /** A fresh GPR number; rsp only if allowRsp, r8..r15 unless noRex. */
  pickGpr(opts: { noRex?: boolean; allowRsp?: boolean } = {}): number {
    const cands: number[] = [];
    for (let i = 0; i < (opts.noRex || this.mode === 32 ? 8 : 16); i++) {
      if (this.used.has(i) || (i === 4 && !opts.allowRsp)) continue;
      cands.push(i);
    }
    if (cands.length === 0) throw new Error('out of registers');
    const x = this.rng.pick(cands);
    this.used.add(x);
    return x;
  }

  /** A register operand of `size`; 8-bit per mode8. */
  reg(size: Size, mode8: Mode8 = 'rex', opts: { allowRsp?: boolean; noRex?: boolean } = {}): RegOp {
    if (size === 8 && mode8 === 'legacy') {
      const cands = [0, 1, 2, 3, 4, 5, 6, 7].filter((e) => !this.used8.has(e) && !this.used.has(e & 3) || (!this.used8.has(e) && this.used8Gprs().has(e & 3)));
      if (cands.length === 0) throw new Error('out of 8-bit registers');
      const enc = this.rng.pick(cands);
      this.used8.add(enc);
      this.used.add(enc & 3);
      return { enc, gpr: enc & 3, shift: enc >= 4 ? 8 : 0, size };
    }
    const g = this.pickGpr({ allowRsp: opts.allowRsp ?? this.rng.bool(0.1), noRex: opts.noRex ?? false });
    return { enc: g, gpr: g, shift: 0, size };
  }

  private used8Gprs(): Set<number> { return new Set([...this.used8].map((e) => e & 3)); }

  /** A fixed register as an operand (for implicit or +r forms chosen by the form). */
  fixedReg(gpr: number, size: Size): RegOp { this.used.add(gpr); return { enc: gpr, gpr, shift: 0, size }; }

  setReg(r: { gpr: number; shift: 0 | 8; size: Size } | number, v: bigint, size?: Size): void {
    if (typeof r === 'number') { this.gpr[r] = v; return; }
    const m = maskOf(size ?? r.size) << BigInt(r.shift);
    this.gpr[r.gpr] = (this.gpr[r.gpr]! & ~m) | ((v << BigInt(r.shift)) & m);
  }

  // ---- memory --------------------------------------------------------

  /** Write `size` bytes of v at a window address (a patch). */
  poke(addr: number, v: bigint | Uint8Array, size = 8): void {
    const bytes = v instanceof Uint8Array ? v : new Uint8Array(size);
    if (!(v instanceof Uint8Array)) { let x = BigInt.asUintN(size * 8, v); for (let i = 0; i < size; i++) { bytes[i] = Number(x & 0xffn); x >>= 8n; } }
    if (this.patches.length >= 4) throw new Error('too many patches');
    this.patches.push({ addr, bytes });
  }

  /** A data-window address for an operand of `bytes` bytes within [lo, hi) of the window. */
  dataAddr(bytes: number, opts: { lo?: number; hi?: number; align?: number } = {}): number {
    const lo = opts.lo ?? 16, hi = opts.hi ?? WIN_SIZE - 16;
    const align = opts.align ?? (this.rng.bool(0.7) ? Math.min(bytes, 8) : 1);
    let off = this.rng.range(lo, hi - bytes);
    off -= off % align;
    return DATA_WIN + off;
  }

  /**
   * A memory operand at `addr` with a random addressing mode: absolute
   * disp32, [base], [base+disp8/32], [base+index*scale+disp], [index*scale+disp32],
   * optionally with a 0x67 address-size prefix (32-bit wraparound, upper register bits ignored).
   * Base/index registers get values that make the effective address come out at addr.
   */
  memAt(addr: number, opts: { noRex?: boolean; allowRspBase?: boolean; any?: boolean; addr32?: boolean } = {}): Mem {
    const r = this.rng;
    // 32-bit code: 32-bit addresses without a prefix (67h would select 16-bit addressing), no RIP-relative form.
    const addr32 = this.mode === 32 ? false : opts.addr32 ?? r.bool(0.15);
    const w32 = addr32 || this.mode === 32;
    let mode = r.int(7);
    if (mode === 6 && this.mode === 32) mode = 0;
    const width = w32 ? 32 : 64;
    const wrap = (v: bigint) => BigInt.asUintN(width, v);
    const upper = (v: bigint) => w32 ? (r.u64() & ~maskOf(32)) | v : v;
    const dispOf = (size: 8 | 32) => size === 8 ? r.range(-128, 127) : r.bool(0.5) ? r.range(-0x1000, 0x1000) : (r.u32() | 0);
    const A = BigInt(addr);
    if (mode === 0) return { base: null, index: null, scale: 1, disp: addr, dispSize: 32, addr32 };
    if (mode === 6) return { base: null, index: null, scale: 1, disp: 0, dispSize: 32, addr32, rip: { target: addr } };
    const noRex = opts.noRex ?? false;
    const base = this.pickGpr({ noRex, allowRsp: (opts.allowRspBase ?? true) && r.bool(0.15) });
    if (mode <= 3) {
      const dispSize = mode === 1 ? 0 : mode === 2 ? 8 : 32;
      const disp = dispSize === 0 ? 0 : dispOf(dispSize);
      this.gpr[base] = opts.any ? r.u64() : upper(wrap(A - BigInt(disp)));
      return { base, index: null, scale: 1, disp, dispSize: dispSize === 0 && (base & 7) === 5 ? 8 : dispSize, addr32 };
    }
    const index = this.pickGpr({ noRex });
    const scale = r.pick([1, 2, 4, 8] as const);
    const iv = r.bool(0.5) ? BigInt(r.range(-64, 64)) : r.u64();
    this.gpr[index] = opts.any ? r.u64() : upper(BigInt.asUintN(width, iv));
    if (mode === 5) {
      this.used.delete(base);
      const disp = Number(BigInt.asIntN(32, wrap(A - iv * BigInt(scale))));
      // No-base SIB needs disp ≡ addr - index*scale (mod 2^width) within signed 32 bits.
      if (opts.any || BigInt.asUintN(width, BigInt(disp) + iv * BigInt(scale)) === A) {
        return { base: null, index, scale, disp: opts.any ? (r.u32() | 0) : disp, dispSize: 32, addr32 };
      }
      this.gpr[index] = upper(BigInt(r.range(0, 64)));
      const d2 = addr - Number(this.gpr[index]! & 0xffffffffn) * scale;
      return { base: null, index, scale, disp: opts.any ? (r.u32() | 0) : d2, dispSize: 32, addr32 };
    }
    const dispSize = r.pick([0, 8, 32] as const);
    const disp = dispSize === 0 ? 0 : dispOf(dispSize);
    this.gpr[base] = opts.any ? r.u64() : upper(wrap(A - iv * BigInt(scale) - BigInt(disp)));
    return { base, index, scale, disp, dispSize, addr32 };
  }

  /** An r/m operand of `size`: register or (with probability pMem) memory holding `init`. */
  rm(size: Size, mode8: Mode8, pMem: number, memOpts: { align?: number; lo?: number; hi?: number; noRex?: boolean } = {}): RmOp {
    const noRex = memOpts.noRex ?? (size === 8 && mode8 === 'legacy');
    if (this.rng.bool(pMem)) {
      const addr = this.dataAddr(size / 8, memOpts);
      const mem = this.memAt(addr, { noRex });
      return { kind: 'mem', mem, addr, size };
    }
    return { kind: 'reg', ...this.reg(size, mode8, { noRex }) };
  }

  /** Give an r/m operand a value (register bits or a memory patch). */
  setRm(op: RmOp, v: bigint): void {
    if (op.kind === 'reg') this.setReg(op, v);
    else this.poke(op.addr, v, op.size / 8);
  }

  /** Encoder view of an r/m operand. */
  static rmSpec(op: RmOp): RM { return op.kind === 'reg' ? { reg: op.enc } : { mem: op.mem }; }

  // ---- masks ---------------------------------------------------------

  maskFlags(bits: number, why: string): void {
    if ((this.masks.flags & bits) === 0) return;
    this.masks.flags &= ~bits;
    this.masks.notes.push(why);
  }

  /**
   * Mark an r/m destination's value undefined: the memory bytes, or the
   * register bits the operand covers. An 8- or 16-bit destination masks only
   * its own bits: the rest of the register must be preserved, and is
   * compared. A 32-bit one masks all 64 bits: whether an undefined 32-bit
   * result zero-extends is not specified either (AMD leaves bsf/bsr's whole
   * register unchanged for a zero source; Intel's result is undefined).
   */
  maskDest(op: RmOp | RegOp, why: string): void {
    if ('kind' in op && op.kind === 'mem') {
      this.masks.mem.push([op.addr, op.size / 8]);
      this.masks.notes.push(why);
      return;
    }
    const r = op as RegOp;
    if (r.size === 32 || r.size === 64) {
      this.masks.gpr[r.gpr] = 0n;
      this.masks.notes.push(`${why} (all 64 bits masked)`);
    } else {
      const bits = maskOf(r.size) << BigInt(r.shift);
      this.masks.gpr[r.gpr] = this.masks.gpr[r.gpr]! & ~bits;
      this.masks.notes.push(`${why} (bits ${r.shift + r.size - 1}:${r.shift} masked; the other bits must be preserved and are compared)`);
    }
  }

  /** A code-page address for a branch target outside the instruction itself. */
  target(len: number, span: number): number {
    for (;;) {
      const t = CODE_ENTRY + this.rng.range(-span, span);
      if (t < CODE_ENTRY || t >= CODE_ENTRY + len) return (this.branchTarget = t);
    }
  }

  /** Finish: the case input. */
  input(): CaseInput {
    return { code: this.code, memSeed: this.memSeed, gpr: this.gpr, rflags: this.rflags, xmm: this.xmm, patches: this.patches, target: this.branchTarget, ...(this.fsBase !== undefined || this.gsBase !== undefined ? { fsBase: this.fsBase ?? 0n, gsBase: this.gsBase ?? 0n } : {}) };
  }
}
