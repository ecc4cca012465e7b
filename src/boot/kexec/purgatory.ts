// Linking purgatory the way kexec-tools' elf_rel_load (kexec/kexec-elf-rel.c)
// does: every SHF_ALLOC section with file contents is packed into one buffer
// in section-header order, each at its own sh_addralign; the SHT_NOBITS
// sections follow after padding to the largest NOBITS alignment. The buffer's
// alignment is the largest of all. Then the RELA relocations are applied for
// the chosen load address (machine_apply_elf_rel of kexec-elf-rel-x86_64.c),
// and symbols are read and written by name (GLOBAL symbols only, as
// elf_rel_find_symbol searches).
import { readFileSync } from 'node:fs';
import { packageFile } from '../../packageRoot.ts';
import { InputError } from '../../errors.ts';
import { parseElfRel, SHF, SHN, SHT, STB, STT, type ElfRelObject, type ElfSymbol } from './elfRel.ts';

/** The purgatory bundled with bootpath (Debian kexec-tools 1:2.0.25-3+deb12u3; kernels/manifest.json). */
export const BUNDLED_PURGATORY = packageFile('kernels/purgatory/purgatory.o');

export const R_X86_64 = { NONE: 0, _64: 1, PC32: 2, PLT32: 4, _32: 10, _32S: 11 } as const;
const RELOC_NAMES: Record<number, string> = { 0: 'R_X86_64_NONE', 1: 'R_X86_64_64', 2: 'R_X86_64_PC32', 3: 'R_X86_64_GOT32', 4: 'R_X86_64_PLT32', 9: 'R_X86_64_GOTPCREL', 10: 'R_X86_64_32', 11: 'R_X86_64_32S', 24: 'R_X86_64_PC64', 41: 'R_X86_64_GOTPCRELX', 42: 'R_X86_64_REX_GOTPCRELX' };
export const relocName = (t: number) => RELOC_NAMES[t] ?? `R_X86_64_${t}`;

/** Where each allocated section lands inside the purgatory buffer. */
export interface PurgatoryLayout {
  /** Bytes with file contents (kexec's bufsz): the segment's buffer. */
  bufsz: number;
  /** bufsz + padding + NOBITS (kexec's rel_size); add_buffer rounds it to pages. */
  memsz: number;
  /** Alignment of the whole buffer (the largest section alignment). */
  align: number;
  /** Section index → offset from the load address. */
  offsets: Map<number, number>;
  /** Offset of the entry point (e_entry made relative to its executable section), or null. */
  entryOffset: number | null;
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
const sectionAlign = (a: number) => (a === 0 ? 1 : a);

/** Computes elf_rel_load's memory footprint and section placement. */
export function layoutPurgatory(obj: ElfRelObject): PurgatoryLayout {
  let bufAlign = 1;
  let bssAlign = 1;
  let bufsz = 0;
  let bsssz = 0;
  for (const s of obj.sections) {
    if (!(s.flags & SHF.ALLOC)) continue;
    const a = sectionAlign(s.addralign);
    if (s.type !== SHT.NOBITS) {
      bufAlign = Math.max(bufAlign, a);
      bufsz = alignUp(bufsz, a) + s.size;
    } else {
      bssAlign = Math.max(bssAlign, a);
      bsssz = alignUp(bsssz, a) + s.size;
    }
  }
  bufAlign = Math.max(bufAlign, bssAlign);
  const bssPad = bufsz % bssAlign ? bssAlign - (bufsz % bssAlign) : 0;
  const offsets = new Map<number, number>();
  let data = 0;
  let bss = bufsz + bssPad;
  for (const s of obj.sections) {
    if (!(s.flags & SHF.ALLOC)) continue;
    const a = sectionAlign(s.addralign);
    if (s.type !== SHT.NOBITS) {
      data = alignUp(data, a);
      offsets.set(s.index, data);
      data += s.size;
    } else {
      bss = alignUp(bss, a);
      offsets.set(s.index, bss);
      bss += s.size;
    }
  }
  // kexec makes e_entry relative to the first ALLOC|EXECINSTR section (all
  // sh_addr are 0 in an object file) that contains it.
  let entryOffset: number | null = null;
  for (const s of obj.sections) {
    if ((s.flags & (SHF.ALLOC | SHF.EXECINSTR)) !== (SHF.ALLOC | SHF.EXECINSTR)) continue;
    if (obj.entry < s.size) {
      entryOffset = offsets.get(s.index)! + obj.entry;
      break;
    }
  }
  return { bufsz, memsz: bufsz + bssPad + bsssz, align: bufAlign, offsets, entryOffset };
}

export interface PurgatorySymbol {
  name: string;
  address: number;
  size: number;
  section: string;
}

/** A purgatory relocated for one load address, with its symbols settable by name. */
export class LinkedPurgatory {
  /** The segment buffer (bufsz bytes); alignment gaps are zero (kexec leaves them as malloc garbage). */
  readonly bytes: Uint8Array;
  readonly sectionAddress: Map<number, number>;

