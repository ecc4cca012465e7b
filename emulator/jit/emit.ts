// Source emitters for the block compiler: the commonest instruction forms
// become straight-line JavaScript with their registers, immediates and
// addresses baked in as constants. Anything else is a direct call to its
// handler. Emitted code must behave exactly like the handler it replaces
// (the differential suite runs every case through both).
import type { Insn, Handler } from '../insn.ts';
import { aluHandler, aluHandler64, aluRR32, aluRR64, aluRI32, aluRI64, AluOp, incDec, not } from '../ops/alu.ts';
import { mov, movRR32, movRR64, movRI32, movRI64, movzx, lea, nop, cmovcc, setcc } from '../ops/move.ts';
import { jcc, jmpRel, callRel, ret } from '../ops/branch.ts';
import { LazyOp } from '../flags.ts';
import { shiftHandler, ShiftOp } from '../ops/shift.ts';
import { imul2 } from '../ops/muldiv.ts';
import { pushOp, popOp } from '../ops/stack.ts';
import { bswap } from '../ops/bits.ts';

/** What the block knows about the flags: the last flag-setting instruction was emitted inline with these locals. */
export interface FlagsKnown { kind: 'sub' | 'add' | 'logic'; size: 32 | 64 }

export interface EmitState {
  /** Known lazy-flag producer for jcc, or null. */
  flags: FlagsKnown | null;
  /** Whether the flags this instruction writes are read before being overwritten (false: skip computing them). */
  flagsLive: boolean;
}

/** Emitted code for one instruction: its source and whether it can fault or end the block. */
export interface Emitted { code: string; mayFault: boolean; writesMemory: boolean }

const LAZY: Record<number, number> = {
  [AluOp.Add]: LazyOp.Add, [AluOp.Adc]: LazyOp.Adc, [AluOp.Sbb]: LazyOp.Sbb, [AluOp.Or]: LazyOp.Logic, [AluOp.And]: LazyOp.Logic, [AluOp.Sub]: LazyOp.Sub,
  [AluOp.Xor]: LazyOp.Logic, [AluOp.Cmp]: LazyOp.Sub, [AluOp.Test]: LazyOp.Logic,
};
const KIND: Record<number, FlagsKnown['kind']> = {
  [AluOp.Add]: 'add', [AluOp.Or]: 'logic', [AluOp.And]: 'logic', [AluOp.Sub]: 'sub',
  [AluOp.Xor]: 'logic', [AluOp.Cmp]: 'sub', [AluOp.Test]: 'logic',
};

/**
 * Effective address into locals el/eh, or null when the form is not handled here.
 * 64-bit code: flat addressing (no segment base applies), summed in 32-bit halves with carries
 * (integer operations only). 32-bit code: base of segment i.seg added, 32-bit wrap.
 */
export function emitEA(i: Insn, codeBits: number): string | null {
  if (i.asize === 64 && codeBits === 64 && i.seg < 0) {
    // Terms as [low, high] 32-bit halves: base, scaled index (in s:x), displacement.
    const terms: [string, string][] = [];
    const pre: string[] = [];
    if (i.base >= 0) terms.push([`lo[${i.base}]`, `hi[${i.base}]`]);
    if (i.index >= 0) {
      if (i.scale === 0) terms.push([`lo[${i.index}]`, `hi[${i.index}]`]);
      else {
        pre.push(`s = lo[${i.index}] << ${i.scale}; x = (hi[${i.index}] << ${i.scale}) | (lo[${i.index}] >>> ${32 - i.scale});`);
        terms.push(['s', 'x']);
      }
    }
    if (i.dispLo !== 0 || i.dispHi !== 0 || terms.length === 0) terms.push([`${i.dispLo | 0}`, `${i.dispHi | 0}`]);
    const code = [...pre, `el = ${terms[0]![0]}; eh = ${terms[0]![1]};`];
    for (const [tl, th] of terms.slice(1)) {
      // Carry out of the low halves: the sum is below the addend (unsigned).
      code.push(`el = (el + ${tl}) | 0; eh = (eh + ${th} + ((el >>> 0) < (${tl} >>> 0) ? 1 : 0)) | 0;`);
    }
    return code.join(' ');
  }
  if (i.asize === 32 && codeBits === 32 && i.seg !== 1) { // CS-relative operands are always checked (handler path)
    let e = `${i.dispLo}`;
    if (i.base >= 0) e += ` + lo[${i.base}]`;
    if (i.index >= 0) e += ` + (lo[${i.index}] << ${i.scale})`;
    if (i.seg >= 0) e += ` + c.segBaseLo[${i.seg}]`;
    return `el = (${e}) | 0; eh = 0;`;
  }
  return null;
}

