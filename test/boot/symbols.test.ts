// Symbols three ways on the bundled kernel: vmlinux's ELF symbol table,
// System.map, and kallsyms found by shape in the decompressed payload.
import { describe, it, expect } from 'vitest';
import { parseBzImage } from '../../src/boot/bzimage.ts';
import { decompressPayload } from '../../src/boot/payload.ts';
import { readVmlinux, readVmlinuxSymbols, findSymbol } from '../../src/boot/vmlinux.ts';
import { parseSystemMap, symbolIndex } from '../../src/boot/systemMap.ts';
import { findKallsyms } from '../../src/boot/kallsyms.ts';
import { InputError } from '../../src/errors.ts';
import { readTiny, tinyBzImagePath, tinyFile } from './tinyKernel.ts';

const map = parseSystemMap(readTiny('System.map').toString('latin1'), 'System.map');
const byName = symbolIndex(map);

describe('vmlinux', () => {
  const vm = readVmlinux(readTiny('vmlinux'), 'vmlinux');
  it('has the entry and segments of a 6.1 x86-64 kernel', () => {
    expect(vm.entry).toBe(0x1000000n); // physical startup_64
    expect(vm.segments[0]!.vaddr).toBe(0xffffffff81000000n);
    expect(vm.segments[0]!.flags.x).toBe(true);
  });
  it('has a symbol table that agrees with System.map', () => {
    for (const name of ['startup_64', 'x86_64_start_kernel', 'phys_base', 'secondary_startup_64', '_end']) {
      expect(findSymbol(vm, name), name).toBe(byName.get(name));
    }
  });
  it('rejects something that is not an ELF', () => {
    expect(() => readVmlinux(readTiny('bzImage.gzip'), 'x.bin')).toThrow(InputError);
  });
  it('gives the same symbols when only the symbol and string tables are read from the file', () => {
    expect(readVmlinuxSymbols(tinyFile('vmlinux'))).toEqual(vm.symbols);
    expect(readVmlinuxSymbols(tinyFile('decompressor.gzip.elf'))).toEqual(readVmlinux(readTiny('decompressor.gzip.elf'), 'd').symbols);
    expect(() => readVmlinuxSymbols(tinyFile('bzImage.gzip'))).toThrow(InputError);
    expect(() => readVmlinuxSymbols(tinyFile('no-such-file'))).toThrow(InputError);
  });
});

describe('kallsyms in the decompressed payload', () => {
  const p = decompressPayload(parseBzImage(readTiny('bzImage.zstd'), tinyBzImagePath('zstd')));
  const k = findKallsyms(p.elf);
  it('is found at the offsets System.map names', () => {
    const vm = readVmlinux(p.elf, 'payload');
    const text = vm.segments[0]!;
    const fileOffset = (sym: string) => Number(byName.get(sym)! - text.vaddr) + text.offset;
    expect(k.at.names).toBe(fileOffset('kallsyms_names'));
    expect(k.at.tokenTable).toBe(fileOffset('kallsyms_token_table'));
    expect(k.at.tokenIndex).toBe(fileOffset('kallsyms_token_index'));
    expect(k.at.markers).toBe(fileOffset('kallsyms_markers'));
  });
  it('gives every text symbol exactly as System.map does', () => {
    const pairs = new Set(map.map((s) => `${s.name} ${s.address}`));
    const text = k.symbols.filter((s) => s.type === 't' || s.type === 'T');
    expect(text.length).toBeGreaterThan(10_000);
    const wrong = text.filter((s) => !pairs.has(`${s.name} ${s.address}`));
    expect(wrong).toEqual([]);
    const s64 = k.symbols.find((s) => s.name === 'startup_64');
    expect(s64?.address).toBe(byName.get('startup_64'));
    expect(k.symbols.find((s) => s.name === 'x86_64_start_kernel')?.address).toBe(byName.get('x86_64_start_kernel'));
  });
  it('fails clearly on an image without kallsyms', () => {
    expect(() => findKallsyms(new Uint8Array(1 << 16))).toThrow(/no kallsyms/);
  });
});
