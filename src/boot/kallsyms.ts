// Symbols for kernels that ship without System.map: find and decode the
// kallsyms tables in a decompressed vmlinux by their shape, since a stripped
// image has no symbol table to say where they are. Layout as written by
// scripts/kallsyms.c in 6.1 (base-relative, 64-bit, each table 8-aligned):
//   kallsyms_offsets       s32[n]
//   kallsyms_relative_base u64          (link-time _text-relative base)
//   kallsyms_num_syms      u32
//   kallsyms_names         n x (len as 1-2 byte ULEB128, len token indices)
//   kallsyms_markers       u32[ceil(n/256)]: offset in names of every 256th
//   kallsyms_seqs_of_names 3n bytes     (only in newer/backported trees)
//   kallsyms_token_table   256 NUL-terminated strings
//   kallsyms_token_index   u16[256]: offset of each token in the table
// The expanded name's first character is the nm-style type letter.

/** A symbol decoded from kallsyms. */
export interface KallsymsSymbol {
  name: string;
  type: string;
  address: bigint;
}

/** The kallsyms tables found in an image, decoded. */
export interface Kallsyms {
  /** Offsets into the searched image of each table. */
  at: { offsets: number; relativeBase: number; numSyms: number; names: number; markers: number; tokenTable: number; tokenIndex: number };
  /** kallsyms_relative_base: the address offsets count from. */
  relativeBase: bigint;
  /** True when non-negative offsets are absolute (per-cpu) and negative ones count down from the base. */
  absolutePercpu: boolean;
  /** Every symbol: name, nm-style type letter, address. */
  symbols: KallsymsSymbol[];
}

const align8 = (n: number) => (n + 7) & ~7;

/** Finds and decodes kallsyms in `image` (the vmlinux ELF bytes). Throws if not found. */
export function findKallsyms(image: Uint8Array): Kallsyms {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const tokens = findTokenTable(image, v);
  if (!tokens) throw new Error('no kallsyms token table/index found (kernel built without CONFIG_KALLSYMS?)');
  // kallsyms_num_syms sits 8 bytes after a u64 base whose top half is 0xffffffff
  // (a kernel address); the names right after it must decode against the token
  // table and agree with the markers, which pins the match down.
  for (let n = 8; n + 8 <= tokens.table; n += 8) {
    if (v.getUint32(n - 4, true) !== 0xffffffff || v.getUint32(n - 8, true) < 0x80000000) continue;
    const count = v.getUint32(n, true);
    if (count < 16 || count > 4_000_000) continue;
    const offsets = n - 8 - align8(4 * count);
    if (offsets < 0) continue;
    const decoded = decodeNames(image, n + 8, count, tokens.table, tokens.strings);
    if (!decoded) continue;
    // The markers are followed by the token table, or by kallsyms_seqs_of_names
    // (3 bytes a symbol) and then the token table: nothing else fits.
    const afterMarkers = align8(decoded.markers + 4 * Math.ceil(count / 256));
    if (tokens.table !== afterMarkers && tokens.table !== align8(afterMarkers + 3 * count)) continue;
    const relativeBase = v.getBigUint64(n - 8, true);
    let absolutePercpu = false;
    for (let i = 0; i < count && !absolutePercpu; i++) absolutePercpu = v.getInt32(offsets + 4 * i, true) < 0;
    const symbols = decoded.names.map((full, i) => {
      const off = v.getInt32(offsets + 4 * i, true);
      let address: bigint;
      if (!absolutePercpu) address = relativeBase + BigInt(off >>> 0);
      else if (off >= 0) address = BigInt(off);
      else address = relativeBase - 1n - BigInt(off);
      return { type: full[0]!, name: full.slice(1), address: BigInt.asUintN(64, address) };
    });
    return {
      at: { offsets, relativeBase: n - 8, numSyms: n, names: n + 8, markers: decoded.markers, tokenTable: tokens.table, tokenIndex: tokens.index },
      relativeBase,
      absolutePercpu,
      symbols,
    };
  }
  throw new Error('found the kallsyms token table but no kallsyms_num_syms/names that decode against it');
}

