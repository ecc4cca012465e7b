// Setup header parsing of the bundled kernel, and clear errors for bad input.
import { describe, it, expect } from 'vitest';
import { parseBzImage, XLF, MIN_PROTOCOL_64 } from '../../src/boot/bzimage.ts';
import { decompressPayload } from '../../src/boot/payload.ts';
import { InputError } from '../../src/errors.ts';
import { readTiny, tinyBzImagePath } from './tinyKernel.ts';

const good = () => new Uint8Array(readTiny('bzImage.gzip'));
const name = 'test.bzImage';

describe('parseBzImage on the bundled kernel', () => {
  const bz = parseBzImage(good(), tinyBzImagePath('gzip'));
  it('reads the setup header', () => {
    const h = bz.header;
    expect(h.version).toBeGreaterThanOrEqual(0x020f); // 6.1 speaks 2.15
    expect(h.xloadflags & XLF.KERNEL_64).toBeTruthy();
    expect(h.xloadflags & XLF.CAN_BE_LOADED_ABOVE_4G).toBeTruthy();
    expect(h.relocatableKernel).toBe(true);
    expect(h.kernelAlignment).toBe(0x200000);
    expect(h.prefAddress).toBe(0x1000000n);
    expect(h.initSize).toBeGreaterThan(12_000_000);
    expect(h.kernelVersion).toMatch(/^6\.1\.\d+ \(bootpath@bootpath\)/);
    expect(bz.pmOffset).toBe((h.setupSects + 1) * 512);
    expect(bz.payload.length).toBe(h.payloadLength);
    expect(bz.compression).toBe('gzip');
  });
});

describe('bad inputs', () => {
  const expectInputError = (data: Uint8Array, pattern: RegExp) => {
    let err: unknown;
    try {
      decompressPayload(parseBzImage(data, name));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(name);
    expect((err as Error).message).toMatch(pattern);
  };

  it('rejects a file that is not a bzImage', () => {
    expectInputError(readTiny('vmlinux').subarray(0, 4096), /not a bzImage/);
    expectInputError(new Uint8Array(100_000), /not a bzImage/);
  });

  it('rejects a file too short to hold a setup header', () => {
    expectInputError(good().subarray(0, 0x220), /truncated/);
  });

  it('rejects a truncated kernel', () => {
    const d = good();
    expectInputError(d.subarray(0, d.length >> 1), /truncated/);
  });

  it('rejects a boot protocol too old for 64-bit boot', () => {
    const d = good();
    d[0x206] = 0x0b; // 2.11
    d[0x207] = 0x02;
    expectInputError(d, /protocol 2\.11 is too old for 64-bit boot/);
    expect(MIN_PROTOCOL_64).toBe(0x020c);
  });

  it('rejects a 32-bit-only kernel', () => {
    const d = good();
    d[0x236]! &= ~XLF.KERNEL_64;
    expectInputError(d, /not a 64-bit kernel/);
  });

  it('rejects an unknown payload compression', () => {
    const d = good();
    const bz = parseBzImage(d, name);
    d[bz.payloadFileOffset] = 0x42;
    d[bz.payloadFileOffset + 1] = 0x42;
    expectInputError(d, /unknown compression magic 42 42/);
  });

  it.each(['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'] as const)('rejects a corrupt %s payload', (c) => {
    const d = new Uint8Array(readTiny(`bzImage.${c}`));
    const bz = parseBzImage(d, name);
    d.fill(0x55, bz.payloadFileOffset + 64, bz.payloadFileOffset + 4096);
    expectInputError(d, new RegExp(`${c} payload`));
  });
});