  constructor(
    readonly object: ElfRelObject,
    readonly layout: PurgatoryLayout,
    readonly base: number,
  ) {
    this.bytes = new Uint8Array(layout.bufsz);
    this.sectionAddress = new Map([...layout.offsets].map(([i, off]) => [i, base + off]));
    for (const s of object.sections) {
      const off = layout.offsets.get(s.index);
      if (off === undefined || s.type === SHT.NOBITS) continue;
      if (off + s.data.length > this.bytes.length) throw new InputError(`${object.file}: section ${s.name || s.index} (${s.data.length} bytes at offset 0x${off.toString(16)}) does not fit the ${this.bytes.length}-byte purgatory segment`);
      this.bytes.set(s.data, off);
    }
    this.relocate();
  }

  get file(): string {
    return this.object.file;
  }

  /** The entry address kexec hands to the kernel (purgatory_start for x86_64). */
  get entry(): number {
    if (this.layout.entryOffset === null) throw new InputError(`${this.file}: e_entry 0x${this.object.entry.toString(16)} lies in no executable section`);
    return this.base + this.layout.entryOffset;
  }

  get memsz(): number {
    return this.layout.memsz;
  }

  /** Looks a GLOBAL symbol up by name, as elf_rel_find_symbol does. */
  symbol(name: string): PurgatorySymbol {
    const sym = this.find(name);
    return { name, address: this.addressOf(sym), size: sym.size, section: this.object.sections[sym.shndx]!.name };
  }

  /** Every GLOBAL defined symbol with its relocated address. */
  symbols(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.object.symbols) {
      if (s.bind !== STB.GLOBAL || s.shndx === SHN.UNDEF || s.shndx >= this.object.sections.length) continue;
      if (!(s.name in out)) out[s.name] = this.addressOf(s);
    }
    return out;
  }

  /** Reads a symbol's bytes (size must match its st_size, like elf_rel_get_symbol). */
  get(name: string, size?: number): Uint8Array {
    const { off, sym } = this.locate(name, size);
    return this.bytes.slice(off, off + sym.size);
  }

  /** Writes a symbol's bytes; the length must equal its st_size, and it must not be in .bss. */
  set(name: string, value: Uint8Array): void {
    const { off } = this.locate(name, value.length);
    this.bytes.set(value, off);
  }

  getU64(name: string): bigint {
    return new DataView(this.get(name, 8).buffer).getBigUint64(0, true);
  }

  /** Sets an unsigned integer symbol of its own size (1, 2, 4 or 8 bytes). */
  setUint(name: string, value: number | bigint): void {
    const size = this.find(name).size;
    // An integer variable is 1, 2, 4 or 8 bytes: never allocate what a corrupted st_size claims.
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new InputError(`${this.file}: symbol ${name} has size ${size}, not an integer's (1, 2, 4 or 8 bytes)`);
    const b = new Uint8Array(size);
    let v = BigInt(value);
    for (let i = 0; i < size; i++, v >>= 8n) b[i] = Number(v & 0xffn);
    this.set(name, b);
  }

  private find(name: string): ElfSymbol {
    const sym = this.object.symbols.find((s) => s.bind === STB.GLOBAL && s.name === name);
    if (!sym) throw new InputError(`${this.file}: symbol ${name} not found`);
    if (sym.shndx === SHN.UNDEF || sym.shndx >= this.object.sections.length) throw new InputError(`${this.file}: symbol ${name} has bad section index ${sym.shndx}`);
    return sym;
  }

  private addressOf(sym: ElfSymbol): number {
    return (this.sectionAddress.get(sym.shndx) ?? 0) + sym.value;
  }

