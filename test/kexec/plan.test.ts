// The whole kexec load plan for the bundled kernels: placement, boot_params,
// the sha256 purgatory checks, entry registers and the hand-off state —
// checked by reading the planned bytes back independently.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { planKexecLoad, type LoadPlan } from '../../src/boot/kexec/plan.ts';
import { IdentityMap } from '../../src/boot/kexec/handoff.ts';
import { E820, GiB, MiB } from '../../src/boot/kexec/memoryMap.ts';
import { BUNDLED_PURGATORY } from '../../src/boot/kexec/purgatory.ts';
import { InputError } from '../../src/errors.ts';

const COMPRESSIONS = ['gzip', 'bzip2', 'lz4', 'lzma', 'lzo', 'xz', 'zstd'] as const;
const kernelPath = (c: string) => fileURLToPath(new URL(`../../kernels/tiny-6.1/bzImage.${c}`, import.meta.url));
const CMDLINE = 'console=ttyS0,115200 earlyprintk=serial nokaslr';

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const u64 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(o, true);

/** Guest memory as the plan would leave it: each segment's bytes then zeros to memsz. */
function segmentAt(plan: LoadPlan, addr: number) {
  const s = plan.segments.find((x) => addr >= x.mem && addr < x.mem + x.memsz);
  if (!s) throw new Error(`no segment at 0x${addr.toString(16)}`);
  return s;
}
function readGuest(plan: LoadPlan, addr: number, len: number): Uint8Array {
  const s = segmentAt(plan, addr);
  const out = new Uint8Array(len);
  out.set(s.bytes.subarray(addr - s.mem, Math.min(addr - s.mem + len, s.bytes.length)));
  return out;
}

