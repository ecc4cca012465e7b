// The interpreter's jcc, one handler per condition (specialize.ts), each
// answering from the lazy-flag record directly when the producer was a
// 32- or 64-bit compare/subtract or a logic op (the commonest producers),
// else through flags.ts.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { getCF, getZF, getSF, getOF, condition } from '../flags.ts';

function take(c: Cpu, i: Insn): void { c.ripLo = i.tLo; c.ripHi = i.tHi; }

/** Unsigned a < b of the last compare (fOp Sub, 32 or 64 bits). */
function below(c: Cpu): boolean {
  if (c.fSize === 32) return (c.fA >>> 0) < (c.fB >>> 0);
  const ah = c.fAh, bh = c.fBh;
  if (ah !== bh) return (ah >>> 0) < (bh >>> 0);
  return (c.fA >>> 0) < (c.fB >>> 0);
}

/** Signed a < b of the last compare (fOp Sub, 32 or 64 bits). */
function less(c: Cpu): boolean {
  if (c.fSize === 32) return c.fA < c.fB;
  const ah = c.fAh, bh = c.fBh;
  if (ah !== bh) return ah < bh;
  return (c.fA >>> 0) < (c.fB >>> 0);
}

function isCompare(c: Cpu): boolean { return c.fOp === 3 /* Sub */ && c.fSize >= 32; }

export function jb(c: Cpu, i: Insn): void {
  if (isCompare(c) ? below(c) : getCF(c) === 1) take(c, i);
}
export function jae(c: Cpu, i: Insn): void {
  if (isCompare(c) ? !below(c) : getCF(c) === 0) take(c, i);
}
export function je(c: Cpu, i: Insn): void {
  if (getZF(c) === 1) take(c, i);
}
export function jne(c: Cpu, i: Insn): void {
  if (getZF(c) === 0) take(c, i);
}
export function jbe(c: Cpu, i: Insn): void {
  if (isCompare(c) ? below(c) || getZF(c) === 1 : (getCF(c) | getZF(c)) === 1) take(c, i);
}
export function ja(c: Cpu, i: Insn): void {
  if (isCompare(c) ? !below(c) && getZF(c) === 0 : (getCF(c) | getZF(c)) === 0) take(c, i);
}
export function js(c: Cpu, i: Insn): void {
  if (getSF(c) === 1) take(c, i);
}
export function jns(c: Cpu, i: Insn): void {
  if (getSF(c) === 0) take(c, i);
}

/** SF != OF: a logic op clears OF, so it is SF alone then. */
function lessFlags(c: Cpu): boolean {
  if (c.fOp === 5 /* Logic */) return getSF(c) === 1;
  return getSF(c) !== getOF(c);
}

export function jl(c: Cpu, i: Insn): void {
  if (isCompare(c) ? less(c) : lessFlags(c)) take(c, i);
}
export function jge(c: Cpu, i: Insn): void {
  if (isCompare(c) ? !less(c) : !lessFlags(c)) take(c, i);
}
export function jle(c: Cpu, i: Insn): void {
  if (isCompare(c) ? less(c) || getZF(c) === 1 : getZF(c) === 1 || lessFlags(c)) take(c, i);
}
export function jg(c: Cpu, i: Insn): void {
  if (isCompare(c) ? !less(c) && getZF(c) === 0 : getZF(c) === 0 && !lessFlags(c)) take(c, i);
}
/** jo, jno, jp, jnp: rare; the generic evaluation. */
export function jccOther(c: Cpu, i: Insn): void {
  if (condition(c, i.op)) take(c, i);
}

/** Handlers by condition code (the x86 encoding order O NO B AE E NE BE A S NS P NP L GE LE G). */
export const JCC = [jccOther, jccOther, jb, jae, je, jne, jbe, ja, js, jns, jccOther, jccOther, jl, jge, jle, jg];
