// How many bytes at the start of a buffer an ELF64 file occupies: the furthest
// of its headers, tables, sections and segments. Needed to split the payload's
// vmlinux.bin from the relocation table glued after it.

export function elf64Extent(d: Uint8Array): number {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (d.length < 64 || v.getUint32(0, false) !== 0x7f454c46 || d[4] !== 2 || d[5] !== 1) {
    throw new Error('not a little-endian ELF64 file');
  }
  const num = (o: number) => Number(v.getBigUint64(o, true));
  const phoff = num(0x20);
  const shoff = num(0x28);
  const phentsize = v.getUint16(0x36, true);
  const phnum = v.getUint16(0x38, true);
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  let end = Math.max(64, phoff + phentsize * phnum, shoff + shentsize * shnum);
  if (end > d.length) throw new Error('ELF header tables extend past the data');
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    end = Math.max(end, num(ph + 8) + num(ph + 0x20)); // p_offset + p_filesz
  }
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (v.getUint32(sh + 4, true) === 8) continue; // SHT_NOBITS takes no file space
    end = Math.max(end, num(sh + 0x18) + num(sh + 0x20)); // sh_offset + sh_size
  }
  return end;
}
