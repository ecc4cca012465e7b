// lzop files holding LZO1X blocks, as `lzop -9` writes them for the kernel.
// Our own decoder: no maintained pure-JS LZO1X decompressor exists on npm.
// Bitstream per Documentation/staging/lzo.rst (version 0; no RLE needed for
// lzop output), container per lzop's header as lib/decompress_unlzo.c reads it.

const MAGIC = [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
const F_ADLER32_D = 0x1;
const F_ADLER32_C = 0x2;
const F_H_EXTRA_FIELD = 0x40;
const F_CRC32_D = 0x100;
const F_CRC32_C = 0x200;
const F_H_FILTER = 0x800;

/** Decompresses a whole lzop file. */
export function unlzop(input: Uint8Array): Uint8Array {
  const be16 = (o: number) => (input[o]! << 8) | input[o + 1]!;
  const be32 = (o: number) => ((input[o]! << 24) | (input[o + 1]! << 16) | (input[o + 2]! << 8) | input[o + 3]!) >>> 0;
  if (input.length < 9 || !MAGIC.every((b, i) => input[i] === b)) throw new Error('lzo: not an lzop file');
  let p = 9;
  const version = be16(p);
  p += 4; // version, lib_version
  if (version >= 0x0940) p += 2; // version_needed_to_extract
  p += 1; // method
  if (version >= 0x0940) p += 1; // level
  const flags = be32(p);
  p += 4;
  if (flags & F_H_FILTER) p += 4;
  p += 8; // mode, mtime_low
  if (version >= 0x0940) p += 4; // mtime_high
  p += 1 + input[p]!; // file name
  p += 4; // header checksum
  if (flags & F_H_EXTRA_FIELD) p += 4 + be32(p) + 4;

  const blocks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (p + 4 > input.length) throw new Error('lzo: truncated (no end-of-stream marker)');
    const dstLen = be32(p);
    p += 4;
    if (dstLen === 0) break;
    const srcLen = be32(p);
    p += 4;
    let adler: number | undefined;
    if (flags & F_ADLER32_D) (adler = be32(p)), (p += 4);
    if (flags & F_CRC32_D) p += 4;
    if (srcLen < dstLen) {
      if (flags & F_ADLER32_C) p += 4;
      if (flags & F_CRC32_C) p += 4;
    }
    if (p + srcLen > input.length) throw new Error('lzo: truncated block');
    const src = input.subarray(p, p + srcLen);
    p += srcLen;
    const block = srcLen === dstLen ? src : lzo1xDecompress(src, dstLen);
    if (adler !== undefined && adler32(block) !== adler) throw new Error('lzo: block checksum mismatch');
    blocks.push(block);
    total += block.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of blocks) out.set(b, o), (o += b.length);
  return out;
}

/** Decodes one LZO1X block into exactly `outLen` bytes. */
export function lzo1xDecompress(src: Uint8Array, outLen: number): Uint8Array {
  const out = new Uint8Array(outLen);
  let ip = 0;
  let op = 0;
  let state = 0; // literals copied by the previous instruction: 0, 1..3, or 4 (= 4 or more)
  const need = (n: number) => {
    if (ip + n > src.length) throw new Error('lzo: input overrun');
  };
  const literals = (n: number) => {
    need(n);
    if (op + n > outLen) throw new Error('lzo: output overrun');
    out.set(src.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  const copyMatch = (dist: number, len: number) => {
    if (dist > op) throw new Error('lzo: match distance before start of output');
    if (op + len > outLen) throw new Error('lzo: output overrun');
    for (let i = 0; i < len; i++, op++) out[op] = out[op - dist]!;
  };
  // Length with the zero-byte extension: each 0 adds 255, the first non-zero ends it.
  const longLength = (bits: number, base: number) => {
    let n = 0;
    need(1);
    while (src[ip] === 0) {
      n += 255;
      ip++;
      need(1);
    }
    return n + (1 << bits) - 1 + src[ip++]! + base;
  };

  need(1);
  if (src[0]! > 17) {
    const n = src[ip++]! - 17;
    literals(n);
    state = n < 4 ? n : 4;
  }
  for (;;) {
    need(1);
    const t = src[ip++]!;
    let s: number;
    if (t >= 64) {
      // 01LDDDSS or 1LLDDDSS + H: copy 3..8 bytes within 2 kB
      need(1);
      const len = t >= 128 ? 5 + ((t >> 5) & 3) : 3 + ((t >> 5) & 1);
      const dist = (src[ip++]! << 3) + ((t >> 2) & 7) + 1;
      copyMatch(dist, len);
      s = t & 3;
    } else if (t >= 32) {
      // 001LLLLL + LE16: copy within 16 kB
      const len = (t & 31) === 0 ? longLength(5, 2) : 2 + (t & 31);
      need(2);
      const le = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
      copyMatch((le >> 2) + 1, len);
      s = le & 3;
    } else if (t >= 16) {
      // 0001HLLL + LE16: copy within 16..48 kB; distance 16384 ends the stream
      const len = (t & 7) === 0 ? longLength(3, 2) : 2 + (t & 7);
      need(2);
      const le = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
      const dist = 16384 + ((t & 8) << 11) + (le >> 2);
      if (dist === 16384) break;
      copyMatch(dist, len);
      s = le & 3;
    } else if (state === 0) {
      // 0000LLLL: a literal run of 4 or more
      literals((t === 0 ? longLength(4, 3) : t + 3));
      state = 4;
      continue;
    } else {
      // 0000DDSS + H: a short match whose form depends on the previous literals
      need(1);
      const h = src[ip++]!;
      if (state === 4) copyMatch((h << 2) + ((t >> 2) & 3) + 2049, 3);
      else copyMatch((h << 2) + ((t >> 2) & 3) + 1, 2);
      s = t & 3;
    }
    literals(s);
    state = s;
  }
  if (op !== outLen) throw new Error(`lzo: block decoded to ${op} bytes, expected ${outLen}`);
  return out;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(i + 5552, data.length); // largest run before the sums can overflow
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
