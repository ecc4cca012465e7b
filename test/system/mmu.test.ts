// The page walker on hand-built tables: 4-level and 5-level walks, large
// pages, permission and reserved-bit faults with their error codes, A/D bits.
import { describe, it, expect } from 'vitest';
import { Cpu, FlatMemory, CpuFault, PagingMode } from '../../emulator/index.ts';
import { translate, Access } from '../../emulator/mmu.ts';

function setup(levels: 4 | 5 = 4) {
  const mem = new FlatMemory(4 * 1024 * 1024);
  const c = new Cpu({ memory: mem });
  c.resetFlat64();
  c.cr0 |= 0x80010000; // PG WP
  if (levels === 5) c.cr4 |= 0x1000;
  c.updateMode();
  const dv = new DataView(mem.ram.buffer);
  const put = (addr: number, v: bigint) => dv.setBigUint64(addr, v, true);
  const get = (addr: number) => dv.getBigUint64(addr, true);
  // top 0x1000, pdpt 0x2000, pd 0x3000, pt 0x4000 (and pml5 0x5000 → 0x1000)
  put(0x1000, 0x2007n); put(0x2000, 0x3007n); put(0x3000, 0x4007n);
  put(0x4000 + 8 * 0x10, 0x10000n | 0x7n); // 0x10000 → user RW
  put(0x4000 + 8 * 0x11, 0x11000n | 0x1n); // 0x11000 → supervisor RO
  put(0x4000 + 8 * 0x12, 0x12000n | 0x3n | (1n << 63n)); // NX
  put(0x3000 + 8 * 1, 0x200000n | 0x83n); // 2 MiB page at 2 MiB
  put(0x2000 + 8 * 1, 0x0n | 0x83n); // 1 GiB page at 1 GiB → 0
  if (levels === 5) { put(0x5000, 0x1007n); c.cr3Lo = 0x5000; } else c.cr3Lo = 0x1000;
  return { c, put, get };
}

function fault(f: () => unknown): CpuFault {
  try { f(); } catch (e) { if (e instanceof CpuFault) return e; throw e; }
  throw new Error('no fault');
}

describe('page walker', () => {
  it('walks 4-level tables with 4 KiB, 2 MiB and 1 GiB pages', () => {
    const { c } = setup();
    expect(c.pagingMode).toBe(PagingMode.Level4);
    expect(translate(c, 0x10123, 0, Access.Read)).toBe(0x10123);
    expect(translate(c, 0x200abc, 0, Access.Read)).toBe(0x200abc);
    expect(translate(c, 0x40000000 + 0x1234, 0, Access.Read)).toBe(0x1234);
  });

  it('walks 5-level tables', () => {
    const { c } = setup(5);
    expect(c.pagingMode).toBe(PagingMode.Level5);
    expect(translate(c, 0x10008, 0, Access.Read)).toBe(0x10008);
  });

  it('sets accessed and dirty bits', () => {
    const { c, get } = setup();
    translate(c, 0x10000, 0, Access.Read);
    expect(get(0x4000 + 8 * 0x10) & 0x60n).toBe(0x20n);
    expect(get(0x1000) & 0x20n).toBe(0x20n);
    translate(c, 0x10000, 0, Access.Write);
    expect(get(0x4000 + 8 * 0x10) & 0x60n).toBe(0x60n);
    expect(get(0x3000) & 0x40n).toBe(0n); // no dirty bit on non-leaf entries
  });

  it('raises #PF with the architectural error codes and sets CR2', () => {
    const { c, put } = setup();
    let f = fault(() => translate(c, 0x13000, 0, Access.Read));
    expect([f.vector, f.errorCode, c.cr2Lo]).toEqual([14, 0, 0x13000]);
    f = fault(() => translate(c, 0x11000, 0, Access.Write));
    expect(f.errorCode).toBe(3);
    c.cr0 &= ~0x10000; // WP off: supervisor may write read-only pages
    expect(translate(c, 0x11000, 0, Access.Write)).toBe(0x11000);
    f = fault(() => translate(c, 0x12000, 0, Access.Exec));
    expect(f.errorCode).toBe(0x11);
    c.cpl = 3;
    expect(fault(() => translate(c, 0x11000, 0, Access.Read)).errorCode).toBe(5);
    expect(fault(() => translate(c, 0x13000, 0, Access.Write)).errorCode).toBe(6);
    c.cpl = 0;
    put(0x4000 + 8 * 0x14, 0x14000n | 0x3n | (1n << 51n));
    expect(fault(() => translate(c, 0x14000, 0, Access.Read)).errorCode).toBe(9);
  });

  it('raises #GP for non-canonical addresses', () => {
    const { c } = setup();
    expect(fault(() => translate(c, 0, 0x8000, Access.Read)).vector).toBe(13);
    expect(translate(c, 0x10000, 0, Access.Read)).toBe(0x10000);
  });
});
