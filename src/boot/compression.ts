// The seven formats a Linux x86 bzImage payload can be compressed with, told
// apart by their leading magic bytes (what the kernel's own build emits).

export type Compression = 'gzip' | 'bzip2' | 'lzma' | 'xz' | 'lzo' | 'lz4' | 'zstd';

export const COMPRESSIONS: readonly Compression[] = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'];

const MAGICS: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]], // lz4 legacy format (lz4 -l)
  ['bzip2', [0x42, 0x5a, 0x68]], // "BZh"
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]], // lzop file header
  ['lzma', [0x5d, 0x00, 0x00]], // lzma-alone: lc=3 lp=0 pb=2, then the dictionary size
];

/** The compression of `data` from its magic, or undefined if none matches. */
export function detectCompression(data: Uint8Array): Compression | undefined {
  for (const [name, magic] of MAGICS) {
    if (data.length >= magic.length && magic.every((b, i) => data[i] === b)) return name;
  }
  return undefined;
}
