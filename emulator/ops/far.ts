// Far control transfer and segment-register instructions: far jmp/call/ret,
// iret/iretd/iretq, mov to/from segment registers, push/pop of segment
// registers, lds/les/lss/lfs/lgs. Call gates and task switches raise #GP
// naming what is missing.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { Seg, ATTR_L, EFER_LMA } from '../regs.ts';
import { gp, ud } from '../fault.ts';
import { ea, readB, setReg } from './operands.ts';
import { push, peek, release } from './stack.ts';
import { loadSegment, checkFarTarget, checkReturnTarget, loadCs, loadStackFor, nullifyForOuter, isProtected, descAttr, descLimit, type Descriptor } from '../segments.ts';
import { addLinear } from '../sysmem.ts';

const VM = 0x20000, NT = 0x4000, IF = 0x200;

/** Read a far pointer (offset of `size` bits, then a 16-bit selector) from the memory operand. */
function readFarPointer(c: Cpu, i: Insn, size: number): [number, number, number] {
  ea(c, i);
  const aLo = c.eaLo, aHi = c.eaHi;
  let lo: number, hi = 0;
  if (size === 64) { lo = c.read64(aLo, aHi); hi = c.outHi; }
  else if (size === 32) lo = c.read32(aLo, aHi);
  else lo = c.read16(aLo, aHi);
  const [sLo, sHi] = addLinear(aLo, aHi, size >> 3);
  const sel = c.read16(sLo, sHi);
  return [lo, hi, sel];
}

/** Real-mode / virtual-8086 CS load: base = selector << 4, attributes kept. */
function loadRealCs(c: Cpu, sel: number): void {
  c.setSegmentRaw(Seg.CS, sel & 0xffff, (sel & 0xffff) << 4, 0, c.segLimit[Seg.CS]!, c.segAttr[Seg.CS]!);
}

/** Set RIP after a far transfer into a segment of the current code size. */
function setFarRip(c: Cpu, lo: number, hi: number, size: number): void {
  if (c.codeBits === 64) { c.ripLo = lo; c.ripHi = size === 64 ? hi : 0; }
  else { c.ripLo = size === 16 ? lo & 0xffff : lo; c.ripHi = 0; }
}

/** Jump to sel:offset (direct or indirect far jmp). */
function farJump(c: Cpu, sel: number, lo: number, hi: number, size: number): void {
  if (!isProtected(c)) {
    loadRealCs(c, sel);
    setFarRip(c, lo, hi, size);
    c.blockExit = true;
    return;
  }
  const d = checkFarTarget(c, sel);
  const to64 = (c.efer & EFER_LMA) !== 0 && (descAttr(d) & ATTR_L) !== 0;
  const off = size === 16 ? lo & 0xffff : lo;
  if (!to64 && (off >>> 0) > (descLimit(d) >>> 0)) throw gp(0, 'far jump beyond the code segment limit');
  loadCs(c, sel, d, c.cpl);
  setFarRip(c, lo, hi, size);
  c.blockExit = true;
}

export function jmpFarPtr(c: Cpu, i: Insn): void { farJump(c, i.imm2, i.immLo, 0, i.size); }
export function jmpFarMem(c: Cpu, i: Insn): void {
  const [lo, hi, sel] = readFarPointer(c, i, i.size);
  farJump(c, sel, lo, hi, i.size);
}

function farCall(c: Cpu, i: Insn, sel: number, lo: number, hi: number): void {
  const size = i.size;
  const saveLo = c.lo[4]!, saveHi = c.hi[4]!;
  const cs = c.segSel[Seg.CS]!;
  try {
    if (isProtected(c)) {
      const d = checkFarTarget(c, sel);
      const to64 = (c.efer & EFER_LMA) !== 0 && (descAttr(d) & ATTR_L) !== 0;
      const off = size === 16 ? lo & 0xffff : lo;
      if (!to64 && (off >>> 0) > (descLimit(d) >>> 0)) throw gp(0, 'far call beyond the code segment limit');
      push(c, size, cs, 0);
      push(c, size, size === 16 ? i.nextLo & 0xffff : i.nextLo, i.nextHi);
      loadCs(c, sel, d, c.cpl);
    } else {
      push(c, size, cs, 0);
      push(c, size, i.nextLo & (size === 16 ? 0xffff : -1), 0);
      loadRealCs(c, sel);
    }
  } catch (e) { c.lo[4] = saveLo; c.hi[4] = saveHi; throw e; }
  setFarRip(c, lo, hi, size);
  c.blockExit = true;
}

