// Near control transfer: jmp, jcc, call, ret, loop/loopcc, jrcxz.
// The run loop has already set RIP to the next instruction; a taken
// branch overwrites it.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { condition, getZF } from '../flags.ts';
import { readA } from './operands.ts';
import { push, pop, release } from './stack.ts';

export function jmpRel(c: Cpu, i: Insn): void { c.ripLo = i.tLo; c.ripHi = i.tHi; }

export function jcc(c: Cpu, i: Insn): void {
  if (condition(c, i.op)) { c.ripLo = i.tLo; c.ripHi = i.tHi; }
}

/** Branch target of an indirect jmp/call, truncated to the operand size. */
function setTarget(c: Cpu, size: number, lo: number, hi: number): void {
  c.ripLo = size === 16 ? lo & 0xffff : lo;
  c.ripHi = size === 64 ? hi : 0;
}

export function jmpIndirect(c: Cpu, i: Insn): void {
  const size = i.size;
  const lo = readA(c, i, size);
  setTarget(c, size, lo, c.outHi);
}

export function callRel(c: Cpu, i: Insn): void {
  push(c, i.size, i.size === 16 ? i.nextLo & 0xffff : i.nextLo, i.nextHi);
  c.ripLo = i.tLo; c.ripHi = i.tHi;
}

export function callIndirect(c: Cpu, i: Insn): void {
  const size = i.size;
  const lo = readA(c, i, size), hi = c.outHi;
  push(c, size, size === 16 ? i.nextLo & 0xffff : i.nextLo, i.nextHi);
  setTarget(c, size, lo, hi);
}

/** ret / ret imm16. */
export function ret(c: Cpu, i: Insn): void {
  const size = i.size;
  const lo = pop(c, size), hi = c.outHi;
  if (i.immLo) release(c, i.immLo & 0xffff);
  setTarget(c, size, lo, hi);
}

/** Decrement the count register of the address size; returns true if it is now non-zero. */
function decCount(c: Cpu, asize: number): boolean {
  if (asize === 64) {
    const l = (c.lo[1]! - 1) | 0;
    if (c.lo[1] === 0) c.hi[1] = (c.hi[1]! - 1) | 0;
    c.lo[1] = l;
    return (l | c.hi[1]!) !== 0;
  }
  if (asize === 32) { const l = (c.lo[1]! - 1) | 0; c.lo[1] = l; c.hi[1] = 0; return l !== 0; }
  const l = (c.lo[1]! - 1) & 0xffff; c.lo[1] = (c.lo[1]! & ~0xffff) | l; return l !== 0;
}

/** loop (op 0), loope (op 1), loopne (op 2). */
export function loop(c: Cpu, i: Insn): void {
  const nz = decCount(c, i.asize);
  let take = nz;
  if (i.op === 1) take = nz && getZF(c) === 1;
  else if (i.op === 2) take = nz && getZF(c) === 0;
  if (take) { c.ripLo = i.tLo; c.ripHi = i.tHi; }
}

/** jcxz / jecxz / jrcxz (by address size). */
export function jrcxz(c: Cpu, i: Insn): void {
  const a = i.asize;
  const zero = a === 64 ? (c.lo[1]! | c.hi[1]!) === 0 : a === 32 ? c.lo[1] === 0 : (c.lo[1]! & 0xffff) === 0;
  if (zero) { c.ripLo = i.tLo; c.ripHi = i.tHi; }
}
