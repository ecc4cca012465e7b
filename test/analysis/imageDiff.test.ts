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
import { loadPhysicalAddr, START_KERNEL_MAP } from '../../src/analysis/expectedImage.ts';

const KDIR = new URL('../../kernels/tiny-6.1/', import.meta.url);
let vm: Vmlinux;
let relocs: RelocTable;

/** A RAM image made independently of expectedImage.ts: segments copied, relocations applied by a direct loop. */
function ramImage(delta: bigint): { ram: Uint8Array; output: number } {
  const output = 0x2000000;
  const ram = new Uint8Array(output + 0x2000000);
  const base = loadPhysicalAddr(vm);
  for (const s of vm.segments) ram.set(s.data.subarray(0, s.filesz), output + Number(s.paddr - base));
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
