// Segmentation: reading descriptors from the GDT/LDT, loading segment
// registers with the protected-mode checks (#GP/#NP/#SS/#TS with the
// selector as error code), the code-segment checks of far transfers, and
// loading LDTR and TR. Real mode and virtual-8086 mode load base = sel << 4.
import type { Cpu } from './cpu.ts';
import { CpuFault, Vector, gp } from './fault.ts';
import { Seg, CR0_PE, EFER_LMA, ATTR_S, ATTR_P, ATTR_L, ATTR_DB } from './regs.ts';
import { sysRead, sysWrite, addLinear } from './sysmem.ts';

const VM = 0x20000;

/** One 8-byte descriptor (plus the high base of a 16-byte system descriptor in long mode) and where it lives. */
export interface Descriptor {
  lo: number;
  hi: number;
  /** Bits 32-63 of the base for 16-byte system descriptors (long mode LDT/TSS/gates), else 0. */
  base63: number;
  addrLo: number;
  addrHi: number;
}

export function descBase(d: Descriptor): number {
  return ((d.lo >>> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000)) | 0;
}

/** Byte-granular limit (as int32: -1 is 4 GiB - 1). */
export function descLimit(d: Descriptor): number {
  const raw = (d.lo & 0xffff) | (d.hi & 0xf0000);
  return d.hi & 0x800000 ? ((raw << 12) | 0xfff) : raw;
}

/** Attribute bits as the Cpu keeps them: descriptor bits 40-47 → 0-7, 52-55 → 12-15. */
export function descAttr(d: Descriptor): number {
  return (d.hi >>> 8) & 0xf0ff;
}

export function isLongMode(c: Cpu): boolean { return (c.efer & EFER_LMA) !== 0; }
export function isProtected(c: Cpu): boolean { return (c.cr0 & CR0_PE) !== 0 && (c.flagsSys & VM) === 0; }

function hex(v: number): string { return `0x${(v >>> 0).toString(16)}`; }

/**
 * Read the descriptor a selector names. Raises `vector` (default #GP) with
 * the selector (| ext) as error code when it lies outside its table.
 * `wide`: a system descriptor, 16 bytes in long mode.
 */
export function fetchDescriptor(c: Cpu, sel: number, vector: number = Vector.GP, ext = 0, wide = false): Descriptor {
  const idx = sel & 0xfff8;
  const code = (sel & 0xfffc) | ext;
  let baseLo: number, baseHi: number, limit: number;
  const lma = isLongMode(c);
  if (sel & 4) {
    if ((c.ldtrSel & 0xfffc) === 0) throw new CpuFault(vector, code, `selector ${hex(sel)} names the LDT but none is loaded`);
    baseLo = c.ldtrBaseLo; baseHi = lma ? c.ldtrBaseHi : 0; limit = c.ldtrLimit >>> 0;
  } else {
    baseLo = c.gdtrBaseLo; baseHi = lma ? c.gdtrBaseHi : 0; limit = c.gdtrLimit >>> 0;
  }
  const size = wide && lma ? 16 : 8;
  if (idx + size - 1 > limit) throw new CpuFault(vector, code, `selector ${hex(sel)} is beyond the ${sel & 4 ? 'LDT' : 'GDT'} limit ${hex(limit)}`);
  const [aLo, aHi] = addLinear(baseLo, baseHi, idx);
  const lo = sysRead(c, aLo, aHi, 4);
  const [bLo, bHi] = addLinear(aLo, aHi, 4);
  const hi = sysRead(c, bLo, bHi, 4);
  let base63 = 0;
  if (size === 16) { const [cLo, cHi] = addLinear(aLo, aHi, 8); base63 = sysRead(c, cLo, cHi, 4); }
  return { lo, hi, base63, addrLo: aLo, addrHi: aHi };
}

/** Set a bit in the descriptor's type field in memory (accessed, or TSS busy). */
function setTypeBit(c: Cpu, d: Descriptor, bit: number): void {
  if (d.hi & (bit << 8)) return;
  d.hi |= bit << 8;
  const [bLo, bHi] = addLinear(d.addrLo, d.addrHi, 4);
  sysWrite(c, bLo, bHi, 4, d.hi);
}

/** An unusable (null) segment: selector kept, not present. */
function loadNull(c: Cpu, s: number, sel: number): void {
  c.setSegmentRaw(s, sel & 0xffff, 0, 0, 0, 0);
}

/**
 * Load a data or stack segment register (ES, SS, DS, FS, GS) as mov/pop/lds do.
 * Protected mode: the SDM's checks (Vol. 2, MOV: #GP(sel) for a bad type or
 * privilege, #NP(sel) / #SS(sel) when not present, null allowed except SS).
 */
