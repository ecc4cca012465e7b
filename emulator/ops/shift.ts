// Shifts and rotates: shl/sal shr sar rol ror rcl rcr (by 1, imm8, cl)
// and shld/shrd. Counts are masked to 5 bits (6 for 64-bit operands); a
// masked count of zero changes nothing, not even flags.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { LazyOp, CF, OF, setCfOf, getCF } from '../flags.ts';
import { readARmw, writeA, getR8 } from './operands.ts';

export const enum ShiftOp { Rol = 0, Ror = 1, Rcl = 2, Rcr = 3, Shl = 4, Shr = 5, Sal = 6, Sar = 7 }

/** The count operand: imm8 (b = -2), or CL (b = 1), or the constant 1 (immLo = 1). */
function count(c: Cpu, i: Insn): number {
  const n = i.b === -2 ? i.immLo : getR8(c, 1);
  return n & (i.size === 64 ? 0x3f : 0x1f);
}

/** Record a shift result: ZF/SF/PF from it, CF/OF explicit, AF 0 (undefined). */
function shiftFlags(c: Cpu, size: number, rl: number, rh: number, cf: number, of: number): void {
  c.fOp = LazyOp.Result; c.fSize = size; c.fR = rl; c.fRh = rh;
  c.fAux = (cf ? CF : 0) | (of ? OF : 0);
}

export function shiftHandler(c: Cpu, i: Insn): void {
  const size = i.size;
  const n = count(c, i);
  const vl = readARmw(c, i, size);
  if (size === 64) { shift64(c, i, n, vl, c.outHi); return; }
  if (n === 0) { if (size === 32 && i.a >= 0) writeA(c, i, 32, vl, 0); return; }
  const sh = 32 - size;
  const mask = size === 32 ? -1 : (1 << size) - 1;
  const v = vl & mask;
  let r: number, cf: number, of: number;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal:
      r = n < 32 ? v << n : 0;
      cf = n <= size ? (v >>> (size - n)) & 1 : 0;
      of = ((r << sh) >>> 31) ^ cf;
      writeA(c, i, size, r, 0); shiftFlags(c, size, r, 0, cf, of); return;
    case ShiftOp.Shr:
      r = n < 32 ? v >>> n : 0;
      cf = n <= size ? (v >>> (n - 1)) & 1 : 0;
      of = (v >>> (size - 1)) & 1;
      writeA(c, i, size, r, 0); shiftFlags(c, size, r, 0, cf, of); return;
    case ShiftOp.Sar: {
      const s = (v << sh) >> sh; // sign-extended to 32 bits
      r = s >> (n < 32 ? n : 31);
      cf = (s >> (n - 1 < 31 ? n - 1 : 31)) & 1;
      writeA(c, i, size, r, 0); shiftFlags(c, size, r, 0, cf, 0); return;
    }
    case ShiftOp.Rol: {
      const k = n % size;
      r = k === 0 ? v : ((v << k) | (v >>> (size - k))) & mask;
      cf = r & 1;
      writeA(c, i, size, r, 0); setCfOf(c, cf, ((r >>> (size - 1)) & 1) ^ cf); return;
    }
    case ShiftOp.Ror: {
      const k = n % size;
      r = k === 0 ? v : ((v >>> k) | (v << (size - k))) & mask;
      cf = (r >>> (size - 1)) & 1;
      writeA(c, i, size, r, 0); setCfOf(c, cf, cf ^ ((r >>> (size - 2)) & 1)); return;
    }
    case ShiftOp.Rcl: {
      const k = size === 32 ? n : n % (size + 1);
      let cin = getCF(c);
      r = v;
      for (let t = 0; t < k; t++) { const out = (r >>> (size - 1)) & 1; r = ((r << 1) | cin) & mask; cin = out; }
      writeA(c, i, size, r, 0);
      if (k !== 0) setCfOf(c, cin, ((r >>> (size - 1)) & 1) ^ cin);
      return;
    }
    default: { // rcr
      const k = size === 32 ? n : n % (size + 1);
      let cin = getCF(c);
      r = v;
      let of = ((r >>> (size - 1)) & 1) ^ cin;
      for (let t = 0; t < k; t++) { const out = r & 1; r = ((r >>> 1) | (cin << (size - 1))) & mask; cin = out; }
      writeA(c, i, size, r, 0);
      if (k !== 0) setCfOf(c, cin, of);
      return;
    }
  }
}