/** The token table and its index: 256 strings whose offsets the index lists exactly. */
function findTokenTable(d: Uint8Array, v: DataView): { table: number; index: number; strings: string[] } | undefined {
  for (let p = 8; p + 512 <= d.length; p += 2) {
    if (d[p] !== 0 || d[p + 1] !== 0) continue;
    const second = v.getUint16(p + 2, true);
    if (second < 2 || second > 64) continue;
    let ok = true;
    let prev = 0;
    for (let i = 1; i < 256; i++) {
      const cur = v.getUint16(p + 2 * i, true);
      if (cur <= prev + 1 || cur - prev > 128) {
        ok = false;
        break;
      }
      prev = cur;
    }
    if (!ok) continue;
    // The last token ends with a NUL just before the index, up to 7 bytes of padding earlier.
    for (let pad = 0; pad < 8; pad++) {
      const end = p - pad; // one past the last token's NUL
      if (d[end - 1] !== 0 || d[end - 2] === 0) continue;
      let lastStart = end - 2;
      while (lastStart > 0 && d[lastStart - 1] !== 0) lastStart--;
      const table = lastStart - prev;
      if (table < 0) continue;
      const strings = tokenStrings(d, v, table, p);
      if (strings) return { table, index: p, strings };
    }
  }
  return undefined;
}

function tokenStrings(d: Uint8Array, v: DataView, table: number, index: number): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < 256; i++) {
    const start = table + v.getUint16(index + 2 * i, true);
    const next = i < 255 ? table + v.getUint16(index + 2 * i + 2, true) : undefined;
    let end = start;
    while (end < index && d[end] !== 0) {
      if (d[end]! < 0x20 || d[end]! > 0x7e) return undefined; // symbol text is printable ASCII
      end++;
    }
    if (end === start || (next !== undefined && end + 1 !== next)) return undefined;
    out.push(String.fromCharCode(...d.subarray(start, end)));
  }
  return out;
}

/**
 * Decodes `count` names at `at`; checks them against the markers that must follow. The table's shape is checked first
 * and the names expanded only then, into one flat string sliced per name: a rope per name (`s += token`) made a
 * distribution kernel's 94,000 names a million string fragments, seconds of garbage collection.
 */
function decodeNames(d: Uint8Array, at: number, count: number, limit: number, tokens: string[]) {
  // Pass 1, nothing built (most candidate positions fail here): every entry fits, and the markers agree.
  const markerOffsets: number[] = [];
  let p = at;
  for (let i = 0; i < count; i++) {
    if ((i & 255) === 0) markerOffsets.push(p - at);
    if (p >= limit) return undefined;
    let len = d[p++]!;
    if (len & 0x80) len = (len & 0x7f) | (d[p++]! << 7); // two-byte ULEB128 (long Rust names)
    if (len === 0 || p + len > limit) return undefined;
    p += len;
  }
  const markers = align8(p);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (markers + 4 * markerOffsets.length > limit) return undefined;
  for (let k = 0; k < markerOffsets.length; k++) {
    if (v.getUint32(markers + 4 * k, true) !== markerOffsets[k]) return undefined;
  }
  // Pass 2: the names.
  const parts: string[] = [];
  const ends = new Int32Array(count);
  let chars = 0;
  p = at;
  for (let i = 0; i < count; i++) {
    let len = d[p++]!;
    if (len & 0x80) len = (len & 0x7f) | (d[p++]! << 7);
    for (let k = 0; k < len; k++) {
      const t = tokens[d[p + k]!]!;
      parts.push(t);
      chars += t.length;
    }
    p += len;
    ends[i] = chars;
  }
  const all = parts.join('');
  const names: string[] = new Array(count);
  for (let i = 0, from = 0; i < count; i++) { names[i] = all.slice(from, ends[i]); from = ends[i]!; }
  return { names, markers };
}
