// kexec's locate_hole / add_buffer semantics and the Xen HVM memory map.
import { describe, it, expect } from 'vitest';
import { E820, kexecMemoryRanges, xenHvmE820, GiB, MiB, type MemoryRange } from '../../src/boot/kexec/memoryMap.ts';
import { SegmentTable, ADDR_MAX } from '../../src/boot/kexec/placement.ts';
import { InputError } from '../../src/errors.ts';

const ram = (start: number, end: number): MemoryRange => ({ start, end: end - 1, type: E820.RAM });
const rsv = (start: number, end: number): MemoryRange => ({ start, end: end - 1, type: E820.RESERVED });
const none = new Uint8Array(0);

describe('Xen HVM e820 (hvmloader, ROMBIOS)', () => {
  it('1 GiB', () => {
    expect(xenHvmE820({ ramSize: 1 * GiB })).toEqual([ram(0, 0x9e000), rsv(0x9e000, 0xa0000), rsv(0xe0000, 0x100000), ram(0x100000, 0x40000000), rsv(0xfc000000, 0x100000000)]);
  });
  it('6 GiB: RAM above the 0xF0000000 hole moves above 4 GiB', () => {
    const m = xenHvmE820({ ramSize: 6 * GiB });
    expect(m[3]).toEqual(ram(0x100000, 0xf0000000));
    expect(m[5]).toEqual(ram(0x100000000, 0x100000000 + 6 * GiB - 0xf0000000));
  });
  it('kexec moves the first RAM range to start at 0x400 (the IVT)', () => {
    const k = kexecMemoryRanges(xenHvmE820({ ramSize: 256 * MiB }));
    expect(k[0]).toEqual({ start: 0x400, end: 0x9dfff, type: E820.RAM });
    expect(k.slice(1)).toEqual(xenHvmE820({ ramSize: 256 * MiB }).slice(1));
  });
  it('rejects silly sizes', () => {
    expect(() => xenHvmE820({ ramSize: 1 * MiB })).toThrow(InputError);
    expect(() => xenHvmE820({ ramSize: 64 * MiB + 1 })).toThrow(/whole number of 4 KiB pages/);
  });
});

describe('locate_hole', () => {
  const map = [ram(0x1000, 0x9f000), rsv(0x9f000, 0x100000), ram(0x100000, 0x1000000), ram(0x2000000, 0x3000000)];
  it('top-down takes the last range that fits, at the aligned top', () => {
    const t = new SegmentTable(map);
    expect(t.locateHole(0x5000, 16, 0x3000, ADDR_MAX, 'top-down')).toBe(0x3000000 - 0x5000);
    expect(t.locateHole(0x5000, 0x200000, 0x3000, ADDR_MAX, 'top-down')).toBe(0x2e00000);
    // max clamps the top; the hole must end at or below max
    expect(t.locateHole(0x5000, 16, 0x3000, 0x7fffff, 'top-down')).toBe(0x800000 - 0x5000);
  });
  it('bottom-up takes the first range that fits, at its aligned start', () => {
    const t = new SegmentTable(map);
    expect(t.locateHole(0x1000, 16, 0x3000, 640 * 1024, 'bottom-up')).toBe(0x3000);
    expect(t.locateHole(0x100000, 0x1000, 0x3000, ADDR_MAX, 'bottom-up')).toBe(0x100000); // too big for low RAM
    expect(t.locateHole(0x1000, 0x200000, 0x100000, ADDR_MAX, 'bottom-up')).toBe(0x200000);
  });
  it('skips placed segments and never overlaps', () => {
    const t = new SegmentTable(map);
    const a = t.addBuffer('a', none, 0x800000, 0x1000, 0x100000, ADDR_MAX, 'top-down');
    const b = t.addBuffer('b', none, 0x800000, 0x1000, 0x100000, ADDR_MAX, 'top-down');
    const c = t.addBuffer('c', none, 0x800000, 0x1000, 0x100000, ADDR_MAX, 'top-down');
    expect([a.mem, b.mem, c.mem]).toEqual([0x2800000, 0x2000000, 0x800000]);
    expect(() => t.addBuffer('d', none, 0x800000, 0x1000, 0x100000, ADDR_MAX, 'top-down')).toThrow(/d: does not fit/);
    expect(() => t.addSegment('e', none, 0x2000000, 0x1000)).toThrow(/overlapping/);
  });
  it('rounds memsz to pages and alignment to at least a page', () => {
    const t = new SegmentTable(map);
    const s = t.addBuffer('s', new Uint8Array(10), 10, 16, 0x3000, ADDR_MAX, 'top-down');
    expect(s.memsz).toBe(0x1000);
    expect(s.mem).toBe(0x2fff000);
  });
  it('fixed segments must be page aligned and inside RAM', () => {
    const t = new SegmentTable(map);
    expect(() => t.addSegment('x', none, 0x100800, 0x1000)).toThrow(/not page aligned/);
    expect(() => t.addSegment('x', none, 0xff0000, 0x20000)).toThrow(/not inside guest RAM/);
    expect(() => t.addSegment('x', none, 0x9f000, 0x1000)).toThrow(/not inside guest RAM/);
  });
});