/** 64-bit value (lo, hi) shifted left by n in 0..63; result lo returned, hi in c.outHi (also BMI2's shlx/rorx). */
export function shl64(c: Cpu, lo: number, hi: number, n: number): number {
  if (n === 0) { c.outHi = hi; return lo; }
  if (n < 32) { c.outHi = (hi << n) | (lo >>> (32 - n)); return lo << n; }
  c.outHi = lo << (n - 32); return 0;
}
/** Logical right shift of (lo, hi) by n (0..63): low half returned, high in c.outHi. */
export function shr64(c: Cpu, lo: number, hi: number, n: number): number {
  if (n === 0) { c.outHi = hi; return lo; }
  if (n < 32) { c.outHi = hi >>> n; return (lo >>> n) | (hi << (32 - n)); }
  c.outHi = 0; return hi >>> (n - 32);
}
function sar64(c: Cpu, lo: number, hi: number, n: number): number {
  if (n === 0) { c.outHi = hi; return lo; }
  if (n < 32) { c.outHi = hi >> n; return (lo >>> n) | (hi << (32 - n)); }
  c.outHi = hi >> 31; return hi >> (n - 32);
}
/** Bit n (0..63) of a 64-bit value. */
function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

function shift64(c: Cpu, i: Insn, n: number, vl: number, vh: number): void {
  if (n === 0) return;
  let rl: number, rh: number, cf: number;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal:
      rl = shl64(c, vl, vh, n); rh = c.outHi; cf = bit64(vl, vh, 64 - n);
      writeA(c, i, 64, rl, rh); shiftFlags(c, 64, rl, rh, cf, (rh >>> 31) ^ cf); return;
    case ShiftOp.Shr:
      rl = shr64(c, vl, vh, n); rh = c.outHi; cf = bit64(vl, vh, n - 1);
      writeA(c, i, 64, rl, rh); shiftFlags(c, 64, rl, rh, cf, vh >>> 31); return;
    case ShiftOp.Sar:
      rl = sar64(c, vl, vh, n); rh = c.outHi; cf = bit64(vl, vh, n - 1);
      writeA(c, i, 64, rl, rh); shiftFlags(c, 64, rl, rh, cf, 0); return;
    case ShiftOp.Rol: {
      const l1 = shl64(c, vl, vh, n), h1 = c.outHi;
      const l2 = shr64(c, vl, vh, 64 - n), h2 = c.outHi;
      rl = l1 | l2; rh = h1 | h2; cf = rl & 1;
      writeA(c, i, 64, rl, rh); setCfOf(c, cf, (rh >>> 31) ^ cf); return;
    }
    case ShiftOp.Ror: {
      const l1 = shr64(c, vl, vh, n), h1 = c.outHi;
      const l2 = shl64(c, vl, vh, 64 - n), h2 = c.outHi;
      rl = l1 | l2; rh = h1 | h2; cf = rh >>> 31;
      writeA(c, i, 64, rl, rh); setCfOf(c, cf, cf ^ ((rh >>> 30) & 1)); return;
    }
    case ShiftOp.Rcl: {
      let cin = getCF(c);
      rl = vl; rh = vh;
      for (let t = 0; t < n; t++) { const out = rh >>> 31; rh = (rh << 1) | (rl >>> 31); rl = (rl << 1) | cin; cin = out; }
      writeA(c, i, 64, rl, rh); setCfOf(c, cin, (rh >>> 31) ^ cin); return;
    }
    default: {
      let cin = getCF(c);
      rl = vl; rh = vh;
      const of = (rh >>> 31) ^ cin;
      for (let t = 0; t < n; t++) { const out = rl & 1; rl = (rl >>> 1) | (rh << 31); rh = (rh >>> 1) | (cin << 31); cin = out; }
      writeA(c, i, 64, rl, rh); setCfOf(c, cin, of); return;
    }
  }
}

