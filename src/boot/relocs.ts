// The relocation table arch/x86/tools/relocs appends after vmlinux in the
// payload (x86-64 layout, as misc.c's handle_relocations reads it backwards):
//   0, 64-bit relocs..., 0, inverse 32-bit relocs..., 0, 32-bit relocs...
// Each entry is the low 32 bits of the kernel virtual address to patch,
// sign-extended to 64 bits (kernel text lives at 0xffffffff8xxxxxxx).

export interface RelocTable {
  /** 64-bit fields that get += delta. */
  relocs64: Uint32Array;
  /** 32-bit fields that get -= delta (per-cpu references). */
  inverse32: Uint32Array;
  /** 32-bit fields that get += delta. */
  relocs32: Uint32Array;
}

/** Parses the raw table; throws a plain Error on a malformed one. */
export function parseRelocTable(raw: Uint8Array): RelocTable {
  if (raw.length % 4 !== 0) throw new Error(`relocation table length ${raw.length} is not a multiple of 4`);
  const words = new Uint32Array(raw.length / 4);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  if (words.length < 3 || words[0] !== 0) throw new Error('relocation table does not start with the 64-bit terminator (0)');
  const z1 = words.indexOf(0, 1);
  const z2 = z1 < 0 ? -1 : words.indexOf(0, z1 + 1);
  if (z2 < 0) throw new Error('relocation table lacks its inverse-32 and 32-bit terminators');
  if (words.indexOf(0, z2 + 1) >= 0) throw new Error('relocation table has a fourth terminator');
  return { relocs64: words.slice(1, z1), inverse32: words.slice(z1 + 1, z2), relocs32: words.slice(z2 + 1) };
}

/** The kernel virtual address an entry names. */
export function relocAddress(entry: number): bigint {
  return BigInt.asUintN(64, BigInt(entry | 0));
}
