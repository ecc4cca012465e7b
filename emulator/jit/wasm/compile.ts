// The WebAssembly block backend (an experiment measured against the JS
// backend, docs/cpu-core.md): a block becomes one Wasm function over the
// shared memory of machine.ts. Guest registers are i64 locals, loaded from
// the register file at entry and stored back at the exit; the lazy-flag
// fields are i32 locals that end up in the Cpu exactly as the JS backend
// leaves them (a JS wrapper copies them through the transfer area); memory
// accesses check the Cpu's TLB inline and read or write guest RAM directly,
// calling into JS only on a miss. The forms emitted inline are the ones
// jit/emit.ts inlines (its `emit` decides); other instructions call their
// handler through an import, with registers and flags in memory around it.
import type { Cpu } from '../../cpu.ts';
import type { Block, Insn } from '../../insn.ts';
import { CpuFault } from '../../fault.ts';
import { LazyOp } from '../../flags.ts';
import { AluOp, aluHandler, aluHandler64, aluRR32, aluRR64, aluRI32, aluRI64, incDec, not } from '../../ops/alu.ts';
import { mov, movRR32, movRR64, movRI32, movRI64, movzx, lea, nop, cmovcc, setcc } from '../../ops/move.ts';
import { jcc, jmpRel } from '../../ops/branch.ts';
import { shiftHandler, ShiftOp } from '../../ops/shift.ts';
import { imul2 } from '../../ops/muldiv.ts';
import { emit } from '../emit.ts';
import { inlineCheckMask } from '../compile.ts';
import { Op, I32, I64, encodeModule, type FuncType } from './encode.ts';
import { Fn } from './fn.ts';
import { cfFunction, condFunction, FLAG_PARAMS } from './flags.ts';
import { WasmMachine, REG_LO, REG_HI, FLAGS, RIP, FAULT, STOP, PASSES, OUT_HI, R_TAG_LO, R_TAG_HI, R_PHYS, W_TAG_LO, W_TAG_HI, W_PHYS, RAM_BASE, FLAG_FIELDS } from './machine.ts';

// Function indices: the imports, then the block, then the flag helpers.
const RD = 0, WR = 1, CALL = 2; // 3: the block's function, then the flag helpers it uses
export const IMPORTS: { name: string; type: FuncType }[] = [
  { name: 'rd', type: { params: [I32, I32, I32, I32], results: [I32] } },
  { name: 'wr', type: { params: [I32, I32, I32, I32, I32, I32], results: [I32] } },
  { name: 'call', type: { params: [I32], results: [I32] } },
];

/** Calls of the slow-path imports since start (statistics: reads and writes that missed the inline TLB check). */
export const importCalls = { rd: 0, wr: 0, call: 0 };

/** Flag field bits (FLAG_FIELDS order). */
export const F_OP = 1, F_SIZE = 2, F_A = 4, F_AH = 8, F_B = 16, F_BH = 32, F_R = 64, F_RH = 128, F_AUX = 256, F_ALL = 511;

const LAZY: Record<number, number> = {
  [AluOp.Add]: LazyOp.Add, [AluOp.Or]: LazyOp.Logic, [AluOp.And]: LazyOp.Logic, [AluOp.Sub]: LazyOp.Sub,
  [AluOp.Xor]: LazyOp.Logic, [AluOp.Cmp]: LazyOp.Sub, [AluOp.Test]: LazyOp.Logic,
};
type Kind = 'sub' | 'add' | 'logic';
const KIND: Record<number, Kind> = {
  [AluOp.Add]: 'add', [AluOp.Or]: 'logic', [AluOp.And]: 'logic', [AluOp.Sub]: 'sub',
  [AluOp.Xor]: 'logic', [AluOp.Cmp]: 'sub', [AluOp.Test]: 'logic',
};

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
    this.ret = f.local(I32); this.passes = f.local(I32); this.wexit = f.local(I32);
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
  /** Leave the block: RET = v, branch to the epilogue. */
  exit(v: number): void { this.f.i32(v).set(this.ret).br(this.exitDepth); }
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
  /** Read `size` bits at ea: i32 on the stack (zero-extended for 8/16), i64 for 64. */
  read(size: number, rmw = false): void {
    const f = this.f, bytes = size / 8;
    this.tlbHit(bytes, rmw);
    f.open(Op.if, size === 64 ? I64 : I32);
    this.hitAddress(rmw);
    f.mem(size === 8 ? Op.i32Load8U : size === 16 ? Op.i32Load16U : size === 32 ? Op.i32Load : Op.i64Load, RAM_BASE);
    f.else();
    f.i32(size | (rmw ? 256 : 0)).get(this.elo).get(this.ea).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64).i32(this.pos).call(RD);
    if (size === 64) f.op(Op.i64ExtendI32U).i32(0).mem(Op.i64Load32U, OUT_HI).i64(32, 0).op(Op.i64Shl, Op.i64Or);
    f.i32(0).mem(Op.i32Load, FAULT);
    f.open(Op.if); this.exit(-(this.pos + 1)); f.close();
    f.close();
  }
  /** Write `size` bits at ea from the i32 local `v` (the i64 local for 64). */
  write(size: number, v: number, last: boolean): void {
    const f = this.f, bytes = size / 8;
    this.tlbHit(bytes, true);
    f.open(Op.if);
    this.hitAddress(true);
    f.get(v).mem(size === 8 ? Op.i32Store8 : size === 16 ? Op.i32Store16 : size === 32 ? Op.i32Store : Op.i64Store, RAM_BASE);
    f.else();
    f.i32(size).get(this.elo).get(this.ea).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64);
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

