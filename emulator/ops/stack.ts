// The stack: push/pop of registers, memory and immediates, pushf/popf,
// enter/leave. Stack width follows the mode (64 in long mode, else SS.B);
// the store happens before RSP moves so a fault leaves RSP intact.
import type { Cpu } from '../cpu.ts';
import { MEM_READ, MEM_WRITE, type Insn } from '../insn.ts';
import { CpuFault, Vector } from '../fault.ts';
import { checkStack, checkStack64 } from '../segcheck.ts';
import { Seg } from '../regs.ts';
import { arithFlags, ARITH_FLAGS } from '../flags.ts';
import { readA, storeA, getReg, setReg, setR16 } from './operands.ts';

/** #SS(0) unless (lo, hi) is canonical: a 64-bit stack access (compiled push and pop call it on their slow path). */
export function stackCanonical(c: Cpu, lo: number, hi: number): void {
  const t = hi >> c.canonShift;
  if (t !== 0 && t !== -1) throw new CpuFault(Vector.SS, 0, `non-canonical stack address 0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`);
}

/**
 * Linear address of a stack access of `size` bytes at offset (lo, hi) into
 * c.eaLo/c.eaHi. 64-bit mode: #SS(0) for a non-canonical address (not the
 * #GP of other operands). Elsewhere, when checks are on, the SS limit
 * (#SS(0)) and alignment (#AC).
 */
function stackLinear(c: Cpu, lo: number, hi: number, size: number, access: number): void {
  if (c.stackBits === 64) {
    stackCanonical(c, lo, hi);
    if (c.checks !== 0) checkStack64(c, lo, hi, size >> 3, access);
    c.eaLo = lo; c.eaHi = hi; return;
  }
  if (c.checks !== 0) checkStack(c, lo, size >> 3, access);
  c.eaLo = (lo + c.segBaseLo[Seg.SS]!) | 0; c.eaHi = 0;
}

/** Push a value of `size` bits (16/32/64). */
export function push(c: Cpu, size: number, lo: number, hi: number): void {
  const n = size >> 3;
  let spLo: number, spHi: number;
  const sb = c.stackBits;
  if (sb === 64) { spLo = (c.lo[4]! - n) | 0; spHi = (c.lo[4]! >>> 0) < n ? (c.hi[4]! - 1) | 0 : c.hi[4]!; }
  else if (sb === 32) { spLo = (c.lo[4]! - n) | 0; spHi = 0; }
  else { spLo = (c.lo[4]! - n) & 0xffff; spHi = 0; }
  stackLinear(c, spLo, spHi, size, MEM_WRITE);
  if (size === 64) c.write64(c.eaLo, c.eaHi, lo, hi);
  else if (size === 32) c.write32(c.eaLo, c.eaHi, lo);
  else c.write16(c.eaLo, c.eaHi, lo);
  if (sb === 64) { c.lo[4] = spLo; c.hi[4] = spHi; }
  else if (sb === 32) { c.lo[4] = spLo; c.hi[4] = 0; }
  else setR16(c, 4, spLo);
}

/** Read the value on top of the stack (size bits) without popping; high half in c.outHi. */
export function peek(c: Cpu, size: number, extra = 0): number {
  const sb = c.stackBits;
  let lo = (c.lo[4]! + extra) | 0, hi = c.hi[4]!;
  if (sb === 64) { if ((c.lo[4]! >>> 0) + extra > 0xffffffff) hi = (hi + 1) | 0; }
  else if (sb === 16) { lo &= 0xffff; hi = 0; } else hi = 0;
  stackLinear(c, lo, hi, size, MEM_READ);
  if (size === 64) return c.read64(c.eaLo, c.eaHi);
  if (size === 32) return c.read32(c.eaLo, c.eaHi);
  return c.read16(c.eaLo, c.eaHi);
}

/** Move the stack pointer up by n bytes. */
export function release(c: Cpu, n: number): void {
  const sb = c.stackBits;
  if (sb === 64) {
    const t = (c.lo[4]! >>> 0) + n;
    c.lo[4] = t | 0; if (t > 0xffffffff) c.hi[4] = (c.hi[4]! + 1) | 0;
  } else if (sb === 32) { c.lo[4] = (c.lo[4]! + n) | 0; c.hi[4] = 0; }
  else setR16(c, 4, c.lo[4]! + n);
}

/** Pop a value of `size` bits; high half in c.outHi. */
export function pop(c: Cpu, size: number): number {
  const v = peek(c, size);
  const h = c.outHi;
  release(c, size >> 3);
  c.outHi = h;
  return v;
}

/** push a (register, memory or immediate in b = -2 via immLo/immHi). */
export function pushOp(c: Cpu, i: Insn): void {
  const size = i.size;
  let lo: number, hi: number;
  if (i.a === -2) { lo = i.immLo; hi = i.immHi; }
  else { lo = readA(c, i, size); hi = c.outHi; }
  push(c, size, lo, hi);
}

