// Purgatory linking checked against GNU ld: the same purgatory.o linked by ld
// with a script that lists the allocated sections in section-header order
// (elf_rel_load's rule; ld applies each section's alignment itself) must give
// the same bytes, and the same symbol addresses, as our linker.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { parseElfRel } from '../../src/boot/kexec/elfRel.ts';
import { BUNDLED_PURGATORY, layoutPurgatory, linkPurgatory, readPurgatory } from '../../src/boot/kexec/purgatory.ts';
import { InputError } from '../../src/errors.ts';

const have = (tool: string) => {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const haveBinutils = have('ld') && have('objcopy') && have('nm');

/** Links purgatory.o at `base` with GNU ld; returns the flat image (from .text to the end of .data) and the symbol table. */
function ldLink(base: number): { image: Uint8Array; syms: Map<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'purg-ld-'));
  const obj = join(dir, 'p.o');
  // Renaming takes away ld's special treatment of .eh_frame (parsing/rewriting) and of
  // SHF_MERGE strings (deduplication); elf_rel_load copies both verbatim.
  execFileSync('objcopy', [
    '--rename-section', '.eh_frame=.kx_eh,alloc,load,readonly,data,contents',
    '--rename-section', '.rodata.str1.1=.kx_str,alloc,load,readonly,data,contents',
    BUNDLED_PURGATORY, obj,
  ]);
  writeFileSync(join(dir, 'p.ld'), `ENTRY(purgatory_start)
SECTIONS {
  . = 0x${base.toString(16)};
  .text : { *(.text) }
  .rodata : { *(.rodata) }
  .kx_str : { *(.kx_str) }
  .kx_eh : { *(.kx_eh) }
  .data : { *(.data) }
  .bss : { *(.bss) }
  /DISCARD/ : { *(.comment) *(.note.GNU-stack) }
}
`);
  const out = join(dir, 'p.elf');
  execFileSync('ld', ['-static', '-nostdlib', '--no-relax', '-z', 'noexecstack', '--no-warn-rwx-segments', '-T', join(dir, 'p.ld'), '-o', out, obj], { stdio: 'pipe' });
  execFileSync('objcopy', ['-O', 'binary', '--remove-section=.bss', out, join(dir, 'p.bin')]);
  const syms = new Map<string, number>();
  for (const line of execFileSync('nm', ['-g', '--defined-only', out], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) \w (\S+)$/.exec(line.trim());
    if (m) syms.set(m[2]!, parseInt(m[1]!, 16));
  }
  return { image: new Uint8Array(readFileSync(join(dir, 'p.bin'))), syms };
}

describe('purgatory layout (elf_rel_load)', () => {
  const obj = readPurgatory();
  const layout = layoutPurgatory(obj);
  it('packs the bundled purgatory as kexec does', () => {
    // .text 0x3e3c @0, .rodata @0x3e40, .rodata.str1.1 @0x3f50, .eh_frame @0x3fd8, .data @0x5000 (+0x20e0), .bss @0x8000 (+0x1000)
    const at = (name: string) => layout.offsets.get(obj.sections.find((s) => s.name === name)!.index);
    expect([at('.text'), at('.rodata'), at('.rodata.str1.1'), at('.eh_frame'), at('.data'), at('.bss')]).toEqual([0, 0x3e40, 0x3f50, 0x3fd8, 0x5000, 0x8000]);
    expect(layout.bufsz).toBe(0x70e0);
    expect(layout.memsz).toBe(0x9000);
    expect(layout.align).toBe(4096);
    expect(layout.entryOffset).toBe(0x760); // purgatory_start
  });
});

