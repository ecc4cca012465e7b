// The image oracle on the bundled kernel: a RAM image built the way the
// decompressor builds it compares clean, the KASLR delta is recovered from
// the relocation sites, and a corrupted byte is reported where it is.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseBzImage } from '../../src/boot/bzimage.ts';
import { decompressPayload } from '../../src/boot/payload.ts';
import { readVmlinux, type Vmlinux } from '../../src/boot/vmlinux.ts';
import type { RelocTable } from '../../src/boot/relocs.ts';
import { diffImage } from '../../src/analysis/imageDiff.ts';
import { formatImageDiff } from '../../src/analysis/formatDiff.ts';
import { imageMatches, loadPhysicalAddr, relocSites, START_KERNEL_MAP } from '../../src/boot/expectedImage.ts';

const KDIR = new URL('../../kernels/tiny-6.1/', import.meta.url);
let vm: Vmlinux;
let relocs: RelocTable;

/**
 * A RAM image made independently of expectedImage.ts: segments copied, relocations applied by a direct loop
 * (after `before` changed the copied image, as the decompressor relocates whatever its output holds).
 */
function ramImage(delta: bigint, before?: (ram: Uint8Array, output: number) => void): { ram: Uint8Array; output: number } {
  const output = 0x2000000;
  const ram = new Uint8Array(output + 0x2000000);
  const base = loadPhysicalAddr(vm);
  for (const s of vm.segments) ram.set(s.data.subarray(0, s.filesz), output + Number(s.paddr - base));
  before?.(ram, output);
  const view = new DataView(ram.buffer);
  const at = (e: number) => output + Number(BigInt.asUintN(64, BigInt(e | 0)) - START_KERNEL_MAP - base);
  const d32 = Number(BigInt.asIntN(32, delta));
  for (const e of relocs.relocs32) view.setUint32(at(e), (view.getUint32(at(e), true) + d32) >>> 0, true);
  for (const e of relocs.inverse32) view.setUint32(at(e), (view.getUint32(at(e), true) - d32) >>> 0, true);
  for (const e of relocs.relocs64) view.setBigUint64(at(e), BigInt.asUintN(64, view.getBigUint64(at(e), true) + delta), true);
  return { ram, output };
}

beforeAll(() => {
  vm = readVmlinux(new Uint8Array(readFileSync(new URL('vmlinux', KDIR))), 'vmlinux');
  const payload = decompressPayload(parseBzImage(new Uint8Array(readFileSync(new URL('bzImage.gzip', KDIR))), 'bzImage.gzip'));
  relocs = payload.relocs!;
});

describe('image diff against vmlinux', () => {
  it('finds no difference in a correctly placed, unrelocated image', () => {
    const { ram, output } = ramImage(0n);
    const d = diffImage({ vmlinux: vm, relocs, outputPhys: output, readPhys: (a, n) => ram.subarray(a, a + n) });
    expect(d.bytesDiffering).toBe(0);
    expect(d.ranges).toEqual([]);
    expect(d.virtDelta).toBe(0n);
    expect(d.bytesCompared).toBeGreaterThan(1_000_000);
  });

  it('recovers a KASLR delta from the relocation sites and compares clean with it', () => {
    const delta = 0x2a00000n;
    const { ram, output } = ramImage(delta);
    const d = diffImage({ vmlinux: vm, relocs, outputPhys: output, readPhys: (a, n) => ram.subarray(a, a + n) });
    expect(d.deltaInferred).toBe(true);
    expect(d.virtDelta).toBe(delta);
    expect(d.bytesDiffering).toBe(0);
  });

  it('reports a corrupted quad at phys_base by symbol', () => {
    const { ram, output } = ramImage(0n);
    const physBase = vm.symbols.find((s) => s.name === 'phys_base')!;
    const seg = vm.segments.find((s) => physBase.value >= s.vaddr && physBase.value < s.vaddr + BigInt(s.filesz))!;
    const at = output + Number(seg.paddr - loadPhysicalAddr(vm) + (physBase.value - seg.vaddr));
    ram.fill(0x90, at, at + 8);
    const d = diffImage({ vmlinux: vm, relocs, outputPhys: output, readPhys: (a, n) => ram.subarray(a, a + n) });
    expect(d.ranges).toHaveLength(1);
    expect(d.ranges[0]!.where).toBe('phys_base');
    expect(d.ranges[0]!.phys).toBe(at);
    expect(d.bytesDiffering).toBe(8);
  });
});

