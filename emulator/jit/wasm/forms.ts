// The instruction forms the Wasm backend emits inline: the ones jit/emit.ts
// inlines, with the same effect on registers, memory and the lazy-flag
// fields (test/emulator/wasmBackend.test.ts compares them).
import type { Insn } from '../../insn.ts';
import { LazyOp } from '../../flags.ts';
import { AluOp, aluHandler, aluHandler64, aluRR32, aluRR64, aluRI32, aluRI64, incDec, not } from '../../ops/alu.ts';
import { mov, movRR32, movRR64, movRI32, movRI64, movzx, lea, nop, cmovcc, setcc } from '../../ops/move.ts';
import { shiftHandler, ShiftOp } from '../../ops/shift.ts';
import { imul2 } from '../../ops/muldiv.ts';
import { pushOp, popOp } from '../../ops/stack.ts';
import { bswap } from '../../ops/bits.ts';
import { callRel, ret } from '../../ops/branch.ts';
import { RIP } from './machine.ts';
import { Op, I32 } from './encode.ts';
import { Gen, F_OP, F_SIZE, F_A, F_AH, F_B, F_BH, F_R, F_RH, F_AUX, type Kind } from './gen.ts';

// Functions, not tables: run.ts imports the backend, so this module may load inside an import cycle through
// ops/alu.ts, before AluOp exists.
/** The lazy-flag operation of an ALU op. */
function lazyOf(op: number): number {
  return op === AluOp.Add ? LazyOp.Add : op === AluOp.Sub || op === AluOp.Cmp ? LazyOp.Sub : op === AluOp.Adc ? LazyOp.Adc : op === AluOp.Sbb ? LazyOp.Sbb : LazyOp.Logic;
}
/** The compare kind a following jcc reads from its operands. */
function kindOf(op: number): Kind { return op === AluOp.Add ? 'add' : op === AluOp.Sub || op === AluOp.Cmp ? 'sub' : 'logic'; }