/** Where the block compiler puts `c.cur = i<k>;` (a memory access may fault or record a write: either needs the instruction). */
export const CUR = '/*cur*/';

/**
 * Read `size` bits at el:eh into `dst` (for 64, the low half; the high half
 * into `dstHi`) through the Cpu's read (TLB, page walk, devices, faults);
 * `rmw` reads as readRmw* does, translated for the store that follows.
 * Inlining the TLB hit here was measured slower on the boot: the larger
 * code costs more in instruction-cache misses than the calls (V8 inlines
 * the helpers' hit path where its inlining budget allows).
 */
function readMem(size: number, dst: string, dstHi = '', rmw = false): string {
  const f = `${rmw ? 'readRmw' : 'read'}${size}`;
  return size === 64 ? `${CUR} ${dst} = c.${f}(el, eh); ${dstHi} = c.outHi;` : `${CUR} ${dst} = c.${f}(el, eh);`;
}

/** Write `size` bits (`v`; for 64 the low half, `vHi` the high) at el:eh. */
function writeMem(size: number, v: string, vHi = ''): string {
  return `${CUR} c.write${size}(el, eh, ${v}${size === 64 ? `, ${vHi}` : ''});`;
}

/** Condition `cc` from known flag locals, or null to use the generic evaluator. */
function knownCondition(f: FlagsKnown, cc: number): string | null {
  const neg = (e: string) => `!(${e})`;
  const base = cc & ~1, inv = (cc & 1) === 1;
  let e: string | null = null;
  if (f.size === 32) {
    if (f.kind === 'sub') {
      switch (base) {
        case 2: e = '(a >>> 0) < (b >>> 0)'; break;
        case 4: e = 'a === b'; break;
        case 6: e = '(a >>> 0) <= (b >>> 0)'; break;
        case 8: e = 'r < 0'; break;
        case 12: e = 'a < b'; break;
        case 14: e = 'a <= b'; break;
      }
    } else {
      switch (base) {
        case 4: e = 'r === 0'; break;
        case 8: e = 'r < 0'; break;
      }
      if (f.kind === 'logic') {
        switch (base) {
          case 2: e = 'false'; break;
          case 6: e = 'r === 0'; break;
          case 12: e = 'r < 0'; break;
          case 14: e = 'r <= 0'; break;
        }
      }
    }
  } else {
    const ltu = '((ah >>> 0) < (bh >>> 0) || (ah === bh && (a >>> 0) < (b >>> 0)))';
    const lts = '(ah < bh || (ah === bh && (a >>> 0) < (b >>> 0)))';
    const eq = '(a === b && ah === bh)';
    if (f.kind === 'sub') {
      switch (base) {
        case 2: e = ltu; break;
        case 4: e = eq; break;
        case 6: e = `(${ltu} || ${eq})`; break;
        case 8: e = 'rh < 0'; break;
        case 12: e = lts; break;
        case 14: e = `(${lts} || ${eq})`; break;
      }
    } else {
      switch (base) {
        case 4: e = '(r | rh) === 0'; break;
        case 8: e = 'rh < 0'; break;
      }
      if (f.kind === 'logic') {
        switch (base) {
          case 2: e = 'false'; break;
          case 6: e = '(r | rh) === 0'; break;
          case 12: e = 'rh < 0'; break;
          case 14: e = '(rh < 0 || (r | rh) === 0)'; break;
        }
      }
    }
  }
  if (e === null) return null;
  return inv ? neg(e) : e;
}

