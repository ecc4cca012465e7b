// String instructions movs stos lods cmps scas (and ins/outs in io.ts),
// with rep/repe/repne, both directions, all sizes and all address sizes.
// One iteration at a time keeps faults exact: RCX, RSI and RDI always
// describe the work left, so a fault restarts cleanly.
//
// Time (docs/time-model.md): each iteration of a rep instruction is one
// unit on the virtual clock, like an instruction (a rep with a zero count
// is one unit). Iteration j of a rep that started at time T runs at T + j;
// before each iteration after the first the handler counts it on c.icount
// (so preciseIcount() is exact inside the loop), and when the run's time
// limit (c.limit) is reached it suspends: RIP stays on the instruction, the
// registers describe the work left, the block ends, and the next run
// resumes it. rep movs and rep stos move whole runs of elements at once
// when both pages are plain RAM in the TLB (bulkMovs, bulkStos), with the
// same result and the same clock as iterating.
import { linearKey, type Cpu } from '../cpu.ts';
import { MEM_READ, MEM_WRITE, type Insn } from '../insn.ts';
import { checkedLinear } from '../segcheck.ts';
import { Seg } from '../regs.ts';
import { DF, getZF } from '../flags.ts';
import { addSegBase, getReg, setReg } from './operands.ts';
import { aluN, alu64, AluOp } from './alu.ts';

/** Rep kinds in Insn.op: 0 none, 1 rep/repe (F3), 2 repne (F2). */
export const REP_NONE = 0, REP_E = 1, REP_NE = 2;

/**
 * Linear address of index register r (rsi/rdi) under the address size, plus
 * segment `seg` (-1: none) into c.eaLo/eaHi, for an access of `size` bits
 * and kind `access` (MEM_READ / MEM_WRITE: segment limit, type and alignment
 * checks when c.checks asks for them).
 */
export function indexAddress(c: Cpu, r: number, asize: number, seg: number, size: number, access: number): void {
  if (asize === 64) { c.eaLo = c.lo[r]!; c.eaHi = c.hi[r]!; }
  else if (asize === 32) { c.eaLo = c.lo[r]!; c.eaHi = 0; }
  else { c.eaLo = c.lo[r]! & 0xffff; c.eaHi = 0; }
  if (c.checks !== 0 || seg === Seg.CS) checkedLinear(c, seg, size >> 3, access);
  else if (seg >= 0) addSegBase(c, seg);
}

/** Advance index register r by ±bytes under the address size. */
export function advance(c: Cpu, r: number, asize: number, delta: number): void {
  if (asize === 64) {
    const t = (c.lo[r]! >>> 0) + delta;
    c.lo[r] = t | 0;
    if (t > 0xffffffff) c.hi[r] = (c.hi[r]! + 1) | 0; else if (t < 0) c.hi[r] = (c.hi[r]! - 1) | 0;
  } else if (asize === 32) { c.lo[r] = (c.lo[r]! + delta) | 0; c.hi[r] = 0; }
  else c.lo[r] = (c.lo[r]! & ~0xffff) | ((c.lo[r]! + delta) & 0xffff);
}

/** Is the count register (by address size) zero? */
export function countZero(c: Cpu, asize: number): boolean {
  if (asize === 64) return (c.lo[1]! | c.hi[1]!) === 0;
  if (asize === 32) return c.lo[1] === 0;
  return (c.lo[1]! & 0xffff) === 0;
}

export function decCount(c: Cpu, asize: number): void {
  if (asize === 64) { if (c.lo[1] === 0) c.hi[1] = (c.hi[1]! - 1) | 0; c.lo[1] = (c.lo[1]! - 1) | 0; }
  else if (asize === 32) { c.lo[1] = (c.lo[1]! - 1) | 0; c.hi[1] = 0; }
  else c.lo[1] = (c.lo[1]! & ~0xffff) | ((c.lo[1]! - 1) & 0xffff);
}

