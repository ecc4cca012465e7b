// The differential check itself: what it must catch. Runs one case in the
// core, takes that result as the "host", and changes the "core" copy the
// way a core bug would; compareCase must report each change, and only the
// state a form masks as undefined may differ silently.

import { describe, expect, it } from 'vitest';
import { compareCase } from './compare.ts';
import { CoreRunner } from './core.ts';
import { formById } from './forms.ts';
import { generateCase, type Case } from './generate.ts';
import { CF, OUT_SCRATCH, OUT_SIZE, RF, ZF } from './layout.ts';
import { qemuCompared, qemuSkip } from './qemu.ts';
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

  it("masks for the QEMU oracle only what qemu.ts names, and skips only its cases", () => {
    const flipFlags = (buf: Buffer, bits: number) => { const b = Buffer.from(buf); b.writeUInt32LE(b.readUInt32LE(144) ^ bits, 144); return b; };
    // bswap r16 [32]: bits 31:16 of the destination differ silently under QEMU only; bit 0 of another register does not.
    let { c, out } = run('bswap r16 [32]', () => true);
    const r = c.input.code[c.input.code.length - 1]! - 0xc8;
    expect(compareCase(c, out, 0, flipGprBit(out, r, 20), 0).join()).toMatch(/host/);
    expect(compareCase(qemuCompared(c, -1), out, 0, flipGprBit(out, r, 20), 0)).toEqual([]);
    expect(compareCase(qemuCompared(c, -1), out, 0, flipGprBit(out, (r + 1) & 7, 0), 0).join()).toMatch(/host/);
    // blsi [32]: CF only.
    ({ c, out } = run('blsi r32,r/m32 [32]', () => true));
    expect(compareCase(c, out, 0, flipFlags(out, CF), 0).join()).toMatch(/flags/);
    expect(compareCase(qemuCompared(c, -1), out, 0, flipFlags(out, CF), 0)).toEqual([]);
    expect(compareCase(qemuCompared(c, -1), out, 0, flipFlags(out, ZF), 0).join()).toMatch(/flags/);
    // RF: only in a fault's image.
    ({ c, out } = run('add r/m32,r32 [32]', () => true));
    expect(compareCase(qemuCompared(c, -1), out, 0, flipFlags(out, RF), 0).join()).toMatch(/flags/);
    expect(compareCase(qemuCompared(c, 14), out, 0, flipFlags(out, RF), 0)).toEqual([]);
    // ret imm16: ESP only, and only for imm16 >= 8000h.
    const big = (x: Case) => (x.input.code[2]! & 0x80) !== 0;
    for (const wantBig of [true, false]) {
      ({ c, out } = run('ret imm16 [32]', (x) => big(x) === wantBig));
      const d = compareCase(qemuCompared(c, -1), out, 0, flipGprBit(out, 4, 3), 0);
      if (wantBig) expect(d).toEqual([]); else expect(d.join()).toMatch(/rsp/);
      expect(compareCase(qemuCompared(c, -1), out, 0, flipGprBit(out, 0, 3), 0).join()).toMatch(/rax/);
    }
    // Skips: lock xchg/xadd/bts on a register (#UD cases) and idiv of the least dividend, nothing else.
    const skips = (id: string, n = 60) => Array.from({ length: n }, (_, k) => generateCase(seed, formById(id), k)).map((x) => [x, qemuSkip(x)] as const);
    for (const id of ['lock xchg r/m32,r32 [32]', 'lock bts r/m32,r32 [32]']) {
      const s = skips(id);
      expect(s.some(([, why]) => why)).toBe(true);
      for (const [x, why] of s) expect(!!why).toBe(x.ud);
    }
    const d = skips('idiv r/m32 [32]', 180);
    expect(d.filter(([, why]) => why).length).toBeGreaterThan(0);
    for (const [x, why] of d) expect(!!why).toBe((x.input.gpr[2]! & 0xffffffffn) === 0x80000000n && (x.input.gpr[0]! & 0xffffffffn) === 0n);
    expect(skips('add r/m32,r32 [32]').every(([, why]) => !why)).toBe(true);
  });
});
