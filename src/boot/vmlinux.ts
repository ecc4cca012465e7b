// vmlinux (or the stripped vmlinux.bin inside a payload) read with elfy: the
// PT_LOAD segments the decompressor's parse_elf copies into place, the entry,
// and the symbol table when there is one. elfy gives the structure; 64-bit
// addresses are re-read from the raw headers as bigint, since elfy's numbers
// lose precision above 2^53 (kernel addresses are 0xffffffff8...).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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

  const symtab = elf.body.sections.find((s) => s.type === 'symtab');
  const strtab = symtab && elf.body.sections[symtab.link];
  const symbols = symtab && strtab ? symbolsOf(symtab.data, strtab.data) : [];
  return { file, entry: buf.readBigUInt64LE(0x18), segments, symbols };
}

/** The entries of an ELF64 symbol table (SHT_SYMTAB) with their names from its string table. */
function symbolsOf(s: Buffer, strtab: Buffer): ElfSymbol[] {
  const symbols: ElfSymbol[] = [];
  for (let o = 24; o + 24 <= s.length; o += 24) {
    // Entry 0 is the null symbol.
    const nameOff = s.readUInt32LE(o);
    const info = s[o + 4]!;
    let end = nameOff;
    while (end < strtab.length && strtab[end] !== 0) end++;
    symbols.push({
      name: strtab.toString('latin1', nameOff, end),
      value: s.readBigUInt64LE(o + 8),
      size: Number(s.readBigUInt64LE(o + 16)),
      type: SYM_TYPES[info & 0xf] ?? 'other',
      global: info >> 4 !== 0,
      shndx: s.readUInt16LE(o + 6),
    });
  }
  return symbols;
}

const SHT_SYMTAB = 2;

/**
 * The symbols of a vmlinux file, as readVmlinux(file's bytes).symbols gives them, reading only the ELF header, the
 * section headers and the symbol and string tables: a vmlinux is tens of MB (14.7 for the bundled tiny kernel) and
 * a boot reads its symbols before the first guest instruction. Throws InputError as readVmlinux does, and when the
 * file cannot be read.
 */
export function readVmlinuxSymbols(file: string): ElfSymbol[] {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (e) { throw new InputError(`${file}: cannot read vmlinux: ${(e as Error).message}`); }
  try {
    const size = fstatSync(fd).size;
    const at = (offset: number, length: number): Buffer => {
      if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`bytes ${offset}+${length} beyond the file's ${size}`);
      const b = Buffer.alloc(length);
      for (let n = 0, r; n < length; n += r) if ((r = readSync(fd, b, n, length - n, offset + n)) === 0) throw new RangeError('short read');
      return b;
    };
    const h = at(0, Math.min(64, size));
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw new InputError(`${file}: not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1 || h.readUInt16LE(18) !== 0x3e) throw new InputError(`${file}: not a little-endian ELF64 x86-64 file`);
    try {
      const shoff = Number(h.readBigUInt64LE(0x28)), shentsize = h.readUInt16LE(0x3a), shnum = h.readUInt16LE(0x3c);
      if (shnum === 0) return [];
      if (shentsize < 64) throw new RangeError(`section header size ${shentsize}`);
      const sh = at(shoff, shnum * shentsize);
      const section = (k: number) => ({ type: sh.readUInt32LE(k * shentsize + 4), link: sh.readUInt32LE(k * shentsize + 0x28), offset: Number(sh.readBigUInt64LE(k * shentsize + 0x18)), size: Number(sh.readBigUInt64LE(k * shentsize + 0x20)) });
      let symtab = -1;
      for (let k = 0; k < shnum && symtab < 0; k++) if (section(k).type === SHT_SYMTAB) symtab = k;
      if (symtab < 0) return [];
      const s = section(symtab);
      if (s.link >= shnum) return [];
      const t = section(s.link);
      return symbolsOf(at(s.offset, s.size), at(t.offset, t.size));
    } catch (e) {
      throw new InputError(`${file}: malformed ELF: ${(e as Error).message}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** The value of the first symbol named `name`, if any. */
export function findSymbol(vm: Vmlinux, name: string): bigint | undefined {
  return vm.symbols.find((s) => s.name === name)?.value;
}
