// Lazy arithmetic flags. Flag-setting instructions record what they did
// (operation, width, operands, result); CF/PF/AF/ZF/SF/OF are computed
// only when something reads them. 64-bit values are kept as 32-bit halves.
//
// Width-generic trick: for widths below 32, shifting a value left by
// (32 - width) puts its top bit at bit 31, so sign tests and unsigned
// compares of 8/16/32-bit quantities are the same code.
import type { Cpu } from './cpu.ts';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** What the last flag-setting instruction did. */
export const enum LazyOp {
  /** All arithmetic flags are in fAux. */
  None = 0,
  Add = 1, Adc = 2, Sub = 3, Sbb = 4,
  /** and/or/xor/test: CF = OF = 0; AF left 0 (undefined architecturally). */
  Logic = 5,
  /** inc/dec: like add/sub of 1, CF preserved in fAux. */
  Inc = 6, Dec = 7,
  /** ZF/SF/PF from the result; CF, OF and AF from fAux. */
  Result = 8,
}

// Below, LazyOp values are written as numbers: the build compiles each module on its own
// (isolatedModules), where `LazyOp.Sub` stays a property load on the hot path.

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, p = 1;
  while (b) { p ^= b & 1; b >>= 1; }
  PARITY[i] = p ? PF : 0;
}

export function getCF(c: Cpu): number {
  const sh = 32 - c.fSize;
  switch (c.fOp) {
    case 1 /* Add */:
      if (c.fSize === 64) return ltu64(c.fRh, c.fR, c.fAh, c.fA);
      return ((c.fR << sh) >>> 0) < ((c.fA << sh) >>> 0) ? 1 : 0;
    case 2 /* Adc */:
      if (c.fAux & 1) {
        if (c.fSize === 64) return ltu64(c.fAh, c.fA, c.fRh, c.fR) ^ 1; // r <= a
        return ((c.fR << sh) >>> 0) <= ((c.fA << sh) >>> 0) ? 1 : 0;
      }
      if (c.fSize === 64) return ltu64(c.fRh, c.fR, c.fAh, c.fA);
      return ((c.fR << sh) >>> 0) < ((c.fA << sh) >>> 0) ? 1 : 0;
    case 3 /* Sub */:
      if (c.fSize === 64) return ltu64(c.fAh, c.fA, c.fBh, c.fB);
      return ((c.fA << sh) >>> 0) < ((c.fB << sh) >>> 0) ? 1 : 0;
    case 4 /* Sbb */:
      if (c.fAux & 1) {
        if (c.fSize === 64) return ltu64(c.fBh, c.fB, c.fAh, c.fA) ^ 1; // a <= b
        return ((c.fA << sh) >>> 0) <= ((c.fB << sh) >>> 0) ? 1 : 0;
      }
      if (c.fSize === 64) return ltu64(c.fAh, c.fA, c.fBh, c.fB);
      return ((c.fA << sh) >>> 0) < ((c.fB << sh) >>> 0) ? 1 : 0;
    case 5 /* Logic */:
      return 0;
    default:
      return c.fAux & CF;
  }
}

/** Unsigned (ah:al) < (bh:bl), as 0/1. */
function ltu64(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return (ah >>> 0) < (bh >>> 0) ? 1 : 0;
  return (al >>> 0) < (bl >>> 0) ? 1 : 0;
}

export function getZF(c: Cpu): number {
  if (c.fOp === 0 /* None */) return (c.fAux >> 6) & 1;
  if (c.fSize === 64) return (c.fR | c.fRh) === 0 ? 1 : 0;
  return (c.fR << (32 - c.fSize)) === 0 ? 1 : 0;
}

export function getSF(c: Cpu): number {
  if (c.fOp === 0 /* None */) return (c.fAux >> 7) & 1;
  if (c.fSize === 64) return c.fRh >>> 31;
  return (c.fR << (32 - c.fSize)) >>> 31;
}

export function getPF(c: Cpu): number {
  if (c.fOp === 0 /* None */) return (c.fAux >> 2) & 1;
  return PARITY[c.fR & 0xff]! >> 2;
}

export function getAF(c: Cpu): number {
  switch (c.fOp) {
    case 1 /* Add */: case 2 /* Adc */: case 3 /* Sub */: case 4 /* Sbb */: case 6 /* Inc */: case 7 /* Dec */:
      return ((c.fA ^ c.fB ^ c.fR) >> 4) & 1;
    case 5 /* Logic */:
      return 0;
    default:
      return (c.fAux >> 4) & 1;
  }
}

