// Code generation state for the Wasm backend (compile.ts, region.ts): the
// function being built, guest registers as i64 locals, the lazy-flag fields
// as i32 locals with what has been written where, condition codes, memory
// accesses with the inline TLB check, exits and handler calls.
import type { Block, Insn } from '../../insn.ts';
import { emit } from '../emit.ts';
import { Op, I32, I64, type FuncType } from './encode.ts';
import { Fn } from './fn.ts';
import { REG_LO, REG_HI, FLAGS, RIP, FAULT, OUT_HI, R_TAG_LO, R_TAG_HI, R_PHYS, W_TAG_LO, W_TAG_HI, W_PHYS, RAM_BASE, FLAG_FIELDS } from './machine.ts';
import { STACK_ACCESS } from './glue.ts';

// Function indices: the imports, then the block, then the flag helpers.
export const RD = 0, WR = 1, CALL = 2; // 3: the block's function, then the flag helpers it uses
export const IMPORTS: { name: string; type: FuncType }[] = [
  { name: 'rd', type: { params: [I32, I32, I32, I32], results: [I32] } },
  { name: 'wr', type: { params: [I32, I32, I32, I32, I32, I32], results: [I32] } },
  { name: 'call', type: { params: [I32], results: [I32] } },
];

/** Flag field bits (FLAG_FIELDS order). */
export const F_OP = 1, F_SIZE = 2, F_A = 4, F_AH = 8, F_B = 16, F_BH = 32, F_R = 64, F_RH = 128, F_AUX = 256, F_ALL = 511;

export type Kind = 'sub' | 'add' | 'logic';

/** Whether the JS backend emits an instruction inline (then so does this one), and whether it may fault. */
export function inlineForm(i: Insn): { mayFault: boolean; writesMemory: boolean } | null {
  const e = emit(i, i.exec, { flags: null, flagsLive: true }, 64);
  return e === null ? null : { mayFault: e.mayFault, writesMemory: e.writesMemory };
}

/** What one code generation pass found out (the second pass uses the first's). */
export interface Usage {
  /** Registers the block uses, and those it writes. */
  regsUsed: Set<number>; regsWritten: Set<number>;
  /** Flag fields read before written (loaded at entry), and written anywhere. */
  flagsEntry: number; flagsWritten: number;
  /** After m instructions: the flag fields written so far (all after a handler call). */
  masks: number[];
  cf: boolean; cond: boolean;
  /** Positions of the instructions that are handler calls. */
  handlers: number[];
}

export class Gen {
  readonly f = new Fn([I32]); // param 0: passes allowed (looping blocks)
  private readonly regLocal = new Map<number, number>();
  readonly fl: number[];
  // Scratch: i32 and i64 values of the current instruction, the address, the TLB index.
  readonly a: number; readonly b: number; readonly r: number; readonly t: number;
  readonly A: number; readonly B: number; readonly R: number; readonly T: number;
  readonly ea: number; readonly elo: number; readonly ix: number;
  readonly ret: number; readonly passes: number; readonly wexit: number;
  /** adc/sbb's carry in (g.t may be taken by a memory access's slow path). */
  readonly cin: number;
  /** The last flag producer when its operands are still in (a, b, r) or (A, B, R). */
  known: { kind: Kind; size: 32 | 64 } | null = null;
  flagsLive = true;
  written = 0;
  entry = 0;
  everWritten = 0;
  readonly regsUsed = new Set<number>();
  readonly regsWritten = new Set<number>();
  readonly masks: number[] = [];
  usesCf = false; usesCond = false;
  readonly handlers: number[] = [];
  exitDepth = 0;
  pos = 0;

