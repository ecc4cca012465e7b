// Compare the kernel image in guest RAM, at the moment the decompressor
// jumps to startup_64, with vmlinux placed and relocated on the host: which
// bytes differ, grouped into ranges and named by vmlinux symbols, and where
// RAM holds vmlinux displaced by a few bytes (shifts, imageShift.ts).
import type { Vmlinux } from '../boot/vmlinux.ts';
import type { RelocTable } from '../boot/relocs.ts';
import { placeSegments, relocSites, applyRelocations, inferVirtDelta, imageMatches, type PlacedSegment } from '../boot/expectedImage.ts';
import { SymbolTable } from '../boot/symbolTable.ts';
import { findShifts } from './imageShift.ts';

/** A range of the image where RAM differs from vmlinux (not explained by a shift). */
export interface DiffRange {
  /** Guest-physical address of the first differing byte. */
  phys: number;
  /** Bytes in the range (differences closer than `mergeGap` merge). */
  length: number;
  /** Kernel virtual address (unrelocated, as in vmlinux) of the first byte. */
  vaddr: bigint;
  /** Index of the vmlinux PT_LOAD segment it is in. */
  segment: number;
  /** "symbol+0xoff" of the first byte, when a symbol covers it. */
  where: string;
  /** vmlinux's bytes there, relocated. */
  expected: Uint8Array;
  /** RAM's bytes there. */
  actual: Uint8Array;
}

/** A run of the image where RAM holds vmlinux's bytes displaced by `shift` bytes (imageShift.ts). */
export interface DiffShift {
  /** Guest-physical address of the first byte the shift explains, and the length to one past the last. */
  phys: number;
  /** Bytes from `phys` to one past the last byte the shift explains. */
  length: number;
  /** RAM[x] = vmlinux[x - shift]: positive when vmlinux's bytes sit higher in RAM than they should. */
  shift: number;
  /** Kernel virtual address (unrelocated, as in vmlinux) of the first byte, and "symbol+0xoff" there. */
  vaddr: bigint;
  /** Index of the vmlinux PT_LOAD segment it is in. */
  segment: number;
  /** "symbol+0xoff" of the first byte. */
  where: string;
  /** "symbol+0xoff" of the vmlinux bytes found there (vaddr - shift). */
  from: string;
  /** Differing bytes the shift explains (bytes in the run that it does not explain are in `ranges`). */
  bytesExplained: number;
}

/** The image in RAM compared with vmlinux at the decompressor's jump to startup_64 (diffImage). */
export interface ImageDiff {
  /** The decompressor's output base in guest-physical memory. */
  outputPhys: number;
  /** The virtual (KASLR) delta the relocations were checked with. */
  virtDelta: bigint;
  /** True when virtDelta was inferred from the relocation sites in RAM. */
  deltaInferred: boolean;
  /** Bytes compared: the PT_LOAD segments' file contents. */
  bytesCompared: number;
  /** Every byte that differs from vmlinux, shifted or not. */
  bytesDiffering: number;
  /** Differing bytes not explained by a shift, grouped. */
  ranges: DiffRange[];
  /** Runs where RAM is vmlinux displaced by a few bytes, in address order. */
  shifts: DiffShift[];
  /** Differing bytes explained by `shifts`. */
  bytesShifted: number;
}

/** What diffImage compares: vmlinux, placed at the output base and relocated, against guest RAM. */
export interface ImageDiffInput {
  /** The vmlinux ELF (from the bzImage's payload, or the file). */
  vmlinux: Vmlinux;
  /** Its relocation table (vmlinux.relocs from the payload); without it nothing is relocated. */
  relocs: RelocTable | undefined;
  /** The decompressor's output base in guest-physical memory. */
  outputPhys: number;
  /** Read guest-physical memory. */
  readPhys(addr: number, len: number): Uint8Array;
  /** The KASLR virtual delta, when known; otherwise inferred from the 64-bit relocation sites. */
  virtDelta?: bigint;
  /** Differences closer than this many bytes merge into one range. */
  mergeGap?: number;
  /** Keep at most this many ranges in detail (the counts stay exact). */
  maxRanges?: number;
  /** Symbols to name ranges with (default: the ELF's own, empty for a stripped payload). */
  symbols?: SymbolTable;
  /** Largest displacement looked for, in bytes either way (default 4096; 0: no shift search). */
  maxShift?: number;
}

/**
 * Compare the image in RAM with vmlinux placed at `outputPhys` and relocated
 * by the KASLR delta: the differing bytes, grouped into ranges named by
 * symbol, and the runs where RAM holds vmlinux displaced by a few bytes.
 */