// ---------------------------------------------------------------- forms

function aluExpr32(g: Gen, op: number): void {
  const f = g.f;
  f.get(g.a).get(g.b);
  f.op(op === AluOp.Add ? Op.i32Add : op === AluOp.Sub || op === AluOp.Cmp ? Op.i32Sub : op === AluOp.Or ? Op.i32Or : op === AluOp.Xor ? Op.i32Xor : Op.i32And);
}

function flags32(g: Gen, lazy: number, size: number): void {
  const f = g.f;
  f.i32(lazy); g.setFlag(F_OP); f.i32(size); g.setFlag(F_SIZE);
  f.get(g.a); g.setFlag(F_A); f.get(g.b); g.setFlag(F_B); f.get(g.r); g.setFlag(F_R);
}

/** Store the halves of an i64 local into two flag fields. */
function flags64Pair(g: Gen, l: number, lo: number, hi: number): void {
  const f = g.f;
  f.get(l).op(Op.i32WrapI64); g.setFlag(lo);
  f.get(l).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64); g.setFlag(hi);
}

/** op reg/mem, reg/imm/mem for 32 and 64 bits (adc/sbb are handler calls, as in emit.ts). */
function alu(g: Gen, i: Insn, size: 32 | 64, src: 'reg' | 'imm' | 'mem', dst: 'reg' | 'mem', last: boolean): void {
  const f = g.f, op = i.op;
  const writes = op < AluOp.Cmp;
  if (dst === 'mem' || src === 'mem') g.address(i);
  if (size === 32) {
    if (dst === 'reg') g.getReg32(i.a); else g.read(32, writes);
    f.set(g.a);
    if (src === 'reg') g.getReg32(i.b); else if (src === 'imm') f.i32(i.immLo); else g.read(32);
    f.set(g.b);
    aluExpr32(g, op); f.set(g.r);
    if (writes) {
      if (dst === 'reg') { f.get(g.r); g.setReg32(i.a); } else g.write(32, g.r, last);
    }
    if (g.flagsLive) flags32(g, LAZY[op]!, 32);
  } else {
    if (dst === 'reg') g.getReg(i.a); else g.read(64, writes);
    f.set(g.A);
    if (src === 'reg') g.getReg(i.b); else if (src === 'imm') f.i64(i.immLo, i.immHi); else g.read(64);
    f.set(g.B);
    f.get(g.A).get(g.B);
    f.op(op === AluOp.Add ? Op.i64Add : op === AluOp.Sub || op === AluOp.Cmp ? Op.i64Sub : op === AluOp.Or ? Op.i64Or : op === AluOp.Xor ? Op.i64Xor : Op.i64And);
    f.set(g.R);
    if (writes) {
      if (dst === 'reg') { f.get(g.R); g.setReg(i.a); } else g.write(64, g.R, last);
    }
    if (g.flagsLive) {
      f.i32(LAZY[op]!); g.setFlag(F_OP); f.i32(64); g.setFlag(F_SIZE);
      flags64Pair(g, g.A, F_A, F_AH); flags64Pair(g, g.B, F_B, F_BH); flags64Pair(g, g.R, F_R, F_RH);
    }
  }
  g.known = { kind: KIND[op]!, size };
}

/** 8/16-bit ALU between low registers or with an immediate. */
function aluNarrow(g: Gen, i: Insn): void {
  const f = g.f, op = i.op, mask = i.size === 8 ? 255 : 65535;
  g.getReg32(i.a); f.i32(mask).op(Op.i32And).set(g.a);
  if (i.b === -2) f.i32(i.immLo); else { g.getReg32(i.b); f.i32(mask).op(Op.i32And); }
  f.set(g.b);
  aluExpr32(g, op); f.set(g.r);
  if (op < AluOp.Cmp) {
    g.getReg(i.a); f.i64(~mask, -1).op(Op.i64And).get(g.r).i32(mask).op(Op.i32And, Op.i64ExtendI32U, Op.i64Or); g.setReg(i.a);
  }
  if (g.flagsLive) flags32(g, LAZY[op]!, i.size);
  g.known = null;
}

/** CF/OF into a Result record: fOp Result, fSize, fR, fRh, fAux = cf | of << 11 (cf and of i32 0/1 from emitters). */
function resultFlags(g: Gen, size: number, rlo: () => void, rhi: () => void, cf: () => void, of: () => void): void {
  const f = g.f;
  f.i32(LazyOp.Result); g.setFlag(F_OP); f.i32(size); g.setFlag(F_SIZE);
  rlo(); g.setFlag(F_R); rhi(); g.setFlag(F_RH);
  cf(); of(); f.i32(11).op(Op.i32Shl, Op.i32Or); g.setFlag(F_AUX);
}