function alu(i: Insn, st: EmitState, size: 32 | 64, src: 'reg' | 'imm' | 'mem', dst: 'reg' | 'mem', ea: string): Emitted | null {
  const op = i.op;
  const writes = op < AluOp.Cmp;
  // adc/sbb: the carry in (x, read once the operands are: emitEA's scaled index uses x) goes into fAux, as aluN/alu64 record it.
  const carry = op === AluOp.Adc || op === AluOp.Sbb;
  const lines: string[] = [];
  if (dst === 'mem' || src === 'mem') lines.push(ea);
  if (size === 32) {
    lines.push(dst === 'reg' ? `a = lo[${i.a}];` : readMem(32, 'a', '', writes));
    lines.push(src === 'reg' ? `b = lo[${i.b}];` : src === 'imm' ? `b = ${i.immLo};` : readMem(32, 'b'));
    if (carry) lines.push('x = cf(c);');
    const expr = op === AluOp.Add ? '(a + b) | 0' : op === AluOp.Sub || op === AluOp.Cmp ? '(a - b) | 0' : op === AluOp.Or ? 'a | b' : op === AluOp.Xor ? 'a ^ b'
      : op === AluOp.Adc ? '(a + b + x) | 0' : op === AluOp.Sbb ? '(a - b - x) | 0' : 'a & b';
    lines.push(`r = ${expr};`);
    if (writes) lines.push(dst === 'reg' ? `lo[${i.a}] = r; hi[${i.a}] = 0;` : writeMem(32, 'r'));
    if (st.flagsLive) lines.push(`c.fOp = ${LAZY[op]}; c.fSize = 32; c.fA = a; c.fB = b; c.fR = r;${carry ? ' c.fAux = x;' : ''}`);
  } else {
    lines.push(dst === 'reg' ? `a = lo[${i.a}]; ah = hi[${i.a}];` : readMem(64, 'a', 'ah', writes));
    lines.push(src === 'reg' ? `b = lo[${i.b}]; bh = hi[${i.b}];` : src === 'imm' ? `b = ${i.immLo}; bh = ${i.immHi};` : readMem(64, 'b', 'bh'));
    if (carry) lines.push('x = cf(c);');
    switch (op) {
      case AluOp.Add: lines.push('s = (a >>> 0) + (b >>> 0); r = s | 0; rh = (ah + bh + (s > 4294967295 ? 1 : 0)) | 0;'); break;
      case AluOp.Adc: lines.push('s = (a >>> 0) + (b >>> 0) + x; r = s | 0; rh = (ah + bh + (s > 4294967295 ? 1 : 0)) | 0;'); break;
      case AluOp.Sbb: lines.push('s = (a >>> 0) - (b >>> 0) - x; r = s | 0; rh = (ah - bh - (s < 0 ? 1 : 0)) | 0;'); break;
      case AluOp.Sub: case AluOp.Cmp: lines.push('s = (a >>> 0) - (b >>> 0); r = s | 0; rh = (ah - bh - (s < 0 ? 1 : 0)) | 0;'); break;
      case AluOp.Or: lines.push('r = a | b; rh = ah | bh;'); break;
      case AluOp.Xor: lines.push('r = a ^ b; rh = ah ^ bh;'); break;
      default: lines.push('r = a & b; rh = ah & bh;');
    }
    if (writes) lines.push(dst === 'reg' ? `lo[${i.a}] = r; hi[${i.a}] = rh;` : writeMem(64, 'r', 'rh'));
    if (st.flagsLive) lines.push(`c.fOp = ${LAZY[op]}; c.fSize = 64; c.fA = a; c.fAh = ah; c.fB = b; c.fBh = bh; c.fR = r; c.fRh = rh;${carry ? ' c.fAux = x;' : ''}`);
  }
  st.flags = carry ? null : { kind: KIND[op]!, size };
  return { code: lines.join(' '), mayFault: dst === 'mem' || src === 'mem', writesMemory: dst === 'mem' && writes };
}

/** shl/shr/sar of a 16-bit register by a constant below 16 (the low word changes; flags as shiftHandler records them). */
function shift16(i: Insn, st: EmitState): Emitted | null {
  const n = i.immLo & 0x1f, A = i.a;
  if (n === 0 || n >= 16) return null;
  let r: string, cf: string, of: string;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal: r = `a << ${n}`; cf = `(a >>> ${16 - n}) & 1`; of = `((r << 16) >>> 31) ^ ((a >>> ${16 - n}) & 1)`; break;
    case ShiftOp.Shr: r = `a >>> ${n}`; cf = `(a >>> ${n - 1}) & 1`; of = '(a >>> 15) & 1'; break;
    case ShiftOp.Sar: r = `((a << 16) >> 16) >> ${n}`; cf = `(((a << 16) >> 16) >> ${n - 1}) & 1`; of = '0'; break;
    default: return null;
  }
  const lines = [`a = lo[${A}] & 65535; r = ${r}; lo[${A}] = (lo[${A}] & -65536) | (r & 65535);`];
  if (st.flagsLive) lines.push(`c.fOp = ${LazyOp.Result}; c.fSize = 16; c.fR = r; c.fRh = 0; c.fAux = (${cf}) | ((${of}) << 11);`);
  st.flags = null;
  return { code: lines.join(' '), mayFault: false, writesMemory: false };
}

/**
 * Two-operand imul of 32-bit registers (or a register by memory): the low
 * half by Math.imul; CF = OF = the product does not fit 32 signed bits,
 * which is exactly when the double product (exact below 2^53, and at least
 * 2^31 in size when rounded) differs from the low half.
 */