function checkPlan(plan: LoadPlan, file: string, ramSize: number) {
  const kernel = new Uint8Array(readFileSync(file));
  const setupSects = kernel[0x1f1] || 4;
  const kern16 = (setupSects + 1) * 512;
  const initSize = u32(kernel, 0x260);
  const align = u32(kernel, 0x230);

  // --- placement: sorted, page aligned, disjoint, inside RAM ranges
  const ram = plan.memoryRanges.filter((r) => r.type === E820.RAM);
  let end = 0;
  for (const s of plan.segments) {
    expect(s.mem % 4096).toBe(0);
    expect(s.memsz % 4096).toBe(0);
    expect(s.mem).toBeGreaterThanOrEqual(end);
    expect(s.bytes.length).toBeLessThanOrEqual(s.memsz);
    expect(ram.some((r) => r.start <= s.mem && s.mem + s.memsz - 1 <= r.end)).toBe(true);
    end = s.mem + s.memsz;
  }
  expect(plan.segments.map((s) => s.name).sort()).toEqual(['boot_params + cmdline', `kernel (${file})`, 'purgatory', 'setup_data (rng seed)'].sort());
  const ramTop = Math.max(...ram.map((r) => r.end + 1));
  expect(ramTop).toBe(ramSize <= 0xf0000000 ? ramSize : ramSize - 0xf0000000 + 2 ** 32);
  // top-down: purgatory at the very top, boot_params under it, the kernel under that at the highest aligned spot
  const purg = plan.segments.find((s) => s.name === 'purgatory')!;
  const setup = plan.segments.find((s) => s.name === 'boot_params + cmdline')!;
  const kseg = plan.segments.find((s) => s.name.startsWith('kernel'))!;
  expect(purg.mem + purg.memsz).toBe(ramTop);
  expect(purg.memsz).toBe(0x9000);
  expect(setup.mem + setup.memsz).toBe(purg.mem);
  expect(kseg.mem % align).toBe(0);
  expect(kseg.memsz).toBe(Math.ceil(initSize / 4096) * 4096);
  expect(kseg.mem + kseg.memsz).toBeLessThanOrEqual(setup.mem);
  expect(kseg.mem + align + kseg.memsz).toBeGreaterThan(setup.mem); // could not go one alignment step higher
  expect(Buffer.from(kseg.bytes).equals(Buffer.from(kernel.subarray(kern16)))).toBe(true);
  const rng = plan.segments.find((s) => s.name.startsWith('setup_data'))!;
  expect(rng.mem).toBe(0x100000); // bottom-up from 1 MiB

  // --- boot_params
  const bp = setup.bytes;
  expect(setup.mem).toBe(plan.bootParams.base);
  const hdrEnd = 0x202 + kernel[0x201]!;
  const kexecWrites = new Set([0x1f2, 0x1f3, 0x1fc, 0x1fd, 0x1ff, 0x210, 0x211, 0x218, 0x219, 0x21a, 0x21b, 0x21c, 0x21d, 0x21e, 0x21f, 0x228, 0x229, 0x22a, 0x22b, 0x23c, 0x23d, 0x23e, 0x23f, ...Array.from({ length: 8 }, (_, i) => 0x250 + i)]);
  for (let o = 0x1f1; o < hdrEnd; o++) if (!kexecWrites.has(o)) expect(bp[o], `header byte 0x${o.toString(16)}`).toBe(kernel[o]);
  for (let o = hdrEnd; o < 0x2d0; o++) expect(bp[o], `byte 0x${o.toString(16)} after the header`).toBe(0);
  expect(new TextDecoder().decode(bp.subarray(0x202, 0x206))).toBe('HdrS');
  expect(bp[0x210]).toBe(0xd0); // LOADER_TYPE_KEXEC << 4
  expect(bp[0x211]).toBe(0); // loadflags cleared
  expect(u16(bp, 0x1f2)).toBe(0xffff);
  expect(u16(bp, 0x1fc)).toBe(0x0300);
  expect(bp[0x1fe]).toBe(0x55);
  expect(bp[0x1ff]).toBe(0); // aux_device_info clobbers boot_flag's high byte
  expect(u16(bp, 0x20)).toBe(0xa33f);
  const cmdOff = Math.max(kern16, 4096);
  expect(u16(bp, 0x22)).toBe(cmdOff);
  const cmdPtr = setup.mem + cmdOff;
  expect(u32(bp, 0x228)).toBe(cmdPtr % 2 ** 32);
  expect(u32(bp, 0xc8)).toBe(Math.floor(cmdPtr / 2 ** 32));
  expect(new TextDecoder().decode(readGuest(plan, cmdPtr, CMDLINE.length + 1))).toBe(CMDLINE + '\0');
  expect(bp.length).toBe(cmdOff + CMDLINE.length + 1 + 64);
  expect([bp[0x07], bp[0x0e], bp[0x0f], u16(bp, 0x10)]).toEqual([80, 25, 1, 16]);
  // e820: every kexec range, RAM starting at 0x400
  expect(bp[0x1e8]).toBe(plan.memoryRanges.length);
  plan.memoryRanges.forEach((r, i) => {
    const o = 0x2d0 + 20 * i;
    expect([u64(bp, o), u64(bp, o + 8), u32(bp, o + 16)]).toEqual([BigInt(r.start), BigInt(r.end - r.start + 1), r.type]);
  });
  expect(u64(bp, 0x2d0)).toBe(0x400n);
  const lowTop = Math.min(ramSize, 0xf0000000);
  const memK = Math.floor((lowTop - 1) / 1024) - 1024;
  expect(u16(bp, 0x02)).toBe(Math.min(memK, 0xfc00));
  expect(u32(bp, 0x1e0)).toBe(memK);
  // setup_data → the RNG seed: { next 0, type 9 (SETUP_RNG_SEED), len 32 }
  expect(u64(bp, 0x250)).toBe(BigInt(rng.mem));
  expect([u64(rng.bytes, 0), u32(rng.bytes, 8), u32(rng.bytes, 12), rng.bytes.length]).toEqual([0n, 9, 32, 48]);

  // --- purgatory variables, read from the purgatory segment's bytes
  const sym = plan.purgatory.symbols;
  const r64 = readGuest(plan, sym.entry64_regs!, 136);
  const regs = Array.from({ length: 17 }, (_, i) => u64(r64, i * 8));
  expect(regs[16]).toBe(BigInt(kseg.mem + 0x200)); // rip = startup_64
  expect(regs[4]).toBe(BigInt(setup.mem)); // rsi = boot_params
  expect(regs[6]).toBe(BigInt(sym.stack_end!)); // rsp
  expect(regs.filter((_, i) => i !== 16 && i !== 4 && i !== 6).every((v) => v === 0n)).toBe(true);
  expect(u64(readGuest(plan, sym.cmdline_end!, 8), 0)).toBe(BigInt(cmdPtr + CMDLINE.length)); // the NUL
  expect(readGuest(plan, sym.console_serial!, 1)[0]).toBe(1);
  expect(readGuest(plan, sym.console_vga!, 1)[0]).toBe(0);
  expect(u16(readGuest(plan, sym.serial_base!, 2), 0)).toBe(0x3f8);
  expect(plan.entry).toBe(sym.purgatory_start);
  expect(plan.entry).toBe(purg.mem + 0x760);

  // --- sha256: recompute over every segment except purgatory, in address order
  const h = createHash('sha256');
  const regions: bigint[] = [];
  for (const s of plan.segments) {
    if (s.name === 'purgatory') continue;
    const full = new Uint8Array(s.memsz);
    full.set(s.bytes);
    h.update(full);
    regions.push(BigInt(s.mem), BigInt(s.memsz));
  }
  expect(Buffer.from(readGuest(plan, sym.sha256_digest!, 32)).toString('hex')).toBe(h.digest('hex'));
  const table = readGuest(plan, sym.sha256_regions!, 256);
  const got = Array.from({ length: 32 }, (_, i) => u64(table, i * 8));
  expect(got).toEqual([...regions, ...Array(32 - regions.length).fill(0n)]);

  // --- hand-off
  const ho = plan.handoff;
  expect(ho.rip).toBe(BigInt(plan.entry));
  expect(ho.cr0).toBe(0x80000033n);
  expect(ho.cr4).toBe(0x20n);
  expect(ho.efer).toBe(0xd01n);
  expect(ho.rflags).toBe(0x46n);
  expect([ho.cs.selector, ho.ss.selector, ho.cs.long]).toEqual([0x10, 0x18, true]);
  expect([ho.gdtr, ho.idtr]).toEqual([{ base: 0n, limit: 0 }, { base: 0n, limit: 0 }]);
  for (const [k, v] of Object.entries(ho.regs)) expect(v, k).toBe(k === 'rsp' ? BigInt(ho.controlPage + 4096 - 8) : 0n);
  const stackPage = ho.memory.find((m) => m.addr === ho.controlPage)!;
  expect(u64(stackPage.bytes, 4096 - 8)).toBe(0n); // [rsp] = 0 → jump_back_entry
  expect(u64(stackPage.bytes, 4096 - 16)).toBe(BigInt(plan.entry));
  // the page tables are outside every segment and identity map all RAM and every segment
  for (const s of plan.segments) expect(s.mem >= ho.region.end || s.mem + s.memsz <= ho.region.start).toBe(true);
  const tables = new Map(ho.memory.filter((m) => m.what.startsWith('page table')).map((m) => [m.addr, m.bytes]));
  expect(ho.cr3).toBe(BigInt(ho.pageTables.root));
  const walk = (va: number): number | null => {
    // an independent 4-level walk over the bytes
    let t = tables.get(ho.pageTables.root)!;
    for (const shift of [39, 30, 21]) {
      const e = u64(t, (Math.floor(va / 2 ** shift) % 512) * 8);
      if (!(e & 1n)) return null;
      const frame = Number(e & 0xffffffffff000n);
      if (shift < 39 && e & 0x80n) return frame + (va % 2 ** shift);
      t = tables.get(frame)!;
    }
    return null;
  };
  for (const s of plan.segments) for (let a = s.mem; a < s.mem + s.memsz; a += 0x1000) expect(walk(a)).toBe(a);
  for (const r of ram) for (const a of [r.start & ~0xfff, Math.floor(r.end / 4096) * 4096]) expect(walk(a)).toBe(a);
  expect(walk(ho.controlPage)).toBe(ho.controlPage);
}