/** a op b (adc/sbb: with the carry in, g.cin). */
function aluExpr32(g: Gen, op: number): void {
  const f = g.f;
  f.get(g.a).get(g.b);
  if (op === AluOp.Adc) { f.op(Op.i32Add).get(g.cin).op(Op.i32Add); return; }
  if (op === AluOp.Sbb) { f.op(Op.i32Sub).get(g.cin).op(Op.i32Sub); return; }
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

/** op reg/mem, reg/imm/mem for 32 and 64 bits; adc/sbb read the carry in first (into g.cin) and record it in fAux. */
function alu(g: Gen, i: Insn, size: 32 | 64, src: 'reg' | 'imm' | 'mem', dst: 'reg' | 'mem', last: boolean): void {
  const f = g.f, op = i.op;
  const writes = op < AluOp.Cmp;
  const carry = op === AluOp.Adc || op === AluOp.Sbb;
  if (carry) { g.carry(); f.set(g.cin); }
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
    if (g.flagsLive) { flags32(g, lazyOf(op), 32); if (carry) { f.get(g.cin); g.setFlag(F_AUX); } }
  } else {
    if (dst === 'reg') g.getReg(i.a); else g.read(64, writes);
    f.set(g.A);
    if (src === 'reg') g.getReg(i.b); else if (src === 'imm') f.i64(i.immLo, i.immHi); else g.read(64);
    f.set(g.B);
    f.get(g.A).get(g.B);
    if (carry) f.op(op === AluOp.Adc ? Op.i64Add : Op.i64Sub).get(g.cin).op(Op.i64ExtendI32U, op === AluOp.Adc ? Op.i64Add : Op.i64Sub);
    else f.op(op === AluOp.Add ? Op.i64Add : op === AluOp.Sub || op === AluOp.Cmp ? Op.i64Sub : op === AluOp.Or ? Op.i64Or : op === AluOp.Xor ? Op.i64Xor : Op.i64And);
    f.set(g.R);
    if (writes) {
      if (dst === 'reg') { f.get(g.R); g.setReg(i.a); } else g.write(64, g.R, last);
    }
    if (g.flagsLive) {
      f.i32(lazyOf(op)); g.setFlag(F_OP); f.i32(64); g.setFlag(F_SIZE);
      flags64Pair(g, g.A, F_A, F_AH); flags64Pair(g, g.B, F_B, F_BH); flags64Pair(g, g.R, F_R, F_RH);
      if (carry) { f.get(g.cin); g.setFlag(F_AUX); }
    }
  }
  g.known = carry ? null : { kind: kindOf(op), size };
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
  if (g.flagsLive) flags32(g, lazyOf(op), i.size);
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

/** Byte-swap the i32 in g.t onto the stack: (x rotl 8) & 0x00ff00ff | (x rotr 8) & 0xff00ff00. */
function bswap32(g: Gen): void {
  g.f.get(g.t).i32(8).op(Op.i32Rotl).i32(0x00ff00ff).op(Op.i32And).get(g.t).i32(8).op(Op.i32Rotr).i32(0xff00ff00 | 0).op(Op.i32And).op(Op.i32Or);
}

/** bswap r32/r64 (flags untouched, so a known compare survives: g.t is the scratch). */
function bswapReg(g: Gen, i: Insn): void {
  const f = g.f, A = i.a;
  if (i.size === 32) { g.getReg32(A); f.set(g.t); bswap32(g); g.setReg32(A); return; }
  g.getReg32(A); f.set(g.t); bswap32(g); f.op(Op.i64ExtendI32U).i64(32, 0).op(Op.i64Shl);
  g.getReg(A); f.i64(32, 0).op(Op.i64ShrU, Op.i32WrapI64).set(g.t); bswap32(g); f.op(Op.i64ExtendI32U, Op.i64Or);
  g.setReg(A);
}

/** push r64 / imm (emit.ts push64): the store at RSP - 8, then RSP; push rsp stores the old value. */
function push64(g: Gen, i: Insn, last: boolean): void {
  const f = g.f;
  g.getReg(4); f.i64(8, 0).op(Op.i64Sub).set(g.ea);
  if (i.a === -2) f.i64(i.immLo, i.immHi); else g.getReg(i.a);
  f.set(g.T);
  g.write(64, g.T, last, true);
  f.get(g.ea); g.setReg(4);
}

/** pop r64 (emit.ts pop64): the load, RSP + 8, then the register (pop rsp keeps the loaded value). */
function pop64(g: Gen, i: Insn): void {
  const f = g.f;
  g.getReg(4); f.set(g.ea);
  g.read(64, false, true); f.set(g.T);
  f.get(g.ea).i64(8, 0).op(Op.i64Add); g.setReg(4);
  f.get(g.T); g.setReg(i.a);
}

/** call rel (emit.ts call64): the return address pushed, RIP = the target. */
function call64(g: Gen, i: Insn, last: boolean): void {
  const f = g.f;
  g.getReg(4); f.i64(8, 0).op(Op.i64Sub).set(g.ea);
  f.i64(i.nextLo, i.nextHi).set(g.T);
  g.write(64, g.T, last, true);
  f.get(g.ea); g.setReg(4);
  g.storeRip(i.tLo, i.tHi);
}

/** ret (emit.ts ret64): RIP popped, left in g.T too (a region compares it with its blocks). */
function ret64(g: Gen): void {
  const f = g.f;
  g.getReg(4); f.set(g.ea);
  g.read(64, false, true); f.set(g.T);
  f.get(g.ea).i64(8, 0).op(Op.i64Add); g.setReg(4);
  f.i32(0).get(g.T).mem(Op.i64Store, RIP);
}

/** Whether an inline instruction sets RIP itself (call, ret): the block's end must not store the fall-through. */
export function setsRip(i: Insn): boolean { return i.exec === callRel || i.exec === ret; }

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
  if (h === bswap) { bswapReg(g, i); return true; }
  if (h === pushOp) { push64(g, i, last); return true; }
  if (h === popOp) { pop64(g, i); return true; }
  if (h === callRel) { call64(g, i, last); return true; }
  if (h === ret) { ret64(g); return true; }
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

