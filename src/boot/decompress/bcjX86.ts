// The xz x86 BCJ filter, decoding direction: E8/E9 (call/jmp rel32) operands
// were turned into absolute addresses by the encoder; turn them back. The
// kernel's xz_wrap.sh always adds it on x86, and neither npm xz decoder we
// tried implements it (xz-decompress: XZ_OPTIONS_ERROR, @napi-rs/lzma: unknown
// filter id 4), so this one is ours. Same algorithm as the xz file format's.

const ALLOWED = [true, true, true, false, true, false, false, false];
const BIT_NUM = [0, 1, 2, 2, 3, 3, 3, 3];
// Only operands whose top byte is 0x00 or 0xFF (near +-16 MiB) were converted.
const isMsByte = (b: number) => b === 0x00 || b === 0xff;

/** Decodes `buf` in place; `startOffset` is the filter's start offset property (usually 0). */
export function bcjX86Decode(buf: Uint8Array, startOffset = 0): void {
  if (buf.length <= 4) return;
  const limit = buf.length - 4;
  let prevPos = -1;
  let prevMask = 0;
  for (let i = 0; i < limit; i++) {
    if ((buf[i]! & 0xfe) !== 0xe8) continue;
    const gap = i - prevPos;
    if (gap > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (gap - 1)) & 7;
      if (prevMask !== 0 && (!ALLOWED[prevMask] || isMsByte(buf[i + 4 - BIT_NUM[prevMask]!]!))) {
        prevPos = i;
        prevMask = (prevMask << 1) | 1;
        continue;
      }
    }
    prevPos = i;
    if (!isMsByte(buf[i + 4]!)) {
      prevMask = (prevMask << 1) | 1;
      continue;
    }
    let src = (buf[i + 1]! | (buf[i + 2]! << 8) | (buf[i + 3]! << 16) | (buf[i + 4]! << 24)) >>> 0;
    let dest: number;
    for (;;) {
      dest = (src - (startOffset + i + 5)) >>> 0;
      if (prevMask === 0) break;
      const j = BIT_NUM[prevMask]! * 8;
      if (!isMsByte((dest >>> (24 - j)) & 0xff)) break;
      src = (dest ^ (2 ** (32 - j) - 1)) >>> 0;
    }
    dest &= 0x01ffffff;
    if (dest & 0x01000000) dest |= 0xfe000000; // sign-extend bit 24 over the top byte
    buf[i + 1] = dest & 0xff;
    buf[i + 2] = (dest >>> 8) & 0xff;
    buf[i + 3] = (dest >>> 16) & 0xff;
    buf[i + 4] = (dest >>> 24) & 0xff;
    i += 4;
  }
}
