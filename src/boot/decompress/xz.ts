// .xz streams as the kernel's xz_wrap.sh writes them: one stream, a CRC32
// check, a filter chain of x86 BCJ then LZMA2. We read the container
// ourselves (the index gives each block's compressed size), hand the raw
// LZMA2 data to @napi-rs/lzma, and undo BCJ with our own filter, because no
// npm xz decoder implements BCJ.
import { crc32 } from 'node:zlib';
import { bcjX86Decode } from './bcjX86.ts';
import { viewOf } from './view.ts';
import { lazyPackage } from '../../lazyPackage.ts';

const napiLzma = lazyPackage<typeof import('@napi-rs/lzma')>('@napi-rs/lzma');

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FILTER_X86 = 0x04;
const FILTER_LZMA2 = 0x21;
const CHECK_SIZES: Record<number, number> = { 0: 0, 1: 4, 4: 8, 10: 32 };

export function unxz(input: Uint8Array): Uint8Array {
  if (input.length < 24 || !MAGIC.every((b, i) => input[i] === b)) throw new Error('xz: not an xz stream');
  const le32 = (o: number) => (input[o]! | (input[o + 1]! << 8) | (input[o + 2]! << 16) | (input[o + 3]! << 24)) >>> 0;
  const checkType = input[7]! & 0x0f;
  const checkSize = CHECK_SIZES[checkType];
  if (checkSize === undefined) throw new Error(`xz: unsupported check type ${checkType}`);
  if (crc32(input.subarray(6, 8)) !== le32(8)) throw new Error('xz: stream header CRC mismatch');

  // Stream padding (zeros, in 4-byte units) may follow the footer.
  let end = input.length;
  while (end >= 4 && le32(end - 4) === 0 && input[end - 1] === 0) end -= 4;
  if (input[end - 2] !== 0x59 || input[end - 1] !== 0x5a) throw new Error('xz: no stream footer ("YZ")');
  const indexSize = (le32(end - 8) + 1) * 4;
  const indexStart = end - 12 - indexSize;
  if (indexStart < 12 || input[indexStart] !== 0) throw new Error('xz: bad index position');
  let ip = indexStart + 1;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = input[ip++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      if (shift > 56) throw new Error('xz: bad varint');
    }
  };
  const count = varint();
  const records: { unpadded: number; uncompressed: number }[] = [];
  for (let i = 0; i < count; i++) records.push({ unpadded: varint(), uncompressed: varint() });

  const parts: Uint8Array[] = [];
  let total = 0;
  let p = 12;
  for (const rec of records) {
    const headerSize = (input[p]! + 1) * 4;
    const flags = input[p + 1]!;
    if (crc32(input.subarray(p, p + headerSize - 4)) !== le32(p + headerSize - 4)) throw new Error('xz: block header CRC mismatch');
    ip = p + 2;
    if (flags & 0x40) varint(); // compressed size: the index has it too
    if (flags & 0x80) varint(); // uncompressed size
    let bcjStart: number | undefined;
    let sawLzma2 = false;
    for (let f = 0; f <= (flags & 3); f++) {
      const id = varint();
      const propsSize = varint();
      if (id === FILTER_X86) bcjStart = propsSize === 4 ? le32(ip) : 0;
      else if (id === FILTER_LZMA2) sawLzma2 = true;
      else throw new Error(`xz: unsupported filter id 0x${id.toString(16)}`);
      ip += propsSize;
    }
    if (!sawLzma2) throw new Error('xz: block has no LZMA2 filter');
    const compSize = rec.unpadded - headerSize - checkSize;
    const dataStart = p + headerSize;
    const out = viewOf(napiLzma().lzma2.decompressSync(input.subarray(dataStart, dataStart + compSize)));
    if (out.length !== rec.uncompressed) throw new Error(`xz: block decoded to ${out.length} bytes, index says ${rec.uncompressed}`);
    if (bcjStart !== undefined) bcjX86Decode(out, bcjStart);
    const checkAt = dataStart + Math.ceil(compSize / 4) * 4;
    if (checkType === 1 && crc32(out) !== le32(checkAt)) throw new Error('xz: block CRC32 mismatch');
    parts.push(out);
    total += out.length;
    p = checkAt + checkSize;
  }
  if (p !== indexStart) throw new Error('xz: blocks do not end where the index begins');
  if (parts.length === 1) return parts[0]!; // the kernel's xz_wrap.sh writes one block: no copy
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of parts) out.set(b, o), (o += b.length);
  return out;
}