describe('planKexecLoad: the bundled kernels, top-down bzImage64', () => {
  for (const c of COMPRESSIONS) {
    for (const ramSize of [256 * MiB, 1 * GiB, 6 * GiB]) {
      it(`${c}, ${ramSize / MiB} MiB`, () => {
        const file = kernelPath(c);
        const plan = planKexecLoad({ kernel: file, cmdline: CMDLINE, ramSize });
        checkPlan(plan, file, ramSize);
      });
    }
  }
  it('is deterministic', () => {
    const a = planKexecLoad({ kernel: kernelPath('xz'), cmdline: CMDLINE });
    const b = planKexecLoad({ kernel: kernelPath('xz'), cmdline: CMDLINE });
    expect(a.summary).toBe(b.summary);
    expect(Buffer.from(a.sha256!.digest).equals(Buffer.from(b.sha256!.digest))).toBe(true);
  });
  it('summary reads like kexec -d', () => {
    const plan = planKexecLoad({ kernel: kernelPath('gzip'), cmdline: CMDLINE });
    expect(plan.summary).toContain('Loaded purgatory at addr 0x3fff7000');
    expect(plan.summary).toContain('nr_segments = 4');
    expect(plan.summary).toMatch(/segment\[1\]\.mem   = 0x3f200000/);
  });
});