/** A rotate's CF and OF with the other flags kept lazy (flags.ts setCfOf). Expects s = cf | of << 11 in g.t. */
function rotateFlags(g: Gen): void {
  const f = g.f, [OPF, , A, , B, , R, , AUX] = g.fl as [number, number, number, number, number, number, number, number, number];
  g.readFlags(F_OP | F_A | F_B | F_R | F_AUX);
  f.get(OPF).i32(LazyOp.None).op(Op.i32Eq);
  f.open(Op.if);
  f.get(AUX).i32(-2050).op(Op.i32And).get(g.t).op(Op.i32Or).set(AUX);
  f.else();
  f.get(OPF).i32(LazyOp.Logic).op(Op.i32Eq);
  f.open(Op.if, I32); f.i32(0);
  f.else();
  f.get(OPF).i32(LazyOp.Result).op(Op.i32Eq);
  f.open(Op.if, I32); f.get(AUX).i32(16).op(Op.i32And);
  f.else(); f.get(A).get(B).op(Op.i32Xor).get(R).op(Op.i32Xor).i32(16).op(Op.i32And);
  f.close();
  f.close();
  f.get(g.t).op(Op.i32Or).set(AUX);
  f.i32(LazyOp.Result).set(OPF);
  f.close();
  g.written |= F_OP | F_AUX; g.everWritten |= F_OP | F_AUX; g.dirtyFlags |= F_OP | F_AUX;
}

function shiftConst(g: Gen, i: Insn): boolean {
  const f = g.f, size = i.size, A = i.a;
  if (size === 16) return shift16(g, i);
  const n = i.immLo & (size === 64 ? 0x3f : 0x1f);
  if (n === 0) { if (size === 32) { g.getReg32(A); g.setReg32(A); } return true; }
  g.known = null;
  if (size === 32) {
    g.getReg32(A); f.set(g.a);
    const a = () => f.get(g.a), r = () => f.get(g.r), zero = () => f.i32(0);
    let cf: () => void, of: () => void;
    switch (i.op) {
      case ShiftOp.Shl: case ShiftOp.Sal:
        a(); f.i32(n).op(Op.i32Shl).set(g.r);
        cf = () => { a(); f.i32(32 - n).op(Op.i32ShrU).i32(1).op(Op.i32And); };
        of = () => { r(); f.i32(31).op(Op.i32ShrU); cf(); f.op(Op.i32Xor); };
        break;
      case ShiftOp.Shr:
        a(); f.i32(n).op(Op.i32ShrU).set(g.r);
        cf = () => { a(); f.i32(n - 1).op(Op.i32ShrU).i32(1).op(Op.i32And); };
        of = () => { a(); f.i32(31).op(Op.i32ShrU); };
        break;
      case ShiftOp.Sar:
        a(); f.i32(n).op(Op.i32ShrS).set(g.r);
        cf = () => { a(); f.i32(n - 1).op(Op.i32ShrS).i32(1).op(Op.i32And); };
        of = zero;
        break;
      case ShiftOp.Rol: case ShiftOp.Ror: {
        a(); f.i32(n).op(i.op === ShiftOp.Rol ? Op.i32Rotl : Op.i32Rotr).set(g.r);
        r(); g.setReg32(A);
        if (g.flagsLive) {
          if (i.op === ShiftOp.Rol) { r(); f.i32(1).op(Op.i32And); r(); f.i32(31).op(Op.i32ShrU); r(); f.op(Op.i32Xor).i32(1).op(Op.i32And); }
          else { r(); f.i32(31).op(Op.i32ShrU); r(); f.i32(31).op(Op.i32ShrU); r(); f.i32(30).op(Op.i32ShrU).op(Op.i32Xor).i32(1).op(Op.i32And); }
          f.i32(11).op(Op.i32Shl, Op.i32Or).set(g.t);
          rotateFlags(g);
        }
        return true;
      }
      default: return false;
    }
    r(); g.setReg32(A);
    if (g.flagsLive) resultFlags(g, 32, r, zero, cf, of);
    return true;
  }
  if (size !== 64) return false;
  g.getReg(A); f.set(g.A);
  const a = () => f.get(g.A);
  let cf: () => void, of: () => void;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal:
      a(); f.i64(n, 0).op(Op.i64Shl).set(g.R);
      cf = () => { a(); f.i64(64 - n, 0).op(Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And); };
      of = () => { f.get(g.R).i64(63, 0).op(Op.i64ShrU, Op.i32WrapI64); cf(); f.op(Op.i32Xor); };
      break;
    case ShiftOp.Shr:
      a(); f.i64(n, 0).op(Op.i64ShrU).set(g.R);
      cf = () => { a(); f.i64(n - 1, 0).op(Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And); };
      of = () => { a(); f.i64(63, 0).op(Op.i64ShrU, Op.i32WrapI64); };
      break;
    case ShiftOp.Sar:
      a(); f.i64(n, 0).op(Op.i64ShrS).set(g.R);
      cf = () => { a(); f.i64(n - 1, 0).op(Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And); };
      of = () => { f.i32(0); };
      break;
    default: return false;
  }
  f.get(g.R); g.setReg(A);
  if (g.flagsLive) resultFlags(g, 64, () => { f.get(g.R).op(Op.i32WrapI64); }, () => { f.get(g.R).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64); }, cf, of);
  return true;
}

