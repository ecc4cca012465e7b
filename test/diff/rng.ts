// Seeded PRNG for the case generator (sfc32 seeded through splitmix32), so
// every case can be regenerated from (seed, form id, case index) alone.

export const DEFAULT_SEED = 0x5eed_b007;

/** The run seed: BOOTPATH_DIFF_SEED (decimal or 0x-hex) or DEFAULT_SEED. */
export function runSeed(): number {
  const env = process.env['BOOTPATH_DIFF_SEED'];
  if (env === undefined || env === '') return DEFAULT_SEED;
  const v = Number(env);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`bad BOOTPATH_DIFF_SEED ${env}`);
  return v;
}

export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number, formId: string, index: number) {
    let s = hashString(formId, seed >>> 0) ^ Math.imul(index + 1, 0x27d4eb2d);
    this.a = s = splitmix32(s); this.b = s = splitmix32(s); this.c = s = splitmix32(s); this.d = splitmix32(s ^ index);
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  /** Integer in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 0x1_0000_0000) * n); }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  bool(p = 0.5): boolean { return this.u32() / 0x1_0000_0000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) { const x = this.u32(); for (let j = 0; j < 4 && i + j < n; j++) b[i + j] = (x >>> (8 * j)) & 0xff; }
    return b;
  }
}