  private locate(name: string, size: number | undefined): { off: number; sym: ElfSymbol } {
    const sym = this.find(name);
    if (size !== undefined && sym.size !== size) throw new InputError(`${this.file}: symbol ${name} has size ${sym.size}, not ${size}`);
    const sec = this.object.sections[sym.shndx]!;
    if (sec.type === SHT.NOBITS) throw new InputError(`${this.file}: symbol ${name} is in a bss section and cannot be set`);
    const off = this.layout.offsets.get(sym.shndx);
    if (off === undefined) throw new InputError(`${this.file}: symbol ${name} is in non-allocated section ${sec.name}`);
    if (sym.value + sym.size > sec.size || off + sym.value + sym.size > this.bytes.length) {
      throw new InputError(`${this.file}: symbol ${name} (0x${sym.value.toString(16)}, ${sym.size} bytes) lies outside its section ${sec.name} (${sec.size} bytes)`);
    }
    return { off: off + sym.value, sym };
  }

  private relocate(): void {
    const { object: obj } = this;
    const dv = new DataView(this.bytes.buffer);
    const M64 = (1n << 64n) - 1n;
    for (const rs of obj.relaSections) {
      const target = obj.sections[rs.target]!;
      if (!(target.flags & SHF.ALLOC)) continue; // e.g. .rela.debug_*: kexec skips them
      const secOff = this.layout.offsets.get(target.index)!;
      const secAddr = this.base + secOff;
      for (const r of rs.relocs) {
        const sym = obj.symbols[r.sym]!;
        const symName = sym.name || (obj.sections[sym.shndx]?.name ?? '?');
        if (sym.shndx === SHN.UNDEF && sym.type !== STT.NOTYPE) throw new InputError(`${obj.file}: undefined symbol ${symName}`);
        if (sym.shndx === SHN.COMMON) throw new InputError(`${obj.file}: symbol ${symName} in common section`);
        let secBase = 0;
        if (sym.shndx !== SHN.ABS && sym.shndx !== SHN.UNDEF) {
          if (sym.shndx >= obj.sections.length) throw new InputError(`${obj.file}: invalid section ${sym.shndx} for symbol ${symName}`);
          secBase = this.sectionAddress.get(sym.shndx) ?? 0; // unallocated sections keep sh_addr 0
        }
        const value = (BigInt(sym.value) + BigInt(secBase) + r.addend) & M64;
        const at = secOff + r.offset;
        const address = BigInt(secAddr + r.offset);
        const where = `${target.name}+0x${r.offset.toString(16)}`;
        if ((at + (r.type === R_X86_64._64 ? 8 : 4) > secOff + target.size || at + 8 > this.bytes.length + 4 || at < 0) && r.type !== R_X86_64.NONE) {
          throw new InputError(`${obj.file}: relocation at ${where} lies outside its section`);
        }
        switch (r.type) {
          case R_X86_64.NONE:
            break;
          case R_X86_64._64:
            dv.setBigUint64(at, value, true);
            break;
          case R_X86_64._32:
            if (value > 0xffffffffn) throw new InputError(`${obj.file}: overflow in relocation type R_X86_64_32 val 0x${value.toString(16)} at ${where}`);
            dv.setUint32(at, Number(value), true);
            break;
          case R_X86_64._32S: {
            const s = BigInt.asIntN(64, value);
            if (s < -0x80000000n || s > 0x7fffffffn) throw new InputError(`${obj.file}: overflow in relocation type R_X86_64_32S val 0x${value.toString(16)} at ${where}`);
            dv.setUint32(at, Number(value & 0xffffffffn), true);
            break;
          }
          case R_X86_64.PC32:
          case R_X86_64.PLT32: // no PLT here: a direct PC-relative reference, as kexec treats it
            dv.setUint32(at, Number((value - address) & 0xffffffffn), true);
            break;
          default:
            throw new InputError(`${obj.file}: unhandled rela relocation ${relocName(r.type)} at ${where}`);
        }
      }
    }
  }
}

/** Reads and parses a purgatory object file. */
export function readPurgatory(path: string = BUNDLED_PURGATORY): ElfRelObject {
  let data: Uint8Array;
  try {
    data = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`${path}: cannot read purgatory: ${(e as Error).message}`);
  }
  return parseElfRel(data, path);
}

/** Lays out and relocates `obj` at `base` (which must be aligned to layout.align). */
export function linkPurgatory(obj: ElfRelObject, base: number): LinkedPurgatory {
  const layout = layoutPurgatory(obj);
  if (base % layout.align) throw new InputError(`${obj.file}: load address 0x${base.toString(16)} is not aligned to 0x${layout.align.toString(16)}`);
  return new LinkedPurgatory(obj, layout, base);
}