export function diffImage(input: ImageDiffInput): ImageDiff {
  const sites = input.relocs ? relocSites(input.vmlinux, input.relocs) : [];
  const deltaInferred = input.virtDelta === undefined;
  const virtDelta = input.virtDelta ?? inferVirtDelta(input.vmlinux, sites, input.outputPhys, input.readPhys);
  // The usual case, an identical image, is answered without building the relocated image (tens of MB for a
  // distribution kernel) or looking for shifts.
  if (imageMatches(input.vmlinux, sites, virtDelta, input.outputPhys, input.readPhys) === true) {
    const bytesCompared = input.vmlinux.segments.reduce((n, s) => n + (s.filesz > 0 ? Math.min(s.filesz, s.data.length) : 0), 0);
    return { outputPhys: input.outputPhys, virtDelta, deltaInferred, bytesCompared, bytesDiffering: 0, ranges: [], shifts: [], bytesShifted: 0 };
  }
  const placed = placeSegments(input.vmlinux);
  applyRelocations(placed, sites, virtDelta);
  const symbols = input.symbols ?? new SymbolTable(input.vmlinux.symbols);
  const gap = input.mergeGap ?? 16;
  const maxRanges = input.maxRanges ?? 1000;
  const ranges: DiffRange[] = [];
  const shifts: DiffShift[] = [];
  const maxShift = input.maxShift ?? 4096;
  const budget = { attempts: 4096 };
  let raw: PlacedSegment[] | undefined; // vmlinux unrelocated, for shifts the decompressor relocated afterwards
  let bytesCompared = 0, bytesDiffering = 0, bytesShifted = 0;
  for (const seg of placed) {
    const actual = input.readPhys(input.outputPhys + seg.offset, seg.data.length);
    const want = seg.data;
    bytesCompared += want.length;
    const reloc = () => {
      if (virtDelta === 0n || sites.length === 0) return null;
      raw ??= placeSegments(input.vmlinux);
      const rawSeg = raw.find((r) => r.index === seg.index)!;
      const own = sites.filter((x) => x.offset >= seg.offset && x.offset < seg.offset + want.length).map((x) => ({ offset: x.offset - seg.offset, kind: x.kind }));
      return { raw: rawSeg.data, sites: own, delta: virtDelta };
    };
    const { shifts: found, explained: mask } = maxShift > 0 ? findShifts({ want, actual, reloc }, { maxShift, budget }) : { shifts: [], explained: null };
    for (const f of found) {
      const vaddr = seg.vaddr + BigInt(f.start);
      shifts.push({
        phys: input.outputPhys + seg.offset + f.start, length: f.end - f.start, shift: f.shift, vaddr, segment: seg.index,
        where: symbols.describe(vaddr), from: symbols.describe(vaddr - BigInt(f.shift)), bytesExplained: f.explained,
      });
      bytesShifted += f.explained;
      bytesDiffering += f.explained;
    }
    // A byte differs here when it differs from vmlinux and no shift explains it.
    const differs = mask === null ? (x: number) => actual[x] !== want[x] : (x: number) => actual[x] !== want[x] && mask[x] === 0;
    let k = 0;
    while (k < want.length) {
      if (actual[k] === want[k] || !differs(k)) { k++; continue; }
      // Extend over differences separated by fewer than `gap` equal bytes.
      let end = k + 1, last = k;
      while (end < want.length && end - last <= gap) { if (differs(end)) last = end; end++; }
      for (let x = k; x <= last; x++) if (differs(x)) bytesDiffering++;
      if (ranges.length < maxRanges) {
        const vaddr = seg.vaddr + BigInt(k);
        ranges.push({
          phys: input.outputPhys + seg.offset + k, length: last - k + 1, vaddr, segment: seg.index,
          where: symbols.describe(vaddr), expected: want.slice(k, last + 1), actual: actual.slice(k, last + 1),
        });
      }
      k = last + 1;
    }
  }
  return { outputPhys: input.outputPhys, virtDelta, deltaInferred, bytesCompared, bytesDiffering, ranges, shifts, bytesShifted };
}

/** Does [phys, phys + len) hold a byte that differs from vmlinux, in a differing range or a shifted run? */
export function differsIn(d: ImageDiff, phys: number, len: number): boolean {
  const hit = (p: number, n: number) => phys < p + n && p < phys + len;
  return d.ranges.some((r) => hit(r.phys, r.length)) || (d.shifts ?? []).some((s) => hit(s.phys, s.length));
}
