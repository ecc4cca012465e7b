// A small seeded PRNG for the hypervisor's schedule (periods' jitter, phases).
// Deterministic by construction: same seed and stream name, same sequence.
// Never Math.random. The generator is a 32-bit xorshift-multiply mix over a
// Weyl sequence (the splitmix idea on 32-bit halves), which is plenty for
// jitter and keeps everything in exact 32-bit integer arithmetic.

export class Prng {
  private state: number;

  /** `seed` (any 32-bit integer) and a stream name: distinct streams of one seed are independent. */
  constructor(seed: number, stream = '') {
    let h = (seed ^ 0x5bd1e995) >>> 0;
    for (let i = 0; i < stream.length; i++) h = mix32((h ^ stream.charCodeAt(i)) >>> 0);
    this.state = mix32(h);
  }

  /** The next 32-bit unsigned value. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return mix32(this.state);
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  /** An integer uniformly in [lo, hi] (inclusive; both within +-2^52). */
  intIn(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`intIn: empty range [${lo}, ${hi}]`);
    const span = hi - lo + 1;
    // 53 bits from two draws, so spans beyond 2^32 stay uniform enough.
    const r = (this.nextU32() * 0x200000 + (this.nextU32() >>> 11)) / 2 ** 53;
    return lo + Math.floor(r * span);
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