export function loadSegment(c: Cpu, s: number, sel: number): void {
  sel &= 0xffff;
  if (!isProtected(c)) {
    const attr = c.segAttr[s]! & ATTR_P ? c.segAttr[s]! : 0x93;
    c.setSegmentRaw(s, sel, sel << 4, 0, (c.flagsSys & VM) ? 0xffff : c.segLimit[s]!, (c.flagsSys & VM) ? 0x93 | 0x60 : attr);
    return;
  }
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (s === Seg.SS) {
      if (c.codeBits === 64 && c.cpl !== 3 && rpl === c.cpl) { loadNull(c, s, sel); return; }
      throw gp(0, 'null selector loaded into SS');
    }
    loadNull(c, s, sel);
    return;
  }
  const d = fetchDescriptor(c, sel);
  const attr = descAttr(d), dpl = (attr >> 5) & 3, type = attr & 0xf;
  if (s === Seg.SS) {
    if (rpl !== c.cpl || !(attr & ATTR_S) || (type & 0xa) !== 0x2 || dpl !== c.cpl) throw gp(sel & 0xfffc, `selector ${hex(sel)} is not a writable data segment at CPL ${c.cpl} for SS`);
    if (!(attr & ATTR_P)) throw new CpuFault(Vector.SS, sel & 0xfffc, `stack segment ${hex(sel)} not present`);
  } else {
    if (!(attr & ATTR_S) || (type & 0xa) === 0x8) throw gp(sel & 0xfffc, `selector ${hex(sel)} is not a data or readable code segment`);
    const conforming = (type & 0xc) === 0xc;
    if (!conforming && (rpl > dpl || c.cpl > dpl)) throw gp(sel & 0xfffc, `selector ${hex(sel)}: DPL ${dpl} < max(CPL ${c.cpl}, RPL ${rpl})`);
    if (!(attr & ATTR_P)) throw new CpuFault(Vector.NP, sel & 0xfffc, `segment ${hex(sel)} not present`);
  }
  setTypeBit(c, d, 1);
  c.setSegmentRaw(s, sel, descBase(d), 0, descLimit(d), attr | 1);
}

/**
 * Check a code segment as the target of a direct far jmp/call at the
 * current CPL (Vol. 2, JMP/CALL: conforming DPL <= CPL, non-conforming
 * RPL <= CPL and DPL = CPL; L and D both set is invalid in long mode).
 */
export function checkFarTarget(c: Cpu, sel: number): Descriptor {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) throw gp(0, 'far transfer to a null selector');
  const d = fetchDescriptor(c, sel);
  const attr = descAttr(d), dpl = (attr >> 5) & 3;
  if (!(attr & ATTR_S)) throw gp(sel & 0xfffc, `far transfer through system descriptor type ${attr & 0xf} (call gates and task switches are not implemented)`);
  if (!(attr & 8)) throw gp(sel & 0xfffc, `far transfer to data segment ${hex(sel)}`);
  if (attr & 4) { if (dpl > c.cpl) throw gp(sel & 0xfffc, `conforming code DPL ${dpl} > CPL ${c.cpl}`); }
  else if ((sel & 3) > c.cpl || dpl !== c.cpl) throw gp(sel & 0xfffc, `non-conforming code ${hex(sel)}: DPL ${dpl}, RPL ${sel & 3}, CPL ${c.cpl}`);
  if (isLongMode(c) && (attr & ATTR_L) && (attr & ATTR_DB)) throw gp(sel & 0xfffc, 'code segment with both L and D set');
  if (!(attr & ATTR_P)) throw new CpuFault(Vector.NP, sel & 0xfffc, `code segment ${hex(sel)} not present`);
  return d;
}

/**
 * Check the code segment a far return or iret goes back to (Vol. 2, RET/IRET):
 * RPL >= CPL; conforming DPL <= RPL, non-conforming DPL = RPL; present.
 */
export function checkReturnTarget(c: Cpu, sel: number): Descriptor {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) throw gp(0, 'return to a null code selector');
  const d = fetchDescriptor(c, sel);
  const attr = descAttr(d), dpl = (attr >> 5) & 3, rpl = sel & 3;
  if (!(attr & ATTR_S) || !(attr & 8)) throw gp(sel & 0xfffc, `return to non-code selector ${hex(sel)}`);
  if (rpl < c.cpl) throw gp(sel & 0xfffc, `return to RPL ${rpl} < CPL ${c.cpl}`);
  if (attr & 4) { if (dpl > rpl) throw gp(sel & 0xfffc, 'conforming DPL > RPL'); }
  else if (dpl !== rpl) throw gp(sel & 0xfffc, `non-conforming DPL ${dpl} != RPL ${rpl}`);
  if (isLongMode(c) && (attr & ATTR_L) && (attr & ATTR_DB)) throw gp(sel & 0xfffc, 'code segment with both L and D set');
  if (!(attr & ATTR_P)) throw new CpuFault(Vector.NP, sel & 0xfffc, `code segment ${hex(sel)} not present`);
  return d;
}