function shift16(g: Gen, i: Insn): boolean {
  const f = g.f, n = i.immLo & 0x1f, A = i.a;
  if (n === 0 || n >= 16) return false;
  g.known = null;
  g.getReg32(A); f.i32(65535).op(Op.i32And).set(g.a);
  const a = () => f.get(g.a), r = () => f.get(g.r);
  const sx = () => { a(); f.i32(16).op(Op.i32Shl).i32(16).op(Op.i32ShrS); };
  let cf: () => void, of: () => void;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal:
      a(); f.i32(n).op(Op.i32Shl).set(g.r);
      cf = () => { a(); f.i32(16 - n).op(Op.i32ShrU).i32(1).op(Op.i32And); };
      of = () => { r(); f.i32(16).op(Op.i32Shl).i32(31).op(Op.i32ShrU); cf(); f.op(Op.i32Xor); };
      break;
    case ShiftOp.Shr:
      a(); f.i32(n).op(Op.i32ShrU).set(g.r);
      cf = () => { a(); f.i32(n - 1).op(Op.i32ShrU).i32(1).op(Op.i32And); };
      of = () => { a(); f.i32(15).op(Op.i32ShrU).i32(1).op(Op.i32And); };
      break;
    case ShiftOp.Sar:
      sx(); f.i32(n).op(Op.i32ShrS).set(g.r);
      cf = () => { sx(); f.i32(n - 1).op(Op.i32ShrS).i32(1).op(Op.i32And); };
      of = () => { f.i32(0); };
      break;
    default: return false;
  }
  g.getReg(A); f.i64(-65536, -1).op(Op.i64And); r(); f.i32(65535).op(Op.i32And, Op.i64ExtendI32U, Op.i64Or); g.setReg(A);
  if (g.flagsLive) resultFlags(g, 16, r, () => { f.i32(0); }, cf, of);
  return true;
}

function shiftCl(g: Gen, i: Insn): boolean {
  const f = g.f, A = i.a;
  if (i.op !== ShiftOp.Shl && i.op !== ShiftOp.Sal && i.op !== ShiftOp.Shr && i.op !== ShiftOp.Sar) return false;
  g.known = null;
  const shl = i.op === ShiftOp.Shl || i.op === ShiftOp.Sal, sar = i.op === ShiftOp.Sar;
  if (g.flagsLive) g.condWrite(F_OP | F_SIZE | F_R | F_RH | F_AUX);
  if (i.size === 32) {
    g.getReg32(A); f.set(g.a);
    g.getReg32(1); f.i32(31).op(Op.i32And).tee(g.b);
    f.open(Op.if);
    f.get(g.a).get(g.b).op(shl ? Op.i32Shl : sar ? Op.i32ShrS : Op.i32ShrU).set(g.r);
    f.get(g.r); g.setReg32(A);
    if (g.flagsLive) {
      const cf = () => {
        if (shl) f.get(g.a).i32(32).get(g.b).op(Op.i32Sub).op(Op.i32ShrU).i32(1).op(Op.i32And);
        else f.get(g.a).get(g.b).i32(1).op(Op.i32Sub).op(sar ? Op.i32ShrS : Op.i32ShrU).i32(1).op(Op.i32And);
      };
      const of = () => {
        if (shl) { f.get(g.r).i32(31).op(Op.i32ShrU); cf(); f.op(Op.i32Xor); }
        else if (sar) f.i32(0);
        else f.get(g.a).i32(31).op(Op.i32ShrU);
      };
      resultFlags(g, 32, () => { f.get(g.r); }, () => { f.i32(0); }, cf, of);
    }
    f.else();
    f.get(g.a); g.setReg32(A);
    f.close();
    return true;
  }
  g.getReg32(1); f.i32(63).op(Op.i32And).tee(g.b);
  f.open(Op.if);
  g.getReg(A); f.set(g.A);
  f.get(g.A).get(g.b).op(Op.i64ExtendI32U).op(shl ? Op.i64Shl : sar ? Op.i64ShrS : Op.i64ShrU).set(g.R);
  f.get(g.R); g.setReg(A);
  if (g.flagsLive) {
    const cf = () => {
      f.get(g.A);
      if (shl) f.i32(64).get(g.b).op(Op.i32Sub); else f.get(g.b).i32(1).op(Op.i32Sub);
      f.op(Op.i64ExtendI32U, Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
    };
    const of = () => {
      if (shl) { f.get(g.R).i64(63, 0).op(Op.i64ShrU, Op.i32WrapI64); cf(); f.op(Op.i32Xor); }
      else if (sar) f.i32(0);
      else f.get(g.A).i64(63, 0).op(Op.i64ShrU, Op.i32WrapI64);
    };
    resultFlags(g, 64, () => { f.get(g.R).op(Op.i32WrapI64); }, () => { f.get(g.R).i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64); }, cf, of);
  }
  f.close();
  return true;
}