function imul32(i: Insn, st: EmitState, codeBits: number): Emitted | null {
  const regB = i.b >= 0 && i.b < 16;
  if (!(i.a >= 0 && i.a < 16) || !(regB || i.b === -1)) return null;
  const lines: string[] = [];
  if (!regB) {
    const ea = emitEA(i, codeBits);
    if (ea === null) return null;
    lines.push(`${ea} ${readMem(32, 'b')}`);
  } else lines.push(`b = lo[${i.b}];`);
  lines.push(`a = lo[${i.a}]; r = Math.imul(a, b); lo[${i.a}] = r; hi[${i.a}] = 0;`);
  if (st.flagsLive) lines.push(`c.fOp = ${LazyOp.Result}; c.fSize = 32; c.fR = r; c.fRh = 0; c.fAux = a * b !== r ? 2049 : 0;`);
  st.flags = null;
  return { code: lines.join(' '), mayFault: !regB, writesMemory: false };
}

/**
 * A rotate's CF and OF, the other flags kept lazy (flags.ts setCfOf, inline):
 * ZF SF PF still come from the last result, its AF moves into fAux.
 */
function rotateFlags(cf: string, of: string): string {
  return `s = (${cf}) | ((${of}) << 11); if (c.fOp === ${LazyOp.None}) c.fAux = (c.fAux & -2050) | s; `
    + `else { c.fAux = (c.fOp === ${LazyOp.Logic} ? 0 : c.fOp === ${LazyOp.Result} ? c.fAux & 16 : (c.fA ^ c.fB ^ c.fR) & 16) | s; c.fOp = ${LazyOp.Result}; }`;
}

/** Shifts and rotates of a 32/64-bit register by a constant (imm8 or 1). */
function shiftConst(i: Insn, st: EmitState): Emitted | null {
  const size = i.size;
  if (size === 16 && i.a >= 0 && i.a < 16 && i.b === -2) return shift16(i, st);
  if (!(i.a >= 0 && i.a < 16) || i.b !== -2 || (size !== 32 && size !== 64)) return null;
  const n = i.immLo & (size === 64 ? 0x3f : 0x1f);
  const A = i.a;
  if (n === 0) return { code: size === 32 ? `hi[${A}] = 0;` : '', mayFault: false, writesMemory: false };
  const lines: string[] = [];
  const result = (cf: string, of: string) => {
    if (st.flagsLive) lines.push(`c.fOp = ${LazyOp.Result}; c.fSize = ${size}; c.fR = r; c.fRh = ${size === 64 ? 'rh' : 0}; c.fAux = (${cf}) | ((${of}) << 11);`);
  };
  if (size === 32) {
    lines.push(`a = lo[${A}];`);
    switch (i.op) {
      case ShiftOp.Shl: case ShiftOp.Sal:
        lines.push(`r = a << ${n}; lo[${A}] = r; hi[${A}] = 0;`);
        result(`(a >>> ${32 - n}) & 1`, `(r >>> 31) ^ ((a >>> ${32 - n}) & 1)`); break;
      case ShiftOp.Shr:
        lines.push(`r = a >>> ${n}; lo[${A}] = r; hi[${A}] = 0;`);
        result(`(a >>> ${n - 1}) & 1`, `a >>> 31`); break;
      case ShiftOp.Sar:
        lines.push(`r = a >> ${n}; lo[${A}] = r; hi[${A}] = 0;`);
        result(`(a >> ${n - 1}) & 1`, '0'); break;
      case ShiftOp.Rol:
        lines.push(`r = (a << ${n}) | (a >>> ${32 - n}); lo[${A}] = r; hi[${A}] = 0;`);
        if (st.flagsLive) lines.push(rotateFlags('r & 1', '((r >>> 31) ^ r) & 1')); break;
      case ShiftOp.Ror:
        lines.push(`r = (a >>> ${n}) | (a << ${32 - n}); lo[${A}] = r; hi[${A}] = 0;`);
        if (st.flagsLive) lines.push(rotateFlags('r >>> 31', '((r >>> 31) ^ (r >>> 30)) & 1')); break;
      default: return null;
    }
  } else {
    lines.push(`a = lo[${A}]; ah = hi[${A}];`);
    const bit = (k: number) => (k < 32 ? `((a >>> ${k}) & 1)` : `((ah >>> ${k - 32}) & 1)`);
    switch (i.op) {
      case ShiftOp.Shl: case ShiftOp.Sal:
        lines.push(n < 32 ? `rh = (ah << ${n}) | (a >>> ${32 - n}); r = a << ${n};` : `rh = a << ${n - 32}; r = 0;`);
        lines.push(`lo[${A}] = r; hi[${A}] = rh;`);
        result(bit(64 - n), `(rh >>> 31) ^ ${bit(64 - n)}`); break;
      case ShiftOp.Shr:
        lines.push(n < 32 ? `r = (a >>> ${n}) | (ah << ${32 - n}); rh = ah >>> ${n};` : `r = ah >>> ${n - 32}; rh = 0;`);
        lines.push(`lo[${A}] = r; hi[${A}] = rh;`);
        result(bit(n - 1), 'ah >>> 31'); break;
      case ShiftOp.Sar:
        lines.push(n < 32 ? `r = (a >>> ${n}) | (ah << ${32 - n}); rh = ah >> ${n};` : `r = ah >> ${n - 32}; rh = ah >> 31;`);
        lines.push(`lo[${A}] = r; hi[${A}] = rh;`);
        result(bit(n - 1), '0'); break;
      default: return null;
    }
  }
  st.flags = null;
  return { code: lines.join(' '), mayFault: false, writesMemory: false };
}

