// The host-side oracle for the decompressed kernel: vmlinux's PT_LOAD
// segments placed as the decompressor's parse_elf places them (segment with
// physical address P at output + P - LOAD_PHYSICAL_ADDR) and relocated as
// handle_relocations does for a virtual (KASLR) delta.
import type { Vmlinux } from '../boot/vmlinux.ts';
import type { RelocTable } from '../boot/relocs.ts';

/** __START_KERNEL_map: where x86-64 maps the kernel image virtually. */
export const START_KERNEL_MAP = 0xffffffff80000000n;

export interface PlacedSegment {
  index: number;
  /** Offset from the decompressor's output base. */
  offset: number;
  vaddr: bigint;
  data: Uint8Array;
}

/** LOAD_PHYSICAL_ADDR of a vmlinux: the lowest PT_LOAD physical address. */
export function loadPhysicalAddr(vm: Vmlinux): bigint {
  return vm.segments.reduce((m, s) => (s.paddr < m ? s.paddr : m), vm.segments[0]!.paddr);
}

/** The segments at their offsets from the output base, copies ready to relocate. */
export function placeSegments(vm: Vmlinux): PlacedSegment[] {
  const base = loadPhysicalAddr(vm);
  return vm.segments.filter((s) => s.filesz > 0).map((s) => ({
    // Uint8Array.prototype.slice: a copy even when data is a Buffer (Buffer#slice is a view, and relocating it would change the vmlinux)
    index: s.index, offset: Number(s.paddr - base), vaddr: s.vaddr, data: Uint8Array.prototype.slice.call(s.data, 0, s.filesz),
  }));
}

/** A relocation site: its offset from the output base and width. */
export interface RelocSite { offset: number; kind: 'r64' | 'r32' | 'inv32' }

const siteCache = new WeakMap<RelocTable, { vm: Vmlinux; sites: RelocSite[] }>();

/**
 * Every relocation site as an offset from the output base (entries name kernel virtual addresses). The same array for
 * the same vmlinux and table (the kernel's entry and the image check both ask): callers must not change it.
 */
export function relocSites(vm: Vmlinux, relocs: RelocTable): RelocSite[] {
  const cached = siteCache.get(relocs);
  if (cached?.vm === vm) return cached.sites;
  const base = loadPhysicalAddr(vm), nbase = Number(base), small = base < 1n << 52n;
  // An entry is the low half of a kernel address, sign-extended: 0xffffffff8xxxxxxx - __START_KERNEL_map is entry - 2^31.
  // Computed in numbers for those (a few hundred thousand sites), in bigints for anything else.
  const toOffset = (e: number) => (e | 0) < 0 && small ? e - 0x80000000 - nbase : Number(BigInt.asUintN(64, BigInt(e | 0)) - START_KERNEL_MAP - base);
  const sites: RelocSite[] = [];
  const add = (t: Uint32Array, kind: RelocSite['kind']) => { for (let i = 0; i < t.length; i++) sites.push({ offset: toOffset(t[i]!), kind }); };
  add(relocs.relocs64, 'r64');
  add(relocs.inverse32, 'inv32');
  add(relocs.relocs32, 'r32');
  siteCache.set(relocs, { vm, sites });
  return sites;
}

/** Apply `delta` (virt_addr - LOAD_PHYSICAL_ADDR) to the placed segments in place. */
export function applyRelocations(placed: PlacedSegment[], sites: RelocSite[], delta: bigint): void {
  if (delta === 0n) return;
  for (const site of sites) {
    const seg = placed.find((s) => site.offset >= s.offset && site.offset < s.offset + s.data.length);
    if (!seg) continue; // sites in memsz-only parts (bss) do not exist in a sane table
    const view = new DataView(seg.data.buffer, seg.data.byteOffset, seg.data.byteLength);
    const at = site.offset - seg.offset;
    if (site.kind === 'r64') view.setBigUint64(at, BigInt.asUintN(64, view.getBigUint64(at, true) + delta), true);
    else {
      const d = Number(BigInt.asIntN(32, delta));
      const v = view.getUint32(at, true);
      view.setUint32(at, (site.kind === 'r32' ? v + d : v - d) >>> 0, true);
    }
  }
}

/**
 * The KASLR virtual delta the decompressor applied: the most common
 * (RAM - vmlinux) difference over the 64-bit relocation sites of the image
 * at `outputPhys` (a sample of up to 4096 sites).
 */