describe('options', () => {
  const file = kernelPath('gzip');
  it('kexec defaults for the console when asked, and 5-level paging', () => {
    const plan = planKexecLoad({ kernel: file, consoleSerial: false, consoleVga: true, serialBase: 0x2f8, serialBaud: 9600, la57: true });
    const s = plan.purgatory.symbols;
    expect(readGuest(plan, s.console_serial!, 1)[0]).toBe(0);
    expect(readGuest(plan, s.console_vga!, 1)[0]).toBe(1);
    expect(u16(readGuest(plan, s.serial_base!, 2), 0)).toBe(0x2f8);
    expect(u32(readGuest(plan, s.serial_baud!, 4), 0)).toBe(9600);
    expect(plan.handoff.cr4).toBe(0x1020n);
    expect(plan.handoff.pageTables.levels).toBe(5);
    const map = new IdentityMap(5, true, (() => { let n = 0x100000; return () => (n += 0x1000); })());
    map.map(0, 2 * GiB);
    expect(map.translate(0x12345678)).toBe(0x12345678);
  });
  it('2 MiB pages only', () => {
    const plan = planKexecLoad({ kernel: file, gbpages: false });
    expect(plan.handoff.pageTables.pages.length).toBe(2 + 1); // PML4, PDPT, one PD for the first GiB
  });
  it('bottom-up and fixed kernel placement, alignment override', () => {
    expect(planKexecLoad({ kernel: file, placement: 'bottom-up' }).kernel.base).toBe(0x200000);
    expect(planKexecLoad({ kernel: file, placement: 'bottom-up', kernelAlignment: 0x1000000 }).kernel.base).toBe(0x1000000);
    expect(planKexecLoad({ kernel: file, placement: { address: 0x1000000 } }).kernel.base).toBe(0x1000000);
    expect(planKexecLoad({ kernel: file, honourPrefAddress: true, placement: 'bottom-up' }).kernel.base).toBe(0x1000000);
    expect(() => planKexecLoad({ kernel: file, placement: { address: 0x1001000 } })).toThrow(/not aligned to kernel_alignment/);
    expect(() => planKexecLoad({ kernel: file, kernelAlignment: 0x1000, placement: { address: 0x3f3f2000 } })).toThrow(/overlapping memory segments/);
    expect(() => planKexecLoad({ kernel: file, placement: { address: 0x3f800000 } })).toThrow(/not inside guest RAM/);
  });
  it('skip_checks', () => {
    const plan = planKexecLoad({ kernel: file, skipChecks: true });
    expect(plan.sha256).toBeNull();
    expect(u32(readGuest(plan, plan.purgatory.symbols.skip_checks!, 4), 0)).toBe(1);
    expect([...readGuest(plan, plan.purgatory.symbols.sha256_digest!, 32)].every((b) => b === 0)).toBe(true);
  });
  it('no RNG seed', () => {
    const plan = planKexecLoad({ kernel: file, first: { rngSeed: null } });
    expect(plan.segments.length).toBe(3);
    expect(u64(plan.bootParams.bytes, 0x250)).toBe(0n);
  });
});

