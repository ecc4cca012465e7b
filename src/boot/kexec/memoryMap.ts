// The guest's physical memory map: the e820 table a Xen HVM guest's firmware
// (hvmloader) reports, and the view kexec-tools builds from it.
//
// hvmloader (tools/firmware/hvmloader/e820.c build_e820_table, with the
// ROMBIOS configuration of rombios.c: lowmem_reserved_base 0x9E000, BIOS
// image base 0xE0000) reports:
//   RAM       0x0        - 0x9E000     (below the 0x9E000 stack / 0x9FC00 EBDA)
//   reserved  0x9E000    - 0xA0000
//   reserved  0xE0000    - 0x100000    (BIOS region, hvmloader's tables)
//   RAM       0x100000   - low_mem_pgend
//   reserved  0xFC000000 - 0x100000000 (RESERVED_MEMBASE: special pages, LAPIC, IOAPIC ...)
//   RAM       4 GiB      - high_mem_pgend   (only when RAM does not fit below the hole)
// libxc puts RAM below HVM_BELOW_4G_RAM_END (0xF0000000) and the rest above
// 4 GiB. (SeaBIOS guests use lowmem_reserved_base 0xA0000 and their own BIOS
// base: pass `lowmemReservedBase` / `biosImageBase`.)
//
// kexec-tools (kexec/arch/i386/kexec-x86-common.c get_memory_ranges) treats a
// Xen HVM guest as native hardware: it reads /sys/firmware/memmap (the
// firmware's table, sorted) and then moves the start of the first RAM range
// that begins below 0x400 up to 0x400, so the real-mode IVT is never used.
// That adjusted list is both where segments may go and the e820 table it
// gives the new kernel in boot_params.
import { InputError } from '../../errors.ts';

export const E820 = { RAM: 1, RESERVED: 2, ACPI: 3, NVS: 4, PMEM: 7, PRAM: 12 } as const;
export type E820Type = (typeof E820)[keyof typeof E820];

/** One memory range; `end` is inclusive, as kexec's struct memory_range. */
export interface MemoryRange {
  start: number;
  end: number;
  type: E820Type;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
/** HVM_BELOW_4G_RAM_END: libxc puts guest RAM above this at 4 GiB. */
export const XEN_BELOW_4G_RAM_END = 0xf0000000;
/** hvmloader's RESERVED_MEMBASE. */
export const XEN_RESERVED_MEMBASE = 0xfc000000;
/** kexec's REALMODE_IVT_END. */
export const REALMODE_IVT_END = 0x400;

export interface XenHvmMapOptions {
  /** Guest RAM in bytes (the domain's memory target). Default 1 GiB. */
  ramSize?: number;
  /** End of low RAM below 1 MiB. Default 0x9E000 (ROMBIOS). */
  lowmemReservedBase?: number;
  /** Start of the reserved BIOS region below 1 MiB. Default 0xE0000 (ROMBIOS). */
  biosImageBase?: number;
  /** Where RAM below 4 GiB stops (start of the MMIO hole). Default 0xF0000000. */
  mmioHoleStart?: number;
}

/** The e820 table hvmloader builds for a guest with `ramSize` bytes of RAM. */
export function xenHvmE820(opts: XenHvmMapOptions = {}): MemoryRange[] {
  const ramSize = opts.ramSize ?? 1 * GiB;
  const lowReserved = opts.lowmemReservedBase ?? 0x9e000;
  const biosBase = opts.biosImageBase ?? 0xe0000;
  const hole = opts.mmioHoleStart ?? XEN_BELOW_4G_RAM_END;
  if (!Number.isSafeInteger(ramSize) || ramSize % 4096) throw new InputError(`RAM size ${ramSize}: must be a whole number of 4 KiB pages`);
  if (ramSize < 16 * MiB) throw new InputError(`RAM size 0x${ramSize.toString(16)}: too small for a Xen HVM guest (at least 16 MiB)`);
  if (hole > XEN_RESERVED_MEMBASE || hole % 4096) throw new InputError(`MMIO hole start 0x${hole.toString(16)}: must be page aligned and at most 0x${XEN_RESERVED_MEMBASE.toString(16)}`);
  const lowEnd = Math.min(ramSize, hole);
  const map: MemoryRange[] = [{ start: 0, end: lowReserved - 1, type: E820.RAM }];
  if (lowReserved < 0xa0000) map.push({ start: lowReserved, end: 0xa0000 - 1, type: E820.RESERVED });
  map.push({ start: biosBase, end: 0x100000 - 1, type: E820.RESERVED });
  map.push({ start: 0x100000, end: lowEnd - 1, type: E820.RAM });
  map.push({ start: XEN_RESERVED_MEMBASE, end: 0x100000000 - 1, type: E820.RESERVED });
  if (ramSize > hole) map.push({ start: 0x100000000, end: 0x100000000 + (ramSize - hole) - 1, type: E820.RAM });
  return map;
}

/** kexec's view of a firmware map: sorted, and the first RAM range starting below 0x400 moved up to 0x400. */
export function kexecMemoryRanges(firmware: readonly MemoryRange[]): MemoryRange[] {
  const ranges = firmware.map((r) => ({ ...r })).sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 0; i + 1 < ranges.length; i++) {
    if (ranges[i]!.end >= ranges[i + 1]!.start) {
      throw new InputError(`memory map: ranges 0x${ranges[i]!.start.toString(16)}-0x${ranges[i]!.end.toString(16)} and 0x${ranges[i + 1]!.start.toString(16)}-0x${ranges[i + 1]!.end.toString(16)} overlap`);
    }
  }
  const firstLow = ranges.find((r) => r.type === E820.RAM && r.start < REALMODE_IVT_END);
  if (firstLow) firstLow.start = REALMODE_IVT_END;
  return ranges;
}

/** Total bytes of RAM in a map. */
export function ramBytes(ranges: readonly MemoryRange[]): number {
  return ranges.filter((r) => r.type === E820.RAM).reduce((n, r) => n + r.end - r.start + 1, 0);
}

/** The highest RAM address + 1. */
export function ramTop(ranges: readonly MemoryRange[]): number {
  return Math.max(...ranges.filter((r) => r.type === E820.RAM).map((r) => r.end + 1));
}

export function e820TypeName(t: number): string {
  return ({ 1: 'RAM', 2: 'reserved', 3: 'ACPI', 4: 'NVS', 7: 'PMEM', 12: 'PRAM' } as Record<number, string>)[t] ?? `type ${t}`;
}