export function inferVirtDelta(vm: Vmlinux, sites: RelocSite[], outputPhys: number, readPhys: (addr: number, len: number) => Uint8Array): bigint {
  // vmlinux's own bytes (not copies: only read here) at their offsets from the output base.
  const base = loadPhysicalAddr(vm);
  const placed = vm.segments.filter((s) => s.filesz > 0).map((s) => ({ offset: Number(s.paddr - base), data: s.data.subarray(0, s.filesz) }));
  const votes = new Map<bigint, number>();
  let sampled = 0;
  for (const site of sites) {
    if (site.kind !== 'r64') continue;
    const seg = placed.find((s) => site.offset >= s.offset && site.offset + 8 <= s.offset + s.data.length);
    if (!seg) continue;
    const at = site.offset - seg.offset;
    const want = new DataView(seg.data.buffer, seg.data.byteOffset).getBigUint64(at, true);
    const ram = readPhys(outputPhys + site.offset, 8);
    const got = new DataView(ram.buffer, ram.byteOffset).getBigUint64(0, true);
    const d = BigInt.asIntN(64, got - want);
    votes.set(d, (votes.get(d) ?? 0) + 1);
    if (++sampled >= 4096) break;
  }
  let best = 0n, n = -1;
  for (const [d, c] of votes) if (c > n) { best = d; n = c; }
  return best;
}

/**
 * Does RAM hold vmlinux's PT_LOAD segments exactly, placed at `outputPhys` and relocated by `delta`? Compared a chunk
 * at a time (each relocated in a scratch buffer, compared natively), without building the relocated image: the quick
 * answer for the usual case, an identical image. undefined when it cannot tell (a site reaching past its segment): the
 * full comparison says then.
 */
export function imageMatches(vm: Vmlinux, sites: RelocSite[], delta: bigint, outputPhys: number, readPhys: (addr: number, len: number) => Uint8Array): boolean | undefined {
  const base = loadPhysicalAddr(vm);
  const segs = vm.segments.filter((s) => s.filesz > 0).map((s) => ({ offset: Number(s.paddr - base), data: s.data.subarray(0, s.filesz), sites: [] as number[] }));
  // Each site belongs to the first segment holding its offset (as applyRelocations places it); kept as
  // 4 × (offset in the segment) + kind, so that a numeric sort puts them in address order.
  const R64 = 0, R32 = 1, INV32 = 2;
  if (delta !== 0n) {
    for (const site of sites) {
      const seg = segs.find((s) => site.offset >= s.offset && site.offset < s.offset + s.data.length);
      if (!seg) continue;
      const x = site.offset - seg.offset;
      if (x + (site.kind === 'r64' ? 8 : 4) > seg.data.length) return undefined;
      seg.sites.push(4 * x + (site.kind === 'r64' ? R64 : site.kind === 'r32' ? R32 : INV32));
    }
  }
  const width = (code: number) => (code % 4 === R64 ? 8 : 4);
  const sorted = segs.map((seg) => Float64Array.from(seg.sites).sort());
  // Applied in address order here, in table order by applyRelocations: the same only if no two sites overlap.
  for (const t of sorted) for (let k = 1; k < t.length; k++) if (Math.floor(t[k - 1]! / 4) + width(t[k - 1]!) > Math.floor(t[k]! / 4)) return undefined;
  const CHUNK = 1 << 16, PAD = 8;
  const scratch = new Uint8Array(PAD + CHUNK + PAD);
  const view = new DataView(scratch.buffer);
  const dLo = Number(BigInt.asUintN(32, delta)), dHi = Number(BigInt.asUintN(32, delta >> 32n)), d32 = Number(BigInt.asIntN(32, delta));
  for (let j = 0; j < segs.length; j++) {
    const data = segs[j]!.data, t = sorted[j]!;
    let next = 0; // the first site that can still touch a chunk
    for (let a = 0; a < data.length; a += CHUNK) {
      const b = Math.min(a + CHUNK, data.length);
      // scratch[PAD + x - a] holds vmlinux's byte x, for x in [a - PAD, b + PAD) within the segment.
      const from = Math.max(0, a - PAD), to = Math.min(data.length, b + PAD);
      scratch.set(data.subarray(from, to), PAD + from - a);
      while (next < t.length && Math.floor(t[next]! / 4) + 8 <= a) next++;
      for (let k = next; k < t.length; k++) {
        const x = Math.floor(t[k]! / 4), code = t[k]! % 4;
        if (x >= b) break;
        const at = PAD + x - a;
        const v = view.getUint32(at, true);
        if (code === R64) {
          const lo = v + dLo;
          view.setUint32(at, lo >>> 0, true);
          view.setUint32(at + 4, (view.getUint32(at + 4, true) + dHi + (lo > 0xffffffff ? 1 : 0)) >>> 0, true);
        } else view.setUint32(at, (code === R32 ? v + d32 : v - d32) >>> 0, true);
      }
      const actual = readPhys(outputPhys + segs[j]!.offset + a, b - a);
      if (Buffer.compare(scratch.subarray(PAD, PAD + b - a), actual) !== 0) return false;
    }
  }
  return true;
}
