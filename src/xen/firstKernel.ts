// Where the first kernel put Xen's shared_info page and its vcpu_info areas,
// by era. Rules (our own summary of the sources named; see docs/xen-shim.md):
//
// linux-3.x  (2.6.3x..3.6 PVonHVM; arch/x86/xen/enlighten.c,
//            xen_hvm_init_shared_info): the page comes from
//            extend_brk(PAGE_SIZE, PAGE_SIZE) during init_hypervisor_platform()
//            in setup_arch(). The brk starts at __brk_base (just past
//            __bss_stop); extend_brk aligns the current brk end up to the
//            alignment and hands out the next page. Before that point only DMI
//            (dmi_scan_machine -> dmi_alloc = extend_brk(len, 4)) may have
//            taken brk bytes, so the page is
//              align_up(__brk_base + brkBytesBefore, 4096)
//            at physical __pa = vaddr - __START_KERNEL_map + phys_base.
//            vcpu_info: not registered (PVHVM used shared_info->vcpu_info[cpu]
//            until "xen/pvhvm: Support more than 32 VCPUs when migrating",
//            Linux 3.14 era).
// fix-00e37bdb (3.7, "xen PVonHVM: move shared_info to MMIO before kexec"):
//            at kexec time (syscore shutdown) the page is re-added at a pfn
//            allocated from the xen-platform PCI device's MMIO BAR, and the old
//            RAM pfn is repopulated with a fresh page. So after kexec the
//            mapping is in the BAR, outside RAM.
// fix-9d02b43d (3.8, "use E820_Reserved area for shared_info"): gfn 0xFE700
//            from boot on, inside the E820-reserved 0xFC000000-0xFFFFFFFF hole.
// modern     (arch/x86/xen/enlighten_hvm.c, reserve_shared_info): the first
//            page from 4 KiB upward that is E820 RAM and not memblock-reserved
//            at init_hypervisor_platform() time. With 6.1's
//            early_reserve_memory() [0, 64K) is reserved first, so 0x10000 on
//            a usual HVM map; 4.x kernels reserved only page 0 there (0x1000).
//            vcpu_info: registered for every cpu the kernel brought up, at its
//            per-cpu xen_vcpu_info (arch/x86/xen/enlighten.c, xen_vcpu_setup).
//            No soft reset (e.g. a Xen older than 4.7).
// soft-reset (Linux 0b34a166 on Xen 4.7+): the kernel issues
//            SCHEDOP_shutdown(SHUTDOWN_soft_reset) before kexec; nothing is left.

import { PAGE_SIZE } from './abi.ts';

export const ERAS = ['linux-3.x', 'fix-00e37bdb', 'fix-9d02b43d', 'modern', 'soft-reset'] as const;
export type Era = (typeof ERAS)[number];

/** __START_KERNEL_map on x86_64: kernel image virtual addresses minus this (plus phys_base) are physical. */
export const START_KERNEL_MAP = 0xffffffff80000000n;
/** gfn 0xFE700 of fix 9d02b43d. */
export const FIX_9D02B43D_GPA = 0xfe700000;
/**
 * Where we put the xen-platform PCI device's memory BAR (BAR1, 16 MiB,
 * prefetchable) for fix 00e37bdb: hvmloader allocates BARs from 0xF0000000
 * down by size; with the emulated Cirrus VGA's 32 MiB BAR first, the
 * platform device's lands at 0xF2000000, which is what Xen HVM guests of
 * that time usually showed. A scenario can move it.
 */
export const DEFAULT_PLATFORM_MMIO_BASE = 0xf2000000;
/** 6.1's early_reserve_memory(): memblock_reserve(0, SZ_64K). */
export const MODERN_LOW_RESERVE = 0x10000;

export type E820Type = 'ram' | 'reserved';
export interface E820Entry { start: number; end: number; type: E820Type }

/** hvmloader's usual map for a guest with `ramSize` bytes (below the 0xF0000000 PCI hole; the rest above 4 GiB). */
export function defaultHvmE820(ramSize: number): E820Entry[] {
  const holeStart = 0xf0000000;
  const low = Math.min(ramSize, holeStart);
  const map: E820Entry[] = [
    { start: 0, end: 0x9fc00, type: 'ram' },
    { start: 0x9fc00, end: 0xa0000, type: 'reserved' },
    { start: 0xf0000, end: 0x100000, type: 'reserved' },
    { start: 0x100000, end: low, type: 'ram' },
    { start: 0xfc000000, end: 0x100000000, type: 'reserved' },
  ];
  if (ramSize > holeStart) map.push({ start: 0x100000000, end: 0x100000000 + (ramSize - holeStart), type: 'ram' });
  return map;
}