describe('the legacy 32-bit entry (--entry-32bit)', () => {
  for (const ramSize of [256 * MiB, 1 * GiB, 6 * GiB]) {
    it(`${ramSize / MiB} MiB`, () => {
      const file = kernelPath('lzma');
      const kernel = new Uint8Array(readFileSync(file));
      const plan = planKexecLoad({ kernel: file, cmdline: CMDLINE, ramSize, entry: 32 });
      const s = plan.purgatory.symbols;
      expect(plan.bootParams.base).toBe(0x3000); // bottom-up below 640 KiB
      expect(plan.kernel.base).toBe(0x200000); // bottom-up from 1 MiB at kernel_alignment (the RNG seed took 1 MiB)
      expect(plan.kernel.memsz).toBe(Math.ceil((kernel.length - 32 * 512) / 4096) * 4096); // file size, not init_size
      expect(plan.purgatory.base + plan.purgatory.memsz).toBe(Math.min(ramSize, 0x80000000)); // top-down below 2 GiB
      const r32 = readGuest(plan, s.entry32_regs!, 36);
      expect(Array.from({ length: 9 }, (_, i) => u32(r32, i * 4))).toEqual([0, 0, 0, 0, 0x3000, 0, s.stack_end, 0, 0x200000]);
      const r64 = readGuest(plan, s.entry64_regs!, 136);
      expect(u64(r64, 16 * 8)).toBe(BigInt(s.entry32!)); // purgatory drops to 32-bit through entry32
      expect(u32(plan.bootParams.bytes, 0x228)).toBe(0x3000 + 0x4000);
    });
  }
});

describe('bad inputs give clear errors', () => {
  const file = kernelPath('gzip');
  it('not a bzImage', () => {
    expect(() => planKexecLoad({ kernel: new Uint8Array(4096), kernelName: 'zeros.img' })).toThrow(InputError);
    expect(() => planKexecLoad({ kernel: new Uint8Array(4096), kernelName: 'zeros.img' })).toThrow(/^zeros\.img: not a bzImage/);
    expect(() => planKexecLoad({ kernel: '/nonexistent/bzImage' })).toThrow(/^\/nonexistent\/bzImage: cannot read kernel/);
  });
  it('purgatory that is not an x86-64 ET_REL', () => {
    expect(() => planKexecLoad({ kernel: file, purgatory: file })).toThrow(new RegExp(`^${file}: not an ELF file`));
    const p = new Uint8Array(readFileSync(BUNDLED_PURGATORY));
    p[16] = 2;
    expect(() => planKexecLoad({ kernel: file, purgatory: p })).toThrow(/^purgatory: not a relocatable object/);
  });
  it('a kernel that does not fit in RAM', () => {
    expect(() => planKexecLoad({ kernel: kernelPath('bzip2'), ramSize: 16 * MiB })).toThrow(/kernel \(.*bzImage\.bzip2\): does not fit/);
  });
  it('a command line longer than cmdline_size', () => {
    expect(() => planKexecLoad({ kernel: file, cmdline: 'x'.repeat(2047) })).toThrow(/command line: 2047 bytes is too long .*cmdline_size 2047 allows 2046/);
    expect(planKexecLoad({ kernel: file, cmdline: 'x'.repeat(2046) }).bootParams.cmdline.length).toBe(2046);
  });
});