function readAt(c: Cpu, size: number): number {
  switch (size) {
    case 8: return c.read8(c.eaLo, c.eaHi);
    case 16: return c.read16(c.eaLo, c.eaHi);
    case 32: return c.read32(c.eaLo, c.eaHi);
    default: return c.read64(c.eaLo, c.eaHi);
  }
}
function writeAt(c: Cpu, size: number, lo: number, hi: number): void {
  switch (size) {
    case 8: c.write8(c.eaLo, c.eaHi, lo); break;
    case 16: c.write16(c.eaLo, c.eaHi, lo); break;
    case 32: c.write32(c.eaLo, c.eaHi, lo); break;
    default: c.write64(c.eaLo, c.eaHi, lo, hi);
  }
}

/** ES-relative destination: in 64-bit mode segment bases other than FS/GS are ignored. */
function esSeg(c: Cpu): number { return c.codeBits === 64 ? -1 : Seg.ES; }

const RF = 0x10000;

/**
 * Before iteration j >= 1 of rep instruction i: when its time (the current
 * iteration's time + 1) is still before c.limit, count it on the clock and
 * return true; otherwise, or when the last iteration asked the run to stop
 * (a watchpoint hook, a device), suspend the instruction and return false.
 */
export function another(c: Cpu, i: Insn): boolean {
  if (c.icount + i.pos + 1 >= c.limit || c.stopRequested) { suspend(c, i); return false; }
  c.icount++;
  return true;
}

/**
 * Leave rep instruction i between iterations: RIP back on it, the block
 * ends. RF is set as hardware sets it in the RFLAGS image of an event taken
 * between iterations (SDM Vol. 3A 18.3.1.1), so an instruction breakpoint
 * does not fire again when it resumes; an execution breakpoint of the run
 * loop is not reported again either.
 */
function suspend(c: Cpu, i: Insn): void {
  c.ripLo = i.ripLo; c.ripHi = i.ripHi;
  c.blockExit = true;
  c.flagsSys |= RF;
  if (c.breakpoints.size !== 0) c.breakpointResume = c.codeBits === 64 ? linearKey(i.ripLo, i.ripHi) : linearKey((i.ripLo + c.segBaseLo[Seg.CS]!) | 0, 0);
}

/** A rep finished after using extra time: end the block when the rest of it no longer fits before c.limit. */
export function repDone(c: Cpu): void {
  if (c.icount > c.fit) c.blockExit = true;
}

/** Entering a rep instruction (fresh or resumed): RF, set when it was suspended, lasts until it executes. */
export function repStart(c: Cpu): void {
  c.flagsSys &= ~RF;
}

/** The count register under the address size (beyond 2^32 as a float: only compared with small numbers). */
function countOf(c: Cpu, asize: number): number {
  if (asize === 64) return (c.hi[1]! >>> 0) * 4294967296 + (c.lo[1]! >>> 0);
  return c.lo[1]! >>> 0;
}

/** RCX -= m (m <= the count), under address size 32 or 64. */
function subCount(c: Cpu, asize: number, m: number): void {
  if (asize === 64) {
    const t = (c.lo[1]! >>> 0) - m;
    c.lo[1] = t | 0;
    if (t < 0) c.hi[1] = (c.hi[1]! - 1) | 0;
  } else { c.lo[1] = (c.lo[1]! - m) | 0; c.hi[1] = 0; }
}

/** Elements of `bytes` wholly inside the page from page offset `off`, going up (or down). */
function pageRoom(off: number, bytes: number, down: boolean): number {
  if (off + bytes > 0x1000) return 0;
  return down ? Math.floor(off / bytes) + 1 : Math.floor((0x1000 - off) / bytes);
}

/** The bulk paths apply when no access needs a check and addresses move linearly within a page. */
function bulkAllowed(c: Cpu, i: Insn): boolean {
  return c.checks === 0 && i.asize !== 16 && i.seg !== Seg.CS;
}

/**
 * rep movs over plain RAM: as many iterations as both pages, the count and
 * the time left allow, starting with the current one (time c.icount +
 * i.pos). Returns how many ran (0: take the per-iteration path, which also
 * fills the TLB). The bytes moved are exactly those of element-by-element
 * copying in order, overlap included: runs whose reads cannot see their
 * own writes are copied at once, a distance shorter than an element is
 * copied an element at a time.
 */
