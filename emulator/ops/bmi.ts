// BMI1 (andn bextr blsi blsmsk blsr), BMI2 (bzhi mulx pdep pext rorx sarx
// shlx shrx): the VEX-encoded general-purpose bit instructions. 32- and
// 64-bit forms only; 32-bit results zero-extend. Operand positions are
// iced's: VEX.vvvv is whichever of a/b/c the Code name puts it at.
//
// Flags (Intel SDM Vol. 2, AMD APM Vol. 3): andn: SF ZF from the result,
// CF OF 0; bextr: ZF, CF OF 0; blsi/blsr: SF ZF, CF = source ≠ 0 (blsi) /
// source = 0 (blsr), OF 0; blsmsk: SF, ZF 0, CF = source = 0, OF 0; bzhi:
// SF ZF, CF = index ≥ width, OF 0. AF and PF (and SF for bextr) are
// undefined: we compute PF/SF from the result and clear AF. The BMI2 forms
// other than bzhi leave the flags alone.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { CF, LazyOp } from '../flags.ts';
import { getReg, setReg, ea, readMem } from './operands.ts';
import { shl64, shr64 } from './shift.ts';
import { mulU32, mul64, W } from './muldiv.ts';

/** Operand at position `pos` (register or the memory operand); 64-bit high half in c.outHi (0 for 32). */
function src(c: Cpu, i: Insn, pos: number, size: number): number {
  let v: number;
  if (pos >= 0) v = getReg(c, pos, size);
  else { ea(c, i); v = readMem(c, size); }
  if (size === 32) c.outHi = 0;
  return v;
}

/** ZF SF PF from the result (lo, hi), CF/OF as given, AF clear. */
function resultFlags(c: Cpu, size: number, lo: number, hi: number, cfof: number): void {
  c.fOp = LazyOp.Result; c.fSize = size; c.fR = lo; c.fRh = size === 64 ? hi : 0;
  c.fAux = cfof;
}


/** Keep the low n bits of (lo, hi), n < 64; high half in c.outHi. */
function lowBits(c: Cpu, lo: number, hi: number, n: number): number {
  if (n >= 32) { c.outHi = n === 32 ? 0 : hi & ((1 << (n - 32)) - 1); return lo; }
  c.outHi = 0; return n === 0 ? 0 : lo & (-1 >>> (32 - n));
}

/** andn a, b(vvvv), c: a = ~b & c. */
export function andn(c: Cpu, i: Insn): void {
  const s = i.size;
  const bl = src(c, i, i.b, s), bh = c.outHi;
  const ml = src(c, i, i.c, s), mh = c.outHi;
  const rl = ~bl & ml, rh = ~bh & mh;
  setReg(c, i.a, s, rl, rh);
  resultFlags(c, s, rl, rh, 0);
}

/** bextr a, b, c(vvvv): a = the c[15:8] bits of b from bit c[7:0]. */
export function bextr(c: Cpu, i: Insn): void {
  const s = i.size;
  const vl = src(c, i, i.b, s), vh = c.outHi;
  const ctl = getReg(c, i.c, 32);
  const start = ctl & 0xff, len = (ctl >>> 8) & 0xff;
  let rl = 0, rh = 0;
  if (start < s) {
    rl = shr64(c, vl, vh, start); rh = c.outHi;
    if (len < s) { rl = lowBits(c, rl, rh, len); rh = c.outHi; }
  }
  setReg(c, i.a, s, rl, rh);
  resultFlags(c, s, rl, rh, 0);
}

/** blsi (op 0) blsmsk (1) blsr (2): a(vvvv) = b & -b, b ^ (b - 1), b & (b - 1). */
export function blsOp(c: Cpu, i: Insn): void {
  const s = i.size;
  const vl = src(c, i, i.b, s), vh = c.outHi;
  const zero = s === 64 ? (vl | vh) === 0 : vl === 0;
  let rl: number, rh: number;
  if (i.op === 0) {
    const nl = -vl | 0, nh = (~vh + (vl === 0 ? 1 : 0)) | 0;
    rl = vl & nl; rh = vh & nh;
  } else {
    const ml = (vl - 1) | 0, mh = (vh - (vl === 0 ? 1 : 0)) | 0;
    if (i.op === 1) { rl = vl ^ ml; rh = vh ^ mh; } else { rl = vl & ml; rh = vh & mh; }
  }
  if (s === 32) rh = 0;
  setReg(c, i.a, s, rl, rh);
  resultFlags(c, s, rl, rh, (i.op === 0 ? !zero : zero) ? CF : 0);
}