function incDecReg(g: Gen, i: Insn): void {
  const f = g.f, A = i.a, dec = i.op === 1;
  if (i.size === 32) {
    g.getReg32(A); f.tee(g.a).i32(1).op(dec ? Op.i32Sub : Op.i32Add).tee(g.r); g.setReg32(A);
    if (g.flagsLive) {
      g.carry(); g.setFlag(F_AUX);
      f.get(g.a); g.setFlag(F_A); f.i32(1); g.setFlag(F_B); f.get(g.r); g.setFlag(F_R);
      f.i32(32); g.setFlag(F_SIZE); f.i32(dec ? LazyOp.Dec : LazyOp.Inc); g.setFlag(F_OP);
    }
    f.i32(1).set(g.b);
    g.known = { kind: 'add', size: 32 };
  } else {
    g.getReg(A); f.tee(g.A).i64(1, 0).op(dec ? Op.i64Sub : Op.i64Add).tee(g.R); g.setReg(A);
    if (g.flagsLive) {
      g.carry(); g.setFlag(F_AUX);
      flags64Pair(g, g.A, F_A, F_AH); f.i32(1); g.setFlag(F_B); f.i32(0); g.setFlag(F_BH); flags64Pair(g, g.R, F_R, F_RH);
      f.i32(64); g.setFlag(F_SIZE); f.i32(dec ? LazyOp.Dec : LazyOp.Inc); g.setFlag(F_OP);
    }
    f.i64(1, 0).set(g.B);
    g.known = { kind: 'add', size: 64 };
  }
}

function imul32(g: Gen, i: Insn): void {
  const f = g.f;
  if (i.b >= 0) g.getReg32(i.b); else { g.address(i); g.read(32); }
  f.set(g.b);
  g.getReg32(i.a); f.tee(g.a).get(g.b).op(Op.i32Mul).tee(g.r); g.setReg32(i.a);
  if (g.flagsLive) {
    f.i32(LazyOp.Result); g.setFlag(F_OP); f.i32(32); g.setFlag(F_SIZE); f.get(g.r); g.setFlag(F_R); f.i32(0); g.setFlag(F_RH);
    // CF = OF = the 64-bit product differs from the sign-extended low half.
    f.i32(2049).i32(0);
    f.get(g.a).op(Op.i64ExtendI32S).get(g.b).op(Op.i64ExtendI32S).op(Op.i64Mul).get(g.r).op(Op.i64ExtendI32S).op(Op.i64Ne);
    f.op(Op.select); g.setFlag(F_AUX);
  }
  g.known = null;
}

