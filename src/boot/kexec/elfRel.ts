// An ELF64 little-endian x86-64 relocatable object (ET_REL) as kexec-tools
// reads purgatory: section headers, the symbol table with its string table,
// and the RELA sections. Anything else is refused with an InputError that
// names the file.
import { InputError } from '../../errors.ts';

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4 } as const;
export const SHN = { UNDEF: 0, ABS: 0xfff1, COMMON: 0xfff2 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
const ET_REL = 1;
const EM_X86_64 = 62;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** File bytes of the section (empty for SHT_NOBITS). */
  data: Uint8Array;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  bind: number;
  type: number;
  shndx: number;
}

export interface ElfRela {
  offset: number;
  sym: number;
  type: number;
  addend: bigint;
}

export interface ElfRelaSection {
  /** The RELA section itself. */
  section: ElfSection;
  /** Index of the section the relocations patch (sh_info). */
  target: number;
  /** Index of the symbol table they use (sh_link). */
  symtab: number;
  relocs: ElfRela[];
}

export interface ElfRelObject {
  file: string;
  entry: number;
  sections: ElfSection[];
  /** The symbols of the (first) SHT_SYMTAB, by index. */
  symbols: ElfSymbol[];
  relaSections: ElfRelaSection[];
}

/** Parses an ET_REL x86-64 object; `file` names it in errors. */
export function parseElfRel(data: Uint8Array, file: string): ElfRelObject {
  const fail = (what: string) => new InputError(`${file}: ${what}`);
  if (data.length < 4 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) {
    throw fail('not an ELF file (no \\x7fELF magic)');
  }
  if (data.length < 64) throw fail(`truncated: ${data.length} bytes, too short for an ELF64 header (64 bytes)`);
  if (data[4] !== 2) throw fail(`not ELF64 (EI_CLASS is ${data[4]}, want 2)`);
  if (data[5] !== 1) throw fail(`not little-endian (EI_DATA is ${data[5]}, want 1)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => {
    const v = dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`64-bit field at 0x${o.toString(16)} too large (0x${v.toString(16)})`);
    return Number(v);
  };
  const type = u16(16);
  const machine = u16(18);
  if (machine !== EM_X86_64) throw fail(`not x86-64 (e_machine is ${machine}, want ${EM_X86_64})`);
  if (type !== ET_REL) throw fail(`not a relocatable object (e_type is ${type}, want ET_REL = 1)`);
  const entry = u64(24);
  const shoff = u64(40);
  const shentsize = u16(58);
  const shnum = u16(60);
  const shstrndx = u16(62);
  if (shoff === 0 || shnum === 0) throw fail('no section headers');
  if (shentsize !== 64) throw fail(`e_shentsize is ${shentsize}, want 64`);
  if (shoff + shnum * 64 > data.length) throw fail(`truncated: section headers end at ${shoff + shnum * 64} but the file has ${data.length} bytes`);
  if (shstrndx >= shnum) throw fail(`e_shstrndx ${shstrndx} out of range (${shnum} sections)`);

  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const s = {
      index: i,
      nameOff: u32(o),
      type: u32(o + 4),
      flags: u64(o + 8),
      offset: u64(o + 24),
      size: u64(o + 32),
      link: u32(o + 40),
      info: u32(o + 44),
      addralign: u64(o + 48),
      entsize: u64(o + 56),
    };
    if (s.type !== SHT.NOBITS && s.type !== SHT.NULL && s.offset + s.size > data.length) {
      throw fail(`truncated: section ${i} ends at ${s.offset + s.size} but the file has ${data.length} bytes`);
    }
    raw.push(s);
  }
  const shstr = raw[shstrndx]!;
  const cstr = (base: number, limit: number, off: number) => {
    let end = base + off;
    while (end < limit && data[end] !== 0) end++;
    return new TextDecoder('latin1').decode(data.subarray(base + off, end));
  };
  const sections: ElfSection[] = raw.map((s) => ({
    index: s.index,
    name: cstr(shstr.offset, shstr.offset + shstr.size, s.nameOff),
    type: s.type,
    flags: s.flags,
    offset: s.offset,
    size: s.size,
    link: s.link,
    info: s.info,
    addralign: s.addralign,
    entsize: s.entsize,
    data: s.type === SHT.NOBITS || s.type === SHT.NULL ? new Uint8Array(0) : data.subarray(s.offset, s.offset + s.size),
  }));

  const symtab = sections.find((s) => s.type === SHT.SYMTAB);
  if (!symtab) throw fail('no symbol table (SHT_SYMTAB)');
  const symbols = readSymbols(symtab, sections, data, fail);
  const relaSections: ElfRelaSection[] = [];
  for (const s of sections) {
    if (s.type === SHT.REL) throw fail(`section ${s.name} is SHT_REL; x86-64 objects use SHT_RELA`);
    if (s.type !== SHT.RELA) continue;
    if (s.info >= shnum || s.link >= shnum) throw fail(`section ${s.name} names section ${s.info}/${s.link}, out of range`);
    if (sections[s.link]!.type !== SHT.SYMTAB) throw fail(`section ${s.name} links to ${sections[s.link]!.name}, not a symbol table`);
    const relocs: ElfRela[] = [];
    const rd = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    for (let o = 0; o + 24 <= s.data.length; o += 24) {
      const info = rd.getBigUint64(o + 8, true);
      const sym = Number(info >> 32n);
      if (sym >= symbols.length) throw fail(`relocation in ${s.name} at 0x${o.toString(16)} uses symbol ${sym}, out of range`);
      relocs.push({ offset: Number(rd.getBigUint64(o, true)), sym, type: Number(info & 0xffffffffn), addend: rd.getBigInt64(o + 16, true) });
    }
    relaSections.push({ section: s, target: s.info, symtab: s.link, relocs });
  }
  return { file, entry, sections, symbols, relaSections };
}

function readSymbols(symtab: ElfSection, sections: ElfSection[], data: Uint8Array, fail: (w: string) => Error): ElfSymbol[] {
  if (symtab.link >= sections.length) throw fail('symbol table names a string table out of range');
  const strtab = sections[symtab.link]!;
  const dv = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  const out: ElfSymbol[] = [];
  for (let o = 0; o + 24 <= symtab.data.length; o += 24) {
    const nameOff = dv.getUint32(o, true);
    let end = strtab.offset + nameOff;
    while (end < strtab.offset + strtab.size && data[end] !== 0) end++;
    const info = dv.getUint8(o + 4);
    out.push({
      name: new TextDecoder('latin1').decode(data.subarray(strtab.offset + nameOff, end)),
      bind: info >> 4,
      type: info & 0xf,
      shndx: dv.getUint16(o + 6, true),
      value: Number(dv.getBigUint64(o + 8, true)),
      size: Number(dv.getBigUint64(o + 16, true)),
    });
  }
  return out;
}