describe('image diff: the quick comparison of an identical image (imageMatches)', () => {
  const sites = () => relocSites(vm, relocs);
  it.each([0n, 0x2a00000n, -0x1000n, 0xffffffffn, 0x7ffff000n])('says identical for an image relocated by %s', (delta) => {
    const { ram, output } = ramImage(delta);
    expect(imageMatches(vm, sites(), delta, output, (a, n) => ram.subarray(a, a + n))).toBe(true);
    expect(imageMatches(vm, sites(), delta + 1n, output, (a, n) => ram.subarray(a, a + n))).toBe(false); // any other delta changes every site
  });
  it('sees one changed byte wherever it is: at a relocation site, either side of a chunk boundary, a segment\'s ends', () => {
    const delta = 0x2a00000n;
    const base = loadPhysicalAddr(vm);
    const seg = vm.segments.find((s) => s.filesz > 0x30000)!;
    const segAt = Number(seg.paddr - base);
    const site = sites().find((x) => x.kind === 'r64' && x.offset > segAt + 0x10000)!.offset;
    const last = vm.segments.filter((s) => s.filesz > 0).at(-1)!;
    const lastEnd = Number(last.paddr - base) + last.filesz;
    for (const off of [segAt, segAt + 0xffff, segAt + 0x10000, segAt + 0x10007, site, site + 7, lastEnd - 1]) {
      const { ram, output } = ramImage(delta, (r, o) => { r[o + off]! ^= 0x40; });
      const read = (a: number, n: number) => ram.subarray(a, a + n);
      expect(imageMatches(vm, sites(), delta, output, read), `byte at +0x${off.toString(16)}`).toBe(false);
      expect(diffImage({ vmlinux: vm, relocs, outputPhys: output, readPhys: read, virtDelta: delta }).bytesDiffering).toBeGreaterThan(0);
    }
  });
});

