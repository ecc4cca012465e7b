// Where a boot is: the phase (purgatory → decompressor → kernel), when each
// phase began on the virtual clock, and — once the decompressor has jumped
// into the new kernel — where that kernel sits. Addresses are named by the
// stage they belong to: purgatory's symbols in purgatory, vmlinux's in the
// kernel (un-relocated by the KASLR delta), the decompressor by its phase.
import type { LoadPlan } from './kexec/index.ts';
import type { KernelSymbols, DecompressorSymbols } from './kernelSymbols.ts';

/** The stage of a kexec boot: kexec's purgatory, the bzImage's decompressor, the new kernel from startup_64 on. */
export type Phase = 'purgatory' | 'decompressor' | 'kernel';

/** What the run learned on the way, for hooks (the Xen shim, the cause chain). */
export interface BootContext {
  /** The phase now. */
  phase: Phase;
  /** Instruction count when each phase began. */
  phaseStart: Partial<Record<Phase, number>>;
  /** The kernel's entry, once the decompressor jumped to startup_64. */
  kernelEntry: KernelEntry | null;
}

/** Where and when the decompressor jumped into the new kernel. */
export interface KernelEntry {
  /** Instruction count at the first instruction of the new kernel's startup_64. */
  icount: number;
  /** Guest-physical address of startup_64 and of the decompressor's output base. */
  startup64Phys: number;
  /** Guest-physical address where the decompressor put the kernel: vmlinux's lowest PT_LOAD segment. */
  outputPhys: number;
  /** The KASLR virtual delta inferred from the relocation sites. */
  virtDelta: bigint;
  /** vmlinux's link address of the output base (its lowest PT_LOAD virtual address). */
  linkBase: bigint;
}

/** The phase the boot was in after `icount` instructions. */
export function phaseAt(ctx: BootContext, icount: number): Phase {
  const p = ctx.phaseStart;
  if (p.kernel !== undefined && icount >= p.kernel) return 'kernel';
  if (p.decompressor !== undefined && icount >= p.decompressor) return 'decompressor';
  return 'purgatory';
}

/** What describeAddress needs of a run or its result. */
export interface AddressContext {
  symbols: KernelSymbols;
  kernelEntry: KernelEntry | null;
  plan: LoadPlan;
  phase: Phase;
  context?: BootContext;
}

/**
 * "symbol+0xoff" for an address, by where it is: purgatory's symbols inside
 * purgatory; vmlinux's for the new kernel (kernel-mapping addresses are
 * un-relocated by the KASLR delta first); the decompressor's own, where its
 * ELF is known, in its relocated copy or at kexec's load address.
 */
export function describeAddress(r: AddressContext, addr: bigint, atIcount?: number): string {
  const phase = atIcount === undefined || !r.context ? r.phase : phaseAt(r.context, atIcount);
  const hex = `0x${addr.toString(16)}`;
  const p = r.plan.purgatory;
  if (addr >= BigInt(p.base) && addr < BigInt(p.base + p.memsz)) {
    const best = Object.entries(p.symbols).filter(([, a]) => BigInt(a) <= addr).sort((x, y) => y[1] - x[1])[0];
    return best ? `purgatory:${best[0]}+0x${(addr - BigInt(best[1])).toString(16)}` : `purgatory+0x${(addr - BigInt(p.base)).toString(16)}`;
  }
  if (phase === 'decompressor') return `${decompressorSymbol(r.symbols.decompressor, addr) ?? hex} (decompressor)`;
  if (phase !== 'kernel' || !r.symbols.table.size) return hex;
  const delta = r.kernelEntry?.virtDelta ?? 0n;
  const kernelMap = addr >= 0xffffffff80000000n;
  if (!kernelMap && r.kernelEntry) {
    // identity-mapped kernel code before the switch to the kernel mapping: physical → link address
    const phys = addr - BigInt(r.kernelEntry.outputPhys);
    return `${r.symbols.table.describe(r.kernelEntry.linkBase + phys)} (phys)`;
  }
  return r.symbols.table.describe(kernelMap ? addr - delta : addr);
}

/** "extract_kernel+0x12" for an address inside the decompressor (its relocated copy first, then where kexec loaded it). */
function decompressorSymbol(d: DecompressorSymbols | undefined, addr: bigint): string | undefined {
  if (!d) return undefined;
  for (const base of [d.relocated, d.loaded]) {
    const off = addr - base;
    if (off >= 0n && off < d.size) return d.code.some(([a, b]) => off >= a && off < b) ? d.table.describe(off) : undefined;
  }
  return undefined;
}
