// Linear → physical translation: the page walkers for 32-bit, PAE,
// 4-level and 5-level paging, with accessed/dirty updates and #PF error
// codes. The TLB in cpu.ts caches what this returns.
import type { Cpu } from './cpu.ts';
import { CpuFault, Vector, NonCanonicalFault } from './fault.ts';

export const enum Access { Read = 0, Write = 1, Exec = 2 }

const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80;
const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16;
const TWO32 = 4294967296;

/** Translate a linear address (halves) to a physical address (a number below 2^52). Throws #PF/#GP. */
export function translate(c: Cpu, lo: number, hi: number, access: Access): number {
  switch (c.pagingMode) {
    case 0: // paging off
      if (c.codeBits === 64 || (c.efer & 0x400)) return (hi >>> 0) * TWO32 + (lo >>> 0);
      return lo >>> 0;
    case 1: return walk32(c, lo, access);
    case 2: return walkPae(c, lo, access);
    default: return walkLong(c, lo, hi, access);
  }
}

function pageFault(c: Cpu, lo: number, hi: number, code: number, access: Access): CpuFault {
  c.cr2Lo = lo; c.cr2Hi = hi;
  if (access === Access.Write) code |= PF_W;
  if (access === Access.Exec && ((c.efer & 0x800) || (c.cr4 & 0x100000))) code |= PF_I;
  if (c.cpl === 3) code |= PF_U;
  return new CpuFault(Vector.PF, code, `page fault at 0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`);
}

/** Check the accumulated permissions of a completed walk. */
function checkAccess(c: Cpu, lo: number, hi: number, rw: number, us: number, nx: number, access: Access): void {
  const user = c.cpl === 3;
  if (user && !us) throw pageFault(c, lo, hi, PF_P, access);
  if (access === Access.Write && !rw && (user || (c.cr0 & 0x10000))) throw pageFault(c, lo, hi, PF_P, access);
  if (access === Access.Exec && nx) throw pageFault(c, lo, hi, PF_P, access);
}

function setBits(c: Cpu, addr: number, entryLo: number, bits: number): void {
  if ((entryLo & bits) !== bits) c.physWrite(addr, 4, entryLo | bits);
}

function walk32(c: Cpu, lo: number, access: Access): number {
  const pdeAddr = ((c.cr3Lo & 0xfffff000) >>> 0) + ((lo >>> 22) << 2);
  const pde = c.physRead(pdeAddr, 4);
  if (!(pde & PTE_P)) throw pageFault(c, lo, 0, 0, access);
  if ((pde & PTE_PS) && (c.cr4 & 0x10)) {
    checkAccess(c, lo, 0, pde & PTE_RW, pde & PTE_US, 0, access);
    setBits(c, pdeAddr, pde, access === Access.Write ? PTE_A | PTE_D : PTE_A);
    // PSE-36: bits 13-20 of the PDE are physical address bits 32-39.
    return ((pde >>> 13) & 0xff) * TWO32 + ((pde & 0xffc00000) >>> 0) + (lo & 0x3fffff);
  }
  const pteAddr = ((pde & 0xfffff000) >>> 0) + (((lo >>> 12) & 0x3ff) << 2);
  const pte = c.physRead(pteAddr, 4);
  if (!(pte & PTE_P)) throw pageFault(c, lo, 0, 0, access);
  checkAccess(c, lo, 0, pde & pte & PTE_RW, pde & pte & PTE_US, 0, access);
  setBits(c, pdeAddr, pde, PTE_A);
  setBits(c, pteAddr, pte, access === Access.Write ? PTE_A | PTE_D : PTE_A);
  return ((pte & 0xfffff000) >>> 0) + (lo & 0xfff);
}

/** Reserved-bit mask for the high half of a 64-bit entry given MAXPHYADDR and NXE. */
function reservedHi(c: Cpu): number {
  const keep = (1 << (c.physAddrBits - 32)) - 1; // physical address bits above 31
  let mask = ~keep & 0x000fffff; // bits 32+physAddrBits .. 51
  if (!(c.efer & 0x800)) mask |= 0x80000000 | 0; // NX is reserved without EFER.NXE
  return mask;
}

