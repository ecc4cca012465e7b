// mul, imul (one-, two- and three-operand forms), div, idiv.
// 8/16/32-bit products use exact 16-bit-limb arithmetic; the 64-bit
// forms use four 32x32 partial products; only 128/64 division uses BigInt (rare, and must be exact).
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { LazyOp, CF, OF } from '../flags.ts';
import { readA, readB, setReg, getR8, setR16 } from './operands.ts';
import { CpuFault, Vector } from '../fault.ts';

/** Unsigned 32x32 → 64: returns the low half, high half in c.outHi. */
export function mulU32(c: Cpu, a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  c.outHi = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
  return (ll & 0xffff) | (mid << 16);
}

/** Full 128-bit product of two 64-bit values (halves) into W[0..3] (little-endian words); signed if asked. */
/** The product words of the last mul64 (also read by mulx in bmi.ts). */
export const W = new Int32Array(4);
export function mul64(c: Cpu, al: number, ah: number, bl: number, bh: number, signed: boolean): void {
  const p0l = mulU32(c, al, bl), p0h = c.outHi;
  const p1l = mulU32(c, al, bh), p1h = c.outHi;
  const p2l = mulU32(c, ah, bl), p2h = c.outHi;
  const p3l = mulU32(c, ah, bh), p3h = c.outHi;
  const t1 = (p0h >>> 0) + (p1l >>> 0) + (p2l >>> 0);
  const c1 = Math.floor(t1 / 4294967296);
  const t2 = (p1h >>> 0) + (p2h >>> 0) + (p3l >>> 0) + c1;
  const c2 = Math.floor(t2 / 4294967296);
  let w2 = t2 | 0, w3 = (p3h + c2) | 0;
  if (signed) {
    // (a - 2^64·[a<0]) (b - 2^64·[b<0]) = ab - 2^64·([a<0]·b + [b<0]·a) mod 2^128
    if (ah < 0) { const t = (w2 >>> 0) - (bl >>> 0); w2 = t | 0; w3 = (w3 - bh - (t < 0 ? 1 : 0)) | 0; }
    if (bh < 0) { const t = (w2 >>> 0) - (al >>> 0); w2 = t | 0; w3 = (w3 - ah - (t < 0 ? 1 : 0)) | 0; }
  }
  W[0] = p0l; W[1] = t1 | 0; W[2] = w2; W[3] = w3;
}

function mulFlags(c: Cpu, size: number, lo: number, overflow: boolean): void {
  c.fOp = LazyOp.Result; c.fSize = size; c.fR = lo; c.fRh = 0;
  c.fAux = overflow ? CF | OF : 0;
}

const M64 = (1n << 64n) - 1n;
function big(lo: number, hi: number): bigint { return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0); }
function sbig(lo: number, hi: number): bigint { return BigInt.asIntN(64, big(lo, hi)); }
function setBig(c: Cpu, r: number, v: bigint): void {
  c.lo[r] = Number(v & 0xffffffffn) | 0; c.hi[r] = Number((v >> 32n) & 0xffffffffn) | 0;
}

/** One-operand mul (op 0) / imul (op 1): accumulator times rm. */
export function mulAcc(c: Cpu, i: Insn): void {
  const size = i.size, signed = i.op === 1;
  const bl = readA(c, i, size), bh = c.outHi;
  switch (size) {
    case 8: {
      const a = getR8(c, 0);
      const r = signed ? ((a << 24) >> 24) * ((bl << 24) >> 24) : a * bl;
      setR16(c, 0, r);
      const ov = signed ? r !== ((r << 24) >> 24) : (r & 0xff00) !== 0;
      mulFlags(c, 8, r, ov); return;
    }
    case 16: {
      const a = c.lo[0]! & 0xffff;
      const r = signed ? ((a << 16) >> 16) * ((bl << 16) >> 16) : a * bl;
      setR16(c, 0, r); setR16(c, 2, r >> 16);
      const ov = signed ? r !== ((r << 16) >> 16) : (r >>> 16) !== 0;
      mulFlags(c, 16, r, ov); return;
    }
    case 32: {
      const a = c.lo[0]!;
      let lo = mulU32(c, a, bl), hi = c.outHi;
      if (signed) hi = (hi - (a < 0 ? bl : 0) - (bl < 0 ? a : 0)) | 0;
      setReg(c, 0, 32, lo, 0); setReg(c, 2, 32, hi, 0);
      const ov = signed ? hi !== (lo >> 31) : hi !== 0;
      mulFlags(c, 32, lo, ov); return;
    }
    default: {
      mul64(c, c.lo[0]!, c.hi[0]!, bl, bh, signed);
      c.lo[0] = W[0]!; c.hi[0] = W[1]!; c.lo[2] = W[2]!; c.hi[2] = W[3]!;
      const ov = signed ? !(W[2] === W[1]! >> 31 && W[3] === W[1]! >> 31) : (W[2]! | W[3]!) !== 0;
      mulFlags(c, 64, W[0]!, ov);
      c.fRh = W[1]!;
    }
  }
}

