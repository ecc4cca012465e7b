// Hex text as the remote protocol uses it: bytes as two lowercase digits
// each, numbers as big-endian hex without a prefix. Parsers return null on
// anything malformed so that every command can turn it into an error reply.

const DIGITS = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += DIGITS[b >> 4]! + DIGITS[b & 15]!;
  return s;
}

/** Bytes of an even-length hex string, or null. */
export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const out = new Uint8Array(s.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(s.slice(2 * k, 2 * k + 2), 16);
  return out;
}

export function textToHex(s: string): string { return toHex(new TextEncoder().encode(s)); }

/** The text of hex-encoded UTF-8, or null. */
export function hexToText(s: string): string | null {
  const b = fromHex(s);
  return b === null ? null : new TextDecoder().decode(b);
}

const U64 = 1n << 64n;

/** An unsigned hex number below 2^64 (an address), or null. */
export function parseHexU64(s: string): bigint | null {
  if (!/^[0-9a-fA-F]{1,64}$/.test(s)) return null;
  const v = BigInt('0x' + s);
  return v < U64 ? v : null;
}

/** A hex number no larger than `max` (a length, a register number), or null. */
export function parseHexInt(s: string, max: number): number | null {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) return null;
  const v = parseInt(s, 16);
  return v <= max ? v : null;
}

/** A byte as two hex digits (signal numbers, exit codes). */
export function hexByte(v: number): string { return DIGITS[(v >> 4) & 15]! + DIGITS[v & 15]!; }