/** 8/16-bit ALU between low-byte/word registers or with an immediate (AH..BH and memory go through the handler). */
function aluNarrow(i: Insn, st: EmitState): Emitted | null {
  const op = i.op, size = i.size;
  if (op === AluOp.Adc || op === AluOp.Sbb) return null;
  if (!(i.a >= 0 && i.a < 16) || !((i.b >= 0 && i.b < 16) || i.b === -2)) return null;
  const mask = size === 8 ? 255 : 65535;
  const src = i.b === -2 ? `${i.immLo}` : `lo[${i.b}] & ${mask}`;
  const expr = op === AluOp.Add ? '(a + b) | 0' : op === AluOp.Sub || op === AluOp.Cmp ? '(a - b) | 0' : op === AluOp.Or ? 'a | b' : op === AluOp.Xor ? 'a ^ b' : 'a & b';
  const lines = [`a = lo[${i.a}] & ${mask}; b = ${src}; r = ${expr};`];
  if (op < AluOp.Cmp) lines.push(`lo[${i.a}] = (lo[${i.a}] & ${~mask}) | (r & ${mask});`);
  if (st.flagsLive) lines.push(`c.fOp = ${LAZY[op]}; c.fSize = ${size}; c.fA = a; c.fB = b; c.fR = r;`);
  st.flags = null; // known-condition shortcuts are written for 32/64-bit operands
  return { code: lines.join(' '), mayFault: false, writesMemory: false };
}

/** inc (op 0) / dec (op 1) of a 32/64-bit register: like add/sub 1, CF kept (read before the new flags are stored). */
function incDecReg(i: Insn, st: EmitState): Emitted {
  const A = i.a, dec = i.op === 1;
  const lines: string[] = [];
  if (i.size === 32) {
    lines.push(`a = lo[${A}]; r = (a ${dec ? '-' : '+'} 1) | 0; lo[${A}] = r; hi[${A}] = 0;`);
    if (st.flagsLive) lines.push(`c.fAux = cf(c); c.fA = a; c.fB = 1; c.fR = r; c.fSize = 32; c.fOp = ${dec ? LazyOp.Dec : LazyOp.Inc};`);
  } else {
    lines.push(`a = lo[${A}]; ah = hi[${A}];`);
    lines.push(dec ? 'r = (a - 1) | 0; rh = a === 0 ? (ah - 1) | 0 : ah;' : 'r = (a + 1) | 0; rh = r === 0 ? (ah + 1) | 0 : ah;');
    lines.push(`lo[${A}] = r; hi[${A}] = rh;`);
    if (st.flagsLive) lines.push(`c.fAux = cf(c); c.fA = a; c.fAh = ah; c.fB = 1; c.fBh = 0; c.fR = r; c.fRh = rh; c.fSize = 64; c.fOp = ${dec ? LazyOp.Dec : LazyOp.Inc};`);
  }
  st.flags = { kind: 'add', size: i.size as 32 | 64 };
  return { code: lines.join(' '), mayFault: false, writesMemory: false };
}

/** Shifts of a 32-bit register by CL: a count of 0 (masked) changes no flags but still clears the high half. */
function shiftCl32(i: Insn, st: EmitState): Emitted | null {
  const A = i.a;
  let r: string, cf: string, of: string;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal: r = 'a << b'; cf = '(a >>> (32 - b)) & 1'; of = '(r >>> 31) ^ ((a >>> (32 - b)) & 1)'; break;
    case ShiftOp.Shr: r = 'a >>> b'; cf = '(a >>> (b - 1)) & 1'; of = 'a >>> 31'; break;
    case ShiftOp.Sar: r = 'a >> b'; cf = '(a >> (b - 1)) & 1'; of = '0'; break;
    default: return null;
  }
  const flags = st.flagsLive ? ` c.fOp = ${LazyOp.Result}; c.fSize = 32; c.fR = r; c.fRh = 0; c.fAux = (${cf}) | ((${of}) << 11);` : '';
  st.flags = null;
  return { code: `a = lo[${A}]; b = lo[1] & 31; if (b !== 0) { r = ${r}; lo[${A}] = r;${flags} } hi[${A}] = 0;`, mayFault: false, writesMemory: false };
}