export function getOF(c: Cpu): number {
  const top = c.fSize === 64;
  switch (c.fOp) {
    case 1 /* Add */: case 2 /* Adc */: case 6 /* Inc */:
      if (top) return ((c.fAh ^ c.fRh) & (c.fBh ^ c.fRh)) >>> 31;
      return (((c.fA ^ c.fR) & (c.fB ^ c.fR)) << (32 - c.fSize)) >>> 31;
    case 3 /* Sub */: case 4 /* Sbb */: case 7 /* Dec */:
      if (top) return ((c.fAh ^ c.fBh) & (c.fAh ^ c.fRh)) >>> 31;
      return (((c.fA ^ c.fB) & (c.fA ^ c.fR)) << (32 - c.fSize)) >>> 31;
    case 5 /* Logic */:
      return 0;
    default:
      return (c.fAux >> 11) & 1;
  }
}

/** The six arithmetic flags as RFLAGS bits. */
export function arithFlags(c: Cpu): number {
  if (c.fOp === 0 /* None */) return c.fAux & ARITH_FLAGS;
  return getCF(c) | (getPF(c) << 2) | (getAF(c) << 4) | (getZF(c) << 6) | (getSF(c) << 7) | (getOF(c) << 11);
}

/** Replace the arithmetic flags with explicit bits. */
export function setArithFlags(c: Cpu, bits: number): void {
  c.fOp = 0 /* None */;
  c.fAux = bits & ARITH_FLAGS;
}

/**
 * Replace CF and OF and keep the other four (what a rotate does) without
 * computing them: ZF, SF and PF still come from the last result, AF is
 * carried in fAux. Stays lazy unless the flags were already explicit.
 */
export function setCfOf(c: Cpu, cf: number, of: number): void {
  const bits = (cf ? CF : 0) | (of ? OF : 0);
  if (c.fOp === 0 /* None */) { c.fAux = (c.fAux & ~(CF | OF)) | bits; return; }
  c.fAux = (getAF(c) << 4) | bits;
  c.fOp = 8 /* Result */;
}

/**
 * Condition cc after the 32-bit compare a - b, from its operands: 1 or 0,
 * or -1 for the conditions they do not answer alone (o, no, s, ns, p, np).
 */
export function subCondition32(cc: number, a: number, b: number): number {
  switch (cc) {
    case 2: return (a >>> 0) < (b >>> 0) ? 1 : 0;
    case 3: return (a >>> 0) >= (b >>> 0) ? 1 : 0;
    case 4: return a === b ? 1 : 0;
    case 5: return a !== b ? 1 : 0;
    case 6: return (a >>> 0) <= (b >>> 0) ? 1 : 0;
    case 7: return (a >>> 0) > (b >>> 0) ? 1 : 0;
    case 12: return a < b ? 1 : 0;
    case 13: return a >= b ? 1 : 0;
    case 14: return a <= b ? 1 : 0;
    case 15: return a > b ? 1 : 0;
    default: return -1;
  }
}

/** Evaluate condition code cc (0..15, the x86 encoding order O NO B AE E NE BE A S NS P NP L GE LE G). */
export function condition(c: Cpu, cc: number): boolean {
  // The compare-and-branch pair is the hottest case: answer it from the operands.
  if (c.fOp === 3 /* Sub */ && c.fSize >= 32) {
    if (c.fSize === 32) {
      const v = subCondition32(cc, c.fA, c.fB);
      if (v !== -1) return v === 1;
    } else {
      switch (cc) {
        case 4: return c.fA === c.fB && c.fAh === c.fBh;
        case 5: return c.fA !== c.fB || c.fAh !== c.fBh;
      }
    }
  }
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(c) === 1; break;
    case 1: r = getCF(c) === 1; break;
    case 2: r = getZF(c) === 1; break;
    case 3: r = (getCF(c) | getZF(c)) === 1; break;
    case 4: r = getSF(c) === 1; break;
    case 5: r = getPF(c) === 1; break;
    case 6: r = getSF(c) !== getOF(c); break;
    default: r = getZF(c) === 1 || getSF(c) !== getOF(c); break;
  }
  return (cc & 1) ? !r : r;
}