  constructor(public blk: Block, readonly loops: boolean, readonly prior: Usage | null) {
    const f = this.f;
    this.fl = FLAG_FIELDS.map(() => f.local(I32));
    this.a = f.local(I32); this.b = f.local(I32); this.r = f.local(I32); this.t = f.local(I32);
    this.A = f.local(I64); this.B = f.local(I64); this.R = f.local(I64); this.T = f.local(I64);
    this.ea = f.local(I64); this.elo = f.local(I32); this.ix = f.local(I32);
    this.ret = f.local(I32); this.passes = f.local(I32); this.wexit = f.local(I32); this.cin = f.local(I32);
    // The helpers follow the block's function when the first pass found them used (its own indices do not matter).
    this.cfIndex = 4;
    this.condIndex = prior !== null && !prior.cf ? 4 : 5;
  }
  readonly cfIndex: number; readonly condIndex: number;

  // ---- registers ----
  reg(n: number): number {
    let l = this.regLocal.get(n);
    if (l === undefined) { l = this.f.local(I64); this.regLocal.set(n, l); }
    this.regsUsed.add(n);
    return l;
  }
  getReg(n: number): void { this.f.get(this.reg(n)); }
  /** Low 32 bits of a register as i32. */
  getReg32(n: number): void { this.f.get(this.reg(n)).op(Op.i32WrapI64); }
  setReg(n: number): void { this.regsWritten.add(n); this.dirtyRegs.add(n); this.f.set(this.reg(n)); }
  /** Registers and flag fields written since the last handler call (or entry): what the next handler call stores first. */
  readonly dirtyRegs = new Set<number>();
  dirtyFlags = 0;
  /** Set a register from an i32 on the stack, zero-extended (a 32-bit write). */
  setReg32(n: number): void { this.f.op(Op.i64ExtendI32U); this.setReg(n); }

  // ---- flags ----
  /** Mark fields read (loaded at entry unless written before). */
  readFlags(mask: number): void { this.entry |= mask & ~this.written; }
  /** Store an i32 on the stack into a flag field. */
  setFlag(bit: number): void {
    this.f.set(this.fl[31 - Math.clz32(bit)]!);
    this.written |= bit; this.everWritten |= bit; this.dirtyFlags |= bit;
  }
  /** Fields written under a condition: they must hold their old value otherwise. */
  condWrite(mask: number): void { this.readFlags(mask); }
  pushFlags(): void { for (const l of this.fl) this.f.get(l); }
  /** Condition cc as i32 0/1 on the stack. */
  condition(cc: number): void {
    const k = this.known;
    if (k !== null && this.knownCondition(k, cc)) return;
    this.readFlags(F_ALL);
    this.usesCond = true;
    this.pushFlags(); this.f.i32(cc).call(this.condIndex);
  }
  private knownCondition(k: { kind: Kind; size: 32 | 64 }, cc: number): boolean {
    const f = this.f, base = cc & ~1, inv = (cc & 1) === 1;
    const w = k.size === 32;
    const [a, b, r] = w ? [this.a, this.b, this.r] : [this.A, this.B, this.R];
    const o = w
      ? { ltu: Op.i32LtU, leu: Op.i32LeU, lts: Op.i32LtS, les: Op.i32LeS, eq: Op.i32Eq, eqz: Op.i32Eqz }
      : { ltu: Op.i64LtU, leu: Op.i64LeU, lts: Op.i64LtS, les: Op.i64LeS, eq: Op.i64Eq, eqz: Op.i64Eqz };
    const zero = () => (w ? f.i32(0) : f.i64(0, 0));
    const cmp = (x: number, y: number, op: number) => { f.get(x).get(y).op(op); };
    const rz = (op: number) => { f.get(r); zero(); f.op(op); };
    if (k.kind === 'sub') {
      switch (base) {
        case 2: cmp(a, b, o.ltu); break;
        case 4: cmp(a, b, o.eq); break;
        case 6: cmp(a, b, o.leu); break;
        case 8: rz(o.lts); break;
        case 12: cmp(a, b, o.lts); break;
        case 14: cmp(a, b, o.les); break;
        default: return false;
      }
    } else if (base === 4) f.get(r).op(o.eqz);
    else if (base === 8) rz(o.lts);
    else if (k.kind === 'logic' && base === 2) f.i32(0);
    else if (k.kind === 'logic' && base === 6) f.get(r).op(o.eqz);
    else if (k.kind === 'logic' && base === 12) rz(o.lts);
    else if (k.kind === 'logic' && base === 14) rz(o.les);
    else return false;
    if (inv) f.op(Op.i32Eqz);
    return true;
  }
  /** getCF of the current fields as i32 on the stack. */
  carry(): void { this.readFlags(F_ALL); this.usesCf = true; this.pushFlags(); this.f.call(this.cfIndex); }

