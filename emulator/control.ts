// Control registers and EFER: the writes with their reserved-bit and
// consistency checks (#GP(0)), the mode changes they cause (LMA follows
// PG with LME), and the TLB/decoded-block flushes translations need.
// References: Intel SDM Vol. 3A 2.5 (control registers), 2.2.1 (EFER),
// 9.8.5 (initializing IA-32e mode); Vol. 2B MOV—Move to/from Control Registers.
import type { Cpu } from './cpu.ts';
import { gp } from './fault.ts';
import {
  CR0_PE, CR0_ET, CR0_NW, CR0_CD, CR0_PG, CR0_WP, CR4_PAE, CR4_LA57, CR4_PCIDE, CR4_PGE, CR4_PSE, CR4_SMEP, CR4_SMAP, CR4_OSXSAVE,
  EFER_LME, EFER_LMA, EFER_NXE, EFER_SCE, ATTR_L, Seg, PagingMode,
} from './regs.ts';
import { sysRead } from './sysmem.ts';

const scratch = new Int32Array(4);

function cpuid(c: Cpu, leaf: number, sub = 0): Int32Array {
  c.cpuidModel.cpuid(leaf, sub, scratch);
  return scratch;
}

/** Drop every cached translation and decoded block (paging structure or mode change). */
export function flushTranslations(c: Cpu): void {
  c.flushTlb();
  c.blocks.flush();
  c.blockExit = true;
}

/** CR4 bits this CPU accepts, from the CPUID model (others are reserved: #GP). */
export function cr4Allowed(c: Cpu): number {
  // VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT
  let m = 0x7ff;
  const l1 = cpuid(c, 1);
  const ecx1 = l1[2]!;
  if (ecx1 & (1 << 17)) m |= CR4_PCIDE;
  if (ecx1 & (1 << 26)) m |= CR4_OSXSAVE;
  const max = cpuid(c, 0)[0]! >>> 0;
  if (max >= 7) {
    const l7 = cpuid(c, 7);
    const ebx = l7[1]!, ecx = l7[2]!;
    if (ecx & (1 << 2)) m |= 0x800; // UMIP
    if (ecx & (1 << 16)) m |= CR4_LA57;
    if (ebx & 1) m |= 0x10000; // FSGSBASE
    if (ebx & (1 << 7)) m |= CR4_SMEP;
    if (ebx & (1 << 20)) m |= CR4_SMAP;
  }
  return m;
}

/** MAXPHYADDR: bits of CR3 and table entries above it are reserved. */
function physBits(c: Cpu): number {
  return c.physAddrBits;
}

/** mov to CR0 (lo = bits 0-31; hi = bits 32-63 as written in 64-bit mode). */
export function writeCr0(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0) throw gp(0, 'CR0 bits 63:32 must be zero');
  const v = (lo | CR0_ET) & (0xe005003f | 0);
  if ((v & CR0_PG) && !(v & CR0_PE)) throw gp(0, 'CR0.PG set without CR0.PE');
  if ((v & CR0_NW) && !(v & CR0_CD)) throw gp(0, 'CR0.NW set without CR0.CD');
  const old = c.cr0;
  const lma = (c.efer & EFER_LMA) !== 0;
  if ((v & CR0_PG) && !(old & CR0_PG) && (c.efer & EFER_LME)) {
    if (!(c.cr4 & CR4_PAE)) throw gp(0, 'enabling paging with EFER.LME but not CR4.PAE');
    if (c.segAttr[Seg.CS]! & ATTR_L) throw gp(0, 'enabling long mode with CS.L set');
  }
  if (!(v & CR0_PG) && (old & CR0_PG) && lma && c.codeBits === 64) throw gp(0, 'clearing CR0.PG in 64-bit mode');
  if ((v & CR0_PG) && !(old & CR0_PG) && !(c.efer & EFER_LME) && (c.cr4 & CR4_PAE)) checkPdptes(c);
  c.cr0 = v;
  if ((v & CR0_PG) && (c.efer & EFER_LME)) c.efer |= EFER_LMA;
  else if (!(v & CR0_PG)) c.efer &= ~EFER_LMA;
  if ((old ^ v) & (CR0_PG | CR0_PE | CR0_WP)) flushTranslations(c);
  c.updateMode();
}