/** One inline instruction; false when the form is not one this backend emits (then it is a handler call). */
export function form(g: Gen, i: Insn, last: boolean): boolean {
  const f = g.f, h = i.exec;
  const regA = i.a >= 0 && i.a < 16, regB = i.b >= 0 && i.b < 16;
  if (h === movRR64) { g.getReg(i.b); g.setReg(i.a); return true; }
  if (h === movRR32) { g.getReg32(i.b); g.setReg32(i.a); return true; }
  if (h === movRI32) { f.i64(i.immLo, 0); g.setReg(i.a); return true; }
  if (h === movRI64) { f.i64(i.immLo, i.immHi); g.setReg(i.a); return true; }
  if (h === nop) return true;
  if (h === aluRR32) { alu(g, i, 32, 'reg', 'reg', last); return true; }
  if (h === aluRI32) { alu(g, i, 32, 'imm', 'reg', last); return true; }
  if (h === aluRR64) { alu(g, i, 64, 'reg', 'reg', last); return true; }
  if (h === aluRI64) { alu(g, i, 64, 'imm', 'reg', last); return true; }
  if (h === aluHandler && (i.size === 8 || i.size === 16)) { aluNarrow(g, i); return true; }
  if ((h === aluHandler && i.size === 32) || h === aluHandler64) {
    const size = i.size as 32 | 64;
    if (regA && i.b === -1) { alu(g, i, size, 'mem', 'reg', last); return true; }
    if (i.a === -1 && regB) { alu(g, i, size, 'reg', 'mem', last); return true; }
    if (i.a === -1 && i.b === -2) { alu(g, i, size, 'imm', 'mem', last); return true; }
    return false;
  }
  if (h === imul2 && i.size === 32) { imul32(g, i); return true; }
  if (h === not && regA && i.size === 32) { g.getReg32(i.a); f.i32(-1).op(Op.i32Xor); g.setReg32(i.a); return true; }
  if (h === not && regA && i.size === 64) { g.getReg(i.a); f.i64(-1, -1).op(Op.i64Xor); g.setReg(i.a); return true; }
  if (h === shiftHandler && regA && i.b === 1 && (i.size === 32 || i.size === 64)) return shiftCl(g, i);
  if (h === mov && i.size === 16) {
    g.address(i);
    if (regA && i.b === -1) { g.getReg(i.a); f.i64(-65536, -1).op(Op.i64And); g.read(16); f.op(Op.i64ExtendI32U, Op.i64Or); g.setReg(i.a); return true; }
    if (i.a === -1 && regB) { g.getReg32(i.b); f.set(g.t); g.write(16, g.t, last); return true; }
    f.i32(i.immLo & 0xffff).set(g.t); g.write(16, g.t, last); return true;
  }
  if (h === mov && (i.size === 32 || i.size === 64 || i.size === 8)) {
    g.address(i);
    const size = i.size;
    if (regA && i.b === -1) {
      if (size === 64) { g.read(64); g.setReg(i.a); } else { g.read(32); g.setReg32(i.a); }
      return true;
    }
    if (i.a === -1 && i.b >= 0) {
      if (size === 64) { g.getReg(i.b); f.set(g.T); g.write(64, g.T, last); return true; }
      if (i.b < 16) g.getReg32(i.b); else { g.getReg32(i.b - 16); f.i32(8).op(Op.i32ShrU); }
      f.set(g.t); g.write(size, g.t, last); return true;
    }
    if (size === 64) { f.i64(i.immLo, i.immHi).set(g.T); g.write(64, g.T, last); return true; }
    f.i32(i.immLo).set(g.t); g.write(size, g.t, last); return true;
  }
  if (h === movzx && regA && i.b === -1) { g.address(i); g.read(i.op); g.setReg32(i.a); return true; }
  if (h === lea) {
    g.address({ ...i, seg: -1 } as Insn);
    f.get(g.ea);
    if (i.size === 64) g.setReg(i.a); else { f.op(Op.i32WrapI64); g.setReg32(i.a); }
    return true;
  }
  if (h === shiftHandler) return shiftConst(g, i);
  if (h === incDec) { incDecReg(g, i); return true; }
  if (h === cmovcc) {
    g.getReg(i.b); g.getReg(i.a); g.condition(i.op); f.op(Op.select);
    if (i.size === 32) { f.op(Op.i32WrapI64); g.setReg32(i.a); } else g.setReg(i.a);
    return true;
  }
  if (h === movzx) {
    if (i.b < 16) { g.getReg32(i.b); f.i32(i.op === 16 ? 65535 : 255).op(Op.i32And); }
    else { g.getReg32(i.b - 16); f.i32(8).op(Op.i32ShrU).i32(255).op(Op.i32And); }
    g.setReg32(i.a); return true;
  }
  if (h === setcc) {
    const r = i.a < 16 ? i.a : i.a - 16, m = i.a < 16 ? 0xff : 0xff00;
    g.getReg(r); f.i64(~m, -1).op(Op.i64And);
    g.condition(i.op);
    if (i.a >= 16) f.i32(8).op(Op.i32Shl);
    f.op(Op.i64ExtendI32U, Op.i64Or); g.setReg(r);
    return true;
  }
  return false;
}

/** The block end: RIP after a jcc/jmp (or the next instruction), and a looping block's back edge. */
function branch(g: Gen, i: Insn, top: number): boolean {
  const f = g.f, b = g.blk;
  if (i.exec !== jcc && i.exec !== jmpRel) return false;
  if (i.exec === jcc) g.condition(i.op); else f.i32(1);
  f.set(g.t);
  if (g.loops) {
    // Round again while passes are allowed and no import asked the run loop to look.
    f.get(g.t).get(g.passes).get(0).op(Op.i32LtU).op(Op.i32And).i32(0).mem(Op.i32Load, STOP).op(Op.i32Eqz).op(Op.i32And);
    f.open(Op.if);
    f.get(g.passes).i32(1).op(Op.i32Add).set(g.passes);
    f.i32(0).get(g.passes).mem(Op.i32Store, PASSES);
    f.br(top);
    f.close();
  }
  f.i32(0).i64(i.tLo, i.tHi).i64(i.nextLo, i.nextHi).get(g.t).op(Op.select).mem(Op.i64Store, RIP);
  void b;
  return true;
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

function generate(b: Block, loops: boolean, prior: Usage | null): { gen: Gen; n: number } {
  const g = new Gen(b, loops, prior);
  const f = g.f, insns = b.insns, n = insns.length;
  const liveAfter = liveness(insns);
  g.exitDepth = f.open(Op.block);
  const top = loops ? f.open(Op.loop) : 0;
  // Going round again, whatever the last pass wrote after its last handler call is not in memory.
  if (loops && prior !== null) { for (const r of prior.regsWritten) g.dirtyRegs.add(r); g.dirtyFlags = prior.flagsWritten; }
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    g.pos = k;
    g.masks[k] = g.written;
    const last = k === n - 1;
    g.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
    const e = inlineForm(i), inline = e !== null;
    if (last && inline && branch(g, i, top)) continue;
    if (inline && form(g, i, last)) {
      if (last) g.storeRip(i.nextLo, i.nextHi);
      else if (e.writesMemory) {
        // A slow-path write reached a page holding code: leave after this instruction (RIP at the next).
        f.get(g.wexit);
        f.open(Op.if); g.storeRip(i.nextLo, i.nextHi); g.exit(k + 1); f.close();
      }
      continue;
    }
    g.callHandler(last);
  }
  g.masks[n] = g.written;
  if (loops) f.close();
  f.i32(n).set(g.ret);
  f.close();
  return { gen: g, n };
}

