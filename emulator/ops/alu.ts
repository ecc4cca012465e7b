// The integer ALU group: add or adc sbb and sub xor cmp test, inc dec neg
// not. Pure per-width arithmetic that records lazy flags; the handlers
// fetch operands through operands.ts.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { LazyOp, getCF } from '../flags.ts';
import { readA, readARmw, writeA, readB } from './operands.ts';

export const enum AluOp { Add = 0, Or = 1, Adc = 2, Sbb = 3, And = 4, Sub = 5, Xor = 6, Cmp = 7, Test = 8 }

/** 8/16/32-bit ALU operation; returns the result (bits above `size` are garbage). */
export function aluN(c: Cpu, op: number, a: number, b: number, size: number): number {
  let r: number;
  switch (op) {
    case AluOp.Add: r = (a + b) | 0; c.fOp = LazyOp.Add; break;
    case AluOp.Or: r = a | b; c.fOp = LazyOp.Logic; break;
    case AluOp.Adc: { const cf = getCF(c); r = (a + b + cf) | 0; c.fAux = cf; c.fOp = LazyOp.Adc; break; }
    case AluOp.Sbb: { const cf = getCF(c); r = (a - b - cf) | 0; c.fAux = cf; c.fOp = LazyOp.Sbb; break; }
    case AluOp.And: case AluOp.Test: r = a & b; c.fOp = LazyOp.Logic; break;
    case AluOp.Xor: r = a ^ b; c.fOp = LazyOp.Logic; break;
    default: r = (a - b) | 0; c.fOp = LazyOp.Sub; break; // sub, cmp
  }
  c.fA = a; c.fB = b; c.fR = r; c.fSize = size;
  return r;
}

/** 64-bit ALU operation on halves; returns the low half, high half in c.outHi. */
export function alu64(c: Cpu, op: number, al: number, ah: number, bl: number, bh: number): number {
  let rl: number, rh: number;
  switch (op) {
    case AluOp.Add: case AluOp.Adc: {
      const cf = op === AluOp.Adc ? getCF(c) : 0;
      const t = (al >>> 0) + (bl >>> 0) + cf;
      rl = t | 0; rh = (ah + bh + (t > 0xffffffff ? 1 : 0)) | 0;
      c.fOp = op === AluOp.Adc ? LazyOp.Adc : LazyOp.Add; c.fAux = cf;
      break;
    }
    case AluOp.Sub: case AluOp.Cmp: case AluOp.Sbb: {
      const cf = op === AluOp.Sbb ? getCF(c) : 0;
      const t = (al >>> 0) - (bl >>> 0) - cf;
      rl = t | 0; rh = (ah - bh - (t < 0 ? 1 : 0)) | 0;
      c.fOp = op === AluOp.Sbb ? LazyOp.Sbb : LazyOp.Sub; c.fAux = cf;
      break;
    }
    case AluOp.Or: rl = al | bl; rh = ah | bh; c.fOp = LazyOp.Logic; break;
    case AluOp.Xor: rl = al ^ bl; rh = ah ^ bh; c.fOp = LazyOp.Logic; break;
    default: rl = al & bl; rh = ah & bh; c.fOp = LazyOp.Logic; break; // and, test
  }
  c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fR = rl; c.fRh = rh; c.fSize = 64;
  c.outHi = rh;
  return rl;
}

/** op a, b for 8/16/32-bit operands (a: reg/mem, b: reg/mem/imm). */
export function aluHandler(c: Cpu, i: Insn): void {
  const size = i.size, op = i.op;
  const writes = op < AluOp.Cmp;
  const a = writes ? readARmw(c, i, size) : readA(c, i, size);
  const b = readB(c, i, size);
  const r = aluN(c, op, a, b, size);
  if (writes) writeA(c, i, size, r, 0);
}

export function aluHandler64(c: Cpu, i: Insn): void {
  const op = i.op;
  const writes = op < AluOp.Cmp;
  const al = writes ? readARmw(c, i, 64) : readA(c, i, 64);
  const ah = c.outHi;
  const bl = readB(c, i, 64);
  const bh = c.outHi;
  const rl = alu64(c, op, al, ah, bl, bh);
  if (writes) writeA(c, i, 64, rl, c.outHi);
}

/** Register-register 32-bit forms, the most common case, without operand dispatch. */
export function aluRR32(c: Cpu, i: Insn): void {
  const r = aluN(c, i.op, c.lo[i.a]!, c.lo[i.b]!, 32);
  if (i.op < AluOp.Cmp) { c.lo[i.a] = r; c.hi[i.a] = 0; }
}
export function aluRR64(c: Cpu, i: Insn): void {
  const a = i.a, b = i.b;
  const r = alu64(c, i.op, c.lo[a]!, c.hi[a]!, c.lo[b]!, c.hi[b]!);
  if (i.op < AluOp.Cmp) { c.lo[a] = r; c.hi[a] = c.outHi; }
}
export function aluRI32(c: Cpu, i: Insn): void {
  const r = aluN(c, i.op, c.lo[i.a]!, i.immLo, 32);
  if (i.op < AluOp.Cmp) { c.lo[i.a] = r; c.hi[i.a] = 0; }
}
export function aluRI64(c: Cpu, i: Insn): void {
  const a = i.a;
  const r = alu64(c, i.op, c.lo[a]!, c.hi[a]!, i.immLo, i.immHi);
  if (i.op < AluOp.Cmp) { c.lo[a] = r; c.hi[a] = c.outHi; }
}

/** inc (op 0) / dec (op 1): like add/sub 1 but CF is kept. */
export function incDec(c: Cpu, i: Insn): void {
  const size = i.size;
  const cf = getCF(c);
  const dec = i.op === 1;
  if (size === 64) {
    const al = readARmw(c, i, 64), ah = c.outHi;
    let rl: number, rh: number;
    if (dec) { rl = (al - 1) | 0; rh = al === 0 ? (ah - 1) | 0 : ah; }
    else { rl = (al + 1) | 0; rh = rl === 0 ? (ah + 1) | 0 : ah; }
    writeA(c, i, 64, rl, rh);
    c.fA = al; c.fAh = ah; c.fB = 1; c.fBh = 0; c.fR = rl; c.fRh = rh;
  } else {
    const a = readARmw(c, i, size);
    const r = dec ? (a - 1) | 0 : (a + 1) | 0;
    writeA(c, i, size, r, 0);
    c.fA = a; c.fB = 1; c.fR = r;
  }
  c.fSize = size; c.fAux = cf; c.fOp = dec ? LazyOp.Dec : LazyOp.Inc;
}

/** neg: 0 - a, flags as sub. */
export function neg(c: Cpu, i: Insn): void {
  const size = i.size;
  const al = readARmw(c, i, size);
  if (size === 64) {
    const ah = c.outHi;
    const rl = alu64(c, AluOp.Sub, 0, 0, al, ah);
    writeA(c, i, 64, rl, c.outHi);
  } else {
    const r = aluN(c, AluOp.Sub, 0, al, size);
    writeA(c, i, size, r, 0);
  }
}

/** not: no flags. */
export function not(c: Cpu, i: Insn): void {
  const size = i.size;
  const al = readARmw(c, i, size);
  writeA(c, i, size, ~al, ~c.outHi);
}