export interface FirstKernelInput {
  era: Era;
  /** The first kernel's symbols (System.map or vmlinux): name -> virtual address. */
  symbols?: Map<string, bigint>;
  /** Where the first kernel ran: phys_base (load address minus link address). Default 0. */
  physBase?: number;
  /** vcpus of the domain; cpus the first kernel brought up = min(vcpus, its NR_CPUS). */
  vcpus: number;
  /** linux-3.x: brk bytes taken before xen_hvm_init_shared_info (DMI). Default 0. */
  brkBytesBefore?: number;
  /** fix-00e37bdb: the BAR's base and the page's offset in it. */
  platformMmioBase?: number;
  platformMmioOffset?: number;
  /** modern: the E820 map and what memblock had reserved (defaults: defaultHvmE820(ramSize), [0,64K) + kernel image + EBDA..1M). */
  ramSize: number;
  e820?: E820Entry[];
  reserved?: { start: number; end: number }[];
  /** Explicit placements win over the era's rule. */
  sharedInfoGpa?: number;
  vcpuInfoGpa?: { vcpu: number; gpa: number }[];
  /**
   * SMP first kernels: the guest physical address of each cpu's per-cpu area
   * (the memory __per_cpu_offset[cpu] points at, allocated at boot). A cpu's
   * xen_vcpu_info is at area + (xen_vcpu_info - __per_cpu_start).
   */
  perCpuAreaGpa?: number[];
}

export interface Placement {
  era: Era;
  sharedInfo: { gpa: number; inRam: boolean; label: string; rule: string } | null;
  vcpuInfo: { vcpu: number; gpa: number; label: string; rule: string }[];
  notes: string[];
}

export class PlacementError extends Error {}

/** Applies the era's rule (or the explicit addresses) to a first kernel. */
export function placeFirstKernel(k: FirstKernelInput): Placement {
  const notes: string[] = [];
  const physBase = BigInt(k.physBase ?? 0);
  const sym = (name: string): bigint => {
    const v = k.symbols?.get(name);
    if (v === undefined) throw new PlacementError(`era ${k.era} needs the first kernel's symbol ${name} (give firstKernel.systemMap/vmlinux, or explicit addresses)`);
    return v;
  };
  const pa = (vaddr: bigint): number => {
    if (vaddr < START_KERNEL_MAP) throw new PlacementError(`0x${vaddr.toString(16)} is not a kernel-image address (below __START_KERNEL_map)`);
    return Number(vaddr - START_KERNEL_MAP + physBase);
  };
  const inRam = (gpa: number) => (k.e820 ?? defaultHvmE820(k.ramSize)).some((e) => e.type === 'ram' && gpa >= e.start && gpa + PAGE_SIZE <= e.end);

  let sharedInfo: Placement['sharedInfo'] = null;
  let vcpuInfo: Placement['vcpuInfo'] = [];

  switch (k.era) {
    case 'linux-3.x': {
      const brk = sym('__brk_base');
      const taken = BigInt(k.brkBytesBefore ?? 0);
      const page = (brk + taken + BigInt(PAGE_SIZE - 1)) & ~BigInt(PAGE_SIZE - 1);
      const gpa = pa(page);
      const bssStop = k.symbols?.get('__bss_stop');
      if (bssStop !== undefined && bssStop > brk) notes.push('__bss_stop lies above __brk_base: not a layout this rule knows');
      sharedInfo = { gpa, inRam: true, label: 'stale shared_info: Linux 3.x PVonHVM page in the first kernel\'s brk',
        rule: `extend_brk(PAGE_SIZE, PAGE_SIZE) = align_up(__brk_base 0x${brk.toString(16)} + ${taken}, 4K) -> __pa = 0x${gpa.toString(16)}` };
      break;
    }
    case 'fix-00e37bdb': {
      const gpa = (k.platformMmioBase ?? DEFAULT_PLATFORM_MMIO_BASE) + (k.platformMmioOffset ?? 0);
      sharedInfo = { gpa, inRam: false, label: 'shared_info moved to the xen-platform PCI BAR before kexec (00e37bdb)',
        rule: `syscore shutdown re-adds shared_info at the BAR page 0x${gpa.toString(16)}; the old RAM pfn is repopulated` };
      break;
    }
    case 'fix-9d02b43d':
      sharedInfo = { gpa: FIX_9D02B43D_GPA, inRam: false, label: 'shared_info at gfn 0xFE700 in the E820-reserved hole (9d02b43d)',
        rule: 'fixed gfn 0xFE700 inside the reserved 0xFC000000-0xFFFFFFFF range' };
      break;
    case 'modern': {
      const e820 = k.e820 ?? defaultHvmE820(k.ramSize);
      const reserved = k.reserved ?? defaultModernReserved(k, pa, sym);
      let gpa = -1;
      for (let a = PAGE_SIZE; a < 0x100000000; a += PAGE_SIZE) {
        const ramAll = e820.some((e) => e.type === 'ram' && a >= e.start && a + PAGE_SIZE <= e.end);
        const res = reserved.some((r) => a < r.end && a + PAGE_SIZE > r.start);
        if (ramAll && !res) { gpa = a; break; }
      }
      if (gpa < 0) throw new PlacementError('modern: no free RAM page below 4 GiB for shared_info');
      sharedInfo = { gpa, inRam: true, label: 'shared_info in the first free low RAM page (reserve_shared_info)',
        rule: `first page from 4K that is E820 RAM and not reserved (${reserved.map((r) => `0x${r.start.toString(16)}-0x${r.end.toString(16)}`).join(', ')}) -> 0x${gpa.toString(16)}` };
      vcpuInfo = modernVcpuInfo(k, pa, sym, notes);
      break;
    }
    case 'soft-reset':
      notes.push('SHUTDOWN_soft_reset before kexec: Xen dropped the shared_info mapping, registered vcpu_info, event channels and timers');
      break;
  }

  if (k.sharedInfoGpa !== undefined && k.era !== 'soft-reset') {
    if (k.sharedInfoGpa % PAGE_SIZE) throw new PlacementError(`sharedInfoGpa 0x${k.sharedInfoGpa.toString(16)} is not page aligned`);
    sharedInfo = { gpa: k.sharedInfoGpa, inRam: inRam(k.sharedInfoGpa), label: 'stale shared_info at an explicit address', rule: 'explicit (scenario)' };
  }
  if (k.vcpuInfoGpa !== undefined && k.era !== 'soft-reset') {
    vcpuInfo = k.vcpuInfoGpa.map((v) => ({ vcpu: v.vcpu, gpa: v.gpa, label: `vcpu ${v.vcpu}'s registered vcpu_info (explicit)`, rule: 'explicit (scenario)' }));
  }
  if (sharedInfo && sharedInfo.inRam !== inRam(sharedInfo.gpa) && k.sharedInfoGpa === undefined) {
    notes.push(`shared_info at 0x${sharedInfo.gpa.toString(16)}: the era expects ${sharedInfo.inRam ? 'RAM' : 'non-RAM'} but the E820 map says otherwise`);
    sharedInfo.inRam = inRam(sharedInfo.gpa);
  }
  return { era: k.era, sharedInfo, vcpuInfo, notes };
}

