// Segment limit checks against the run loop's two paths: interpreted blocks
// and compiled blocks (which inline flat addressing and must step aside
// when a segment they use is not flat). SDM Vol. 3A 5.3: #GP(0) beyond a
// data segment's limit, #SS(0) beyond SS's; expand-down segments allow
// offsets above the limit only.
import { describe, it, expect } from 'vitest';
import { Cpu, CpuFault, FlatMemory, Stop, Vector, Seg, ATTR_S, ATTR_P, ATTR_DB, ATTR_G, CR0_PE, deliver, EventKind } from '../../emulator/index.ts';
import { assemble } from '../emulator/assemble.ts';

const CODE32 = 0xb | ATTR_S | ATTR_P | ATTR_DB | ATTR_G;
const DATA32 = 0x3 | ATTR_S | ATTR_P | ATTR_DB | ATTR_G;

/** 32-bit protected mode, flat segments, paging off, `code` at 0x1000. */
function pm32(code: Uint8Array, jitThreshold: number): Cpu {
  const mem = new FlatMemory(1 << 20);
  mem.write(0x1000, code);
  const cpu = new Cpu({ memory: mem });
  cpu.cr0 |= CR0_PE;
  for (let s = 0; s < 6; s++) cpu.setSegmentRaw(s, s === Seg.CS ? 8 : 0x10, 0, 0, -1, s === Seg.CS ? CODE32 : DATA32);
  cpu.updateMode();
  cpu.jitThreshold = jitThreshold;
  cpu.setRip(0x1000n);
  cpu.setReg(4, 0x80000n);
  return cpu;
}

const LOOP = assemble(`
  mov ecx, 0x2000
top:
  mov [ebx], eax
  add ebx, 4
  dec ecx
  jnz top
  hlt
`, 32);

describe('segment checks on the interpreted and compiled paths', () => {
  it('costs nothing with flat segments in 64-bit and 32-bit code', () => {
    const cpu = new Cpu({ memory: new FlatMemory(1 << 20) });
    cpu.resetFlat64();
    expect(cpu.checks).toBe(0);
    expect(pm32(LOOP, 1).checks).toBe(0);
  });

  it('a null FS checks FS only: a hot loop through DS still runs compiled', () => {
    const cpu = pm32(LOOP, 2);
    cpu.setSegmentRaw(Seg.FS, 0, 0, 0, 0, 0);
    expect(cpu.checks).toBe(1 << Seg.FS);
    cpu.setReg(3, 0x10000n);
    expect(cpu.run(100_000)).toBe(Stop.Halt);
    cpu.setRip(0x1005n); // top
    const b = cpu.blocks.lookup()!;
    expect(b.compiled).not.toBeNull();
    expect(cpu.checks & b.checkMask).toBe(0);
  });

  for (const threshold of [0, 1]) {
    it(`#GP(0) at the first access beyond a 64 KiB DS limit (${threshold ? 'compiler on: the compiled block steps aside' : 'interpreter only'})`, () => {
      const cpu = pm32(LOOP, threshold);
      cpu.setSegmentRaw(Seg.DS, 0x10, 0, 0, 0xffff, DATA32 & ~ATTR_G);
      cpu.setReg(3, 0xf000n);
      expect(cpu.run(100_000)).toBe(Stop.Fault);
      expect(cpu.lastFault?.vector).toBe(Vector.GP);
      expect(cpu.lastFault?.errorCode).toBe(0);
      expect(cpu.getReg(3)).toBe(0x10000n);
      expect(cpu.getRip()).toBe(0x1005n);
      expect(cpu.getReg(1)).toBe(0x2000n - 0x400n);
    });
  }

  it('#SS(0) for a push below an expand-down stack segment\'s limit, not above it', () => {
    const cpu = pm32(assemble('push eax\npush eax\nhlt', 32), 0);
    cpu.setSegmentRaw(Seg.SS, 0x10, 0, 0, 0x7fff, (DATA32 & ~0xf) | 0x7); // expand-down, writable
    cpu.setReg(4, 0x8004n);
    expect(cpu.run(10)).toBe(Stop.Fault);
    expect(cpu.lastFault?.vector).toBe(Vector.SS);
    expect(cpu.lastFault?.errorCode).toBe(0);
    expect(cpu.getRip()).toBe(0x1001n);
    expect(cpu.getReg(4)).toBe(0x8000n);
  });

  it('#SS(0) for a pop across an expand-up SS limit', () => {
    const cpu = pm32(assemble('pop eax\nhlt', 32), 0);
    cpu.setSegmentRaw(Seg.SS, 0x10, 0, 0, 0xfff, DATA32 & ~ATTR_G);
    cpu.setReg(4, 0xffen);
    expect(cpu.run(10)).toBe(Stop.Fault);
    expect(cpu.lastFault?.vector).toBe(Vector.SS);
    expect(cpu.getReg(4)).toBe(0xffen);
  });

  // INT n / exception delivery pseudo-code (SDM Vol. 2A INT n): no room for the frame on the current stack → #SS(EXT).
  it('#SS(EXT) when an exception frame does not fit below ESP within the SS limit', () => {
    const setup = (esp: number): Cpu => {
      const cpu = pm32(new Uint8Array([0xf4]), 0);
      const v = new DataView(cpu.ram.buffer);
      v.setUint32(0x2008, 0x0000ffff, true); v.setUint32(0x200c, 0x00cf9b00, true); // 0x08: code32 flat
      v.setUint32(0x3000 + 13 * 8, 0x00085000, true); v.setUint32(0x3004 + 13 * 8, 0x00008e00, true); // #GP gate
      cpu.gdtrBaseLo = 0x2000; cpu.gdtrLimit = 0x17; cpu.idtrBaseLo = 0x3000; cpu.idtrLimit = 0x7ff;
      cpu.setSegmentRaw(Seg.SS, 0x10, 0, 0, 0xfff, DATA32 & ~ATTR_G);
      cpu.setReg(4, BigInt(esp));
      return cpu;
    };
    const ok = setup(0x1000);
    deliver(ok, 13, 0, EventKind.Exception);
    expect(ok.getRip()).toBe(0x5000n);
    expect(ok.getReg(4)).toBe(0xff0n);
    const bad = setup(0x100a);
    let f: unknown = null;
    try { deliver(bad, 13, 0, EventKind.Exception); } catch (e) { f = e; }
    expect(f).toBeInstanceOf(CpuFault);
    expect([(f as CpuFault).vector, (f as CpuFault).errorCode]).toEqual([Vector.SS, 1]);
    expect(bad.getReg(4)).toBe(0x100an);
  });
});
