// The host-side oracle: every bundled bzImage's payload decompresses to the
// bundled vmlinux's loadable image, plus the relocation table.
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { COMPRESSIONS } from '../../src/boot/compression.ts';
import { parseBzImage } from '../../src/boot/bzimage.ts';
import { decompressPayload, type Payload } from '../../src/boot/payload.ts';
import { readVmlinux, type Vmlinux } from '../../src/boot/vmlinux.ts';
import { relocAddress } from '../../src/boot/relocs.ts';
import { readTiny, tinyBzImagePath } from './tinyKernel.ts';

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

let vmlinux: Vmlinux;
const payloads = new Map<string, Payload>();

beforeAll(() => {
  vmlinux = readVmlinux(readTiny('vmlinux'), 'vmlinux');
});

describe.each(COMPRESSIONS)('bzImage.%s payload', (compression) => {
  it('decompresses to an ELF whose PT_LOAD segments equal vmlinux', () => {
    const path = tinyBzImagePath(compression);
    const bz = parseBzImage(readTiny(`bzImage.${compression}`), path);
    expect(bz.compression).toBe(compression);
    const p = decompressPayload(bz);
    payloads.set(compression, p);
    if (compression === 'gzip') expect(p.appendedSize).toBeUndefined();
    else expect(p.appendedSize).toBe(p.decompressed.length);

    const elf = readVmlinux(p.elf, `${path} payload`);
    expect(elf.entry).toBe(vmlinux.entry);
    expect(elf.symbols).toHaveLength(0); // objcopy -S stripped it
    expect(elf.segments.length).toBe(vmlinux.segments.length);
    elf.segments.forEach((s, i) => {
      const ref = vmlinux.segments[i]!;
      expect({ vaddr: s.vaddr, paddr: s.paddr, filesz: s.filesz, memsz: s.memsz, flags: s.flags }).toEqual({
        vaddr: ref.vaddr,
        paddr: ref.paddr,
        filesz: ref.filesz,
        memsz: ref.memsz,
        flags: ref.flags,
      });
      expect(sha(s.data)).toBe(sha(ref.data));
    });
  });

  it('carries a relocation table whose entries all point into the kernel image', () => {
    const p = payloads.get(compression)!;
    const r = p.relocs!;
    expect(r.relocs64.length).toBeGreaterThan(1000);
    expect(r.relocs32.length).toBeGreaterThan(1000);
    expect(p.relocsRaw.length).toBe(4 * (3 + r.relocs64.length + r.inverse32.length + r.relocs32.length));
    const lo = vmlinux.segments[0]!.vaddr;
    const last = vmlinux.segments[vmlinux.segments.length - 1]!;
    const hi = last.vaddr + BigInt(last.memsz);
    for (const e of [...r.relocs64, ...r.relocs32]) {
      const a = relocAddress(e);
      if (a < lo || a >= hi) throw new Error(`reloc 0x${a.toString(16)} outside [0x${lo.toString(16)}, 0x${hi.toString(16)})`);
    }
  });
});

describe('all seven payloads', () => {
  it('decompress to the same bytes (only the wrapper differs)', () => {
    const digests = new Set(COMPRESSIONS.map((c) => sha(payloads.get(c)!.decompressed)));
    expect(digests.size).toBe(1);
  });
});
