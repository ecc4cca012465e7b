// The interpreter's specialised ALU handlers: one function per operation
// and operand shape (register-register, register-immediate; 32 and 64
// bits; shifts by a constant; two- and three-operand imul on registers),
// chosen at decode time (specialize.ts). Each records only the lazy-flag
// fields its operation's flags are computed from (flags.ts): a logic op's
// flags come from the result alone.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
// Lazy-flag kinds and flag bits are written as numbers (LazyOp in flags.ts): the build compiles each
// module on its own (isolatedModules), so `LazyOp.Sub` would be a property load at every instruction.
import { mulU32, mul64, W } from './muldiv.ts';
import { getCF, setCfOf } from '../flags.ts';

// ---- 32-bit, register-register ----

export function addRR32(c: Cpu, i: Insn): void {
  const lo = c.lo, a = lo[i.a]!, b = lo[i.b]!, r = (a + b) | 0;
  c.fA = a; c.fB = b; c.fR = r; c.fSize = 32; c.fOp = 1 /* Add */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function subRR32(c: Cpu, i: Insn): void {
  const lo = c.lo, a = lo[i.a]!, b = lo[i.b]!, r = (a - b) | 0;
  c.fA = a; c.fB = b; c.fR = r; c.fSize = 32; c.fOp = 3 /* Sub */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function cmpRR32(c: Cpu, i: Insn): void {
  const lo = c.lo, a = lo[i.a]!, b = lo[i.b]!;
  c.fA = a; c.fB = b; c.fR = (a - b) | 0; c.fSize = 32; c.fOp = 3 /* Sub */;
}
export function andRR32(c: Cpu, i: Insn): void {
  const lo = c.lo, r = lo[i.a]! & lo[i.b]!;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function orRR32(c: Cpu, i: Insn): void {
  const lo = c.lo, r = lo[i.a]! | lo[i.b]!;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function xorRR32(c: Cpu, i: Insn): void {
  const lo = c.lo, r = lo[i.a]! ^ lo[i.b]!;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function testRR32(c: Cpu, i: Insn): void {
  const lo = c.lo;
  c.fR = lo[i.a]! & lo[i.b]!; c.fSize = 32; c.fOp = 5 /* Logic */;
}

// ---- 32-bit, register-immediate ----

export function addRI32(c: Cpu, i: Insn): void {
  const lo = c.lo, a = lo[i.a]!, b = i.immLo, r = (a + b) | 0;
  c.fA = a; c.fB = b; c.fR = r; c.fSize = 32; c.fOp = 1 /* Add */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function subRI32(c: Cpu, i: Insn): void {
  const lo = c.lo, a = lo[i.a]!, b = i.immLo, r = (a - b) | 0;
  c.fA = a; c.fB = b; c.fR = r; c.fSize = 32; c.fOp = 3 /* Sub */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function cmpRI32(c: Cpu, i: Insn): void {
  const a = c.lo[i.a]!, b = i.immLo;
  c.fA = a; c.fB = b; c.fR = (a - b) | 0; c.fSize = 32; c.fOp = 3 /* Sub */;
}
export function andRI32(c: Cpu, i: Insn): void {
  const lo = c.lo, r = lo[i.a]! & i.immLo;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function orRI32(c: Cpu, i: Insn): void {
  const lo = c.lo, r = lo[i.a]! | i.immLo;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function xorRI32(c: Cpu, i: Insn): void {
  const lo = c.lo, r = lo[i.a]! ^ i.immLo;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  lo[i.a] = r; c.hi[i.a] = 0;
}
export function testRI32(c: Cpu, i: Insn): void {
  c.fR = c.lo[i.a]! & i.immLo; c.fSize = 32; c.fOp = 5 /* Logic */;
}

// ---- 64-bit: operands as halves (b from a register or the immediate) ----

function add64(c: Cpu, a: number, al: number, ah: number, bl: number, bh: number): void {
  const t = (al >>> 0) + (bl >>> 0);
  const rl = t | 0, rh = (ah + bh + (t > 0xffffffff ? 1 : 0)) | 0;
  c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fR = rl; c.fRh = rh; c.fSize = 64; c.fOp = 1 /* Add */;
  c.lo[a] = rl; c.hi[a] = rh;
}
function sub64(c: Cpu, a: number, al: number, ah: number, bl: number, bh: number, write: boolean): void {
  const t = (al >>> 0) - (bl >>> 0);
  const rl = t | 0, rh = (ah - bh - (t < 0 ? 1 : 0)) | 0;
  c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fR = rl; c.fRh = rh; c.fSize = 64; c.fOp = 3 /* Sub */;
  if (write) { c.lo[a] = rl; c.hi[a] = rh; }
}
function logic64(c: Cpu, a: number, rl: number, rh: number, write: boolean): void {
  c.fR = rl; c.fRh = rh; c.fSize = 64; c.fOp = 5 /* Logic */;
  if (write) { c.lo[a] = rl; c.hi[a] = rh; }
}

export function addRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; add64(c, a, c.lo[a]!, c.hi[a]!, c.lo[b]!, c.hi[b]!); }
export function subRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; sub64(c, a, c.lo[a]!, c.hi[a]!, c.lo[b]!, c.hi[b]!, true); }
export function cmpRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; sub64(c, a, c.lo[a]!, c.hi[a]!, c.lo[b]!, c.hi[b]!, false); }
export function andRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; logic64(c, a, c.lo[a]! & c.lo[b]!, c.hi[a]! & c.hi[b]!, true); }
export function orRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; logic64(c, a, c.lo[a]! | c.lo[b]!, c.hi[a]! | c.hi[b]!, true); }
export function xorRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; logic64(c, a, c.lo[a]! ^ c.lo[b]!, c.hi[a]! ^ c.hi[b]!, true); }
export function testRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; logic64(c, a, c.lo[a]! & c.lo[b]!, c.hi[a]! & c.hi[b]!, false); }

export function addRI64(c: Cpu, i: Insn): void { const a = i.a; add64(c, a, c.lo[a]!, c.hi[a]!, i.immLo, i.immHi); }
export function subRI64(c: Cpu, i: Insn): void { const a = i.a; sub64(c, a, c.lo[a]!, c.hi[a]!, i.immLo, i.immHi, true); }
export function cmpRI64(c: Cpu, i: Insn): void { const a = i.a; sub64(c, a, c.lo[a]!, c.hi[a]!, i.immLo, i.immHi, false); }
export function andRI64(c: Cpu, i: Insn): void { const a = i.a; logic64(c, a, c.lo[a]! & i.immLo, c.hi[a]! & i.immHi, true); }
export function orRI64(c: Cpu, i: Insn): void { const a = i.a; logic64(c, a, c.lo[a]! | i.immLo, c.hi[a]! | i.immHi, true); }
export function xorRI64(c: Cpu, i: Insn): void { const a = i.a; logic64(c, a, c.lo[a]! ^ i.immLo, c.hi[a]! ^ i.immHi, true); }
export function testRI64(c: Cpu, i: Insn): void { const a = i.a; logic64(c, a, c.lo[a]! & i.immLo, c.hi[a]! & i.immHi, false); }

// ---- Shifts of a register by a constant count (1..31 / 1..63, masked at decode: specialize.ts) ----

function shiftResult(c: Cpu, size: number, rl: number, rh: number, cf: number, of: number): void {
  c.fR = rl; c.fRh = rh; c.fSize = size; c.fAux = (cf ? 1 : 0) | (of ? 0x800 : 0); c.fOp = 8 /* Result */;
}

export function shlRI32(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, v = c.lo[a]!;
  const r = v << n, cf = (v >>> (32 - n)) & 1;
  c.lo[a] = r; c.hi[a] = 0;
  shiftResult(c, 32, r, 0, cf, (r >>> 31) ^ cf);
}
export function shrRI32(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, v = c.lo[a]!;
  const r = v >>> n;
  c.lo[a] = r; c.hi[a] = 0;
  shiftResult(c, 32, r, 0, (v >>> (n - 1)) & 1, v >>> 31);
}
export function sarRI32(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, v = c.lo[a]!;
  const r = v >> n;
  c.lo[a] = r; c.hi[a] = 0;
  shiftResult(c, 32, r, 0, (v >> (n - 1)) & 1, 0);
}
export function shlRI64(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, vl = c.lo[a]!, vh = c.hi[a]!;
  let rl: number, rh: number, cf: number;
  if (n < 32) { rl = vl << n; rh = (vh << n) | (vl >>> (32 - n)); cf = (vh >>> (32 - n)) & 1; }
  else { rl = 0; rh = vl << (n - 32); cf = n === 32 ? vh & 1 : (vl >>> (64 - n)) & 1; }
  c.lo[a] = rl; c.hi[a] = rh;
  shiftResult(c, 64, rl, rh, cf, (rh >>> 31) ^ cf);
}
export function shrRI64(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, vl = c.lo[a]!, vh = c.hi[a]!;
  let rl: number, rh: number, cf: number;
  if (n < 32) { rl = (vl >>> n) | (vh << (32 - n)); rh = vh >>> n; cf = (vl >>> (n - 1)) & 1; }
  else { rl = vh >>> (n - 32); rh = 0; cf = n === 32 ? vl >>> 31 : (vh >>> (n - 33)) & 1; }
  c.lo[a] = rl; c.hi[a] = rh;
  shiftResult(c, 64, rl, rh, cf, vh >>> 31);
}
export function sarRI64(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, vl = c.lo[a]!, vh = c.hi[a]!;
  let rl: number, rh: number, cf: number;
  if (n < 32) { rl = (vl >>> n) | (vh << (32 - n)); rh = vh >> n; cf = (vl >>> (n - 1)) & 1; }
  else { rl = vh >> (n - 32); rh = vh >> 31; cf = n === 32 ? vl >>> 31 : (vh >>> (n - 33)) & 1; }
  c.lo[a] = rl; c.hi[a] = rh;
  shiftResult(c, 64, rl, rh, cf, 0);
}

// ---- imul on registers ----

/** Signed 32x32 product into register a: the low half kept, CF = OF = the product does not fit 32 bits. */
function imul32To(c: Cpu, a: number, x: number, y: number): void {
  const r = Math.imul(x, y);
  // x * y is exact below 2^53; above it the product cannot fit 32 bits, and the double differs from r anyway.
  c.lo[a] = r; c.hi[a] = 0;
  c.fR = r; c.fRh = 0; c.fSize = 32; c.fAux = x * y !== r ? 0x801 : 0; c.fOp = 8 /* Result */;
}

export function imulRR32(c: Cpu, i: Insn): void { imul32To(c, i.a, c.lo[i.a]!, c.lo[i.b]!); }
export function imulRRI32(c: Cpu, i: Insn): void { imul32To(c, i.a, c.lo[i.b]!, i.immLo); }

/** Signed 64x64 product truncated into register a. */
function imul64To(c: Cpu, a: number, xl: number, xh: number, yl: number, yh: number): void {
  let rl: number, rh: number, ov: boolean;
  if (xh === xl >> 31 && yh === yl >> 31) {
    // Both fit 32 bits: the 64-bit product is exact, no overflow.
    rl = mulU32(c, xl, yl);
    rh = (c.outHi - (xl < 0 ? yl : 0) - (yl < 0 ? xl : 0)) | 0;
    ov = false;
  } else if ((xh | yh) === 0) {
    // Both below 2^32 (a 32-bit value times a magic constant): the unsigned product, which fits 63 bits unless bit 63 is set.
    rl = mulU32(c, xl, yl); rh = c.outHi;
    ov = rh < 0;
  } else {
    mul64(c, xl, xh, yl, yh, true);
    rl = W[0]!; rh = W[1]!;
    ov = !(W[2] === rh >> 31 && W[3] === rh >> 31);
  }
  c.lo[a] = rl; c.hi[a] = rh;
  c.fR = rl; c.fRh = rh; c.fSize = 64; c.fAux = ov ? 0x801 : 0; c.fOp = 8 /* Result */;
}

export function imulRR64(c: Cpu, i: Insn): void { const a = i.a, b = i.b; imul64To(c, a, c.lo[a]!, c.hi[a]!, c.lo[b]!, c.hi[b]!); }
export function imulRRI64(c: Cpu, i: Insn): void { const b = i.b; imul64To(c, i.a, c.lo[b]!, c.hi[b]!, i.immLo, i.immHi); }

// ---- Rotates of a register by a constant count: CF and OF explicit, the other flags stay lazy (setCfOf) ----

export function rolRI32(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, v = c.lo[a]!;
  const r = (v << n) | (v >>> (32 - n)), cf = r & 1;
  c.lo[a] = r; c.hi[a] = 0;
  setCfOf(c, cf, (r >>> 31) ^ cf);
}
export function rorRI32(c: Cpu, i: Insn): void {
  const a = i.a, n = i.immLo, v = c.lo[a]!;
  const r = (v >>> n) | (v << (32 - n)), cf = r >>> 31;
  c.lo[a] = r; c.hi[a] = 0;
  setCfOf(c, cf, cf ^ ((r >>> 30) & 1));
}
export function rolRI64(c: Cpu, i: Insn): void {
  const a = i.a, vl = c.lo[a]!, vh = c.hi[a]!;
  let n = i.immLo, l = vl, h = vh;
  if (n >= 32) { l = vh; h = vl; n -= 32; } // a rotate by 32 swaps the halves
  const rl = n === 0 ? l : (l << n) | (h >>> (32 - n)), rh = n === 0 ? h : (h << n) | (l >>> (32 - n));
  const cf = rl & 1;
  c.lo[a] = rl; c.hi[a] = rh;
  setCfOf(c, cf, (rh >>> 31) ^ cf);
}
export function rorRI64(c: Cpu, i: Insn): void {
  const a = i.a, vl = c.lo[a]!, vh = c.hi[a]!;
  let n = i.immLo, l = vl, h = vh;
  if (n >= 32) { l = vh; h = vl; n -= 32; }
  const rl = n === 0 ? l : (l >>> n) | (h << (32 - n)), rh = n === 0 ? h : (h >>> n) | (l << (32 - n));
  const cf = rh >>> 31;
  c.lo[a] = rl; c.hi[a] = rh;
  setCfOf(c, cf, cf ^ ((rh >>> 30) & 1));
}

// ---- inc/dec of a register: flags as add/sub of 1 with CF kept (in fAux) ----

export function incR32(c: Cpu, i: Insn): void {
  const cf = getCF(c), a = i.a, v = c.lo[a]!, r = (v + 1) | 0;
  c.lo[a] = r; c.hi[a] = 0;
  c.fA = v; c.fB = 1; c.fR = r; c.fSize = 32; c.fAux = cf; c.fOp = 6 /* Inc */;
}
export function decR32(c: Cpu, i: Insn): void {
  const cf = getCF(c), a = i.a, v = c.lo[a]!, r = (v - 1) | 0;
  c.lo[a] = r; c.hi[a] = 0;
  c.fA = v; c.fB = 1; c.fR = r; c.fSize = 32; c.fAux = cf; c.fOp = 7 /* Dec */;
}
export function incR64(c: Cpu, i: Insn): void {
  const cf = getCF(c), a = i.a, vl = c.lo[a]!, vh = c.hi[a]!;
  const rl = (vl + 1) | 0, rh = rl === 0 ? (vh + 1) | 0 : vh;
  c.lo[a] = rl; c.hi[a] = rh;
  c.fA = vl; c.fAh = vh; c.fB = 1; c.fBh = 0; c.fR = rl; c.fRh = rh; c.fSize = 64; c.fAux = cf; c.fOp = 6 /* Inc */;
}
export function decR64(c: Cpu, i: Insn): void {
  const cf = getCF(c), a = i.a, vl = c.lo[a]!, vh = c.hi[a]!;
  const rl = (vl - 1) | 0, rh = vl === 0 ? (vh - 1) | 0 : vh;
  c.lo[a] = rl; c.hi[a] = rh;
  c.fA = vl; c.fAh = vh; c.fB = 1; c.fBh = 0; c.fR = rl; c.fRh = rh; c.fSize = 64; c.fAux = cf; c.fOp = 7 /* Dec */;
}
