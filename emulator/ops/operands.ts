// Operand access for handlers: effective addresses, registers by width,
// and reading/writing the operand at position a (destination) or b
// (source), which may be a register (>= 0), memory (-1) or an immediate (-2).
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { checkedEa } from '../segcheck.ts';

/** Effective address (offset within the segment), without the segment base, into c.eaLo/c.eaHi. */
export function offset(c: Cpu, i: Insn): void {
  let s = i.dispLo >>> 0;
  let h = i.dispHi;
  const base = i.base, index = i.index;
  if (base >= 0) { s += c.lo[base]! >>> 0; h += c.hi[base]!; }
  if (index >= 0) {
    const m = 1 << i.scale;
    s += (c.lo[index]! >>> 0) * m; h += c.hi[index]! * m;
  }
  if (i.asize === 64) {
    c.eaLo = s | 0;
    c.eaHi = (h + Math.floor(s / 4294967296)) | 0;
  } else {
    c.eaLo = i.asize === 32 ? s | 0 : s & 0xffff;
    c.eaHi = 0;
  }
}

/** Linear address of the memory operand into c.eaLo/c.eaHi. */
export function ea(c: Cpu, i: Insn): void {
  offset(c, i);
  const seg = i.seg;
  if (c.checks !== 0 || seg === 1) { checkedEa(c, i, seg); return; } // non-flat segments, CS, #AC (segcheck.ts)
  if (seg >= 0) addSegBase(c, seg);
}

/** Add segment `seg`'s base to c.eaLo/c.eaHi (64-bit sum in long mode, 32-bit wrap elsewhere). */
export function addSegBase(c: Cpu, seg: number): void {
  const s = (c.eaLo >>> 0) + (c.segBaseLo[seg]! >>> 0);
  c.eaLo = s | 0;
  if (c.codeBits === 64) c.eaHi = (c.eaHi + c.segBaseHi[seg]! + (s > 0xffffffff ? 1 : 0)) | 0;
  else c.eaHi = 0;
}

// ---- Registers by width. 8-bit index 16..19 means AH, CH, DH, BH. ----

export function getR8(c: Cpu, r: number): number {
  return r < 16 ? c.lo[r]! & 0xff : (c.lo[r - 16]! >>> 8) & 0xff;
}
export function setR8(c: Cpu, r: number, v: number): void {
  if (r < 16) c.lo[r] = (c.lo[r]! & ~0xff) | (v & 0xff);
  else c.lo[r - 16] = (c.lo[r - 16]! & ~0xff00) | ((v & 0xff) << 8);
}
export function setR16(c: Cpu, r: number, v: number): void {
  c.lo[r] = (c.lo[r]! & ~0xffff) | (v & 0xffff);
}
export function setR32(c: Cpu, r: number, v: number): void {
  c.lo[r] = v; c.hi[r] = 0;
}

/** Write a register of the given width: 32-bit writes clear the upper half, 8/16-bit writes merge. */
export function setReg(c: Cpu, r: number, size: number, lo: number, hi: number): void {
  switch (size) {
    case 8: setR8(c, r, lo); break;
    case 16: setR16(c, r, lo); break;
    case 32: c.lo[r] = lo; c.hi[r] = 0; break;
    default: c.lo[r] = lo; c.hi[r] = hi;
  }
}

/** Read a register of the given width (zero-extended low half; high half in c.outHi for 64). */
export function getReg(c: Cpu, r: number, size: number): number {
  switch (size) {
    case 8: return getR8(c, r);
    case 16: return c.lo[r]! & 0xffff;
    case 32: return c.lo[r]!;
    default: c.outHi = c.hi[r]!; return c.lo[r]!;
  }
}

// ---- Memory by width (linear address in c.eaLo/c.eaHi). ----

export function readMem(c: Cpu, size: number): number {
  switch (size) {
    case 8: return c.read8(c.eaLo, c.eaHi);
    case 16: return c.read16(c.eaLo, c.eaHi);
    case 32: return c.read32(c.eaLo, c.eaHi);
    default: return c.read64(c.eaLo, c.eaHi);
  }
}

/** Read for a read-modify-write: checked as a write so the later store cannot fault. */
export function readMemRmw(c: Cpu, size: number): number {
  switch (size) {
    case 8: return c.readRmw8(c.eaLo, c.eaHi);
    case 16: return c.readRmw16(c.eaLo, c.eaHi);
    case 32: return c.readRmw32(c.eaLo, c.eaHi);
    default: return c.readRmw64(c.eaLo, c.eaHi);
  }
}

export function writeMem(c: Cpu, size: number, lo: number, hi: number): void {
  switch (size) {
    case 8: c.write8(c.eaLo, c.eaHi, lo); break;
    case 16: c.write16(c.eaLo, c.eaHi, lo); break;
    case 32: c.write32(c.eaLo, c.eaHi, lo); break;
    default: c.write64(c.eaLo, c.eaHi, lo, hi);
  }
}

// ---- Operands by position ----

/** Read operand a (register or memory) of width `size`; for 64 the high half is in c.outHi. */
export function readA(c: Cpu, i: Insn, size: number): number {
  const a = i.a;
  if (a >= 0) return getReg(c, a, size);
  ea(c, i);
  return readMem(c, size);
}

/** Read operand a for a read-modify-write (memory checked for writing). */
export function readARmw(c: Cpu, i: Insn, size: number): number {
  const a = i.a;
  if (a >= 0) return getReg(c, a, size);
  ea(c, i);
  return readMemRmw(c, size);
}

/** Write operand a; memory uses the address computed by the preceding readA/readARmw/ea. */
export function writeA(c: Cpu, i: Insn, size: number, lo: number, hi: number): void {
  const a = i.a;
  if (a >= 0) setReg(c, a, size, lo, hi);
  else writeMem(c, size, lo, hi);
}

/** Write operand a when it has not been addressed yet (plain stores). */
export function storeA(c: Cpu, i: Insn, size: number, lo: number, hi: number): void {
  const a = i.a;
  if (a >= 0) setReg(c, a, size, lo, hi);
  else { ea(c, i); writeMem(c, size, lo, hi); }
}

/** Read operand b: register, memory or immediate. For 64 the high half is in c.outHi. */
export function readB(c: Cpu, i: Insn, size: number): number {
  const b = i.b;
  if (b >= 0) return getReg(c, b, size);
  if (b === -1) { ea(c, i); return readMem(c, size); }
  c.outHi = i.immHi;
  return i.immLo;
}
