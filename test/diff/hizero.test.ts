// The block compiler's dropping of repeated `hi[n] = 0;` stores (emulator/jit/compile.ts elideHiZero).
import { describe, expect, it } from 'vitest';
import { elideHiZero } from '../../emulator/jit/compile.ts';

describe('elideHiZero', () => {
  it('drops a second zeroing of the same high half, keeps the first', () => {
    const k = new Set<number>();
    expect(elideHiZero('lo[0] = 5; hi[0] = 0;', k)).toBe('lo[0] = 5; hi[0] = 0;');
    expect(elideHiZero('lo[0] = lo[3]; hi[0] = 0;', k)).toBe('lo[0] = lo[3]; ');
  });
  it('forgets a register written with anything but 0, or inside a conditional', () => {
    const k = new Set<number>([0, 1]);
    expect(elideHiZero('lo[0] = r; hi[0] = rh;', k)).toBe('lo[0] = r; hi[0] = rh;');
    expect(elideHiZero('lo[0] = 1; hi[0] = 0;', k)).toBe('lo[0] = 1; hi[0] = 0;');
    expect(elideHiZero('if (x) { lo[1] = lo[2]; } hi[1] = 0;', k)).toBe('if (x) { lo[1] = lo[2]; } hi[1] = 0;');
    expect(k.has(1)).toBe(false);
  });
  it('leaves reads and comparisons of hi[] alone', () => {
    const k = new Set<number>([2]);
    expect(elideHiZero('a = lo[2]; ah = hi[2]; r = hi[2] === 0 ? 1 : 0;', k)).toBe('a = lo[2]; ah = hi[2]; r = hi[2] === 0 ? 1 : 0;');
    expect(k.has(2)).toBe(true);
  });
});