function bulkMovs(c: Cpu, i: Insn, bytes: number, down: boolean, dseg: number): number {
  const asize = i.asize, size = bytes << 3;
  indexAddress(c, 6, asize, i.seg, size, MEM_READ);
  const sLo = c.eaLo, sp = c.tlbReadPage(sLo, c.eaHi);
  if (sp < 0) return 0;
  indexAddress(c, 7, asize, dseg, size, MEM_WRITE);
  const dLo = c.eaLo, dp = c.tlbWritePage(dLo, c.eaHi);
  if (dp < 0) return 0;
  const so = sLo & 0xfff, dof = dLo & 0xfff;
  const m = Math.min(pageRoom(so, bytes, down), pageRoom(dof, bytes, down), countOf(c, asize), c.limit - (c.icount + i.pos));
  if (m <= 0) return 0;
  const ram = c.ram;
  const s0 = sp + so, d0 = dp + dof; // the first element's bytes in RAM
  const dist = d0 - s0, total = m * bytes;
  if (!down) {
    if (dist > 0 && dist < total) copyOverlapping(ram, s0, d0, m, bytes, dist, 1);
    else ram.copyWithin(d0, s0, s0 + total);
  } else {
    const low = (m - 1) * bytes;
    if (dist < 0 && -dist < total) copyOverlapping(ram, s0, d0, m, bytes, -dist, -1);
    else ram.copyWithin(d0 - low, s0 - low, s0 + bytes);
  }
  const delta = down ? -total : total;
  advance(c, 6, asize, delta); advance(c, 7, asize, delta);
  subCount(c, asize, m);
  c.icount += m - 1;
  return m;
}

/**
 * Element-by-element copy, in order (dir 1 up, -1 down), of m elements
 * whose destination lies `gap` bytes ahead of the source in the direction
 * of travel, so later elements read what earlier ones wrote. A group of
 * floor(gap / bytes) elements reads nothing written within the group, so
 * each group is one copy; within one element the read precedes the write.
 */
function copyOverlapping(ram: Uint8Array, s0: number, d0: number, m: number, bytes: number, gap: number, dir: number): void {
  if (bytes === 1) {
    if (dir > 0) for (let k = 0; k < m; k++) ram[d0 + k] = ram[s0 + k]!;
    else for (let k = 0; k < m; k++) ram[d0 - k] = ram[s0 - k]!;
    return;
  }
  const q = Math.max(1, Math.floor(gap / bytes));
  for (let k = 0; k < m; k += q) {
    const e = Math.min(q, m - k);
    if (dir > 0) ram.copyWithin(d0 + k * bytes, s0 + k * bytes, s0 + (k + e) * bytes);
    else {
      const last = (k + e - 1) * bytes; // the group's lowest element
      ram.copyWithin(d0 - last, s0 - last, s0 - k * bytes + bytes);
    }
  }
}

/** rep stos over plain RAM (see bulkMovs): the value's bytes repeated. */
function bulkStos(c: Cpu, i: Insn, bytes: number, down: boolean, dseg: number, vlo: number, vhi: number): number {
  const asize = i.asize;
  indexAddress(c, 7, asize, dseg, bytes << 3, MEM_WRITE);
  const dLo = c.eaLo, dp = c.tlbWritePage(dLo, c.eaHi);
  if (dp < 0) return 0;
  const dof = dLo & 0xfff;
  const m = Math.min(pageRoom(dof, bytes, down), countOf(c, asize), c.limit - (c.icount + i.pos));
  if (m <= 0) return 0;
  const ram = c.ram, total = m * bytes;
  const low = dp + dof - (down ? (m - 1) * bytes : 0);
  if (bytes === 1) ram.fill(vlo & 0xff, low, low + total);
  else {
    const view = c.ramView;
    if (bytes === 2) view.setUint16(low, vlo & 0xffff, true);
    else { view.setInt32(low, vlo, true); if (bytes === 8) view.setInt32(low + 4, vhi, true); }
    for (let have = bytes; have < total;) {
      const n = Math.min(have, total - have);
      ram.copyWithin(low + have, low, low + n);
      have += n;
    }
  }
  advance(c, 7, asize, down ? -total : total);
  subCount(c, asize, m);
  c.icount += m - 1;
  return m;
}

