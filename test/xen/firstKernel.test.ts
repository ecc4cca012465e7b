// Each era's placement for the bundled tiny kernel's symbols (kernels/tiny-6.1/System.map).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSystemMap, symbolIndex } from '../../src/boot/systemMap.ts';
import { PlacementError, defaultHvmE820, placeFirstKernel, type FirstKernelInput } from '../../src/xen/firstKernel.ts';

const MAP = fileURLToPath(new URL('../../kernels/tiny-6.1/System.map', import.meta.url));
const syms = symbolIndex(parseSystemMap(readFileSync(MAP, 'utf8'), MAP));
const base: Omit<FirstKernelInput, 'era'> = { symbols: syms, vcpus: 2, ramSize: 512 * 2 ** 20 };
// Expected placements, from the symbols (the first test pins the symbols themselves).
const pa = (name: string) => Number(syms.get(name)! - 0xffffffff80000000n);
const BRK = pa('__brk_base');
const VCPU_INFO = pa('xen_vcpu_info');

describe('first-kernel placement by era (tiny-6.1 symbols)', () => {
  it('the symbols the rules use are where we expect (a rebuilt kernel that moves them fails here first)', () => {
    expect(syms.get('__brk_base')).toBe(0xffffffff81a00000n);
    expect(syms.get('__bss_stop')).toBe(0xffffffff81a00000n);
    expect(syms.get('_end')).toBe(0xffffffff81a20000n);
    expect(syms.get('xen_vcpu_info')).toBe(0xffffffff818d4280n);
  });

  it('linux-3.x: the first page of the brk, just past __bss_stop', () => {
    const p = placeFirstKernel({ ...base, era: 'linux-3.x' });
    expect(p.sharedInfo).toMatchObject({ gpa: BRK, inRam: true });
    expect(BRK).toBe(0x1a00000);
    expect(p.vcpuInfo).toEqual([]);
    // DMI bytes taken before push it to the next page; phys_base moves it with the kernel.
    expect(placeFirstKernel({ ...base, era: 'linux-3.x', brkBytesBefore: 300 }).sharedInfo!.gpa).toBe(BRK + 0x1000);
    expect(placeFirstKernel({ ...base, era: 'linux-3.x', physBase: 0x200000 }).sharedInfo!.gpa).toBe(BRK + 0x200000);
  });

  it('fix 00e37bdb (3.7): a page of the xen-platform PCI BAR, outside RAM', () => {
    expect(placeFirstKernel({ ...base, era: 'fix-00e37bdb' }).sharedInfo).toMatchObject({ gpa: 0xf2000000, inRam: false });
    expect(placeFirstKernel({ ...base, era: 'fix-00e37bdb', platformMmioBase: 0xf0000000, platformMmioOffset: 0x1000 }).sharedInfo!.gpa).toBe(0xf0001000);
  });

  it('fix 9d02b43d (3.8): gfn 0xFE700 in the E820-reserved hole', () => {
    const p = placeFirstKernel({ ...base, era: 'fix-9d02b43d' });
    expect(p.sharedInfo).toMatchObject({ gpa: 0xfe700000, inRam: false });
    expect(defaultHvmE820(base.ramSize).some((e) => e.type === 'reserved' && e.start <= 0xfe700000 && e.end >= 0xfe701000)).toBe(true);
  });

  it('modern: the first free low RAM page, and vcpu 0\'s vcpu_info registered at xen_vcpu_info', () => {
    const p = placeFirstKernel({ ...base, era: 'modern' });
    expect(p.sharedInfo).toMatchObject({ gpa: 0x10000, inRam: true }); // 6.1 reserves [0, 64K) first
    expect(p.vcpuInfo).toEqual([expect.objectContaining({ vcpu: 0, gpa: VCPU_INFO })]);
    // A 4.x kernel reserved only page 0 at that point.
    expect(placeFirstKernel({ ...base, era: 'modern', reserved: [{ start: 0, end: 0x1000 }] }).sharedInfo!.gpa).toBe(0x1000);
  });

  it('modern, SMP first kernel: needs the per-cpu areas', () => {
    const smp = new Map(syms);
    smp.set('__per_cpu_start', 0n);
    smp.set('__per_cpu_end', 0x20000n);
    smp.set('xen_vcpu_info', 0x1a040n);
    expect(() => placeFirstKernel({ ...base, symbols: smp, era: 'modern' })).toThrow(PlacementError);
    const p = placeFirstKernel({ ...base, symbols: smp, era: 'modern', perCpuAreaGpa: [0x1f000000, 0x1f040000] });
    expect(p.vcpuInfo.map((v) => [v.vcpu, v.gpa])).toEqual([[0, 0x1f01a040], [1, 0x1f05a040]]);
  });

  it('soft reset: nothing left', () => {
    const p = placeFirstKernel({ ...base, era: 'soft-reset', sharedInfoGpa: 0x1a00000 });
    expect(p.sharedInfo).toBeNull();
    expect(p.vcpuInfo).toEqual([]);
  });

  it('explicit addresses win; a missing symbol is a clear error', () => {
    expect(placeFirstKernel({ ...base, era: 'linux-3.x', sharedInfoGpa: 0x2000000 }).sharedInfo).toMatchObject({ gpa: 0x2000000, inRam: true });
    expect(() => placeFirstKernel({ era: 'linux-3.x', vcpus: 1, ramSize: 2 ** 29 })).toThrow(/__brk_base/);
  });
});