/** bzhi a, b, c(vvvv): a = b with the bits from c[7:0] up cleared; CF = index beyond the operand. */
export function bzhi(c: Cpu, i: Insn): void {
  const s = i.size;
  let rl = src(c, i, i.b, s), rh = c.outHi;
  const n = getReg(c, i.c, 32) & 0xff;
  if (n < s) { rl = lowBits(c, rl, rh, n); rh = c.outHi; }
  setReg(c, i.a, s, rl, rh);
  resultFlags(c, s, rl, rh, n >= s ? CF : 0);
}

/** mulx a(high), b(vvvv, low), c: unsigned rdx/edx × c; flags untouched. Same a and b: a gets the high half. */
export function mulx(c: Cpu, i: Insn): void {
  const s = i.size;
  const ml = src(c, i, i.c, s), mh = c.outHi;
  let ll: number, lh: number, hl: number, hh: number;
  if (s === 32) { ll = mulU32(c, c.lo[2]!, ml); lh = 0; hl = c.outHi; hh = 0; }
  else { mul64(c, c.lo[2]!, c.hi[2]!, ml, mh, false); ll = W[0]!; lh = W[1]!; hl = W[2]!; hh = W[3]!; }
  setReg(c, i.b, s, ll, lh);
  setReg(c, i.a, s, hl, hh);
}

/** pdep (op 0): deposit b(vvvv)'s low bits at c's set bits; pext (op 1): gather b's bits at c's set bits. */
export function pdepPext(c: Cpu, i: Insn): void {
  const s = i.size;
  const vl = src(c, i, i.b, s), vh = c.outHi;
  const ml = src(c, i, i.c, s), mh = c.outHi;
  let rl = 0, rh = 0, k = 0; // k: position in the packed value
  for (let half = 0; half < 2; half++) {
    let m = half === 0 ? ml : mh;
    while (m !== 0) {
      const low = m & -m;
      const p = 31 - Math.clz32(low) + 32 * half; // position in the scattered value
      const from = i.op === 0 ? k : p, to = i.op === 0 ? p : k;
      const bit = from < 32 ? (vl >>> from) & 1 : (vh >>> (from - 32)) & 1;
      if (bit) { if (to < 32) rl |= 1 << to; else rh |= 1 << (to - 32); }
      k++;
      m ^= low;
    }
  }
  setReg(c, i.a, s, rl, s === 64 ? rh : 0);
}

/** rorx a, b, imm8: rotate right by imm & (width - 1); flags untouched. */
export function rorx(c: Cpu, i: Insn): void {
  const s = i.size;
  const vl = src(c, i, i.b, s), vh = c.outHi;
  const n = i.immLo & (s - 1);
  if (s === 32) { setReg(c, i.a, 32, n === 0 ? vl : (vl >>> n) | (vl << (32 - n)), 0); return; }
  const rl = shr64(c, vl, vh, n), rh = c.outHi;
  const ll = n === 0 ? 0 : shl64(c, vl, vh, 64 - n), lh = n === 0 ? 0 : c.outHi;
  setReg(c, i.a, 64, rl | ll, rh | lh);
}

/** shlx (op 0) shrx (1) sarx (2) a, b, c(vvvv): shift b by c & (width - 1); flags untouched. */
export function shiftX(c: Cpu, i: Insn): void {
  const s = i.size;
  const vl = src(c, i, i.b, s), vh = c.outHi;
  const n = getReg(c, i.c, 32) & (s - 1);
  if (s === 32) {
    setReg(c, i.a, 32, i.op === 0 ? vl << n : i.op === 1 ? vl >>> n : vl >> n, 0);
    return;
  }
  let rl: number, rh: number;
  if (i.op === 0) { rl = shl64(c, vl, vh, n); rh = c.outHi; }
  else if (i.op === 1 || vh >= 0) { rl = shr64(c, vl, vh, n); rh = c.outHi; }
  else { rl = ~shr64(c, ~vl, ~vh, n); rh = ~c.outHi; } // arithmetic: shift the complement of a negative value
  setReg(c, i.a, 64, rl, rh);
}
