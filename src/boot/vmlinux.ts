// vmlinux (or the stripped vmlinux.bin inside a payload) read with elfy: the
// PT_LOAD segments the decompressor's parse_elf copies into place, the entry,
// and the symbol table when there is one. elfy gives the structure; 64-bit
// addresses are re-read from the raw headers as bigint, since elfy's numbers
// lose precision above 2^53 (kernel addresses are 0xffffffff8...).
import { lazyPackage } from '../lazyPackage.ts';
import { InputError } from '../errors.ts';

const elfy = lazyPackage<typeof import('elfy').default>('elfy');

export interface Segment {
  /** Index among the program headers. */
  index: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  flags: { r: boolean; w: boolean; x: boolean };
  data: Uint8Array;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  type: 'notype' | 'object' | 'func' | 'section' | 'file' | 'other';
  global: boolean;
  /** Section index; 0xfff1 (SHN_ABS) for absolute symbols. */
  shndx: number;
}

/** A vmlinux ELF as the decompressor's parse_elf sees it, with its symbols. */
export interface Vmlinux {
  /** The file's name in errors. */
  file: string;
  /** The ELF entry point (startup_64's physical address in vmlinux). */
  entry: bigint;
  /** The PT_LOAD segments, with their bytes. */
  segments: Segment[];
  /** The symbol table (empty for a stripped ELF such as the payload's). */
  symbols: ElfSymbol[];
}

const SYM_TYPES = ['notype', 'object', 'func', 'section', 'file'] as const;

/**
 * Read a vmlinux ELF (or the stripped one in a payload): PT_LOAD segments,
 * entry, symbols; `file` names it in errors. Throws InputError when it is not
 * a 64-bit x86 ELF.
 */
export function readVmlinux(data: Uint8Array, file: string): Vmlinux {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new InputError(`${file}: not an ELF file`);
  if (buf[4] !== 2 || buf[5] !== 1 || buf.readUInt16LE(18) !== 0x3e) {
    throw new InputError(`${file}: not a little-endian ELF64 x86-64 file`);
  }
  let elf: ReturnType<ReturnType<typeof elfy>['parse']>;
  try {
    elf = elfy().parse(buf);
  } catch (e) {
    throw new InputError(`${file}: malformed ELF: ${(e as Error).message}`);
  }
  const segments: Segment[] = [];
  elf.body.programs.forEach((p, index) => {
    if (p.type !== 'load') return;
    const ph = elf.phoff + index * elf.phentsize;
    segments.push({
      index,
      offset: p.offset,
      vaddr: buf.readBigUInt64LE(ph + 0x10),
      paddr: buf.readBigUInt64LE(ph + 0x18),
      filesz: p.filesz,
      memsz: p.memsz,
      flags: { r: !!p.flags['r'], w: !!p.flags['w'], x: !!p.flags['x'] },
      data: p.data,
    });
  });

  const symbols: ElfSymbol[] = [];
  const symtab = elf.body.sections.find((s) => s.type === 'symtab');
  const strtab = symtab && elf.body.sections[symtab.link];
  if (symtab && strtab) {
    const s = symtab.data;
    for (let o = 24; o + 24 <= s.length; o += 24) {
      // Entry 0 is the null symbol.
      const nameOff = s.readUInt32LE(o);
      const info = s[o + 4]!;
      let end = nameOff;
      while (end < strtab.data.length && strtab.data[end] !== 0) end++;
      symbols.push({
        name: strtab.data.toString('latin1', nameOff, end),
        value: s.readBigUInt64LE(o + 8),
        size: Number(s.readBigUInt64LE(o + 16)),
        type: SYM_TYPES[info & 0xf] ?? 'other',
        global: info >> 4 !== 0,
        shndx: s.readUInt16LE(o + 6),
      });
    }
  }
  return { file, entry: buf.readBigUInt64LE(0x18), segments, symbols };
}

/** The value of the first symbol named `name`, if any. */
export function findSymbol(vm: Vmlinux, name: string): bigint | undefined {
  return vm.symbols.find((s) => s.name === name)?.value;
}
