// Compare-and-branch pairs that end a block, run by one handler: nearly
// every block the interpreter runs ends in cmp/test on registers and a
// jcc. The fused handler (Insn.go of the compare, specialize.ts) records
// the flags as the compare does, answers the condition from the operands
// and branches, saving a dispatch per block. The pair ends its block, so
// the run loop counts both.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { condition, subCondition32 } from '../flags.ts';

/** Condition cc of a 32-bit a - b (r: the difference). */
function cmp32(c: Cpu, cc: number, a: number, b: number, r: number): boolean {
  if (cc === 8) return r < 0;
  if (cc === 9) return r >= 0;
  const v = subCondition32(cc, a, b);
  return v !== -1 ? v === 1 : condition(c, cc); // o, no, p, np from the recorded flags
}

/** Condition cc of a 64-bit (ah:al) - (bh:bl) (rh: the difference's high half). */
function cmp64(c: Cpu, cc: number, al: number, ah: number, bl: number, bh: number, rh: number): boolean {
  switch (cc) {
    case 2: return ah !== bh ? (ah >>> 0) < (bh >>> 0) : (al >>> 0) < (bl >>> 0);
    case 3: return ah !== bh ? (ah >>> 0) > (bh >>> 0) : (al >>> 0) >= (bl >>> 0);
    case 4: return al === bl && ah === bh;
    case 5: return al !== bl || ah !== bh;
    case 6: return ah !== bh ? (ah >>> 0) < (bh >>> 0) : (al >>> 0) <= (bl >>> 0);
    case 7: return ah !== bh ? (ah >>> 0) > (bh >>> 0) : (al >>> 0) > (bl >>> 0);
    case 8: return rh < 0;
    case 9: return rh >= 0;
    case 12: return ah !== bh ? ah < bh : (al >>> 0) < (bl >>> 0);
    case 13: return ah !== bh ? ah > bh : (al >>> 0) >= (bl >>> 0);
    case 14: return ah !== bh ? ah < bh : (al >>> 0) <= (bl >>> 0);
    case 15: return ah !== bh ? ah > bh : (al >>> 0) > (bl >>> 0);
    default: return condition(c, cc);
  }
}

/** Condition cc after a logic op (CF = OF = 0) with result zero `z` and sign `s`. */
function logic(c: Cpu, cc: number, z: boolean, s: boolean): boolean {
  switch (cc) {
    case 0: case 2: return false; // o, b
    case 1: case 3: return true; // no, ae
    case 4: case 6: return z; // e, be
    case 5: case 7: return !z; // ne, a
    case 8: case 12: return s; // s, l
    case 9: case 13: return !s; // ns, ge
    case 14: return z || s; // le
    case 15: return !z && !s; // g
    default: return condition(c, cc);
  }
}

/** Branch to the jcc's target when `taken`. */
function branch(c: Cpu, j: Insn, taken: boolean): void {
  if (taken) { c.ripLo = j.tLo; c.ripHi = j.tHi; }
}

export function cmpRR32Jcc(c: Cpu, i: Insn): void {
  const a = c.lo[i.a]!, b = c.lo[i.b]!, r = (a - b) | 0;
  c.fA = a; c.fB = b; c.fR = r; c.fSize = 32; c.fOp = 3 /* Sub */;
  const j = i.next!;
  branch(c, j, cmp32(c, j.op, a, b, r));
}
export function cmpRI32Jcc(c: Cpu, i: Insn): void {
  const a = c.lo[i.a]!, b = i.immLo, r = (a - b) | 0;
  c.fA = a; c.fB = b; c.fR = r; c.fSize = 32; c.fOp = 3 /* Sub */;
  const j = i.next!;
  branch(c, j, cmp32(c, j.op, a, b, r));
}
export function cmpRR64Jcc(c: Cpu, i: Insn): void {
  const al = c.lo[i.a]!, ah = c.hi[i.a]!, bl = c.lo[i.b]!, bh = c.hi[i.b]!;
  const t = (al >>> 0) - (bl >>> 0), rh = (ah - bh - (t < 0 ? 1 : 0)) | 0;
  c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fR = t | 0; c.fRh = rh; c.fSize = 64; c.fOp = 3 /* Sub */;
  const j = i.next!;
  branch(c, j, cmp64(c, j.op, al, ah, bl, bh, rh));
}
export function cmpRI64Jcc(c: Cpu, i: Insn): void {
  const al = c.lo[i.a]!, ah = c.hi[i.a]!, bl = i.immLo, bh = i.immHi;
  const t = (al >>> 0) - (bl >>> 0), rh = (ah - bh - (t < 0 ? 1 : 0)) | 0;
  c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fR = t | 0; c.fRh = rh; c.fSize = 64; c.fOp = 3 /* Sub */;
  const j = i.next!;
  branch(c, j, cmp64(c, j.op, al, ah, bl, bh, rh));
}
export function testRR32Jcc(c: Cpu, i: Insn): void {
  const r = c.lo[i.a]! & c.lo[i.b]!;
  c.fR = r; c.fSize = 32; c.fOp = 5 /* Logic */;
  const j = i.next!;
  branch(c, j, logic(c, j.op, r === 0, r < 0));
}
export function testRR64Jcc(c: Cpu, i: Insn): void {
  const rl = c.lo[i.a]! & c.lo[i.b]!, rh = c.hi[i.a]! & c.hi[i.b]!;
  c.fR = rl; c.fRh = rh; c.fSize = 64; c.fOp = 5 /* Logic */;
  const j = i.next!;
  branch(c, j, logic(c, j.op, (rl | rh) === 0, rh < 0));
}
