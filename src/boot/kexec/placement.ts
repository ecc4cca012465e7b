// kexec-tools' segment list and hole finder (kexec/kexec.c: add_buffer,
// locate_hole, add_segment, valid_memory_range, sort_segments), reproduced
// with their exact edge cases:
// - memsz is rounded up to whole pages; alignment is at least a page;
// - free space = RAM ranges minus the segments placed so far (sorted);
//   a free piece is kept only when start < end (inclusive end);
// - top-down (end = -1) takes the *last* free range that fits and places the
//   buffer at ALIGN_DOWN(end - size + 1, align); bottom-up (end = 1) the first
//   fitting range's aligned start;
// - a range "fits" when end - start >= size - 1 after clamping to
//   [max(min, mem_min), min(max, mem_max)].
import { InputError } from '../../errors.ts';
import { E820, type MemoryRange } from './memoryMap.ts';

export const PAGE_SIZE = 4096;
/** Stands for kexec's ULONG_MAX / -1 as an address limit. */
export const ADDR_MAX = Number.MAX_SAFE_INTEGER;

export type HoleDirection = 'top-down' | 'bottom-up';

export interface Segment {
  /** What the segment holds: purgatory, setup (boot_params + command line), kernel, setup_data ... */
  name: string;
  /** Guest-physical load address (page aligned). */
  mem: number;
  /** Bytes in memory, a whole number of pages; bytes beyond `bytes.length` are zero. */
  memsz: number;
  /** The buffer (kexec's buf/bufsz). Held by reference: later symbol writes show through. */
  bytes: Uint8Array;
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number) => Math.floor(v / a) * a;
const hex = (n: number) => `0x${n.toString(16)}`;

export class SegmentTable {
  readonly segments: Segment[] = [];

  constructor(
    readonly ranges: readonly MemoryRange[],
    readonly memMin = 0,
    readonly memMax = ADDR_MAX,
  ) {}

  /** Segments sorted by address (kexec's sort_segments); throws on overlap. */
  sorted(): Segment[] {
    const s = [...this.segments].sort((a, b) => a.mem - b.mem);
    let end = 0;
    for (const seg of s) {
      if (end > seg.mem) throw new InputError(`overlapping memory segments at ${hex(end)} (${seg.name})`);
      end = seg.mem + seg.memsz;
    }
    return s;
  }

  /** locate_hole: the base of a free, aligned hole of `size` bytes, or null. */
  locateHole(size: number, align: number, min: number, max: number, direction: HoleDirection): number | null {
    align = Math.max(align, PAGE_SIZE);
    const segs = this.sorted();
    const free: { start: number; end: number }[] = [];
    let j = 0;
    for (const r of this.ranges) {
      if (r.type !== E820.RAM) continue;
      let mstart = r.start;
      const mend = r.end;
      while (j < segs.length && segs[j]!.mem <= mend) {
        const sstart = segs[j]!.mem;
        const send = sstart + segs[j]!.memsz - 1;
        if (mstart < sstart) free.push({ start: mstart, end: sstart - 1 });
        mstart = send + 1;
        j++;
      }
      if (mstart < mend) free.push({ start: mstart, end: mend });
    }
    let base: number | null = null;
    for (const f of free) {
      let start = Math.max(f.start, this.memMin, min);
      start = alignUp(start, align);
      const end = Math.min(f.end, this.memMax, max);
      if (start >= end || start >= this.memMax || end <= this.memMin) continue;
      if (!size || end - start >= size - 1) {
        if (direction === 'bottom-up') {
          base = start;
          break;
        }
        base = alignDown(end - size + 1, align);
      }
    }
    if (base === null) return null;
    if (size && base + size - 1 > max) return null;
    return base;
  }

  /** valid_memory_range: is [start, end] (inclusive) inside one RAM range (or two touching ones)? */
  validRange(start: number, end: number): boolean {
    if (start > end || end > this.memMax || start < this.memMin) return false;
    const rs = this.ranges;
    for (let i = 0; i < rs.length; i++) {
      if (rs[i]!.type !== E820.RAM) continue;
      let mend = rs[i]!.end;
      const next = rs[i + 1];
      if (next && mend === next.start && next.type === E820.RAM) mend = next.end;
      if (rs[i]!.start <= start && mend >= end) return true;
    }
    return false;
  }

  /** add_segment: a segment at a fixed address. */
  addSegment(name: string, bytes: Uint8Array, base: number, memsz: number): Segment {
    if (memsz === 0) throw new InputError(`segment ${name}: empty`);
    memsz = alignUp(memsz, PAGE_SIZE);
    if (base % PAGE_SIZE) throw new InputError(`segment ${name}: base address ${hex(base)} is not page aligned`);
    if (!this.validRange(base, base + memsz - 1)) {
      throw new InputError(`segment ${name}: ${hex(base)}-${hex(base + memsz - 1)} is not inside guest RAM`);
    }
    const seg = { name, mem: base, memsz, bytes: bytes.length > memsz ? bytes.subarray(0, memsz) : bytes };
    this.segments.push(seg);
    this.sorted();
    return seg;
  }

  /** add_buffer: find a hole (memsz rounded to pages) and add the segment there. */
  addBuffer(name: string, bytes: Uint8Array, memsz: number, align: number, min: number, max: number, direction: HoleDirection): Segment {
    memsz = alignUp(memsz, PAGE_SIZE);
    const base = this.locateHole(memsz, align, min, max, direction);
    if (base === null) {
      const upTo = max >= ADDR_MAX ? 'the top of RAM' : hex(max);
      throw new InputError(`${name}: does not fit: no free hole of ${hex(memsz)} bytes (align ${hex(align)}) between ${hex(min)} and ${upTo} in guest RAM`);
    }
    return this.addSegment(name, bytes, base, memsz);
  }
}