/** Whether a block is worth a Wasm function here: 64-bit code, a successor after it, nothing that stops blocks. */
export function wasmEligible(b: Block): boolean {
  return b.modeKey === 64 && !b.atBreakpoint && b.insns.length > 0;
}

export interface WasmBlockInfo { bytes: number; handlers: number; loops: boolean }

/** Compile a block to a Wasm function and the JS wrapper the run loop calls (same contract as compileBlock's result). */
export function compileWasmBlock(b: Block, m: WasmMachine, cpu: Cpu, info?: WasmBlockInfo, allowLoops = true): (c: Cpu) => number {
  const insns = b.insns, n = insns.length;
  const l = insns[n - 1]!;
  const loops = allowLoops && inlineForm(l) !== null && !b.atBreakpoint && (l.exec === jcc || l.exec === jmpRel) && l.tLo === b.ripLo && l.tHi === b.ripHi;
  const first = generate(b, loops, null).gen.usage();
  const { gen: g } = generate(b, loops, first);
  const u = g.usage();
  // Prologue: every register the block uses (so any exit may store every written one), the flag fields read before written.
  const pro = new Fn([I32]);
  for (const r of u.regsUsed) pro.loadPair(REG_LO + 4 * r, REG_HI + 4 * r).set(g.reg(r));
  FLAG_FIELDS.forEach((_, k) => { if (u.flagsEntry & (1 << k)) pro.i32(0).mem(Op.i32Load, FLAGS + 4 * k).set(g.fl[k]!); });
  // Epilogue: written registers back, the flag fields into the transfer area, passes.
  const epi = new Fn([I32]);
  for (const r of u.regsWritten) epi.storePair(g.reg(r), REG_LO + 4 * r, REG_HI + 4 * r);
  FLAG_FIELDS.forEach((_, k) => { if ((u.flagsWritten | u.flagsEntry) & (1 << k)) epi.i32(0).get(g.fl[k]!).mem(Op.i32Store, FLAGS + 4 * k); });
  epi.get(g.ret);
  const funcs = [{ type: { params: [I32], results: [I32] }, locals: g.f.locals, body: [...pro.body, ...g.f.body, ...epi.body] }];
  if (u.cf) { const h = cfFunction(); funcs.push({ type: { params: FLAG_PARAMS, results: [I32] }, locals: h.locals, body: h.body }); }
  if (u.cond) { const h = condFunction(); funcs.push({ type: { params: [...FLAG_PARAMS, I32], results: [I32] }, locals: h.locals, body: h.body }); }
  const bytes = encodeModule({ imports: IMPORTS, memoryPages: m.pages, funcs });
  if (info !== undefined) { info.bytes = bytes.length; info.loops = loops; info.handlers = u.handlers.length; }
  return wrap(b, m, cpu, new WebAssembly.Module(bytes as BufferSource), u, loops);
}

/**
 * The import that runs handler calls: generated per block with a case per
 * call site, its flag fields copied by name (the ones written before it;
 * the Cpu holds the others) and its handler called directly (monomorphic).
 */
function handlerGlue(b: Block, u: Usage, loops: boolean, c: Cpu, s: Int32Array, sync: () => void, caught: (e: unknown) => void, ready: () => boolean): (pos: number) => number {
  const F = FLAGS / 4;
  const copyIn = (mask: number) => FLAG_FIELDS.map((x, k) => (mask & (1 << k) ? `c.${x} = s[${F + k}];` : '')).join(' ');
  const names: string[] = [], values: unknown[] = [];
  const cases = u.handlers.map((pos) => {
    const i = b.insns[pos]!;
    names.push(`i${pos}`, `h${pos}`); values.push(i, i.exec);
    const more = loops ? u.flagsWritten & ~u.masks[pos]! : 0;
    return `case ${pos}: c.cur = i${pos}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi}; sync(); ${copyIn(u.masks[pos]!)}`
      + (more !== 0 ? ` if (s[${PASSES / 4}] > 0) { ${copyIn(more)} }` : '')
      + ` try { h${pos}(c, i${pos}); } catch (e) { caught(e); status = 2; } break;`;
  }).join('\n');
  const src = [
    'return function call(pos) {',
    'let status = 0; importCalls.call++;',
    `switch (pos) {\n${cases}\n}`,
    FLAG_FIELDS.map((x, k) => `s[${F + k}] = c.${x};`).join(' '),
    `s[${RIP / 4}] = c.ripLo; s[${RIP / 4 + 1}] = c.ripHi;`,
    'if (status === 0 && c.blockExit) status = 1;',
    loops ? `if (c.stopRequested || c.blockExit || !ready()) s[${STOP / 4}] = 1;` : '',
    'return status;',
    '};',
  ].join('\n');
  return (new Function('c', 's', 'sync', 'caught', 'ready', 'importCalls', ...names, src) as (...a: unknown[]) => (pos: number) => number)(c, s, sync, caught, ready, importCalls, ...values);
}

