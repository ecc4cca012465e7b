// End-to-end kexec boots of the bundled kernels: real purgatory, real
// decompressors, real startup_64, to x86_64_start_kernel, with the image in
// RAM checked against vmlinux at the jump into the new kernel.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { bootKexec } from '../../src/analysis/checkedBoot.ts';
import { describeAddress } from '../../src/boot/phases.ts';
import { BUNDLED_KERNEL_DIR, COMPRESSIONS } from '../../src/boot/bundled.ts';
import { InputError } from '../../src/errors.ts';

const kernel = (c: string) => `${BUNDLED_KERNEL_DIR}/bzImage.${c}`;
const TIMEOUT = 300_000;

describe('kexec boot of the bundled kernel, every compression, both entry paths', () => {
  for (const comp of COMPRESSIONS) {
    for (const entry of [64, 32] as const) {
      it(`${comp}, ${entry}-bit entry: reaches x86_64_start_kernel with the image identical to vmlinux`, () => {
        const r = bootKexec({ kernel: kernel(comp), entry });
        expect(r.reason).toBe('reached x86_64_start_kernel');
        expect(r.outcome).toBe('reached');
        expect(r.console).toContain("I'm in purgatory");
        expect(r.kernelEntry).not.toBeNull();
        expect(r.imageDiff!.bytesCompared).toBeGreaterThan(8_000_000);
        expect(r.imageDiff!.bytesDiffering).toBe(0);
        expect(r.state.rip).toBe(r.target!.address);
        expect(describeAddress(r, r.state.rip)).toBe('x86_64_start_kernel');
        expect(r.state.mode).toBe('long64');
      }, TIMEOUT);
    }
  }
});

describe('determinism', () => {
  it('gives the same instruction count, entry and KASLR choice on every run', () => {
    const a = bootKexec({ kernel: kernel('lz4'), entry: 32 });
    const b = bootKexec({ kernel: kernel('lz4'), entry: 32 });
    expect(a.instructions).toBe(b.instructions);
    expect(a.kernelEntry).toEqual(b.kernelEntry);
    const c = bootKexec({ kernel: kernel('lz4'), entry: 32, seed: 7 });
    expect(c.outcome).toBe('reached');
    expect(c.kernelEntry!.virtDelta).not.toBe(a.kernelEntry!.virtDelta); // RDRAND's seed changes the KASLR choice
  }, TIMEOUT);
});

describe('RAM sizes', () => {
  it('boots with 6 GiB of RAM, the part above the MMIO hole mapped at 4 GiB', () => {
    const r = bootKexec({ kernel: kernel('gzip'), entry: 32, ramSize: 6 * 2 ** 30 });
    expect(r.outcome).toBe('reached');
    expect(r.imageDiff!.bytesDiffering).toBe(0);
    expect(r.machine.ram.high!.length).toBe(6 * 2 ** 30 - 0xf0000000);
    const e820 = r.plan.memoryRanges.filter((m) => m.type === 1);
    expect(e820.some((m) => m.start === 0x100000000)).toBe(true);
    // RAM above 4 GiB reads back what is written through the core's slow path.
    r.machine.ram.writeSlow(0x100000000 + 0x1234, 4, 0xdeadbeef);
    expect(r.machine.ram.readSlow(0x100000000 + 0x1234, 4)).toBe(0xdeadbeef);
  }, TIMEOUT);
});

describe('purgatory\'s checksum', () => {
  it('spins in purgatory when a loaded byte was corrupted, and that is reported as a hang there', () => {
    const r = bootKexec({
      kernel: kernel('gzip'), entry: 32, maxInstructions: 600_000_000,
      patch: (m, plan) => {
        const k = plan.segments.find((s) => s.name.startsWith('kernel'))!;
        const at = k.mem + 0x1000;
        m.load(at, Uint8Array.of(m.ram.read(at, 1)[0]! ^ 0xff), 'test: corrupt one byte');
      },
    });
    expect(r.outcome).toBe('hung');
    expect(r.phase).toBe('purgatory');
    expect(r.console).toContain("I'm in purgatory");
    expect(r.kernelEntry).toBeNull();
    expect(r.reason).toMatch(/no progress/);
  }, TIMEOUT);
});

describe('bad inputs', () => {
  const bz = new Uint8Array(readFileSync(kernel('gzip')));
  it('rejects a file that is not a bzImage', () => {
    expect(() => bootKexec({ kernel: new Uint8Array(4096), kernelName: 'zeros.img' })).toThrow(InputError);
    expect(() => bootKexec({ kernel: new Uint8Array(4096), kernelName: 'zeros.img' })).toThrow(/zeros\.img/);
  });
  it('rejects a truncated payload', () => {
    expect(() => bootKexec({ kernel: bz.subarray(0, bz.length >> 1), kernelName: 'half.bzImage' })).toThrow(/half\.bzImage/);
  });
  it('rejects a purgatory that is not an x86-64 ET_REL object', () => {
    expect(() => bootKexec({ kernel: bz, purgatory: `${BUNDLED_KERNEL_DIR}/vmlinux` })).toThrow(/ET_REL|relocatable/);
  });
  it('rejects a kernel that does not fit in RAM', () => {
    const big = bz.slice();
    new DataView(big.buffer).setUint32(0x260, 64 << 20, true); // init_size: 64 MiB
    expect(() => bootKexec({ kernel: big, kernelName: 'big.bzImage', ramSize: 32 << 20 })).toThrow(InputError);
  });
  it('rejects an unknown --until symbol', () => {
    expect(() => bootKexec({ kernel: bz, until: 'no_such_symbol' })).toThrow(/no_such_symbol/);
  });
});