export function pushR64(c: Cpu, i: Insn): void { push(c, 64, c.lo[i.a]!, c.hi[i.a]!); }
export function popR64(c: Cpu, i: Insn): void {
  const v = pop(c, 64);
  c.lo[i.a] = v; c.hi[i.a] = c.outHi;
}

/** pop a: the destination address is computed after RSP moves (architectural for pop [rsp+x]). */
export function popOp(c: Cpu, i: Insn): void {
  const size = i.size;
  const v = peek(c, size), h = c.outHi;
  if (i.a >= 0) { release(c, size >> 3); setReg(c, i.a, size, v, h); return; }
  const saveLo = c.lo[4]!, saveHi = c.hi[4]!;
  release(c, size >> 3);
  try { storeA(c, i, size, v, h); } catch (e) { c.lo[4] = saveLo; c.hi[4] = saveHi; throw e; }
}

/** The RFLAGS image pushed by pushf: VM and RF read as 0. */
export function flagsImage(c: Cpu): number {
  return ((c.flagsSys & ~ARITH_FLAGS) | 2 | arithFlags(c)) & ~0x30000;
}

export function pushf(c: Cpu, i: Insn): void {
  push(c, i.size, i.size === 16 ? flagsImage(c) & 0xffff : flagsImage(c), 0);
}

/** popf: at CPL 0 every writable flag; IOPL only at CPL 0, IF only when CPL <= IOPL. VM, VIF, VIP are kept; RF is cleared. */
export function popf(c: Cpu, i: Insn): void {
  const size = i.size;
  const v = pop(c, size);
  let writable = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4000 | 0x40000 | 0x200000;
  const iopl = (c.flagsSys >> 12) & 3;
  if (c.cpl === 0) writable |= 0x3000;
  if (c.cpl <= iopl) writable |= 0x200;
  if (size === 16) writable &= 0xffff;
  const old = c.getRflags();
  c.setRflags(((old & ~writable) | (v & writable)) & ~0x10000);
  c.interruptShadow = false;
  c.blockExit = true; // IF or TF may have changed
}

/** leave: rsp = rbp; pop rbp. */
export function leave(c: Cpu, i: Insn): void {
  const size = i.size;
  const sb = c.stackBits;
  const saveLo = c.lo[4]!, saveHi = c.hi[4]!;
  if (sb === 64) { c.lo[4] = c.lo[5]!; c.hi[4] = c.hi[5]!; }
  else if (sb === 32) { c.lo[4] = c.lo[5]!; c.hi[4] = 0; }
  else setR16(c, 4, c.lo[5]!);
  try {
    const v = pop(c, size);
    setReg(c, 5, size, v, c.outHi);
  } catch (e) { c.lo[4] = saveLo; c.hi[4] = saveHi; throw e; }
}

/** enter imm16, imm8: build a stack frame with `level` nested frame pointers. */
export function enter(c: Cpu, i: Insn): void {
  const size = i.size;
  const allocSize = i.immLo & 0xffff;
  const level = i.imm2 & 0x1f;
  const saveLo = c.lo[4]!, saveHi = c.hi[4]!, saveBpLo = c.lo[5]!, saveBpHi = c.hi[5]!;
  try {
    push(c, size, getReg(c, 5, size), c.outHi);
    const frameLo = c.lo[4]!, frameHi = c.hi[4]!;
    if (level > 0) {
      const n = size >> 3;
      let bpLo = c.lo[5]!, bpHi = c.hi[5]!;
      for (let k = 1; k < level; k++) {
        // rbp moves down by one slot and the frame pointer it addresses is pushed again
        const t = (bpLo >>> 0) - n;
        bpLo = t | 0; if (t < 0) bpHi = (bpHi - 1) | 0;
        const sb = c.stackBits;
        const oLo = sb === 16 ? bpLo & 0xffff : bpLo, oHi = sb === 64 ? bpHi : 0;
        stackLinear(c, oLo, oHi, size, MEM_READ);
        const v = size === 64 ? c.read64(c.eaLo, c.eaHi) : size === 32 ? c.read32(c.eaLo, c.eaHi) : c.read16(c.eaLo, c.eaHi);
        push(c, size, v, c.outHi);
      }
      push(c, size, frameLo, frameHi);
    }
    setReg(c, 5, c.stackBits, frameLo, frameHi);
    // rsp -= allocSize
    const sb = c.stackBits;
    if (sb === 64) { const t = (c.lo[4]! >>> 0) - allocSize; c.lo[4] = t | 0; if (t < 0) c.hi[4] = (c.hi[4]! - 1) | 0; }
    else if (sb === 32) { c.lo[4] = (c.lo[4]! - allocSize) | 0; }
    else setR16(c, 4, c.lo[4]! - allocSize);
  } catch (e) {
    c.lo[4] = saveLo; c.hi[4] = saveHi; c.lo[5] = saveBpLo; c.hi[5] = saveBpHi;
    throw e;
  }
}