function entryAddr(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
}

function walkPae(c: Cpu, lo: number, access: Access): number {
  const pdptAddr = ((c.cr3Lo & 0xffffffe0) >>> 0) + ((lo >>> 30) << 3);
  const pdpteLo = c.physRead(pdptAddr, 4), pdpteHi = c.physRead(pdptAddr + 4, 4);
  if (!(pdpteLo & PTE_P)) throw pageFault(c, lo, 0, 0, access);
  const rsv = reservedHi(c);
  if ((pdpteHi & rsv & 0x7fffffff) || (pdpteLo & 0x1e6)) throw pageFault(c, lo, 0, PF_P | PF_RSVD, access);
  return walkTables(c, lo, 0, access, entryAddr(pdpteLo, pdpteHi), 2, 1, 1, 0, rsv);
}

function walkLong(c: Cpu, lo: number, hi: number, access: Access): number {
  const five = c.pagingMode === 4;
  const top = five ? hi >> 24 : hi >> 15;
  if (top !== 0 && top !== -1) throw new NonCanonicalFault(`non-canonical address 0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`);
  const rsv = reservedHi(c);
  return walkTables(c, lo, hi, access, entryAddr(c.cr3Lo, c.cr3Hi), five ? 5 : 4, 1, 1, 0, rsv);
}

/** Index of the 9-bit table slot at `level` (1 = page table … 5 = PML5). */
function slot(lo: number, hi: number, level: number): number {
  switch (level) {
    case 5: return (hi >>> 16) & 0x1ff;
    case 4: return (hi >>> 7) & 0x1ff;
    case 3: return ((hi & 0x7f) << 2) | (lo >>> 30);
    case 2: return (lo >>> 21) & 0x1ff;
    default: return (lo >>> 12) & 0x1ff;
  }
}

function walkTables(c: Cpu, lo: number, hi: number, access: Access, table: number, level: number, rw: number, us: number, nx: number, rsv: number): number {
  const visited: number[] = [];
  for (;;) {
    const addr = table + slot(lo, hi, level) * 8;
    const eLo = c.physRead(addr, 4), eHi = c.physRead(addr + 4, 4);
    if (!(eLo & PTE_P)) throw pageFault(c, lo, hi, 0, access);
    if (eHi & rsv) throw pageFault(c, lo, hi, PF_P | PF_RSVD, access);
    rw &= eLo >> 1; us &= eLo >> 2; nx |= eHi >>> 31;
    const large = (eLo & PTE_PS) !== 0 && (level === 2 || level === 3);
    if ((eLo & PTE_PS) && (level === 4 || level === 5)) throw pageFault(c, lo, hi, PF_P | PF_RSVD, access);
    if (level === 1 || large) {
      if (large) {
        // Large-page frames must be aligned: bits 12..(21 or 30)-1 above bit 12 (PAT) are reserved.
        const rsvLow = level === 2 ? 0x1fe000 : 0x3fffe000;
        if (eLo & rsvLow) throw pageFault(c, lo, hi, PF_P | PF_RSVD, access);
      }
      checkAccess(c, lo, hi, rw & 1, us & 1, (c.efer & 0x800) ? nx : 0, access);
      for (let k = 0; k < visited.length; k += 2) setBits(c, visited[k]!, visited[k + 1]!, PTE_A);
      setBits(c, addr, eLo, access === Access.Write ? PTE_A | PTE_D : PTE_A);
      if (level === 1) return entryAddr(eLo, eHi) + (lo & 0xfff);
      if (level === 2) return (eHi & 0xfffff) * TWO32 + ((eLo & 0xffe00000) >>> 0) + (lo & 0x1fffff);
      return (eHi & 0xfffff) * TWO32 + ((eLo & 0xc0000000) >>> 0) + (lo & 0x3fffffff);
    }
    visited.push(addr, eLo);
    table = entryAddr(eLo, eHi);
    level--;
  }
}
