// Model-specific registers the core owns (EFER, segment bases, SYSCALL/
// SYSENTER, TSC, PAT, APIC base); everything else goes to the platform's
// MsrBus, and an MSR nobody claims raises #GP(0) (SDM Vol. 2B RDMSR/WRMSR).
import type { Cpu } from './cpu.ts';
import { gp } from './fault.ts';
import { Seg } from './regs.ts';
import { writeEfer } from './control.ts';

export const MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176, MSR_PAT = 0x277;
export const MSR_EFER = 0xc0000080 | 0, MSR_STAR = 0xc0000081 | 0, MSR_LSTAR = 0xc0000082 | 0, MSR_CSTAR = 0xc0000083 | 0, MSR_FMASK = 0xc0000084 | 0;
export const MSR_FS_BASE = 0xc0000100 | 0, MSR_GS_BASE = 0xc0000101 | 0, MSR_KERNEL_GS_BASE = 0xc0000102 | 0, MSR_TSC_AUX = 0xc0000103 | 0;
/** Key under which c.msr keeps XCR0 (not an MSR index any CPU uses). */
export const XCR0_KEY = -1;

/** Plain storage MSRs with their reset values; `canonical`: writes must be canonical addresses. */
const STORED: Record<number, { reset: bigint; canonical?: boolean }> = {
  [MSR_APIC_BASE]: { reset: 0xfee00900n },
  [MSR_SYSENTER_CS]: { reset: 0n }, [MSR_SYSENTER_ESP]: { reset: 0n, canonical: true }, [MSR_SYSENTER_EIP]: { reset: 0n, canonical: true },
  [MSR_PAT]: { reset: 0x0007040600070406n },
  [MSR_STAR]: { reset: 0n }, [MSR_LSTAR]: { reset: 0n, canonical: true }, [MSR_CSTAR]: { reset: 0n, canonical: true }, [MSR_FMASK]: { reset: 0n },
  [MSR_TSC_AUX]: { reset: 0n },
};

function u64(lo: number, hi: number): bigint { return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0); }
function canonical(v: bigint): boolean { const top = v >> 47n; return top === 0n || top === 0x1ffffn; }

/** The time-stamp counter: instructions retired × ticks per instruction + the offset a TSC write set. */
export function readTsc(c: Cpu): bigint {
  const now = BigInt(c.preciseIcount()) * BigInt(c.tscPerInstruction);
  return BigInt.asUintN(64, now + (c.msr.get(MSR_TSC) ?? 0n));
}

export function readMsr(c: Cpu, index: number): bigint {
  switch (index) {
    case MSR_TSC: return readTsc(c);
    case MSR_EFER: return BigInt(c.efer >>> 0);
    case MSR_FS_BASE: return u64(c.segBaseLo[Seg.FS]!, c.segBaseHi[Seg.FS]!);
    case MSR_GS_BASE: return u64(c.segBaseLo[Seg.GS]!, c.segBaseHi[Seg.GS]!);
    case MSR_KERNEL_GS_BASE: return u64(c.kernelGsBaseLo, c.kernelGsBaseHi);
  }
  const s = STORED[index];
  if (s) return c.msr.get(index) ?? s.reset;
  const v = c.msrBus.readMsr(index >>> 0);
  if (v === undefined) throw gp(0, `rdmsr of unknown MSR 0x${(index >>> 0).toString(16)}`);
  return BigInt.asUintN(64, v);
}

const PAT_TYPES = new Set([0, 1, 4, 5, 6, 7]);

export function writeMsr(c: Cpu, index: number, v: bigint): void {
  const lo = Number(v & 0xffffffffn) | 0, hi = Number(v >> 32n) | 0;
  const name = `0x${(index >>> 0).toString(16)}`;
  switch (index) {
    case MSR_TSC: c.msr.set(MSR_TSC, v - BigInt(c.preciseIcount()) * BigInt(c.tscPerInstruction)); return;
    case MSR_EFER: writeEfer(c, lo, hi); return;
    case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE:
      if (!canonical(v)) throw gp(0, `non-canonical base written to MSR ${name}`);
      if (index === MSR_KERNEL_GS_BASE) { c.kernelGsBaseLo = lo; c.kernelGsBaseHi = hi; }
      else { const s = index === MSR_FS_BASE ? Seg.FS : Seg.GS; c.segBaseLo[s] = lo; c.segBaseHi[s] = hi; }
      return;
  }
  const s = STORED[index];
  if (s) {
    if (s.canonical && !canonical(v)) throw gp(0, `non-canonical address written to MSR ${name}`);
    if (index === MSR_PAT) for (let k = 0n; k < 64n; k += 8n) if (!PAT_TYPES.has(Number((v >> k) & 0xffn))) throw gp(0, 'invalid PAT memory type');
    if (index === MSR_TSC_AUX && hi !== 0) throw gp(0, 'TSC_AUX bits 63:32 must be zero');
    c.msr.set(index, v);
    return;
  }
  if (!c.msrBus.writeMsr(index >>> 0, v)) throw gp(0, `wrmsr to unknown MSR ${name}`);
}