export function callFarPtr(c: Cpu, i: Insn): void { farCall(c, i, i.imm2, i.immLo, 0); }
export function callFarMem(c: Cpu, i: Insn): void {
  const [lo, hi, sel] = readFarPointer(c, i, i.size);
  farCall(c, i, sel, lo, hi);
}

/** Save/restore of CS and SS around a multi-step return, so a fault leaves no half-done state. */
function saveSegs(c: Cpu): number[] {
  return [Seg.CS, Seg.SS].flatMap((s) => [c.segSel[s]!, c.segBaseLo[s]!, c.segBaseHi[s]!, c.segLimit[s]!, c.segAttr[s]!]);
}
function restoreSegs(c: Cpu, v: number[]): void {
  c.setSegmentRaw(Seg.CS, v[0]!, v[1]!, v[2]!, v[3]!, v[4]!);
  c.setSegmentRaw(Seg.SS, v[5]!, v[6]!, v[7]!, v[8]!, v[9]!);
}

/** Load the stack pointer popped by a return to an outer level (or by iretq). */
function setStackPointer(c: Cpu, lo: number, hi: number, size: number): void {
  if (c.stackBits === 64) { c.lo[4] = lo; c.hi[4] = size === 64 ? hi : 0; }
  else if (c.stackBits === 32) { c.lo[4] = lo; c.hi[4] = 0; }
  else c.lo[4] = (c.lo[4]! & ~0xffff) | (lo & 0xffff);
}

/** retf / retf imm16 (lret, lretq). */
export function retFar(c: Cpu, i: Insn): void {
  const size = i.size, n = size >> 3, imm = i.immLo & 0xffff;
  const ripLo = peek(c, size, 0), ripHi = c.outHi;
  const sel = peek(c, size, n) & 0xffff;
  if (!isProtected(c)) {
    loadRealCs(c, sel);
    release(c, 2 * n + imm);
    setFarRip(c, ripLo, ripHi, size);
    c.blockExit = true;
    return;
  }
  const d = checkReturnTarget(c, sel);
  const rpl = sel & 3;
  const to64 = (c.efer & EFER_LMA) !== 0 && (descAttr(d) & ATTR_L) !== 0;
  if (!to64 && ((size === 16 ? ripLo & 0xffff : ripLo) >>> 0) > (descLimit(d) >>> 0)) throw gp(0, 'far return beyond the code segment limit');
  if (rpl === c.cpl) {
    loadCs(c, sel, d, c.cpl);
    release(c, 2 * n + imm);
  } else {
    const spLo = peek(c, size, 2 * n + imm), spHi = c.outHi;
    const ss = peek(c, size, 3 * n + imm) & 0xffff;
    returnToOuter(c, sel, d, rpl, ss, spLo, spHi, size);
    release(c, imm);
    nullifyForOuter(c);
  }
  c.ripLo = to64 ? ripLo : size === 16 ? ripLo & 0xffff : ripLo;
  c.ripHi = to64 && size === 64 ? ripHi : 0;
  c.blockExit = true;
}

/** The RFLAGS an iret may load at the current CPL/IOPL (SDM Vol. 2A IRET). */
function iretFlags(c: Cpu, v: number, size: number): number {
  let mask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | NT | 0x10000 | 0x40000 | 0x200000;
  const iopl = (c.flagsSys >> 12) & 3;
  if (c.cpl === 0) mask |= 0x3000 | 0x80000 | 0x100000;
  if (c.cpl <= iopl) mask |= IF;
  if (size === 16) mask &= 0xffff;
  const old = c.getRflags();
  return (old & ~mask) | (v & mask);
}