/** Shifts of a 64-bit register by CL (count masked to 6 bits; 0 changes nothing), flags as shift.ts shift64 records them. */
function shiftCl64(i: Insn, st: EmitState): Emitted | null {
  const A = i.a;
  // s: CF, the last bit shifted out (bit p of the original value).
  const bit = (p: string) => `s = (${p}) < 32 ? (a >>> (${p})) & 1 : (ah >>> ((${p}) - 32)) & 1;`;
  let code: string, of: string;
  switch (i.op) {
    case ShiftOp.Shl: case ShiftOp.Sal:
      code = `if (b < 32) { rh = (ah << b) | (a >>> (32 - b)); r = a << b; } else { rh = a << (b - 32); r = 0; } ${bit('64 - b')}`;
      of = '(rh >>> 31) ^ s'; break;
    case ShiftOp.Shr:
      code = `if (b < 32) { r = (a >>> b) | (ah << (32 - b)); rh = (ah >>> b) | 0; } else { r = (ah >>> (b - 32)) | 0; rh = 0; } ${bit('b - 1')}`;
      of = 'ah >>> 31'; break;
    case ShiftOp.Sar:
      code = `if (b < 32) { r = (a >>> b) | (ah << (32 - b)); rh = ah >> b; } else { r = ah >> (b - 32); rh = ah >> 31; } ${bit('b - 1')}`;
      of = '0'; break;
    default: return null;
  }
  const flags = st.flagsLive ? ` c.fOp = ${LazyOp.Result}; c.fSize = 64; c.fR = r; c.fRh = rh; c.fAux = s | ((${of}) << 11);` : '';
  st.flags = null;
  return { code: `b = lo[1] & 63; if (b !== 0) { a = lo[${A}]; ah = hi[${A}]; ${code} lo[${A}] = r; hi[${A}] = rh;${flags} }`, mayFault: false, writesMemory: false };
}

/** A byte swap of the 32-bit value of `v` (an expression read once into `t`, a scratch local). */
function bswap32(t: string, v: string): string {
  return `${t} = ${v}; ${t} = (${t} << 24) | ((${t} & 65280) << 8) | ((${t} >>> 8) & 65280) | (${t} >>> 24);`;
}

/**
 * push r64 / push imm (64-bit code, where the stack is flat and 64 bits
 * wide): the store first, then RSP, so a fault leaves RSP as it was. A
 * non-canonical stack address is #SS (stk), not the #GP of other operands.
 * push rsp stores the old value (read before RSP moves).
 */
function push64(i: Insn): Emitted {
  const [vl, vh] = i.a === -2 ? [`${i.immLo}`, `${i.immHi}`] : [`lo[${i.a}]`, `hi[${i.a}]`];
  return {
    code: `el = (lo[4] - 8) | 0; eh = (lo[4] >>> 0) < 8 ? (hi[4] - 1) | 0 : hi[4]; ${CUR} stk(c, el, eh); c.write64(el, eh, ${vl}, ${vh}); lo[4] = el; hi[4] = eh;`,
    mayFault: true, writesMemory: true,
  };
}

/** pop r64 (64-bit code): the load, RSP up by 8, then the register (pop rsp keeps the loaded value). */
function pop64(i: Insn): Emitted {
  return {
    code: `el = lo[4]; eh = hi[4]; ${CUR} stk(c, el, eh); x = c.read64(el, eh); s = c.outHi; `
      + `lo[4] = (el + 8) | 0; hi[4] = (el >>> 0) > 4294967287 ? (eh + 1) | 0 : eh; lo[${i.a}] = x; hi[${i.a}] = s;`,
    mayFault: true, writesMemory: false,
  };
}

/** call rel (64-bit code): the return address pushed as push64 stores a value, then RIP = the target. */
function call64(i: Insn): Emitted {
  return {
    code: `el = (lo[4] - 8) | 0; eh = (lo[4] >>> 0) < 8 ? (hi[4] - 1) | 0 : hi[4]; ${CUR} stk(c, el, eh); c.write64(el, eh, ${i.nextLo}, ${i.nextHi}); `
      + `lo[4] = el; hi[4] = eh; c.ripLo = ${i.tLo}; c.ripHi = ${i.tHi};`,
    mayFault: true, writesMemory: true,
  };
}

/** ret (64-bit code, no immediate): RIP popped (a non-canonical one faults at the fetch, as after the handler). */
function ret64(): Emitted {
  return {
    code: `el = lo[4]; eh = hi[4]; ${CUR} stk(c, el, eh); x = c.read64(el, eh); s = c.outHi; `
      + 'lo[4] = (el + 8) | 0; hi[4] = (el >>> 0) > 4294967287 ? (eh + 1) | 0 : eh; c.ripLo = x; c.ripHi = s;',
    mayFault: true, writesMemory: false,
  };
}