/** Load CS from a checked descriptor with the given CPL as RPL. */
export function loadCs(c: Cpu, sel: number, d: Descriptor, cpl: number): void {
  setTypeBit(c, d, 1);
  c.setSegmentRaw(Seg.CS, (sel & 0xfffc) | cpl, descBase(d), 0, descLimit(d), descAttr(d) | 1);
}

/**
 * Load SS for a privilege change (far return/iret to an outer level, or the
 * inner stack of an interrupt): checks against the new CPL; faults with
 * `vector` (#GP for returns, #TS for TSS stacks) and ext.
 */
export function loadStackFor(c: Cpu, sel: number, cpl: number, vector: number, ext = 0): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) {
    if (isLongMode(c) && cpl !== 3) { loadNull(c, Seg.SS, (sel & 0xfffc) | cpl); return; }
    throw new CpuFault(vector, ext, 'null stack selector');
  }
  const d = fetchDescriptor(c, sel, vector, ext);
  const attr = descAttr(d), dpl = (attr >> 5) & 3;
  if ((sel & 3) !== cpl || !(attr & ATTR_S) || (attr & 0xa) !== 0x2 || dpl !== cpl) throw new CpuFault(vector, (sel & 0xfffc) | ext, `bad stack segment ${hex(sel)} for CPL ${cpl}`);
  if (!(attr & ATTR_P)) throw new CpuFault(vector === Vector.GP ? Vector.SS : vector, (sel & 0xfffc) | ext, `stack segment ${hex(sel)} not present`);
  setTypeBit(c, d, 1);
  c.setSegmentRaw(Seg.SS, sel, descBase(d), 0, descLimit(d), attr | 1);
}

/** After a return to an outer privilege level: data segments the new CPL may not use become null (Vol. 2, RET). */
export function nullifyForOuter(c: Cpu): void {
  for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
    const attr = c.segAttr[s]!;
    if ((c.segSel[s]! & 0xfffc) === 0) continue;
    const dpl = (attr >> 5) & 3;
    const dataOrNonConforming = (attr & 8) === 0 || (attr & 4) === 0;
    if (dataOrNonConforming && dpl < c.cpl) loadNull(c, s, 0);
  }
}

/** lldt: a null selector leaves the LDT unusable; otherwise a present LDT descriptor in the GDT. */
export function loadLdt(c: Cpu, sel: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) { c.ldtrSel = sel; c.ldtrBaseLo = 0; c.ldtrBaseHi = 0; c.ldtrLimit = 0; c.ldtrAttr = 0; return; }
  if (sel & 4) throw gp(sel & 0xfffc, 'lldt selector names the LDT');
  const d = fetchDescriptor(c, sel, Vector.GP, 0, true);
  const attr = descAttr(d);
  if ((attr & ATTR_S) || (attr & 0xf) !== 2) throw gp(sel & 0xfffc, `lldt: selector ${hex(sel)} is not an LDT descriptor`);
  if (!(attr & ATTR_P)) throw new CpuFault(Vector.NP, sel & 0xfffc, 'LDT not present');
  c.ldtrSel = sel; c.ldtrBaseLo = descBase(d); c.ldtrBaseHi = isLongMode(c) ? d.base63 : 0; c.ldtrLimit = descLimit(d); c.ldtrAttr = attr;
}

/** ltr: an available TSS in the GDT, marked busy. */
export function loadTr(c: Cpu, sel: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) throw gp(0, 'ltr with a null selector');
  if (sel & 4) throw gp(sel & 0xfffc, 'ltr selector names the LDT');
  const d = fetchDescriptor(c, sel, Vector.GP, 0, true);
  const attr = descAttr(d), type = attr & 0xf;
  const ok = isLongMode(c) ? type === 9 : type === 9 || type === 1;
  if ((attr & ATTR_S) || !ok) throw gp(sel & 0xfffc, `ltr: selector ${hex(sel)} is not an available TSS (type ${type})`);
  if (!(attr & ATTR_P)) throw new CpuFault(Vector.NP, sel & 0xfffc, 'TSS not present');
  setTypeBit(c, d, 2);
  c.trSel = sel; c.trBaseLo = descBase(d); c.trBaseHi = isLongMode(c) ? d.base63 : 0; c.trLimit = descLimit(d); c.trAttr = attr | 2;
}