function movsOne(c: Cpu, i: Insn, size: number, asize: number, step: number, dseg: number): void {
  indexAddress(c, 6, asize, i.seg, size, MEM_READ);
  const lo = readAt(c, size), hi = c.outHi;
  indexAddress(c, 7, asize, dseg, size, MEM_WRITE);
  writeAt(c, size, lo, hi);
  advance(c, 6, asize, step); advance(c, 7, asize, step);
}

export function movs(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize;
  const down = (c.flagsSys & DF) !== 0;
  const step = down ? -(size >> 3) : size >> 3;
  const dseg = esSeg(c);
  if (i.op === REP_NONE) { movsOne(c, i, size, asize, step, dseg); return; }
  repStart(c);
  const bulk = bulkAllowed(c, i);
  for (let first = true; !countZero(c, asize); first = false) {
    if (!first && !another(c, i)) return;
    if (bulk && bulkMovs(c, i, size >> 3, down, dseg) !== 0) continue;
    movsOne(c, i, size, asize, step, dseg);
    decCount(c, asize);
  }
  repDone(c);
}

export function stos(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize;
  const down = (c.flagsSys & DF) !== 0;
  const step = down ? -(size >> 3) : size >> 3;
  const lo = getReg(c, 0, size), hi = c.outHi;
  const dseg = esSeg(c);
  if (i.op === REP_NONE) {
    indexAddress(c, 7, asize, dseg, size, MEM_WRITE);
    writeAt(c, size, lo, hi);
    advance(c, 7, asize, step);
    return;
  }
  repStart(c);
  const bulk = bulkAllowed(c, i);
  for (let first = true; !countZero(c, asize); first = false) {
    if (!first && !another(c, i)) return;
    if (bulk && bulkStos(c, i, size >> 3, down, dseg, lo, hi) !== 0) continue;
    indexAddress(c, 7, asize, dseg, size, MEM_WRITE);
    writeAt(c, size, lo, hi);
    advance(c, 7, asize, step);
    decCount(c, asize);
  }
  repDone(c);
}

export function lods(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op !== REP_NONE;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  if (rep) repStart(c);
  for (let first = true; ; first = false) {
    if (rep) {
      if (countZero(c, asize)) break;
      if (!first && !another(c, i)) return;
    }
    indexAddress(c, 6, asize, i.seg, size, MEM_READ);
    const lo = readAt(c, size);
    setReg(c, 0, size, lo, c.outHi);
    advance(c, 6, asize, step);
    if (!rep) return;
    decCount(c, asize);
  }
  repDone(c);
}

function compare(c: Cpu, size: number, al: number, ah: number, bl: number, bh: number): void {
  if (size === 64) alu64(c, AluOp.Cmp, al, ah, bl, bh);
  else aluN(c, AluOp.Cmp, al, bl, size);
}

/** cmps: compares [rsi] with [rdi] (flags as [rsi] - [rdi]). */
export function cmps(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  const dseg = esSeg(c);
  if (rep) repStart(c);
  for (let first = true; ; first = false) {
    if (rep) {
      if (countZero(c, asize)) break;
      if (!first && !another(c, i)) return;
    }
    indexAddress(c, 6, asize, i.seg, size, MEM_READ);
    const al = readAt(c, size), ah = c.outHi;
    indexAddress(c, 7, asize, dseg, size, MEM_READ);
    const bl = readAt(c, size), bh = c.outHi;
    compare(c, size, al, ah, bl, bh);
    advance(c, 6, asize, step); advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
    if ((rep === REP_E) !== (getZF(c) === 1)) break;
  }
  repDone(c);
}

/** scas: compares the accumulator with [rdi]. */
export function scas(c: Cpu, i: Insn): void {
  const size = i.size, asize = i.asize, rep = i.op;
  const step = (c.flagsSys & DF) ? -(size >> 3) : size >> 3;
  const al = getReg(c, 0, size), ah = c.outHi;
  const dseg = esSeg(c);
  if (rep) repStart(c);
  for (let first = true; ; first = false) {
    if (rep) {
      if (countZero(c, asize)) break;
      if (!first && !another(c, i)) return;
    }
    indexAddress(c, 7, asize, dseg, size, MEM_READ);
    const bl = readAt(c, size), bh = c.outHi;
    compare(c, size, al, ah, bl, bh);
    advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
    if ((rep === REP_E) !== (getZF(c) === 1)) break;
  }
  repDone(c);
}