/** Whether an instruction is a push, pop, call or ret the compilers emit inline (its stack access bypasses the handler's #AC and data breakpoint checks). */
export function inlineStack(i: Insn, codeBits: number): boolean {
  if (codeBits !== 64 || i.size !== 64) return false;
  const regA = i.a >= 0 && i.a < 16;
  return (i.exec === pushOp && (regA || i.a === -2)) || (i.exec === popOp && regA) || i.exec === callRel || (i.exec === ret && i.immLo === 0);
}

/** Emit one instruction inline, or return null to call its handler. */
export function emit(i: Insn, h: Handler, st: EmitState, codeBits: number): Emitted | null {
  const regA = i.a >= 0 && i.a < 16, regB = i.b >= 0 && i.b < 16;
  if (h === movRR64) return { code: `lo[${i.a}] = lo[${i.b}]; hi[${i.a}] = hi[${i.b}];`, mayFault: false, writesMemory: false };
  if (h === movRR32) return { code: `lo[${i.a}] = lo[${i.b}]; hi[${i.a}] = 0;`, mayFault: false, writesMemory: false };
  if (h === movRI32) return { code: `lo[${i.a}] = ${i.immLo}; hi[${i.a}] = 0;`, mayFault: false, writesMemory: false };
  if (h === movRI64) return { code: `lo[${i.a}] = ${i.immLo}; hi[${i.a}] = ${i.immHi};`, mayFault: false, writesMemory: false };
  if (h === nop) return { code: '', mayFault: false, writesMemory: false };
  if (h === aluRR32) return alu(i, st, 32, 'reg', 'reg', '');
  if (h === aluRI32) return alu(i, st, 32, 'imm', 'reg', '');
  if (h === aluRR64) return alu(i, st, 64, 'reg', 'reg', '');
  if (h === aluRI64) return alu(i, st, 64, 'imm', 'reg', '');
  if (h === aluHandler && (i.size === 8 || i.size === 16)) return aluNarrow(i, st);
  if ((h === aluHandler && i.size === 32) || h === aluHandler64) {
    const size = i.size as 32 | 64;
    const ea = emitEA(i, codeBits);
    if (ea === null) return null;
    if (regA && i.b === -1) return alu(i, st, size, 'mem', 'reg', ea);
    if (i.a === -1 && regB) return alu(i, st, size, 'reg', 'mem', ea);
    if (i.a === -1 && i.b === -2) return alu(i, st, size, 'imm', 'mem', ea);
    return null;
  }
  if (h === imul2 && i.size === 32) return imul32(i, st, codeBits);
  if (h === not && regA && i.size === 32) return { code: `lo[${i.a}] = ~lo[${i.a}]; hi[${i.a}] = 0;`, mayFault: false, writesMemory: false };
  if (h === not && regA && i.size === 64) return { code: `lo[${i.a}] = ~lo[${i.a}]; hi[${i.a}] = ~hi[${i.a}];`, mayFault: false, writesMemory: false };
  if (h === shiftHandler && regA && i.b === 1 && i.size === 32) return shiftCl32(i, st);
  if (h === shiftHandler && regA && i.b === 1 && i.size === 64) return shiftCl64(i, st);
  if (h === mov && i.size === 16) {
    const ea = emitEA(i, codeBits);
    if (ea === null) return null;
    // Loaded through `x`: a/b/r may hold a compare's operands that a later jcc reads (knownCondition).
    if (regA && i.b === -1) return { code: `${ea} ${readMem(16, 'x')} lo[${i.a}] = (lo[${i.a}] & -65536) | x;`, mayFault: true, writesMemory: false };
    if (i.a === -1 && regB) return { code: `${ea} ${writeMem(16, `lo[${i.b}] & 65535`)}`, mayFault: true, writesMemory: true };
    if (i.a === -1 && i.b === -2) return { code: `${ea} ${writeMem(16, `${i.immLo & 0xffff}`)}`, mayFault: true, writesMemory: true };
    return null;
  }
  if (h === mov && (i.size === 32 || i.size === 64 || i.size === 8)) {
    const ea = emitEA(i, codeBits);
    if (ea === null) return null;
    const size = i.size;
    if (regA && i.b === -1 && size !== 8) {
      const set = size === 64 ? readMem(64, `lo[${i.a}]`, `hi[${i.a}]`) : `${readMem(32, `lo[${i.a}]`)} hi[${i.a}] = 0;`;
      return { code: `${ea} ${set}`, mayFault: true, writesMemory: false };
    }
    if (i.a === -1 && (regB || (size === 8 && i.b >= 16 && i.b < 20))) {
      const v = size === 64 ? writeMem(64, `lo[${i.b}]`, `hi[${i.b}]`) : size === 32 ? writeMem(32, `lo[${i.b}]`)
        : i.b < 16 ? writeMem(8, `lo[${i.b}] & 255`) : writeMem(8, `(lo[${i.b - 16}] >>> 8) & 255`);
      return { code: `${ea} ${v}`, mayFault: true, writesMemory: true };
    }
    if (i.a === -1 && i.b === -2) {
      const v = size === 64 ? writeMem(64, `${i.immLo}`, `${i.immHi}`) : size === 32 ? writeMem(32, `${i.immLo}`) : writeMem(8, `${i.immLo & 255}`);
      return { code: `${ea} ${v}`, mayFault: true, writesMemory: true };
    }
    return null;
  }
  if (h === movzx && regA && i.b === -1 && (i.size === 32 || i.size === 64) && (i.op === 8 || i.op === 16)) {
    const ea = emitEA(i, codeBits);
    if (ea === null) return null;
    return { code: `${ea} ${readMem(i.op, `lo[${i.a}]`)} hi[${i.a}] = 0;`, mayFault: true, writesMemory: false };
  }
  if (h === lea && regA && (i.size === 64 || i.size === 32) && i.asize === 64 && codeBits === 64) {
    const ea = emitEA({ ...i, seg: -1 } as Insn, codeBits);
    if (ea === null) return null;
    return { code: `${ea} lo[${i.a}] = el; hi[${i.a}] = ${i.size === 64 ? 'eh' : '0'};`, mayFault: false, writesMemory: false };
  }
  if (h === shiftHandler) return shiftConst(i, st);
  if (h === incDec && regA && (i.size === 32 || i.size === 64)) return incDecReg(i, st);
  if (h === cmovcc && regA && regB && (i.size === 32 || i.size === 64)) {
    const cond = (st.flags ? knownCondition(st.flags, i.op) : null) ?? `cond(c, ${i.op})`;
    const move = i.size === 64 ? `lo[${i.a}] = lo[${i.b}]; hi[${i.a}] = hi[${i.b}];` : `lo[${i.a}] = lo[${i.b}];`;
    return { code: `if (${cond}) { ${move} }${i.size === 32 ? ` hi[${i.a}] = 0;` : ''}`, mayFault: false, writesMemory: false };
  }
  if (h === movzx && regA && (i.size === 32 || i.size === 64) && i.b >= 0 && i.b < 20) {
    const src = i.op === 16 ? `lo[${i.b}] & 65535` : i.b < 16 ? `lo[${i.b}] & 255` : `(lo[${i.b - 16}] >>> 8) & 255`;
    if (i.op !== 8 && i.op !== 16) return null;
    if (i.op === 16 && i.b >= 16) return null;
    return { code: `lo[${i.a}] = ${src}; hi[${i.a}] = 0;`, mayFault: false, writesMemory: false };
  }
  if (h === setcc && i.a >= 0 && i.a < 20) {
    const cond = (st.flags ? knownCondition(st.flags, i.op) : null) ?? `cond(c, ${i.op})`;
    const code = i.a < 16 ? `lo[${i.a}] = (lo[${i.a}] & -256) | (${cond} ? 1 : 0);` : `lo[${i.a - 16}] = (lo[${i.a - 16}] & ~0xff00) | (${cond} ? 256 : 0);`;
    return { code, mayFault: false, writesMemory: false };
  }
  if (h === bswap && regA && i.size === 32) return { code: `${bswap32('x', `lo[${i.a}]`)} lo[${i.a}] = x; hi[${i.a}] = 0;`, mayFault: false, writesMemory: false };
  if (h === bswap && regA && i.size === 64) {
    return { code: `${bswap32('x', `lo[${i.a}]`)} ${bswap32('s', `hi[${i.a}]`)} lo[${i.a}] = s; hi[${i.a}] = x;`, mayFault: false, writesMemory: false };
  }
  if (inlineStack(i, codeBits)) return h === pushOp ? push64(i) : h === popOp ? pop64(i) : h === callRel ? call64(i) : ret64();
  if (h === jmpRel) return { code: `c.ripLo = ${i.tLo}; c.ripHi = ${i.tHi};`, mayFault: false, writesMemory: false };
  if (h === jcc) {
    const known = st.flags ? knownCondition(st.flags, i.op) : null;
    const cond = known ?? `cond(c, ${i.op})`;
    return { code: `if (${cond}) { c.ripLo = ${i.tLo}; c.ripHi = ${i.tHi}; }`, mayFault: false, writesMemory: false };
  }
  return null;
}
