// Compare the kernel image in guest RAM, at the moment the decompressor
// jumps to startup_64, with vmlinux placed and relocated on the host: which
// bytes differ, grouped into ranges and named by vmlinux symbols.
import type { Vmlinux } from '../boot/vmlinux.ts';
import type { RelocTable } from '../boot/relocs.ts';
import { placeSegments, relocSites, applyRelocations, type RelocSite } from './expectedImage.ts';
import { SymbolTable } from './symbols.ts';

export interface DiffRange {
  /** Guest-physical address of the first differing byte. */
  phys: number;
  length: number;
  /** Kernel virtual address (unrelocated, as in vmlinux) of the first byte. */
  vaddr: bigint;
  segment: number;
  /** "symbol+0xoff" of the first byte, when a symbol covers it. */
  where: string;
  expected: Uint8Array;
  actual: Uint8Array;
}

export interface ImageDiff {
  outputPhys: number;
  /** The virtual (KASLR) delta the relocations were checked with. */
  virtDelta: bigint;
  /** True when virtDelta was inferred from the relocation sites in RAM. */
  deltaInferred: boolean;
  bytesCompared: number;
  bytesDiffering: number;
  ranges: DiffRange[];
}

export interface ImageDiffInput {
  vmlinux: Vmlinux;
  relocs: RelocTable | undefined;
  /** The decompressor's output base in guest-physical memory. */
  outputPhys: number;
  readPhys(addr: number, len: number): Uint8Array;
  /** The KASLR virtual delta, when known; otherwise inferred from the 64-bit relocation sites. */
  virtDelta?: bigint;
  /** Differences closer than this many bytes merge into one range. */
  mergeGap?: number;
  /** Keep at most this many ranges in detail (the counts stay exact). */
  maxRanges?: number;
  /** Symbols to name ranges with (default: the ELF's own, empty for a stripped payload). */
  symbols?: SymbolTable;
}

/** The most common (RAM - vmlinux) difference over the 64-bit relocation sites. */
function inferDelta(input: ImageDiffInput, sites: RelocSite[]): bigint {
  const placed = placeSegments(input.vmlinux);
  const votes = new Map<bigint, number>();
  let sampled = 0;
  for (const site of sites) {
    if (site.kind !== 'r64') continue;
    const seg = placed.find((s) => site.offset >= s.offset && site.offset + 8 <= s.offset + s.data.length);
    if (!seg) continue;
    const at = site.offset - seg.offset;
    const want = new DataView(seg.data.buffer, seg.data.byteOffset).getBigUint64(at, true);
    const ram = input.readPhys(input.outputPhys + site.offset, 8);
    const got = new DataView(ram.buffer, ram.byteOffset).getBigUint64(0, true);
    const d = BigInt.asIntN(64, got - want);
    votes.set(d, (votes.get(d) ?? 0) + 1);
    if (++sampled >= 4096) break;
  }
  let best = 0n, n = -1;
  for (const [d, c] of votes) if (c > n) { best = d; n = c; }
  return best;
}

export function diffImage(input: ImageDiffInput): ImageDiff {
  const sites = input.relocs ? relocSites(input.vmlinux, input.relocs) : [];
  const deltaInferred = input.virtDelta === undefined;
  const virtDelta = input.virtDelta ?? inferDelta(input, sites);
  const placed = placeSegments(input.vmlinux);
  applyRelocations(placed, sites, virtDelta);
  const symbols = input.symbols ?? new SymbolTable(input.vmlinux.symbols);
  const gap = input.mergeGap ?? 16;
  const maxRanges = input.maxRanges ?? 1000;
  const ranges: DiffRange[] = [];
  let bytesCompared = 0, bytesDiffering = 0;
  for (const seg of placed) {
    const actual = input.readPhys(input.outputPhys + seg.offset, seg.data.length);
    const want = seg.data;
    bytesCompared += want.length;
    let k = 0;
    while (k < want.length) {
      if (actual[k] === want[k]) { k++; continue; }
      // Extend over differences separated by fewer than `gap` equal bytes.
      let end = k + 1, last = k;
      while (end < want.length && end - last <= gap) { if (actual[end] !== want[end]) last = end; end++; }
      for (let x = k; x <= last; x++) if (actual[x] !== want[x]) bytesDiffering++;
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
  return { outputPhys: input.outputPhys, virtDelta, deltaInferred, bytesCompared, bytesDiffering, ranges };
}
