// The scratch area outside the two windows: a fixed background pattern
// that every case starts from, and a summary of what a case changed there
// (how many bytes, the first and last address, two 32-bit hashes over every
// changed address and value) so both sides compare every byte of the area
// without storing 192 KiB per case. Mirrors native/harness.c
// (scratch_fill / scratch_check); keep the two in step.

import { DATA_BASE, DATA_SIZE, DATA_WIN, OUT_SCRATCH, STACK_BASE, STACK_SIZE, STACK_WIN, WIN_SIZE } from './layout.ts';

const BACKGROUND_SEED = 0x6a09e667;

/** [start, end) address spans of the scratch area outside the windows. */
export const SCRATCH_SPANS: readonly [number, number][] = [
  [DATA_BASE, DATA_WIN], [DATA_WIN + WIN_SIZE, DATA_BASE + DATA_SIZE],
  [STACK_BASE, STACK_WIN], [STACK_WIN + WIN_SIZE, STACK_BASE + STACK_SIZE],
];

/** The background of the data region then the stack region (xorshift32, as the harness). */
function background(): { data: Uint8Array; stack: Uint8Array } {
  let s = BACKGROUND_SEED;
  const data = new Uint8Array(DATA_SIZE), stack = new Uint8Array(STACK_SIZE);
  for (const w of [data, stack]) {
    const dv = new DataView(w.buffer);
    for (let i = 0; i < w.length; i += 4) {
      s = (s ^ (s << 13)) >>> 0;
      s = (s ^ (s >>> 17)) >>> 0;
      s = (s ^ (s << 5)) >>> 0;
      dv.setUint32(i, s, true);
    }
  }
  return { data, stack };
}

let bg: Buffer | undefined;

/** The background as one buffer indexed by (address - DATA_BASE) for data, placed at STACK_BASE for stack. */
function bgAt(addr: number): { buf: Buffer; off: number } {
  if (!bg) {
    const b = background();
    bg = Buffer.alloc(STACK_BASE + STACK_SIZE - DATA_BASE);
    bg.set(b.data, 0);
    bg.set(b.stack, STACK_BASE - DATA_BASE);
  }
  return { buf: bg, off: addr - DATA_BASE };
}

/** Write the background over the whole scratch area of `ram` (windows included; the case fills those). */
export function fillScratch(ram: Uint8Array): void {
  const { buf } = bgAt(DATA_BASE);
  ram.set(buf.subarray(0, DATA_SIZE), DATA_BASE);
  ram.set(buf.subarray(STACK_BASE - DATA_BASE), STACK_BASE);
}

/**
 * Summarise the bytes outside the windows that differ from the background
 * into out[o + OUT_SCRATCH ..] (count, first, last, hashA, hashB) and put
 * the background back, ready for the next case.
 */
export function checkScratch(ram: Uint8Array, out: Buffer, o: number): void {
  const mem = Buffer.from(ram.buffer, ram.byteOffset, ram.byteLength);
  let count = 0, first = 0, last = 0, ha = 0x811c9dc5, hb = 0x9747b28c;
  for (const [start, end] of SCRATCH_SPANS) {
    const { buf, off } = bgAt(start);
    if (mem.compare(buf, off, off + end - start, start, end) === 0) continue;
    for (let a = start; a < end; a++) {
      const v = ram[a]!, w = buf[off + a - start]!;
      if (v === w) continue;
      if (count === 0) first = a;
      last = a;
      count++;
      ha = Math.imul(ha ^ a, 0x01000193); ha = Math.imul(ha ^ v, 0x01000193);
      hb = Math.imul(hb ^ (a ^ (v << 24)), 0x85ebca6b); hb ^= hb >>> 13;
      ram[a] = w;
    }
  }
  const q = o + OUT_SCRATCH;
  out.writeUInt32LE(count, q);
  out.writeUInt32LE(first, q + 4);
  out.writeUInt32LE(last, q + 8);
  out.writeUInt32LE(ha >>> 0, q + 12);
  out.writeUInt32LE(hb >>> 0, q + 16);
  out.writeUInt32LE(0, q + 20);
}
