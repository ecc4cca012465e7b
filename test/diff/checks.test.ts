// The differential check itself: what it must catch. Runs one case in the
// core, takes that result as the "host", and changes the "core" copy the
// way a core bug would; compareCase must report each change, and only the
// state a form masks as undefined may differ silently.

import { describe, expect, it } from 'vitest';
import { compareCase } from './compare.ts';
import { CoreRunner } from './core.ts';
import { formById } from './forms.ts';
import { generateCase, type Case } from './generate.ts';
import { OUT_SCRATCH, OUT_SIZE } from './layout.ts';
import { runSeed } from './rng.ts';

const seed = runSeed();

/** The first case of `form` that `pick` accepts, run in the core. */
function run(formId: string, pick: (c: Case) => boolean): { c: Case; out: Buffer } {
  for (let n = 0; n < 500; n++) {
    const c = generateCase(seed, formById(formId), n);
    if (!pick(c)) continue;
    const out = Buffer.alloc(OUT_SIZE);
    new CoreRunner().run(c, out, 0);
    return { c, out };
  }
  throw new Error(`no case of ${formId} fits`);
}

function flipGprBit(buf: Buffer, gpr: number, bit: number): Buffer {
  const b = Buffer.from(buf);
  const o = 8 + 8 * gpr;
  b.writeBigUInt64LE(b.readBigUInt64LE(o) ^ (1n << BigInt(bit)), o);
  return b;
}

describe('differential check', () => {
  it('masks only the 16 bits of an undefined 16-bit result: bits 63:16 must be preserved', () => {
    // bswap r16: the result is undefined (Intel SDM, AMD APM), the rest of the register is not.
    const { c, out } = run('bswap r16', () => true);
    const r = c.input.code[c.input.code.length - 1]! - 0xc8 + (c.input.code.some((b) => b === 0x41) ? 8 : 0);
    expect(compareCase(c, out, 0, flipGprBit(out, r, 5), 0)).toEqual([]);
    expect(compareCase(c, out, 0, flipGprBit(out, r, 16), 0).join()).toMatch(/host/);
    expect(compareCase(c, out, 0, flipGprBit(out, r, 63), 0).join()).toMatch(/host/);
    expect(c.masks.notes.join()).toMatch(/bits 15:0 masked; the other bits must be preserved/);
  });

  it('compares every RFLAGS bit, not only the status flags', () => {
    const { c, out } = run('add r/m64,r64', () => true);
    for (const bit of [0x100, 0x4000, 0x40000, 0x200000, 0x8]) {
      const b = Buffer.from(out);
      b.writeUInt32LE(b.readUInt32LE(144) ^ bit, 144);
      expect(compareCase(c, out, 0, b, 0).join()).toMatch(/flags/);
    }
  });

  it('compares the scratch area outside the windows', () => {
    const { c, out } = run('add r/m64,r64', () => true);
    const b = Buffer.from(out);
    b.writeUInt32LE(1, OUT_SCRATCH);
    expect(compareCase(c, out, 0, b, 0).join()).toMatch(/outside the windows/);
  });
});