/** Copy the flag fields in `mask` between the transfer area and the Cpu. */
function flagsToCpu(c: Cpu, s: Int32Array, mask: number): void {
  const o = c as unknown as Record<string, number>;
  for (let k = 0; k < 9; k++) if (mask & (1 << k)) o[FLAG_FIELDS[k]!] = s[FLAGS / 4 + k]!;
}

/**
 * The JS side of one Wasm block: imports (slow-path reads and writes,
 * handler calls) and the wrapper the run loop calls, generated so that its
 * common path copies just the flag fields the block reads and writes.
 */
function wrap(b: Block, m: WasmMachine, cpu: Cpu, mod: WebAssembly.Module, u: Usage, loops: boolean): (c: Cpu) => number {
  const s = m.s32, insns = b.insns, n = insns.length;
  const st = { fault: null as CpuFault | null, i0: 0 };
  const c = cpu;
  const sync = loops ? () => { c.icount = st.i0 + s[PASSES / 4]! * n; } : () => {};
  const caught = (e: unknown): void => { if (!(e instanceof CpuFault)) throw e; st.fault = e; };
  const ready = () => c.beforeBlock === null && c.stepLimit === 0 && c.dbg === 0 && (c.flagsSys & 0x100) === 0;
  const imports = {
    mem: m.memory,
    rd(kind: number, lo: number, hi: number, pos: number): number {
      importCalls.rd++;
      c.cur = insns[pos]!; sync();
      try {
        let v: number;
        switch (kind) {
          case 8: v = c.read8(lo, hi); break;
          case 16: v = c.read16(lo, hi); break;
          case 32: v = c.read32(lo, hi); break;
          case 64: v = c.read64(lo, hi); s[OUT_HI / 4] = c.outHi; break;
          case 256 + 8: v = c.readRmw8(lo, hi); break;
          case 256 + 16: v = c.readRmw16(lo, hi); break;
          case 256 + 32: v = c.readRmw32(lo, hi); break;
          default: v = c.readRmw64(lo, hi); s[OUT_HI / 4] = c.outHi; break;
        }
        if (c.stopRequested) s[STOP / 4] = 1;
        return v;
      } catch (e) { caught(e); s[FAULT / 4] = 1; return 0; }
    },
    wr(size: number, lo: number, hi: number, v: number, vh: number, pos: number): number {
      importCalls.wr++;
      c.cur = insns[pos]!; sync();
      try {
        switch (size) {
          case 8: c.write8(lo, hi, v); break;
          case 16: c.write16(lo, hi, v); break;
          case 32: c.write32(lo, hi, v); break;
          default: c.write64(lo, hi, v, vh); break;
        }
      } catch (e) { caught(e); return 2; }
      if (c.stopRequested || c.blockExit) s[STOP / 4] = 1;
      return c.blockExit ? 1 : 0;
    },
    call: handlerGlue(b, u, loops, c, s, sync, caught, ready),
  };
  const run = new WebAssembly.Instance(mod, { env: imports }).exports.run as (max: number) => number;
  /** A fault or an early exit: the flag fields written before it, the fault rethrown. */
  const slowExit = (r: number, passes: number): number => {
    const at = r < 0 ? -r - 1 : r;
    flagsToCpu(c, s, u.masks[at]! | (passes > 0 ? u.flagsWritten : 0));
    if (r < 0) {
      s[FAULT / 4] = 0;
      const e = st.fault!; st.fault = null;
      c.cur = insns[at]!;
      throw e;
    }
    return r;
  };
  const inFields = FLAG_FIELDS.filter((_, k) => u.flagsEntry & (1 << k));
  const outFields = FLAG_FIELDS.filter((_, k) => u.masks[n]! & (1 << k));
  const F = FLAGS / 4;
  const src = [
    'return function wasmBlock(c) {',
    ...inFields.map((x) => `s[${F + FLAG_FIELDS.indexOf(x)}] = c.${x};`),
    loops ? `s[${STOP / 4}] = 0; s[${PASSES / 4}] = 0; st.i0 = c.icount;` : '',
    loops ? `const max = ready() ? Math.max(0, Math.min(Math.floor((c.limit - c.icount) / ${n}) - 1, 1e9)) : 0;` : 'const max = 0;',
    'const r = run(max);',
    `c.ripLo = s[${RIP / 4}]; c.ripHi = s[${RIP / 4 + 1}];`,
    loops ? `const passes = s[${PASSES / 4}]; c.icount = st.i0 + passes * ${n};` : 'const passes = 0;',
    `if (r !== ${n}) return slowExit(r, passes);`,
    ...outFields.map((x) => `c.${x} = s[${F + FLAG_FIELDS.indexOf(x)}];`),
    `return ${n};`,
    '};',
  ].join('\n');
  const factory = new Function('s', 'st', 'run', 'ready', 'slowExit', src) as (...a: unknown[]) => (c: Cpu) => number;
  return factory(s, st, run, ready, slowExit);
}

/** Cpu.checks bits the Wasm block cannot honour (the same as the JS block's). */
export function wasmCheckMask(b: Block): number { return inlineCheckMask(b, 64); }