  // ---- exits ----
  /** Region hooks (region.ts): code before a slow-path import (what the import reads of the region's state) and before any exit. */
  beforeImport: (() => void) | null = null;
  beforeExit: (() => void) | null = null;
  /** Leave the block: RET = v, branch to the epilogue. */
  exit(v: number): void { this.beforeExit?.(); this.f.i32(v).set(this.ret).br(this.exitDepth); }
  storeRip(lo: number, hi: number): void { this.f.i32(0).i64(lo, hi).mem(Op.i64Store, RIP); }

  // ---- memory ----
  /** The effective address of the memory operand into `ea` (64-bit flat addressing). */
  address(i: Insn): void {
    const f = this.f;
    let terms = 0;
    if (i.base >= 0) { this.getReg(i.base); terms++; }
    if (i.index >= 0) {
      this.getReg(i.index);
      if (i.scale !== 0) f.i64(i.scale, 0).op(Op.i64Shl);
      if (terms++ > 0) f.op(Op.i64Add);
    }
    if (i.dispLo !== 0 || i.dispHi !== 0 || terms === 0) {
      f.i64(i.dispLo, i.dispHi);
      if (terms > 0) f.op(Op.i64Add);
    }
    f.set(this.ea);
  }
  /** The TLB hit test for `bytes` at ea (sets elo, ix); leaves i32 on the stack. */
  private tlbHit(bytes: number, write: boolean): void {
    const f = this.f;
    f.get(this.ea).op(Op.i32WrapI64).tee(this.elo).i32(12).op(Op.i32ShrU).i32(1023).op(Op.i32And).i32(2).op(Op.i32Shl).tee(this.ix);
    f.mem(Op.i32Load, write ? W_TAG_LO : R_TAG_LO).get(this.elo).i32(-4096).op(Op.i32And).op(Op.i32Eq);
    f.get(this.ix).mem(Op.i32Load, write ? W_TAG_HI : R_TAG_HI).get(this.ea).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64).op(Op.i32Eq).op(Op.i32And);
    if (bytes > 1) f.get(this.elo).i32(4095).op(Op.i32And).i32(4096 - bytes).op(Op.i32LeU).op(Op.i32And);
  }
  /** RAM offset of ea after a hit. */
  private hitAddress(write: boolean): void {
    this.f.get(this.ix).mem(Op.i32Load, write ? W_PHYS : R_PHYS).get(this.elo).i32(4095).op(Op.i32And).op(Op.i32Add);
  }
  /** Read `size` bits at ea: i32 on the stack (zero-extended for 8/16), i64 for 64; `stack`: a miss checks for #SS (glue.ts). */
  read(size: number, rmw = false, stack = false): void {
    const f = this.f, bytes = size / 8;
    this.tlbHit(bytes, rmw);
    f.open(Op.if, size === 64 ? I64 : I32);
    this.hitAddress(rmw);
    f.mem(size === 8 ? Op.i32Load8U : size === 16 ? Op.i32Load16U : size === 32 ? Op.i32Load : Op.i64Load, RAM_BASE);
    f.else();
    this.beforeImport?.();
    f.i32(size | (rmw ? 256 : 0) | (stack ? STACK_ACCESS : 0)).get(this.elo).get(this.ea).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64).i32(this.pos).call(RD);
    if (size === 64) f.op(Op.i64ExtendI32U).i32(0).mem(Op.i64Load32U, OUT_HI).i64(32, 0).op(Op.i64Shl, Op.i64Or);
    f.i32(0).mem(Op.i32Load, FAULT);
    f.open(Op.if); this.exit(-(this.pos + 1)); f.close();
    f.close();
  }
  /** Write `size` bits at ea from the i32 local `v` (the i64 local for 64); `stack` as for read. */
  write(size: number, v: number, last: boolean, stack = false): void {
    const f = this.f, bytes = size / 8;
    this.tlbHit(bytes, true);
    f.open(Op.if);
    this.hitAddress(true);
    f.get(v).mem(size === 8 ? Op.i32Store8 : size === 16 ? Op.i32Store16 : size === 32 ? Op.i32Store : Op.i64Store, RAM_BASE);
    f.else();
    this.beforeImport?.();
    f.i32(size | (stack ? STACK_ACCESS : 0)).get(this.elo).get(this.ea).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64);
    if (size === 64) f.get(v).op(Op.i32WrapI64).get(v).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64);
    else f.get(v).i32(0);
    f.i32(this.pos).call(WR).tee(this.t);
    // 2: a fault; 1: the write reached code, the block ends after this instruction (generate checks wexit).
    f.i32(2).op(Op.i32Eq);
    f.open(Op.if); this.exit(-(this.pos + 1)); f.close();
    if (!last) f.get(this.t).set(this.wexit);
    f.close();
  }

  // ---- handler calls ----
  callHandler(last: boolean): void {
    const f = this.f;
    this.handlers.push(this.pos);
    // The glue gives the handler only the flag fields written so far (the Cpu holds the others): no entry loads needed.
    // Registers and flags into memory (the handler sees the Cpu), the call, everything back.
    // Only what changed since the registers and flags were last in memory (entry, or the last handler call).
    for (const n of this.dirtyRegs) this.f.storePair(this.reg(n), REG_LO + 4 * n, REG_HI + 4 * n);
    this.fl.forEach((l, k) => { if (this.dirtyFlags & (1 << k)) f.i32(0).get(l).mem(Op.i32Store, FLAGS + 4 * k); });
    this.dirtyRegs.clear(); this.dirtyFlags = 0;
    f.i32(this.pos).call(CALL).set(this.t);
    for (const n of this.regsUsedAll()) { f.loadPair(REG_LO + 4 * n, REG_HI + 4 * n).set(this.reg(n)); }
    this.fl.forEach((l, k) => { f.i32(0).mem(Op.i32Load, FLAGS + 4 * k).set(l); });
    this.written = F_ALL; this.everWritten = F_ALL;
    this.known = null;
    f.get(this.t).i32(2).op(Op.i32Eq);
    f.open(Op.if); this.exit(-(this.pos + 1)); f.close();
    if (!last) {
      f.get(this.t);
      f.open(Op.if); this.exit(this.pos + 1); f.close();
    }
  }
  private regsUsedAll(): Iterable<number> {
    const s = new Set(this.prior !== null ? this.prior.regsUsed : this.regsUsed);
    for (const n of this.regsUsed) s.add(n);
    for (const n of s) this.reg(n);
    return s;
  }

  usage(): Usage {
    return { regsUsed: this.regsUsed, regsWritten: this.regsWritten, flagsEntry: this.entry, flagsWritten: this.everWritten, masks: this.masks, cf: this.usesCf, cond: this.usesCond, handlers: this.handlers };
  }
}

/** Flag liveness as compile.ts computes it: what each instruction's flags are needed for. */
export function liveness(insns: Insn[]): number[] {
  const n = insns.length, liveAfter = new Array<number>(n);
  let live = 63;
  for (let k = n - 1; k >= 0; k--) {
    const i = insns[k]!;
    liveAfter[k] = live;
    const e = inlineForm(i);
    const reads = e === null || e.mayFault ? 63 : i.flagsRead;
    live = (live & ~i.flagsWrite) | reads;
  }
  return liveAfter;
}

