// String instructions movs stos lods cmps scas (and ins/outs in the
// system file), with rep/repe/repne, both directions, all sizes and all
// address sizes. One iteration at a time keeps faults exact: RCX, RSI and
// RDI always describe the work left, so a fault restarts cleanly.
import type { Cpu } from '../cpu.ts';
import { MEM_READ, MEM_WRITE, type Insn } from '../insn.ts';
import { checkedLinear } from '../segcheck.ts';
import { Seg } from '../regs.ts';
import { DF, getZF } from '../flags.ts';
import { addSegBase, getReg, setReg } from './operands.ts';
import { aluN, alu64, AluOp } from './alu.ts';

/** Rep kinds in Insn.op: 0 none, 1 rep/repe (F3), 2 repne (F2). */
export const REP_NONE = 0, REP_E = 1, REP_NE = 2;

/**
 * Linear address of index register r (rsi/rdi) under the address size, plus
 * segment `seg` (-1: none) into c.eaLo/eaHi, for an access of `size` bits
 * and kind `access` (MEM_READ / MEM_WRITE: segment limit, type and alignment
 * checks when c.checks asks for them).
 */
export function indexAddress(c: Cpu, r: number, asize: number, seg: number, size: number, access: number): void {
  if (asize === 64) { c.eaLo = c.lo[r]!; c.eaHi = c.hi[r]!; }
  else if (asize === 32) { c.eaLo = c.lo[r]!; c.eaHi = 0; }
  else { c.eaLo = c.lo[r]! & 0xffff; c.eaHi = 0; }
  if (c.checks !== 0 || seg === Seg.CS) checkedLinear(c, seg, size >> 3, access);
  else if (seg >= 0) addSegBase(c, seg);
}

/** Advance index register r by ±bytes under the address size. */
export function advance(c: Cpu, r: number, asize: number, delta: number): void {
  if (asize === 64) {
    const t = (c.lo[r]! >>> 0) + delta;
    c.lo[r] = t | 0;
    if (t > 0xffffffff) c.hi[r] = (c.hi[r]! + 1) | 0; else if (t < 0) c.hi[r] = (c.hi[r]! - 1) | 0;
  } else if (asize === 32) { c.lo[r] = (c.lo[r]! + delta) | 0; c.hi[r] = 0; }
  else c.lo[r] = (c.lo[r]! & ~0xffff) | ((c.lo[r]! + delta) & 0xffff);
}

/** Is the count register (by address size) zero? */
export function countZero(c: Cpu, asize: number): boolean {
  if (asize === 64) return (c.lo[1]! | c.hi[1]!) === 0;
  if (asize === 32) return c.lo[1] === 0;
  return (c.lo[1]! & 0xffff) === 0;
}

export function decCount(c: Cpu, asize: number): void {
  if (asize === 64) { if (c.lo[1] === 0) c.hi[1] = (c.hi[1]! - 1) | 0; c.lo[1] = (c.lo[1]! - 1) | 0; }
  else if (asize === 32) { c.lo[1] = (c.lo[1]! - 1) | 0; c.hi[1] = 0; }
  else c.lo[1] = (c.lo[1]! & ~0xffff) | ((c.lo[1]! - 1) & 0xffff);
}

function readAt(c: Cpu, size: number): number {
  switch (size) {
    case 8: return c.read8(c.eaLo, c.eaHi);
    case 16: return c.read16(c.eaLo, c.eaHi);
    case 32: return c.read32(c.eaLo, c.eaHi);
    default: return c.read64(c.eaLo, c.eaHi);
  }
}
function writeAt(c: Cpu, size: number, lo: number, hi: number): void {
  switch (size) {
    case 8: c.write8(c.eaLo, c.eaHi, lo); break;
    case 16: c.write16(c.eaLo, c.eaHi, lo); break;
    case 32: c.write32(c.eaLo, c.eaHi, lo); break;
    default: c.write64(c.eaLo, c.eaHi, lo, hi);
  }
}

/** ES-relative destination: in 64-bit mode segment bases other than FS/GS are ignored. */
function esSeg(c: Cpu): number { return c.codeBits === 64 ? -1 : Seg.ES; }

export function movs(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op !== REP_NONE;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  const dseg = esSeg(c);
  for (;;) {
    if (rep && countZero(c, asize)) return;
    indexAddress(c, 6, asize, i.seg, size, MEM_READ);
    const lo = readAt(c, size), hi = c.outHi;
    indexAddress(c, 7, asize, dseg, size, MEM_WRITE);
    writeAt(c, size, lo, hi);
    advance(c, 6, asize, step); advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
  }
}

export function stos(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op !== REP_NONE;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  const lo = getReg(c, 0, size), hi = c.outHi;
  const dseg = esSeg(c);
  for (;;) {
    if (rep && countZero(c, asize)) return;
    indexAddress(c, 7, asize, dseg, size, MEM_WRITE);
    writeAt(c, size, lo, hi);
    advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
  }
}

export function lods(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op !== REP_NONE;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  for (;;) {
    if (rep && countZero(c, asize)) return;
    indexAddress(c, 6, asize, i.seg, size, MEM_READ);
    const lo = readAt(c, size);
    setReg(c, 0, size, lo, c.outHi);
    advance(c, 6, asize, step);
    if (!rep) return;
    decCount(c, asize);
  }
}

function compare(c: Cpu, size: number, al: number, ah: number, bl: number, bh: number): void {
  if (size === 64) alu64(c, AluOp.Cmp, al, ah, bl, bh);
  else aluN(c, AluOp.Cmp, al, bl, size);
}

/** cmps: compares [rsi] with [rdi] (flags as [rsi] - [rdi]). */
export function cmps(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  const dseg = esSeg(c);
  for (;;) {
    if (rep && countZero(c, asize)) return;
    indexAddress(c, 6, asize, i.seg, size, MEM_READ);
    const al = readAt(c, size), ah = c.outHi;
    indexAddress(c, 7, asize, dseg, size, MEM_READ);
    const bl = readAt(c, size), bh = c.outHi;
    compare(c, size, al, ah, bl, bh);
    advance(c, 6, asize, step); advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
    if ((rep === REP_E) !== (getZF(c) === 1)) return;
  }
}

/** scas: compares the accumulator with [rdi]. */
export function scas(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  const al = getReg(c, 0, size), ah = c.outHi;
  const dseg = esSeg(c);
  for (;;) {
    if (rep && countZero(c, asize)) return;
    indexAddress(c, 7, asize, dseg, size, MEM_READ);
    const bl = readAt(c, size), bh = c.outHi;
    compare(c, size, al, ah, bl, bh);
    advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
    if ((rep === REP_E) !== (getZF(c) === 1)) return;
  }
}