/** iret / iretd / iretq. */
export function iret(c: Cpu, i: Insn): void {
  const size = i.size, n = size >> 3;
  const ripLo = peek(c, size, 0), ripHi = c.outHi;
  const sel = peek(c, size, n) & 0xffff;
  const fl = peek(c, size, 2 * n);
  if (!(c.cr0 & 1)) {
    loadRealCs(c, sel);
    release(c, 3 * n);
    c.setRflags(iretFlags(c, fl, size) & ~VM);
    c.ripLo = size === 16 ? ripLo & 0xffff : ripLo; c.ripHi = 0;
    c.blockExit = true;
    return;
  }
  if (c.flagsSys & VM) throw gp(0, 'iret in virtual-8086 mode is not implemented');
  const lma = (c.efer & EFER_LMA) !== 0;
  if (c.flagsSys & NT) throw gp(0, lma ? 'iret with NT set in long mode' : 'iret task return is not implemented');
  if (!lma && (fl & VM) && c.cpl === 0 && size === 32) throw gp(0, 'iret to virtual-8086 mode is not implemented');
  const d = checkReturnTarget(c, sel);
  const rpl = sel & 3;
  const to64 = lma && (descAttr(d) & ATTR_L) !== 0;
  if (!to64 && ((size === 16 ? ripLo & 0xffff : ripLo) >>> 0) > (descLimit(d) >>> 0)) throw gp(0, 'iret beyond the code segment limit');
  const popStack = rpl > c.cpl || c.codeBits === 64;
  const newFlags = iretFlags(c, fl, size);
  const oldCpl = c.cpl;
  if (popStack) {
    const spLo = peek(c, size, 3 * n), spHi = c.outHi;
    const ss = peek(c, size, 4 * n) & 0xffff;
    returnToOuter(c, sel, d, rpl, ss, spLo, spHi, size);
  } else {
    loadCs(c, sel, d, rpl);
    release(c, 3 * n);
  }
  c.setRflags(newFlags);
  if (rpl > oldCpl) nullifyForOuter(c);
  c.ripLo = to64 ? ripLo : size === 16 ? ripLo & 0xffff : ripLo;
  c.ripHi = to64 && size === 64 ? ripHi : 0;
  c.interruptShadow = false;
  c.blockExit = true;
}

/** mov Sreg, r/m16. */
export function movToSreg(c: Cpu, i: Insn): void {
  const s = i.a;
  if (s === Seg.CS || s > Seg.GS) throw ud('mov to CS');
  const v = readB(c, i, 16) & 0xffff;
  loadSegment(c, s, v);
  if (s === Seg.SS) { c.interruptShadow = true; c.ssShadow = true; c.blockExit = true; }
}

/** mov r/m, Sreg: memory gets 16 bits; a register gets the selector zero-extended to the operand size. */
export function movFromSreg(c: Cpu, i: Insn): void {
  const v = c.segSel[i.b]! & 0xffff;
  if (i.a >= 0) setReg(c, i.a, i.size, v, 0);
  else { ea(c, i); c.write16(c.eaLo, c.eaHi, v); }
}

export function pushSreg(c: Cpu, i: Insn): void {
  push(c, i.size, c.segSel[i.op]! & 0xffff, 0);
}

export function popSreg(c: Cpu, i: Insn): void {
  const v = peek(c, i.size) & 0xffff;
  loadSegment(c, i.op, v);
  release(c, i.size >> 3);
  if (i.op === Seg.SS) { c.interruptShadow = true; c.ssShadow = true; c.blockExit = true; }
}

/** lds/les/lss/lfs/lgs r, m16:size (op = segment). */
export function loadFarPointer(c: Cpu, i: Insn): void {
  const [lo, hi, sel] = readFarPointer(c, i, i.size);
  loadSegment(c, i.op, sel);
  setReg(c, i.a, i.size, lo, hi);
  if (i.op === Seg.SS) { c.interruptShadow = true; c.blockExit = true; }
}

/** Return to an outer privilege level: CS and SS load together or not at all, then the stack pointer. */
function returnToOuter(c: Cpu, sel: number, d: Descriptor, rpl: number, ss: number, spLo: number, spHi: number, size: number): void {
  const saved = saveSegs(c);
  try {
    loadCs(c, sel, d, rpl);
    loadStackFor(c, ss, rpl, 13);
  } catch (e) { restoreSegs(c, saved); throw e; }
  setStackPointer(c, spLo, spHi, size);
}
