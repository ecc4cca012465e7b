// A segment's zero fill (BootMachine.loadZeros): before the CPU has run, RAM
// the loader never wrote is left untouched — it is zero already — while RAM
// written before (a stale frame, an earlier segment) is zeroed; either way
// the bytes are the loader's in the write provenance. After the CPU has run,
// every byte is written.
import { describe, it, expect } from 'vitest';
import { BootMachine } from '../../src/machine/bootMachine.ts';

const PAGE = 4096;

describe('BootMachine.loadZeros', () => {
  it('zeroes what the host wrote before, attributes the whole range to the loader, and leaves the rest alone', () => {
    const m = new BootMachine({ ramSize: 16 << 20 });
    const at = 0x200000, len = 16 * PAGE;
    m.trackRange(at, len);
    m.load(at + 3 * PAGE + 100, new Uint8Array(2 * PAGE).fill(0xaa), 'earlier'); // spans frames 3..5
    m.ram.fill(at + 9 * PAGE, 10, 0x55);
    m.load(at + len + 10, Uint8Array.of(0x77), 'after the range');
    m.loadZeros(at + 50, len - 100, 'segment (zero fill)');
    const bytes = m.ram.read(at, len + 16);
    expect(bytes.subarray(50, len - 50).every((b) => b === 0)).toBe(true);
    expect(bytes[len + 10]).toBe(0x77);
    for (const a of [at + 50, at + 3 * PAGE + 100, at + 9 * PAGE, at + len - 51]) expect(m.ram.provenance.whoWrote(a)).toMatchObject({ kind: 'loader', what: 'segment (zero fill)' });
    expect(m.ram.provenance.whoWrote(at + 49)).toBeUndefined();
  });

  it('writes every zero once the CPU has run (its own stores do not show in the map)', () => {
    const m = new BootMachine({ ramSize: 16 << 20 });
    m.run(0);
    m.ram.ram.fill(0xcc, 0x300000, 0x300000 + 2 * PAGE); // as the CPU's fast path stores: straight into the array
    m.loadZeros(0x300000, 2 * PAGE, 'zero fill');
    expect(m.ram.read(0x300000, 2 * PAGE).every((b) => b === 0)).toBe(true);
  });

  it('zeroes frames restored from a snapshot or checkpoint before it', () => {
    const m = new BootMachine({ ramSize: 16 << 20 });
    m.ram.restoreFrame(0x400000 / PAGE, new Uint8Array(PAGE).fill(0x11));
    m.loadZeros(0x400000, PAGE, 'zero fill');
    expect(m.ram.read(0x400000, PAGE).every((b) => b === 0)).toBe(true);
  });
});