describe('image diff: displacement', () => {
  /** Where a symbol's byte lies in the RAM image, and its segment's bounds there. */
  function place(output: number, name: string, plus = 0): { at: number; segStart: number; segEnd: number } {
    const sym = vm.symbols.find((x) => x.name === name)!;
    const seg = vm.segments.find((x) => sym.value >= x.vaddr && sym.value < x.vaddr + BigInt(x.filesz))!;
    const segStart = output + Number(seg.paddr - loadPhysicalAddr(vm));
    return { at: segStart + Number(sym.value - seg.vaddr) + plus, segStart, segEnd: segStart + seg.filesz };
  }
  const diff = (ram: Uint8Array, output: number, virtDelta?: bigint) =>
    diffImage({ vmlinux: vm, relocs, outputPhys: output, readPhys: (a, n) => ram.subarray(a, a + n), virtDelta });

  /** Insert `n` bytes of `fill` at `at`: everything after moves up by n (the segment's last n bytes fall off). */
  function insert(ram: Uint8Array, at: number, segEnd: number, n: number, fill: number): void {
    ram.copyWithin(at + n, at, segEnd - n);
    ram.fill(fill, at, at + n);
  }

  it('reports vmlinux shifted up by 8 bytes from a point on, as one shift and the inserted bytes as a range', () => {
    let p = { at: 0, segStart: 0, segEnd: 0 };
    const { ram, output } = ramImage(0n, (r, out) => { p = place(out, 'phys_base', -0x20); insert(r, p.at, p.segEnd, 8, 0xee); });
    const d = diff(ram, output);
    expect(d.shifts).toHaveLength(1);
    const s = d.shifts[0]!;
    expect(s.shift).toBe(8);
    expect(s.phys).toBeGreaterThanOrEqual(p.at + 8);
    expect(s.phys).toBeLessThan(p.at + 8 + 64);
    expect(s.phys + s.length).toBeLessThanOrEqual(p.segEnd);
    expect(s.bytesExplained).toBeGreaterThan(1000);
    expect(d.bytesShifted).toBe(s.bytesExplained);
    // What is left: at most the 8 inserted bytes.
    expect(d.bytesDiffering - d.bytesShifted).toBeLessThanOrEqual(8);
    for (const r of d.ranges) expect(r.phys >= p.at && r.phys + r.length <= p.at + 8).toBe(true);
    const text = formatImageDiff(d);
    expect(text).toMatch(new RegExp(`\\+0x${(s.phys - output).toString(16)}\\.\\.\\+0x${(s.phys + s.length - output).toString(16)}: vmlinux shifted by \\+8 bytes`));
    expect(text.indexOf('shifted by')).toBeLessThan(text.indexOf('vmlinux:'));
  });

  it('reports a shift down (bytes deleted) with a negative k', () => {
    let p = { at: 0, segStart: 0, segEnd: 0 };
    const { ram, output } = ramImage(0n, (r, out) => { p = place(out, 'phys_base', -0x40); r.copyWithin(p.at, p.at + 12, p.segEnd); });
    const d = diff(ram, output);
    expect(d.shifts.map((s) => s.shift)).toEqual([-12]);
    expect(d.shifts[0]!.phys).toBeGreaterThanOrEqual(p.at);
    expect(d.shifts[0]!.phys).toBeLessThan(p.at + 64);
    expect(formatImageDiff(d)).toContain('vmlinux shifted by -12 bytes');
  });

  it('keeps unrelated overwrites, inside and outside the shifted run, as differing ranges', () => {
    let p = { at: 0, segStart: 0, segEnd: 0 }, text = 0, inside = 0;
    const { ram, output } = ramImage(0n, (r, out) => {
      p = place(out, 'phys_base', -0x20);
      insert(r, p.at, p.segEnd, 8, 0xee);
      text = place(out, 'startup_64', 0x20).at;
      r.fill(0x90, text, text + 8);
      inside = p.at + 0x400;
      r.fill(0x5a, inside, inside + 4);
    });
    const d = diff(ram, output);
    expect(d.shifts.map((s) => s.shift)).toEqual([8]);
    const covers = (a: number) => d.ranges.some((r) => a >= r.phys && a < r.phys + r.length);
    expect(covers(text)).toBe(true);
    expect(covers(inside)).toBe(true);
    expect(d.ranges.find((r) => r.phys === text)!.where).toMatch(/^(_text|startup_64)\+0x20$/);
  });

  it('finds the shift when the relocations were applied to the shifted image (KASLR)', () => {
    const delta = 0x2a00000n;
    let p = { at: 0, segStart: 0, segEnd: 0 };
    const { ram, output } = ramImage(delta, (r, out) => { p = place(out, 'phys_base', -0x20); insert(r, p.at, p.segEnd, 8, 0xee); });
    const d = diff(ram, output, delta);
    // The decompressor added the delta at the relocation sites, to whatever the shifted image held there:
    // the shift model relocates the moved bytes the same way, so the whole run is one shift.
    expect(d.shifts.map((s) => s.shift)).toEqual([8]);
    expect(d.bytesDiffering - d.bytesShifted).toBeLessThanOrEqual(8);
  });

  it('finds a shift beyond a long garbled stretch (the decompressor\'s matches reaching back across the point it went wrong)', () => {
    let seed = 11;
    const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const t = place(0x2000000, 'startup_64');
    const from = t.segStart + 0x100000, garbled = 0x80000;
    const { ram, output } = ramImage(0n, (r) => {
      r.copyWithin(from, from + 8, t.segEnd); // 8 bytes deleted at `from`: everything after moves down
      for (let j = 0; j < garbled; j++) if (rnd(3) === 0) r[from + j] = rnd(256); // a third of the bytes after it wrong
    });
    const d = diff(ram, output);
    const long = d.shifts.filter((s) => s.length > 0x100000);
    expect(long.map((s) => s.shift)).toEqual([-8]);
    // Every byte past the garbled stretch that differs from the clean image is explained by that shift.
    const clean = ramImage(0n).ram;
    let past = 0;
    for (let k = from + garbled; k < t.segEnd - 8; k++) if (ram[k] !== clean[k]) past++;
    expect(past).toBeGreaterThan(100_000);
    expect(long[0]!.phys).toBeGreaterThanOrEqual(from);
    expect(long[0]!.bytesExplained).toBeGreaterThanOrEqual(past);
    expect(formatImageDiff(d)).toContain('vmlinux shifted by -8 bytes');
  });

  it('sees no shift in random corruption', () => {
    let seed = 7;
    const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const clean = ramImage(0n);
    const { ram, output } = ramImage(0n, (r, out) => {
      const t = place(out, 'startup_64').segStart, dd = place(out, 'phys_base');
      for (let k = 0; k < 60; k++) {
        const at = (k % 2 ? t : dd.segStart) + rnd(0x100000), len = 1 + rnd(64);
        for (let j = 0; j < len; j++) r[at + j] = rnd(256);
      }
      for (let j = 0; j < 4096; j++) r[dd.at + j] = rnd(256);
    });
    const d = diff(ram, output);
    expect(d.shifts).toEqual([]);
    let differing = 0;
    for (let k = output; k < output + 0x2000000; k++) if (ram[k] !== clean.ram[k]) differing++;
    expect(d.bytesDiffering).toBe(differing);
    expect(d.bytesShifted).toBe(0);
    expect(formatImageDiff(d)).toMatch(/\(relocated by 0x0\), in [\d,]+ range\(s\):/);
  });
});