/** mov to CR3 (hi = bits 32-63 in 64-bit mode, else 0). */
export function writeCr3(c: Cpu, lo: number, hi: number): void {
  let h = hi;
  if (c.efer & EFER_LMA) {
    if ((c.cr4 & CR4_PCIDE) && (h & 0x80000000)) h &= 0x7fffffff; // bit 63: do not invalidate (we flush anyway)
    const pb = physBits(c);
    const reserved = pb >= 64 ? 0 : (~((1 << (pb - 32)) - 1)) | 0;
    if (h & reserved) throw gp(0, `CR3 value 0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')} sets bits above MAXPHYADDR (${pb})`);
  } else h = 0;
  const oldLo = c.cr3Lo, oldHi = c.cr3Hi;
  c.cr3Lo = lo; c.cr3Hi = h;
  if (c.pagingMode === PagingMode.Pae) {
    try { checkPdptes(c); } catch (e) { c.cr3Lo = oldLo; c.cr3Hi = oldHi; throw e; }
  }
  flushTranslations(c);
}

/** PAE paging loads the four PDPTEs at CR3 loads and when paging is enabled: reserved bits are #GP(0) (SDM Vol. 3A 4.4.1). */
function checkPdptes(c: Cpu): void {
  const base = c.cr3Lo & ~0x1f;
  const pb = physBits(c);
  const rsvHi = pb >= 64 ? 0 : (~((1 << (pb - 32)) - 1)) & 0xffffffff;
  for (let k = 0; k < 4; k++) {
    const lo = sysRead(c, (base + 8 * k) | 0, 0, 4), hi = sysRead(c, (base + 8 * k + 4) | 0, 0, 4);
    if ((lo & 1) && ((lo & 0x1e6) || (hi & rsvHi))) throw gp(0, `PDPTE ${k} has reserved bits set`);
  }
}

/** mov to CR4. */
export function writeCr4(c: Cpu, lo: number, hi: number): void {
  const allowed = cr4Allowed(c);
  if (hi !== 0 || (lo & ~allowed)) throw gp(0, `CR4 reserved bits 0x${((lo & ~allowed) >>> 0).toString(16)} set`);
  const old = c.cr4;
  const lma = (c.efer & EFER_LMA) !== 0;
  if (lma && !(lo & CR4_PAE)) throw gp(0, 'clearing CR4.PAE in long mode');
  if (lma && ((old ^ lo) & CR4_LA57)) throw gp(0, 'changing CR4.LA57 in long mode');
  if ((lo & CR4_PCIDE) && !(old & CR4_PCIDE)) {
    if (!lma) throw gp(0, 'setting CR4.PCIDE outside long mode');
    if (c.cr3Lo & 0xfff) throw gp(0, 'setting CR4.PCIDE with CR3[11:0] != 0');
  }
  c.cr4 = lo;
  if ((old ^ lo) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_LA57 | CR4_PCIDE | CR4_SMEP | CR4_SMAP)) flushTranslations(c);
  if ((c.cr0 & CR0_PG) && !lma && (lo & CR4_PAE) && !(old & CR4_PAE)) checkPdptes(c);
  c.updateMode();
}

/** mov to CR8 (TPR): bits 63:4 reserved. */
export function writeCr8(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~0xf)) throw gp(0, 'CR8 bits 63:4 must be zero');
  c.cr8 = lo;
}

/** wrmsr IA32_EFER: reserved bits and LME changes with paging on are #GP(0); LMA is read-only. */
export function writeEfer(c: Cpu, lo: number, hi: number): void {
  const e1 = cpuid(c, 0x80000001 | 0)[3]!;
  let allowed = EFER_LMA;
  if (e1 & (1 << 11)) allowed |= EFER_SCE;
  if (e1 & (1 << 29)) allowed |= EFER_LME;
  if (e1 & (1 << 20)) allowed |= EFER_NXE;
  if (hi !== 0 || (lo & ~allowed)) throw gp(0, `EFER reserved bits 0x${((lo & ~allowed) >>> 0).toString(16)} set`);
  const old = c.efer;
  if ((c.cr0 & CR0_PG) && ((old ^ lo) & EFER_LME)) throw gp(0, 'changing EFER.LME with paging enabled');
  c.efer = (lo & ~EFER_LMA) | (old & EFER_LMA);
  if ((old ^ c.efer) & EFER_NXE) flushTranslations(c);
  c.updateMode();
}