function defaultModernReserved(k: FirstKernelInput, pa: (v: bigint) => number, sym: (n: string) => bigint): { start: number; end: number }[] {
  const out = [{ start: 0, end: MODERN_LOW_RESERVE }, { start: 0x9fc00, end: 0x100000 }];
  if (k.symbols) {
    const end = k.symbols.get('__end_of_kernel_reserve') ?? k.symbols.get('_end');
    if (end !== undefined) out.push({ start: pa(sym('_text')), end: pa(end) });
  }
  return out;
}

function modernVcpuInfo(k: FirstKernelInput, pa: (v: bigint) => number, sym: (n: string) => bigint, notes: string[]): Placement['vcpuInfo'] {
  const v = sym('xen_vcpu_info');
  const pcpuStart = k.symbols?.get('__per_cpu_start');
  const pcpuEnd = k.symbols?.get('__per_cpu_end');
  const perCpu = pcpuStart !== undefined && pcpuEnd !== undefined && pcpuEnd > pcpuStart && v >= pcpuStart && v < pcpuEnd;
  if (!perCpu) {
    // !SMP: DEFINE_PER_CPU variables are plain data; one cpu.
    notes.push(`xen_vcpu_info is ordinary data (a !SMP kernel): only vcpu 0 registered${k.vcpus > 1 ? '; the other vcpus keep their shared_info slots' : ''}`);
    const gpa = pa(v);
    return [{ vcpu: 0, gpa, label: "vcpu 0's registered vcpu_info (the first kernel's xen_vcpu_info)", rule: `__pa(xen_vcpu_info 0x${v.toString(16)}) = 0x${gpa.toString(16)}` }];
  }
  if (!k.perCpuAreaGpa || k.perCpuAreaGpa.length === 0) {
    throw new PlacementError('xen_vcpu_info is a per-cpu variable (SMP kernel): its per-cpu copies live in memory allocated at boot; give firstKernel.perCpuAreaGpa or explicit vcpuInfo addresses');
  }
  const n = Math.min(k.vcpus, k.perCpuAreaGpa.length);
  const rel = Number(v - pcpuStart!);
  const out: Placement['vcpuInfo'] = [];
  for (let cpu = 0; cpu < n; cpu++) {
    const gpa = k.perCpuAreaGpa[cpu]! + rel;
    out.push({ vcpu: cpu, gpa, label: `vcpu ${cpu}'s registered vcpu_info (per-cpu xen_vcpu_info)`, rule: `per-cpu area of cpu ${cpu} 0x${k.perCpuAreaGpa[cpu]!.toString(16)} + 0x${rel.toString(16)} -> 0x${gpa.toString(16)}` });
  }
  return out;
}