/** Two-operand imul r, rm: a = a * b, truncated. */
export function imul2(c: Cpu, i: Insn): void {
  const x = c.lo[i.a]!, xh = c.hi[i.a]!;
  const y = readB(c, i, i.size);
  imulTrunc(c, i, x, xh, y, c.outHi);
}

/** Three-operand imul r, rm, imm: a = b * imm, truncated. */
export function imul3(c: Cpu, i: Insn): void {
  const x = readB(c, i, i.size);
  imulTrunc(c, i, x, c.outHi, i.immLo, i.immHi);
}

function imulTrunc(c: Cpu, i: Insn, x: number, xh: number, y: number, yh: number): void {
  switch (i.size) {
    case 16: {
      const r = ((x << 16) >> 16) * ((y << 16) >> 16);
      setR16(c, i.a, r); mulFlags(c, 16, r, r !== ((r << 16) >> 16)); return;
    }
    case 32: {
      const lo = Math.imul(x, y);
      mulU32(c, x, y);
      const hi = (c.outHi - (x < 0 ? y : 0) - (y < 0 ? x : 0)) | 0;
      setReg(c, i.a, 32, lo, 0); mulFlags(c, 32, lo, hi !== (lo >> 31)); return;
    }
    default: {
      mul64(c, x, xh, y, yh, true);
      c.lo[i.a] = W[0]!; c.hi[i.a] = W[1]!;
      mulFlags(c, 64, W[0]!, !(W[2] === W[1]! >> 31 && W[3] === W[1]! >> 31));
      c.fRh = W[1]!;
    }
  }
}

function divideError(): CpuFault { return new CpuFault(Vector.DE, -1, 'divide error'); }

/** div (op 0) / idiv (op 1): accumulator pair divided by rm; #DE on zero divisor or quotient overflow. */
export function divide(c: Cpu, i: Insn): void {
  const size = i.size, signed = i.op === 1;
  const dl = readA(c, i, size), dh = c.outHi;
  switch (size) {
    case 8: {
      const n = c.lo[0]! & 0xffff;
      const d = signed ? (dl << 24) >> 24 : dl;
      if (d === 0) throw divideError();
      const nn = signed ? (n << 16) >> 16 : n;
      const q = Math.trunc(nn / d), r = nn - q * d;
      if (signed ? q < -128 || q > 127 : q > 0xff) throw divideError();
      setR16(c, 0, (q & 0xff) | ((r & 0xff) << 8)); break;
    }
    case 16: {
      const n = ((c.lo[2]! & 0xffff) << 16 | (c.lo[0]! & 0xffff));
      const d = signed ? (dl << 16) >> 16 : dl;
      if (d === 0) throw divideError();
      const nn = signed ? n : n >>> 0;
      const q = Math.trunc(nn / d), r = nn - q * d;
      if (signed ? q < -32768 || q > 32767 : q > 0xffff) throw divideError();
      setR16(c, 0, q); setR16(c, 2, r); break;
    }
    case 32: {
      const nh = c.lo[2]!, nl = c.lo[0]!;
      if (dl === 0) throw divideError();
      let q: number, r: number;
      if (!signed && nh === 0) { q = Math.floor((nl >>> 0) / (dl >>> 0)); r = (nl >>> 0) - q * (dl >>> 0); }
      else {
        const n = signed ? sbig(nl, nh) : big(nl, nh);
        const d = signed ? BigInt(dl) : BigInt(dl >>> 0);
        const bq = n / d, br = n % d;
        if (signed ? bq < -0x80000000n || bq > 0x7fffffffn : bq > 0xffffffffn) throw divideError();
        q = Number(BigInt.asIntN(32, bq)); r = Number(BigInt.asIntN(32, br));
      }
      setReg(c, 0, 32, q | 0, 0); setReg(c, 2, 32, r | 0, 0); break;
    }
    default: {
      const dv = signed ? sbig(dl, dh) : big(dl, dh);
      if (dv === 0n) throw divideError();
      const n = (big(c.lo[2]!, c.hi[2]!) << 64n) | big(c.lo[0]!, c.hi[0]!);
      const nn = signed ? BigInt.asIntN(128, n) : n;
      const q = nn / dv, r = nn % dv;
      if (signed ? q < -(1n << 63n) || q >= (1n << 63n) : q > M64) throw divideError();
      setBig(c, 0, q & M64); setBig(c, 2, r & M64);
    }
  }
  // Flags after div/idiv are undefined; leave them as they were.
}