describe.skipIf(!haveBinutils)('purgatory relocation against GNU ld', () => {
  const obj = readPurgatory();
  for (const base of [0x3fff7000, 0x18fff7000, 0x3000]) {
    it(`gives ld's bytes and symbols at 0x${base.toString(16)}`, () => {
      const ours = linkPurgatory(obj, base);
      const ld = ldLink(base);
      expect(ld.image.length).toBe(ours.bytes.length);
      // compare section by section for a readable failure, then whole
      for (const [idx, off] of ours.layout.offsets) {
        const s = obj.sections[idx]!;
        if (s.type === 8) continue;
        expect(Buffer.from(ours.bytes.subarray(off, off + s.size)).equals(Buffer.from(ld.image.subarray(off, off + s.size))), `${s.name} differs`).toBe(true);
      }
      expect(Buffer.from(ours.bytes).equals(Buffer.from(ld.image))).toBe(true);
      const syms = ours.symbols();
      let checked = 0;
      for (const [name, addr] of ld.syms) {
        if (!(name in syms)) continue;
        expect(syms[name], name).toBe(addr);
        checked++;
      }
      expect(checked).toBeGreaterThan(50);
      expect(ours.entry).toBe(ld.syms.get('purgatory_start'));
    });
  }
  it('really relocates: the image differs between two bases exactly at relocation sites', () => {
    const a = linkPurgatory(obj, 0x100000).bytes;
    const b = linkPurgatory(obj, 0x200000).bytes;
    const diff = [...a.keys()].filter((i) => a[i] !== b[i]);
    expect(diff.length).toBeGreaterThan(60); // the R_X86_64_64 sites (PC32 within the object do not change)
  });
});

describe('relocated values, checked by hand', () => {
  const obj = readPurgatory();
  const base = 0x3fff7000;
  const p = linkPurgatory(obj, base);
  it('entry64_regs.rip defaults to entry32 (R_X86_64_64 in .rodata)', () => {
    const regs = p.get('entry64_regs', 136);
    expect(new DataView(regs.buffer).getBigUint64(16 * 8, true)).toBe(BigInt(p.symbol('entry32').address));
  });
  it('entry32_regs.eip defaults to entry16', () => {
    const regs = p.get('entry32_regs', 36);
    expect(new DataView(regs.buffer).getUint32(8 * 4, true)).toBe(p.symbol('entry16').address);
  });
  it('purgatory_start: lgdt gdt(%rip) points at the GDT whose pointer holds its own address', () => {
    const off = p.entry - base;
    // 0f 01 15 disp32 = lgdt disp32(%rip)
    expect([...p.bytes.subarray(off, off + 3)]).toEqual([0x0f, 0x01, 0x15]);
    const disp = new DataView(p.bytes.buffer).getInt32(off + 3, true);
    const gdt = p.entry + 7 + disp;
    const gdtOff = gdt - base;
    const dv = new DataView(p.bytes.buffer);
    expect(dv.getUint16(gdtOff, true)).toBe(0x1f); // limit: 4 descriptors
    expect(dv.getBigUint64(gdtOff + 2, true)).toBe(BigInt(gdt)); // .quad gdt: R_X86_64_64
    expect(dv.getBigUint64(gdtOff + 0x10, true)).toBe(0x00af9a000000ffffn); // 64-bit code
  });
  it('sets and reads symbols by name, with kexec\'s size checks', () => {
    const q = linkPurgatory(obj, base);
    q.setUint('console_serial', 1);
    q.setUint('serial_base', 0x2f8);
    expect([...q.get('console_serial')]).toEqual([1]);
    expect([...q.get('serial_base')]).toEqual([0xf8, 0x02]);
    expect(() => q.set('sha256_digest', new Uint8Array(31))).toThrow(/size 32, not 31/);
    expect(() => q.get('no_such_symbol')).toThrow(/not found/);
  });
});

describe('purgatory input errors name the file', () => {
  const good = new Uint8Array(readFileSync(BUNDLED_PURGATORY));
  const bad = (patch: (b: Uint8Array) => Uint8Array, pattern: RegExp) => {
    const b = patch(good.slice());
    expect(() => parseElfRel(b, 'bad.o')).toThrow(InputError);
    expect(() => parseElfRel(b, 'bad.o')).toThrow(pattern);
  };
  it('rejects non-ELF, ELF32, other machines, non-ET_REL and truncated files', () => {
    bad(() => new TextEncoder().encode('#!/bin/sh\necho hi\n'), /^bad\.o: not an ELF file/);
    bad((b) => ((b[4] = 1), b), /^bad\.o: not ELF64/);
    bad((b) => ((b[18] = 3), b), /^bad\.o: not x86-64/);
    bad((b) => ((b[16] = 2), b), /^bad\.o: not a relocatable object \(e_type is 2/);
    bad((b) => b.subarray(0, 40), /^bad\.o: truncated/);
    bad((b) => b.subarray(0, 0x5000), /^bad\.o: truncated/);
  });
  it.skipIf(!existsSync('/bin/true'))('rejects an executable', () => {
    const exe = new Uint8Array(readFileSync('/bin/true'));
    expect(() => parseElfRel(exe, '/bin/true')).toThrow(/^\/bin\/true: not a relocatable object/);
  });
});
