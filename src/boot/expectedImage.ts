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

/** Every relocation site as an offset from the output base (entries name kernel virtual addresses). */
export function relocSites(vm: Vmlinux, relocs: RelocTable): RelocSite[] {
  const base = loadPhysicalAddr(vm);
  const toOffset = (e: number) => Number(BigInt.asUintN(64, BigInt(e | 0)) - START_KERNEL_MAP - base);
  const sites: RelocSite[] = [];
  for (const e of relocs.relocs64) sites.push({ offset: toOffset(e), kind: 'r64' });
  for (const e of relocs.inverse32) sites.push({ offset: toOffset(e), kind: 'inv32' });
  for (const e of relocs.relocs32) sites.push({ offset: toOffset(e), kind: 'r32' });
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
  const placed = placeSegments(vm);
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
