// The lz4 "legacy" format (`lz4 -l`), which the kernel uses: a magic, then
// blocks each prefixed by its compressed size (LE32), each decoding to at
// most 8 MiB. The block decoder is lz4js's; the framing is ours (npm's lz4
// packages read only the frame format).
import { lazyPackage } from '../../lazyPackage.ts';

const lz4js = lazyPackage<typeof import('lz4js').default>('lz4js');

const LEGACY_MAGIC = 0x184c2102;
const BLOCK_MAX = 8 << 20;

export function unlz4Legacy(input: Uint8Array): Uint8Array {
  const le32 = (o: number) => (input[o]! | (input[o + 1]! << 8) | (input[o + 2]! << 16) | (input[o + 3]! << 24)) >>> 0;
  if (input.length < 4 || le32(0) !== LEGACY_MAGIC) throw new Error('lz4: not an lz4 legacy stream');
  const parts: Uint8Array[] = [];
  let total = 0;
  let p = 4;
  while (p + 4 <= input.length) {
    const size = le32(p);
    p += 4;
    if (size === LEGACY_MAGIC) continue; // a concatenated stream starts
    if (p + size > input.length) throw new Error('lz4: truncated block');
    const dst = new Uint8Array(BLOCK_MAX);
    const n = lz4js().decompressBlock(input, dst, p, size, 0);
    if (n > BLOCK_MAX) throw new Error('lz4: block larger than 8 MiB');
    parts.push(dst.subarray(0, n));
    total += n;
    p += size;
  }
  if (p !== input.length) throw new Error('lz4: trailing bytes after the last block');
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of parts) out.set(b, o), (o += b.length);
  return out;
}