/**
 * shld (op 0) / shrd (op 1): a = rm, b = register supplying bits, count in
 * imm8 (c operand -2) or CL. For 16-bit operands a count above 16 is
 * architecturally undefined; we shift through the 32-bit concatenation.
 */
export function shiftDouble(c: Cpu, i: Insn): void {
  const size = i.size;
  const n = (i.c === -2 ? i.immLo : getR8(c, 1)) & (size === 64 ? 0x3f : 0x1f);
  const al = readARmw(c, i, size), ah = c.outHi;
  const bl = size === 64 ? c.lo[i.b]! : size === 32 ? c.lo[i.b]! : c.lo[i.b]! & 0xffff, bh = c.hi[i.b]!;
  if (n === 0) { if (size === 32 && i.a >= 0) writeA(c, i, 32, al, 0); return; }
  const left = i.op === 0;
  let rl: number, rh = 0, cf: number;
  if (size === 64) {
    if (left) {
      const l1 = shl64(c, al, ah, n), h1 = c.outHi;
      const l2 = shr64(c, bl, bh, 64 - n), h2 = c.outHi;
      rl = l1 | l2; rh = h1 | h2; cf = bit64(al, ah, 64 - n);
    } else {
      const l1 = shr64(c, al, ah, n), h1 = c.outHi;
      const l2 = shl64(c, bl, bh, 64 - n), h2 = c.outHi;
      rl = l1 | l2; rh = h1 | h2; cf = bit64(al, ah, n - 1);
    }
    writeA(c, i, 64, rl, rh);
    shiftFlags(c, 64, rl, rh, cf, ((rh ^ ah) >>> 31) & 1);
    return;
  }
  if (size === 32) {
    if (left) { rl = (al << n) | (bl >>> (32 - n)); cf = (al >>> (32 - n)) & 1; }
    else { rl = (al >>> n) | (bl << (32 - n)); cf = (al >>> (n - 1)) & 1; }
    writeA(c, i, 32, rl, 0);
    shiftFlags(c, 32, rl, 0, cf, ((rl ^ al) >>> 31) & 1);
    return;
  }
  // 16-bit: operate on the 32-bit pattern dest:src (left) or src:dest (right).
  const a16 = al & 0xffff;
  if (left) {
    const cat = ((a16 << 16) | bl) >>> 0;
    // For counts above 16 hardware shifts in bits of the source again: model as a 48-bit dest:src:dest window.
    const big = n <= 16 ? cat : ((bl << 16) | a16) >>> 0;
    const k = n <= 16 ? n : n - 16;
    rl = ((big << k) | (n <= 16 ? 0 : a16 >>> (16 - k))) >>> 16 & 0xffff;
    if (n <= 16) rl = (cat << n) >>> 16 & 0xffff;
    cf = n <= 16 ? (a16 >>> (16 - n)) & 1 : (bl >>> (32 - n)) & 1;
  } else {
    const cat = ((bl << 16) | a16) >>> 0;
    if (n <= 16) { rl = (cat >>> n) & 0xffff; cf = (a16 >>> (n - 1)) & 1; }
    else { const cat2 = ((a16 << 16) | bl) >>> 0; rl = (cat2 >>> (n - 16)) & 0xffff; cf = (bl >>> (n - 17)) & 1; }
  }
  writeA(c, i, 16, rl, 0);
  shiftFlags(c, 16, rl, 0, cf, ((rl ^ a16) >>> 15) & 1);
}
