// Bit instructions: bt bts btr btc, bsf bsr, tzcnt lzcnt popcnt, bswap.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { CF, ZF, arithFlags, setArithFlags } from '../flags.ts';
import { ea, readMem, readMemRmw, writeMem, getReg, setReg, readB } from './operands.ts';

/** bt (op 0) bts (1) btr (2) btc (3): a = rm, b = register offset or immediate. */
export function bitTest(c: Cpu, i: Insn): void {
  const size = i.size, op = i.op;
  let bit: number;
  if (i.a >= 0) {
    bit = (i.b === -2 ? i.immLo : c.lo[i.b]!) & (size - 1);
    let vl = getReg(c, i.a, size), vh = c.outHi;
    const cur = bit < 32 ? (vl >>> bit) & 1 : (vh >>> (bit - 32)) & 1;
    if (op !== 0) {
      const ml = bit < 32 ? 1 << bit : 0, mh = bit < 32 ? 0 : 1 << (bit - 32);
      if (op === 1) { vl |= ml; vh |= mh; } else if (op === 2) { vl &= ~ml; vh &= ~mh; } else { vl ^= ml; vh ^= mh; }
      setReg(c, i.a, size, vl, vh);
    }
    setArithFlags(c, (arithFlags(c) & ~CF) | cur);
    return;
  }
  ea(c, i);
  if (i.b === -2) {
    bit = i.immLo & (size - 1);
  } else {
    // A register offset is signed and may address outside the operand: move the address by whole operands.
    const size8 = size >> 3;
    let offLo: number, offHi: number;
    if (size === 64) { offLo = c.lo[i.b]!; offHi = c.hi[i.b]!; }
    else if (size === 32) { offLo = c.lo[i.b]!; offHi = offLo >> 31; }
    else { offLo = (c.lo[i.b]! << 16) >> 16; offHi = offLo >> 31; }
    bit = offLo & (size - 1);
    const shift = size === 64 ? 6 : size === 32 ? 5 : 4;
    // byte displacement = (offset >> shift) * size8, as a 64-bit value
    let dl = (offLo >>> shift) | (offHi << (32 - shift));
    let dh = offHi >> shift;
    const m = Math.log2(size8);
    dh = (dh << m) | (dl >>> (32 - m)); dl = dl << m;
    const s = (c.eaLo >>> 0) + (dl >>> 0);
    if (i.asize === 64 || c.codeBits === 64) { c.eaLo = s | 0; c.eaHi = (c.eaHi + dh + (s > 0xffffffff ? 1 : 0)) | 0; }
    else { c.eaLo = s | 0; }
  }
  const rsize = size;
  let vl = op === 0 ? readMem(c, rsize) : readMemRmw(c, rsize), vh = c.outHi;
  const cur = bit < 32 ? (vl >>> bit) & 1 : (vh >>> (bit - 32)) & 1;
  if (op !== 0) {
    const ml = bit < 32 ? 1 << bit : 0, mh = bit < 32 ? 0 : 1 << (bit - 32);
    if (op === 1) { vl |= ml; vh |= mh; } else if (op === 2) { vl &= ~ml; vh &= ~mh; } else { vl ^= ml; vh ^= mh; }
    writeMem(c, rsize, vl, vh);
  }
  setArithFlags(c, (arithFlags(c) & ~CF) | cur);
}

function ctz32(v: number): number { return 31 - Math.clz32(v & -v); }

/** bsf (op 0) / bsr (op 1): a = register, b = rm. A zero source sets ZF and leaves the destination unchanged (AMD; Intel: undefined). */
export function bitScan(c: Cpu, i: Insn): void {
  const size = i.size;
  const vl = readB(c, i, size), vh = size === 64 ? c.outHi : 0;
  const f = arithFlags(c) & ~ZF;
  if ((vl | vh) === 0 || (size === 16 && (vl & 0xffff) === 0)) { setArithFlags(c, f | ZF); return; }
  let idx: number;
  if (i.op === 0) idx = vl !== 0 ? ctz32(vl) : 32 + ctz32(vh);
  else idx = vh !== 0 ? 63 - Math.clz32(vh) : 31 - Math.clz32(size === 16 ? vl & 0xffff : vl);
  setReg(c, i.a, size, idx, 0);
  setArithFlags(c, f);
}

/** tzcnt (op 0) / lzcnt (op 1): CF = source was zero, ZF = result is zero. */
export function countZeros(c: Cpu, i: Insn): void {
  const size = i.size;
  let vl = readB(c, i, size), vh = size === 64 ? c.outHi : 0;
  if (size === 16) vl &= 0xffff;
  let n: number;
  if (i.op === 0) {
    if (size === 64) n = vl !== 0 ? ctz32(vl) : vh !== 0 ? 32 + ctz32(vh) : 64;
    else n = vl !== 0 ? ctz32(vl) : size;
  } else {
    if (size === 64) n = vh !== 0 ? Math.clz32(vh) : 32 + Math.clz32(vl);
    else n = Math.clz32(vl) - (32 - size);
  }
  setReg(c, i.a, size, n, 0);
  const zeroSrc = (vl | vh) === 0;
  setArithFlags(c, (arithFlags(c) & ~(CF | ZF)) | (zeroSrc ? CF : 0) | (n === 0 ? ZF : 0));
}

function pop32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** popcnt: ZF = source was zero; CF OF SF AF PF cleared. */
export function popcnt(c: Cpu, i: Insn): void {
  const size = i.size;
  let vl = readB(c, i, size);
  const vh = size === 64 ? c.outHi : 0;
  if (size === 16) vl &= 0xffff;
  const n = pop32(vl) + pop32(vh);
  setReg(c, i.a, size, n, 0);
  setArithFlags(c, n === 0 ? ZF : 0);
}

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** bswap r32/r64 (the 16-bit form is undefined: we zero the low word, as hardware does). */
export function bswap(c: Cpu, i: Insn): void {
  const r = i.a;
  if (i.size === 64) { const l = c.lo[r]!; c.lo[r] = bswap32(c.hi[r]!); c.hi[r] = bswap32(l); }
  else if (i.size === 32) { c.lo[r] = bswap32(c.lo[r]!); c.hi[r] = 0; }
  else c.lo[r] = c.lo[r]! & ~0xffff;
}


